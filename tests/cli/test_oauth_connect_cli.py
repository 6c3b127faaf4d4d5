"""`herald connections connect x`: the command prints a link the running server accepts."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from cli_support import herald, herald_json
from oauth_support import query_of, x_app
from support import LiveServer

X_APP = {"HERALD_X_CLIENT_ID": "herald-test-client"}


def test_without_an_x_app_the_command_names_the_settings(server: LiveServer) -> None:
    account = herald_json(server.settings, "accounts", "create", "Acme")["accountId"]
    result = herald(
        server.settings, "connections", "connect", "x", "--account", account, check=False
    )
    assert result.returncode == 1
    assert "HERALD_X_CLIENT_ID" in result.stderr
    assert "/connect/twitter/callback" in result.stderr


def test_an_unknown_account_gets_no_link(server: LiveServer) -> None:
    result = herald(
        server.settings,
        "connections",
        "connect",
        "x",
        "--account",
        "0" * 24,
        check=False,
        env=X_APP,
    )
    assert result.returncode == 1
    assert "Account not found" in result.stderr


def test_the_printed_link_starts_the_connection_on_the_server(server: LiveServer) -> None:
    account = herald_json(server.settings, "accounts", "create", "Acme")["accountId"]
    made = herald_json(
        server.settings, "connections", "connect", "x", "--account", account, env=X_APP
    )
    link = urlsplit(made["url"])
    assert link.path == "/connect/twitter"
    human = herald(server.settings, "connections", "connect", "x", "--account", account, env=X_APP)
    assert "/connect/twitter?link=" in human.stdout
    with x_app(server, "http://127.0.0.1:1", "https://x.example/i/oauth2/authorize"):
        answer = httpx.get(f"{server.base_url}{link.path}?{link.query}", timeout=10)
    assert answer.status_code == 303
    consent = answer.headers["location"]
    assert consent.startswith("https://x.example/i/oauth2/authorize?")
    assert query_of(consent)["redirect_uri"] == f"{server.base_url}/connect/twitter/callback"


def test_add_points_an_oauth_platform_to_connect(server: LiveServer) -> None:
    account = herald_json(server.settings, "accounts", "create", "Acme")["accountId"]
    result = herald(server.settings, "connections", "add", "x", "--account", account, check=False)
    assert result.returncode == 1
    assert f"herald connections connect x --account {account}" in result.stderr
