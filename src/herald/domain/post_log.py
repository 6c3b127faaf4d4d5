"""How Herald's attempt outcomes read as Publora's post-log events (publora-latest §2.2)."""

from __future__ import annotations

# Publora returns the first 100 entries of a group's log.
MAX_LOG_ENTRIES = 100

_EVENTS = {
    "published": "publish_succeeded",
    "late_success": "publish_succeeded",
    "part_published": "publish_succeeded",
    "failed": "publish_failed",
    "needs_reauth": "publish_failed",
    "outcome_unknown": "publish_failed",
    "retry": "publish_retry",
    "rate_limited": "publish_retry",
    "resend": "publish_retry",
    "in_doubt": "publish_retry",
    "engine_error": "publish_retry",
    "wait": "publish_retry",
}
# Outcomes after which Herald tries again by itself.
_RETRYABLE = frozenset(o for o, event in _EVENTS.items() if event == "publish_retry")


def log_event(outcome: str) -> str:
    """Publora's event for an attempt outcome; an outcome this table does not know yet still
    reads as a change of state rather than failing the whole log."""
    return _EVENTS.get(outcome, "status_changed")


def is_retryable(outcome: str) -> bool:
    return outcome in _RETRYABLE
