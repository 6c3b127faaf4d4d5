"""Fetching a request's media URLs: the hourly allowance first, then the files, under the egress
policy; the caller removes them again if its write does not commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from herald.api.context import AppContext
from herald.net.egress import EgressPolicy
from herald.net.http_client import one_off_client
from herald.services.media import delete_files
from herald.services.media_urls import Fetched, count_urls, fetch_all


@asynccontextmanager
async def fetched_media(
    context: AppContext,
    account_id: str,
    group_id: str,
    urls: Sequence[str],
    name: str | None = None,
) -> AsyncIterator[list[Fetched]]:
    """The files of `urls`, stored for `group_id`; removed if the block raises (nothing was
    attached, so nothing may stay)."""
    if not urls:
        yield []
        return
    async with context.transaction() as session:
        await count_urls(session, account_id, len(urls))
    settings = context.settings
    async with one_off_client(
        EgressPolicy.from_settings(settings), settings.engine_http_timeout_seconds
    ) as client:
        fetched = await fetch_all(
            client, context.media_store, group_id, urls, settings.media_max_upload_bytes, name
        )
    try:
        yield fetched
    except BaseException:
        await delete_files(context.media_store, [f.storage_key for f in fetched])
        raise
