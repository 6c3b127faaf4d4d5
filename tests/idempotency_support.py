"""Idempotency-Key test helpers: concurrent identical create-posts and what they must make."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select

from herald.models import PostGroup
from support import LiveServer, Tenant, error_body

IN_FLIGHT = error_body(
    "A request with this idempotency key is still in flight", "IDEMPOTENCY_IN_FLIGHT"
)


def post_count(server: LiveServer, account_id: str) -> int:
    async def count(session: Any) -> int:
        query = (
            select(func.count()).select_from(PostGroup).where(PostGroup.account_id == account_id)
        )
        return int((await session.execute(query)).scalar_one())

    return server.transaction(count)


async def concurrent_creates(
    base_urls: list[str], tenant: Tenant, key: str, count: int
) -> list[httpx.Response]:
    """`count` identical create-posts with one key, spread over `base_urls`, all at once."""
    body = {"content": "Exactly once", "platforms": [tenant.platform_id]}
    headers = {"x-publora-key": tenant.api_key, "Idempotency-Key": key}
    clients = [
        httpx.AsyncClient(base_url=url + "/api/v1", headers=headers, timeout=60)
        for url in base_urls
    ]
    try:
        return list(
            await asyncio.gather(
                *(clients[n % len(clients)].post("/create-post", json=body) for n in range(count))
            )
        )
    finally:
        for client in clients:
            await client.aclose()


def assert_one_post(answers: list[httpx.Response]) -> None:
    """Every answer is the one post's (first or replayed) or "in flight"; a retry replays it."""
    created = {a.json()["postGroupId"] for a in answers if a.status_code == 200}
    assert len(created) == 1, created
    assert all(a.status_code == 200 or a.json() == IN_FLIGHT for a in answers)
    assert {a.status_code for a in answers} <= {200, 409}
