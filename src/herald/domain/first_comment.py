"""First comments (publora-latest §5.5): which platforms take one, who gets it, how long it may be.

A first comment is a reply to the post, by the same account, published once the post is out.
Herald posts it where its connector already publishes replies (thread parts): Bluesky, Mastodon
and the sandbox. Publora's other comment platforms are accepted and skipped with a warning."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from herald.domain.platform import Platform
from herald.domain.text import measure, text_rule

# OAS FirstCommentInput.platforms enum: platform types, never connection ids.
COMMENT_PLATFORM_TYPES = (
    "linkedin",
    "twitter",
    "threads",
    "bluesky",
    "mastodon",
    "instagram",
    "facebook",
    "youtube",
    "tiktok",
    "telegram",
    "sandbox",  # Herald's own test platform
)
# Where Herald publishes the comment: a reply through the connector's thread path.
SUPPORTED = frozenset({Platform.BLUESKY, Platform.MASTODON, Platform.SANDBOX})
MAX_TEXT = 25_000  # Publora's absolute cap, whatever the platform


class FirstCommentError(ValueError):
    """`code` and `field` as Publora sends them; `extra` holds the code's other keys."""

    def __init__(self, message: str, code: str, field: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.extra = extra


@dataclass(frozen=True)
class FirstComment:
    text: str  # stored verbatim, posted trimmed
    platforms: tuple[str, ...] = ()  # platform types; empty: every supported target

    def stored(self) -> dict[str, Any]:
        return {
            "text": self.text,
            **({"platforms": list(self.platforms)} if self.platforms else {}),
        }


def _invalid(field: str = "firstComment") -> FirstCommentError:
    return FirstCommentError(
        "firstComment must be an object { text, platforms? }", "FIRST_COMMENT_INVALID", field
    )


def parse_first_comment(value: Any) -> FirstComment | None:
    """The request's `firstComment`; None when it is null or its text is blank (clears it)."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) - {"text", "platforms"}:
        raise _invalid()
    text, platforms = value.get("text"), value.get("platforms")
    if not isinstance(text, str):
        raise _invalid("firstComment.text")
    if len(text) > MAX_TEXT:
        raise FirstCommentError(
            f"firstComment.text is too long: {len(text)} characters, limit {MAX_TEXT}",
            "FIRST_COMMENT_TOO_LONG",
            "firstComment.text",
            limit=MAX_TEXT,
            count=len(text),
            unit="characters",
        )
    if platforms is None:
        platforms = []
    if not isinstance(platforms, list) or not all(isinstance(p, str) for p in platforms):
        raise _invalid("firstComment.platforms")
    for name in platforms:
        if name not in COMMENT_PLATFORM_TYPES:
            raise FirstCommentError(
                f'Unknown first comment platform "{name}": use platform types such as '
                "linkedin or twitter, not connection keys",
                "FIRST_COMMENT_PLATFORM_UNKNOWN",
                "firstComment.platforms",
                allowed=list(COMMENT_PLATFORM_TYPES),
            )
    if not text.strip():
        return None
    return FirstComment(text, tuple(dict.fromkeys(platforms)))


def from_stored(stored: Mapping[str, Any] | None) -> FirstComment | None:
    if not stored:
        return None
    return FirstComment(str(stored["text"]), tuple(stored.get("platforms", ())))


def applies_to(comment: FirstComment, platform: Platform) -> bool:
    """Whether a target on `platform` gets the comment (supported, and asked for)."""
    asked = not comment.platforms or platform.value in comment.platforms
    return asked and platform in SUPPORTED


@dataclass(frozen=True)
class CommentNotice:
    code: str  # FIRST_COMMENT_UNSUPPORTED_PLATFORMS | FIRST_COMMENT_PLATFORM_NOT_TARGETED
    message: str
    platforms: tuple[str, ...]


def check_first_comment(
    comment: FirstComment, platforms: Iterable[Platform]
) -> list[CommentNotice]:
    """Length on every platform that gets it (FirstCommentError), then the warnings."""
    targeted = list(dict.fromkeys(platforms))
    for platform in targeted:
        if applies_to(comment, platform):
            _check_length(comment.text.strip(), platform)
    notices = []
    names = {p.value for p in targeted}
    missing = tuple(p for p in comment.platforms if p not in names)
    if missing:
        notices.append(
            CommentNotice(
                "FIRST_COMMENT_PLATFORM_NOT_TARGETED",
                "The first comment names platforms this post does not target: "
                + ", ".join(missing),
                missing,
            )
        )
    asked = [p for p in targeted if not comment.platforms or p.value in comment.platforms]
    unsupported = tuple(p.value for p in asked if p not in SUPPORTED)
    if unsupported:
        notices.append(
            CommentNotice(
                "FIRST_COMMENT_UNSUPPORTED_PLATFORMS",
                "First comments are not posted on: " + ", ".join(unsupported),
                unsupported,
            )
        )
    return notices


def _check_length(text: str, platform: Platform) -> None:
    rule = text_rule(platform)
    count = measure(platform, text)
    size = len(text.encode("utf-8", "surrogatepass"))
    over_bytes = rule.byte_limit is not None and size > rule.byte_limit
    if count > rule.limit or over_bytes:
        limit, unit = (rule.byte_limit or 0, "bytes") if over_bytes else (rule.limit, "characters")
        shown = size if over_bytes else count
        raise FirstCommentError(
            f"First comment is too long for {platform.value}: {shown} {unit}, limit {limit}",
            "FIRST_COMMENT_TOO_LONG",
            "firstComment.text",
            platform=platform.value,
            limit=limit,
            count=shown,
            unit=unit,
        )


def comment_platforms(comment: FirstComment | None, platforms: Sequence[Platform]) -> set[str]:
    """The platform names whose targets will post the comment."""
    if comment is None:
        return set()
    return {p.value for p in platforms if applies_to(comment, p)}
