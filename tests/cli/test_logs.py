"""What `herald serve` logs while publishing: its attempt lines, and no credentials, not even the
Telegram bot token that every Bot API URL carries."""

from __future__ import annotations

from pathlib import Path

import httpx

from cli_support import herald_json
from herald.config import Settings
from herald.sim.telegram import create_telegram_app
from herald.sim.telegram_config import DEMO_TOKEN
from sim_support import serve_in_thread
from support import herald_serve, iso_in, wait_until


def test_serve_logs_attempts_without_the_bot_token(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    account = herald_json(settings, "accounts", "create", "Acme")["accountId"]
    key = herald_json(settings, "keys", "create", account)["apiKey"]
    with serve_in_thread(create_telegram_app()) as bot_api:
        # The Bot API simulator listens on loopback, which the egress policy refuses unless opened.
        loopback = {"HERALD_EGRESS_ALLOW": "127.0.0.0/8"}
        with herald_serve(settings.data_dir, env=loopback) as (port, process):
            api = httpx.Client(
                base_url=f"http://127.0.0.1:{port}/api/v1", headers={"x-publora-key": key}
            )
            connected = api.post(
                "/platform-connections",
                json={
                    "platform": "telegram",
                    "botToken": DEMO_TOKEN,
                    "chat": "@herald_demo",
                    "apiUrl": bot_api,
                },
            )
            assert connected.status_code == 201, connected.text
            platform_id = connected.json()["connection"]["platformId"]
            created = api.post(
                "/create-post",
                json={
                    "content": "Hello **world**",
                    "platforms": [platform_id],
                    "scheduledTime": iso_in(),
                },
            )
            group_id = created.json()["postGroupId"]
            wait_until(lambda: api.get(f"/get-post/{group_id}").json()["status"] == "published")
            api.close()
        output, _ = process.communicate(timeout=30)
    assert "publish.attempt" in output  # INFO lines were written
    assert "loop=uvloop" in output  # uvicorn runs the app, and the engine, on uvloop
    secret = DEMO_TOKEN.split(":", 1)[1]
    assert secret not in output
