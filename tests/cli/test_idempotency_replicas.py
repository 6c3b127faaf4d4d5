"""Idempotency-Key across API replicas: two `herald serve --no-engine` processes on one
database, sent the same create-post with one key at once, make one post; on both databases."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from pathlib import Path

from idempotency_support import assert_one_post, concurrent_creates, post_count
from support import LiveServer, Tenant, herald_serve


def test_two_replicas_make_one_post_for_one_key(
    server: LiveServer, tenant: Tenant, tmp_path: Path
) -> None:
    url = server.settings.resolved_database_url
    data = server.settings.data_dir
    key_file = {"HERALD_SECRET_KEY_FILE": str(data.parent / f"{data.name}-keys" / "secret.key")}
    with ExitStack() as replicas:
        started = [
            replicas.enter_context(
                herald_serve(tmp_path / name, database_url=url, env=key_file, args=("--no-engine",))
            )
            for name in ("replica-a", "replica-b")
        ]
        ports = [port for port, _ in started]
        base_urls = [f"http://127.0.0.1:{port}" for port in ports]
        answers = asyncio.run(concurrent_creates(base_urls, tenant, "across-replicas", 50))
        assert_one_post(answers)
        assert post_count(server, tenant.account_id) == 1

        # Either replica replays the recorded answer afterwards.
        [created] = {a.json()["postGroupId"] for a in answers if a.status_code == 200}
        again = asyncio.run(concurrent_creates(base_urls, tenant, "across-replicas", 2))
        assert [a.json()["postGroupId"] for a in again] == [created, created]
    for _, process in started:
        process.communicate(timeout=30)  # stopped when the block ended; reaped here
