"""The events a state change makes, written as deliveries in that change's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.timestamps import format_timestamp
from herald.models import PostGroup, PublishTarget, Webhook
from herald.store.webhook import WebhookStore

T = PublishTarget
G = PostGroup
_CHUNK = 500


async def post_scheduled(session: AsyncSession, group: PostGroup, now: datetime) -> None:
    """`post.scheduled` for a group just stored or changed into `scheduled`."""
    data = {
        "postGroupId": group.id,
        "scheduledTime": format_timestamp(group.scheduled_at or now),
        "platforms": [f"{t.platform}-{t.external_account_id}" for t in group.targets],
    }
    await WebhookStore(session).enqueue([(group.account_id, "post.scheduled", data)], now)


async def targets_finished(
    session: AsyncSession, event: str, target_ids: Sequence[str], now: datetime
) -> None:
    """`post.published` or `post.failed` for targets the caller just moved there. Only
    targets whose account has an active webhook are read, so with no webhooks this is one
    indexed query per batch."""
    events: list[tuple[str, str, dict[str, Any]]] = []
    for start in range(0, len(target_ids), _CHUNK):
        rows = await session.execute(
            select(
                T.id,
                T.post_group_id,
                T.platform,
                T.external_account_id,
                T.external_id,
                T.external_url,
                T.last_error,
                T.last_error_code,
                G.account_id,
            )
            .join(G, G.id == T.post_group_id)
            .where(
                T.id.in_(target_ids[start : start + _CHUNK]),
                exists().where(Webhook.account_id == G.account_id, Webhook.is_active.is_(True)),
            )
            .order_by(T.id)
        )
        events.extend((row.account_id, event, _data(event, row, now)) for row in rows)
    if events:
        await WebhookStore(session).enqueue(events, now)


def _data(event: str, row: Any, now: datetime) -> dict[str, Any]:
    common = {"postId": row.id, "postGroupId": row.post_group_id, "platform": row.platform}
    if event == "post.published":
        return common | {
            "platformId": row.external_account_id,
            "postedId": row.external_id,
            "permalink": row.external_url,
            "publishedAt": format_timestamp(now),
        }
    error = {"code": row.last_error_code, "message": row.last_error}
    return common | {"error": error, "failedAt": format_timestamp(now)}


async def post_demoted(
    session: AsyncSession, group: PostGroup, media_id: str, change_type: str, now: datetime
) -> None:
    """`post.demoted` for a scheduled group its media change just returned to draft
    (publora-latest §3: reason `media_changed`)."""
    data = {
        "postGroupId": group.id,
        "reason": "media_changed",
        "changeType": change_type,
        "mediaFileId": media_id,
    }
    await WebhookStore(session).enqueue([(group.account_id, "post.demoted", data)], now)
