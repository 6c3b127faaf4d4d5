"""The `herald` command line, run as a real process against both backends."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from pathlib import Path

import httpx

from cli_support import HERALD, herald, herald_json
from herald.config import Settings
from herald.db.engine import create_engine, create_session_factory
from herald.services.dashboard_auth import password_matches
from support import LiveServer, herald_serve


def test_accounts_keys_and_connections(server: LiveServer) -> None:
    settings = server.settings
    account_id = herald_json(settings, "accounts", "create", "Acme", "--workspace")["accountId"]
    key = herald_json(settings, "keys", "create", account_id)
    assert key["accountId"] == account_id
    assert key["apiKey"].startswith("sk_")
    added = herald_json(settings, "connections", "add", "sandbox", "--account", account_id)
    platform_id = added["platformId"]
    assert platform_id.startswith("sandbox-")

    accounts = herald_json(settings, "accounts", "list")["accounts"]
    assert [(a["accountId"], a["name"], a["workspace"]) for a in accounts] == [
        (account_id, "Acme", True)
    ]
    listed = herald_json(settings, "connections", "list")["connections"]
    assert [(c["platformId"], c["accountId"]) for c in listed] == [(platform_id, account_id)]

    api = httpx.Client(
        base_url=server.base_url + "/api/v1", headers={"x-publora-key": key["apiKey"]}
    )
    with api:
        connections = api.get("/platform-connections").json()["connections"]
        assert [c["platformId"] for c in connections] == [platform_id]
        removed = herald_json(settings, "connections", "remove", platform_id)
        assert removed == {"platformId": platform_id, "removed": True}
        assert api.get("/platform-connections").json()["connections"] == []
        assert herald_json(settings, "keys", "revoke", key["keyId"]) == {
            "keyId": key["keyId"],
            "revoked": True,
        }
        assert api.get("/platform-connections").status_code == 401


def test_clear_errors(server: LiveServer) -> None:
    settings = server.settings
    account_id = herald_json(settings, "accounts", "create", "Acme")["accountId"]
    incomplete = herald(
        settings, "connections", "add", "mastodon", "--account", account_id, check=False
    )
    assert incomplete.returncode == 1
    assert "Mastodon needs --instance" in incomplete.stderr
    unsupported = herald(
        settings, "connections", "add", "tiktok", "--account", account_id, check=False
    )
    assert "tiktok is connected in a browser" in unsupported.stderr
    unknown = herald(
        settings, "connections", "add", "myspace", "--account", account_id, check=False
    )
    assert "'myspace' is unknown" in unknown.stderr
    missing = herald(settings, "keys", "create", "507f1f77bcf86cd799439011", check=False)
    assert (missing.returncode, missing.stderr.strip()) == (1, "error: Account not found")
    as_json = herald(settings, "keys", "revoke", "nothing", "--json", check=False)
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout) == {"error": "API key not found", "code": "API_KEY_NOT_FOUND"}
    gone = herald(settings, "connections", "remove", "sandbox-nothing", check=False)
    assert gone.stderr.strip() == "error: Platform connection not found"


def test_serve_first_start_prints_the_key_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = _serve_once(settings)
    assert "API key:" in first
    key = first.split("API key:", 1)[1].split()[0]
    platform_id = first.split("platform id:", 1)[1].split()[0]
    assert key.startswith("sk_")
    assert platform_id.startswith("sandbox-")
    # The dashboard's address and a one-time sign-in link for it (tests/dashboard uses one).
    dashboard = first.split("dashboard:", 1)[1].split()[0]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", dashboard)
    link = first.split("sign in:", 1)[1].split()[0]
    assert re.fullmatch(re.escape(dashboard) + r"sign-in/[\w-]{43}", link)
    key_file = settings.data_dir.parent / "data-keys" / "secret.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert first.split("secret key:", 1)[1].split()[0] == str(key_file)
    second = _serve_once(settings)
    assert "API key:" not in second


def _serve_once(settings: Settings) -> str:
    """Start `herald serve`, stop it once it answers; return everything it printed."""
    with herald_serve(settings.data_dir) as (_port, process):
        pass
    output, _ = process.communicate(timeout=30)
    return output


def test_dashboard_email_password_and_sign_in_link(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    made = herald_json(settings, "accounts", "create", "Ada", "--email", "Ada@Example.com")
    account_id = made["accountId"]
    command = [*HERALD, "--data-dir", str(settings.data_dir), "accounts", "set-password"]
    done = subprocess.run(  # noqa: S603
        [*command, account_id, "--password-stdin"],
        input="correct horse battery\n",
        text=True,
        capture_output=True,
        check=True,
    )
    assert done.stdout.strip() == f"password set for account {account_id}"
    link = herald_json(settings, "accounts", "sign-in-link", account_id)["url"]
    assert re.fullmatch(r"http://127\.0\.0\.1:8080/sign-in/[\w-]{43}", link)

    async def check(password: str) -> str | None:
        engine = create_engine(settings.resolved_database_url)
        try:
            async with create_session_factory(engine)() as session:
                return await password_matches(session, "ada@example.com", password)
        finally:
            await engine.dispose()

    assert asyncio.run(check("correct horse battery")) == account_id  # the email lower-cased
    assert asyncio.run(check("correct horse batterY")) is None
