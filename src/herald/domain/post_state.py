"""Post states: the engine's target state machine, the wire statuses and the group status rule."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class TargetState(StrEnum):
    """Where one (post group, connection) target stands in the publishing engine."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"  # claimed by a worker; `sent_at` tells whether the call has started
    IN_DOUBT = "in_doubt"  # sent, outcome not known: never blindly retried
    RECONCILING = "reconciling"  # a worker is resolving an in-doubt target
    PUBLISHED = "published"
    FAILED = "failed"
    OUTCOME_UNKNOWN = "outcome_unknown"  # reconciliation could not tell; shown as failed


class PostStatus(StrEnum):
    """Statuses on the wire, per target (`posts[].status`) and per group."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PENDING = "pending"
    PROCESSING = "processing"
    PUBLISHED = "published"
    FAILED = "failed"
    PARTIALLY_PUBLISHED = "partially_published"


_S = TargetState
ALLOWED_TRANSITIONS: dict[TargetState, frozenset[TargetState]] = {
    _S.DRAFT: frozenset({_S.SCHEDULED, _S.DRAFT}),
    # scheduled -> failed is the "more than 24 h late" expiry.
    _S.SCHEDULED: frozenset({_S.DRAFT, _S.SCHEDULED, _S.PUBLISHING, _S.FAILED}),
    # publishing -> scheduled: released before the gate (rescue, backoff, rate limit).
    _S.PUBLISHING: frozenset({_S.SCHEDULED, _S.PUBLISHED, _S.FAILED, _S.IN_DOUBT}),
    # Only the reconciler decides what an in-doubt target becomes.
    _S.IN_DOUBT: frozenset({_S.RECONCILING}),
    # reconciling -> scheduled: the part was found (continue the thread) or a re-send is safe;
    # -> in_doubt: the lookup failed, try again later.
    _S.RECONCILING: frozenset({_S.SCHEDULED, _S.IN_DOUBT, _S.PUBLISHED, _S.OUTCOME_UNKNOWN}),
    _S.PUBLISHED: frozenset(),
    _S.FAILED: frozenset(),
    _S.OUTCOME_UNKNOWN: frozenset(),
}

TERMINAL_STATES = frozenset(s for s, nexts in ALLOWED_TRANSITIONS.items() if not nexts)
EDITABLE_STATES = frozenset({TargetState.DRAFT, TargetState.SCHEDULED})


class InvalidTransitionError(ValueError):
    def __init__(self, current: TargetState, requested: TargetState) -> None:
        super().__init__(f"target cannot go from {current} to {requested}")
        self.current = current
        self.requested = requested


def transition(current: TargetState, requested: TargetState) -> TargetState:
    """The only way a target's state changes: checked against ALLOWED_TRANSITIONS."""
    if requested not in ALLOWED_TRANSITIONS[current]:
        raise InvalidTransitionError(current, requested)
    return requested


def wire_status(state: TargetState, *, sent: bool) -> PostStatus:
    """A target's status as clients see it (DESIGN §4)."""
    match state:
        case TargetState.PUBLISHING:
            return PostStatus.PROCESSING if sent else PostStatus.PENDING
        case TargetState.IN_DOUBT | TargetState.RECONCILING:
            return PostStatus.PROCESSING
        case TargetState.OUTCOME_UNKNOWN:
            return PostStatus.FAILED
        case _:
            return PostStatus(state.value)


# Least advanced first: a group is where its slowest target is.
_PROGRESS_ORDER = (
    PostStatus.DRAFT,
    PostStatus.SCHEDULED,
    PostStatus.PENDING,
    PostStatus.PROCESSING,
)


def group_status(target_statuses: Iterable[PostStatus]) -> PostStatus:
    """All published -> published; all failed -> failed; mixed terminal -> partially published;
    otherwise the least advanced of the unfinished targets."""
    statuses = set(target_statuses)
    if not statuses:
        return PostStatus.DRAFT
    for status in _PROGRESS_ORDER:
        if status in statuses:
            return status
    if statuses == {PostStatus.PUBLISHED}:
        return PostStatus.PUBLISHED
    if statuses == {PostStatus.FAILED}:
        return PostStatus.FAILED
    return PostStatus.PARTIALLY_PUBLISHED
