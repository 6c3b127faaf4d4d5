"""What a post's text becomes on each connection, by the engine's own rules: its length as the
platform counts it, the limit, and the parts a thread would be split into (or the refusal)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.platform import Platform, platform_id
from herald.domain.text import TextTooLongError, measure, plan_parts, text_rule
from herald.services.post import account_text_limit, resolve_connections

MAX_PREVIEW_CONNECTIONS = 50


@dataclass(frozen=True)
class Preview:
    platform_id: str
    platform: str
    length: int
    limit: int
    threads: bool
    parts: Sequence[str]
    error: str | None  # why this platform would refuse the text, if it would


def preview_text(
    platform: Platform, content: str, limit: int | None
) -> tuple[list[str], str | None]:
    """CPU only, linear in the content (domain.text); run it off the event loop for long text."""
    try:
        parts = plan_parts(platform, content, limit)
    except TextTooLongError as exc:
        return [], str(exc)
    return parts, None if parts else "Content is required"


Target = tuple[str, Platform, int | None]  # platform id, platform, the account's own limit


async def preview_targets(
    session: AsyncSession, account_id: str, platform_ids: Sequence[str]
) -> list[Target]:
    """Connections are resolved as create-post resolves them: another tenant's id is invalid."""
    connections = await resolve_connections(session, account_id, list(platform_ids))
    return [
        (
            platform_id(Platform(c.platform), c.external_id),
            Platform(c.platform),
            account_text_limit(c),
        )
        for c in connections
    ]


def plan_previews(content: str, targets: Sequence[Target]) -> list[Preview]:
    """CPU only, linear in the content: callers run it off the event loop, outside any
    transaction, as create-post plans."""
    previews = []
    for public_id, platform, limit in targets:
        rule = text_rule(platform)
        parts, error = preview_text(platform, content, limit)
        previews.append(
            Preview(
                public_id,
                platform.value,
                measure(platform, content),
                limit or rule.limit,
                rule.threads,
                parts,
                error,
            )
        )
    return previews
