"""Helpers for the OAuth connect tests: an X app in the live server's settings, following the
connect link by hand, and reading what the database holds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import func, select

from herald.models import Connection, OAuthState
from support import LiveServer


@contextmanager
def x_app(
    server: LiveServer, api_url: str, authorize_url: str | None = None, **extra: Any
) -> Iterator[None]:
    """The live server with an X app registered in its settings for the block."""
    saved = server.context.settings
    server.context.settings = saved.model_copy(
        update={
            "x_client_id": "herald-test-client",
            "x_api_url": api_url,
            "x_authorize_url": authorize_url or f"{api_url}/i/oauth2/authorize",
            **extra,
        }
    )
    try:
        yield
    finally:
        server.context.settings = saved


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def start_connect(server: LiveServer, link: str) -> str:
    """Open a connect link without a browser; the consent page URL Herald redirects to."""
    with httpx.Client(timeout=10) as browser:
        answer = browser.get(link, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def callback(server: LiveServer, **params: str) -> httpx.Response:
    with httpx.Client(base_url=server.base_url, timeout=30) as browser:
        return browser.get("/connect/twitter/callback", params=params)


def counts(server: LiveServer) -> tuple[int, int]:
    """(X connections, pending states) in the database."""

    async def work(session: Any) -> tuple[int, int]:
        x = await session.scalar(select(func.count()).where(Connection.platform == "twitter"))
        pending = await session.scalar(select(func.count()).select_from(OAuthState))
        return int(x or 0), int(pending or 0)

    return server.transaction(work)
