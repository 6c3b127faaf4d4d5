"""`herald secrets`: rotating the secret key re-seals every credential under a new key while a
server keeps publishing, and pruning drops the old key; on both databases."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import select

from cli_support import herald, herald_json, opened_by, sealed_credentials
from herald.config import Settings
from herald.db.engine import create_engine, create_session_factory, unit_of_work
from herald.domain.timestamps import utc_now
from herald.models import Webhook
from herald.services.secret_box import load_secret_box
from herald.services.webhook import create_webhook
from support import LiveServer, herald_serve, publish_now, read_banner


def test_rotate_and_prune_while_serving(server: LiveServer, tmp_path: Path) -> None:
    # On PostgreSQL the tables were just emptied, so `serve` starts as a first start there too.
    settings = Settings(data_dir=tmp_path / "data", database_url=server.settings.database_url)
    key_file = tmp_path / "data-keys" / "secret.key"
    with herald_serve(settings.data_dir, database_url=settings.database_url) as (port, process):
        banner = read_banner(process)
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}/api/v1",
            headers={"x-publora-key": banner["API key"]},
        )
        with client:
            publish_now(client, banner["platform id"])
            [old] = key_file.read_text().split()

            rotated = herald_json(settings, "secrets", "rotate")
            new, *kept = key_file.read_text().split()
            assert kept == [old]
            assert rotated == {"keyFile": str(key_file), "keys": 2, "resealed": 1, "unreadable": 0}
            [sealed] = sealed_credentials(settings)
            assert opened_by(sealed, {"old": old, "new": new}) == ["new"]
            publish_now(client, banner["platform id"])  # the server follows the key file

            status = herald_json(settings, "secrets", "status")
            assert status["credentials"] == [1, 0]
            pruned = herald_json(settings, "secrets", "prune")
            assert pruned == {"keyFile": str(key_file), "keys": 1, "removed": 1, "resealed": 0}
            assert key_file.read_text().split() == [new]
            publish_now(client, banner["platform id"])
    output, _ = process.communicate(timeout=30)
    assert old not in output
    assert new not in output


def test_rotate_with_keys_from_the_environment(server: LiveServer) -> None:
    settings = server.settings
    key_file = settings.data_dir.parent / f"{settings.data_dir.name}-keys" / "secret.key"
    before = key_file.read_bytes() if key_file.exists() else None
    old = _fernet_key()
    account = herald_json(settings, "accounts", "create", "Acme", env={"HERALD_SECRET_KEY": old})
    herald_json(
        settings, "connections", "add", "sandbox", "--account", account["accountId"],
        env={"HERALD_SECRET_KEY": old},
    )  # fmt: skip

    rotated = herald_json(settings, "secrets", "rotate", env={"HERALD_SECRET_KEY": old})
    keys = rotated["secretKey"]
    new = keys.split(",")[0]
    assert keys == f"{new},{old}"
    assert rotated["resealed"] == 0  # nothing can open the new key's seals before it is set
    [sealed] = sealed_credentials(settings)
    assert opened_by(sealed, {"old": old, "new": new}) == ["old"]

    both = {"HERALD_SECRET_KEY": keys}
    assert herald_json(settings, "secrets", "status", env=both)["credentials"] == [0, 1]
    resealed = herald_json(settings, "secrets", "reseal", env=both)
    assert (resealed["resealed"], resealed["unreadable"]) == (1, 0)
    [sealed] = sealed_credentials(settings)
    assert opened_by(sealed, {"old": old, "new": new}) == ["new"]
    pruned = herald_json(settings, "secrets", "prune", env=both)
    assert pruned["secretKey"] == new
    assert (key_file.read_bytes() if key_file.exists() else None) == before


def test_rotate_moves_an_older_installs_key_out_of_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    legacy = settings.data_dir / "secret.key"
    old = _fernet_key()
    legacy.write_text(old)
    account = herald_json(settings, "accounts", "create", "Acme")["accountId"]
    herald_json(settings, "connections", "add", "sandbox", "--account", account)

    herald_json(settings, "secrets", "rotate")
    key_file = tmp_path / "data-keys" / "secret.key"
    new, *kept = key_file.read_text().split()
    assert kept == [old]
    [sealed] = sealed_credentials(settings)
    assert opened_by(sealed, {"old": old, "new": new}) == ["new"]

    pruned = herald_json(settings, "secrets", "prune")
    assert pruned["removed"] == 1
    assert key_file.read_text().split() == [new]
    assert not legacy.exists()
    listed = herald(settings, "connections", "list")
    assert "secret.key" not in listed.stderr


def _fernet_key() -> str:
    return Fernet.generate_key().decode()


def test_rotation_reseals_webhook_secrets_too(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    account = herald_json(settings, "accounts", "create", "Acme")["accountId"]
    secret = asyncio.run(_add_webhook(settings, account))
    key_file = tmp_path / "data-keys" / "secret.key"
    [old] = key_file.read_text().split()

    rotated = herald_json(settings, "secrets", "rotate")
    assert rotated["resealed"] == 1
    new = key_file.read_text().split()[0]
    [sealed] = asyncio.run(_webhook_secrets(settings))
    assert opened_by(sealed, {"old": old, "new": new}) == ["new"]
    assert herald_json(settings, "secrets", "prune")["removed"] == 1
    assert json.loads(Fernet(new).decrypt(sealed)) == {"secret": secret}


async def _add_webhook(settings: Settings, account_id: str) -> str:
    engine = create_engine(settings.resolved_database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            _, secret = await create_webhook(
                session,
                load_secret_box(settings),
                account_id,
                ("Hook", "https://example.com/hook", ["post.published"]),
                utc_now(),
            )
        return secret
    finally:
        await engine.dispose()


async def _webhook_secrets(settings: Settings) -> list[bytes]:
    engine = create_engine(settings.resolved_database_url)
    try:
        async with engine.connect() as connection:
            return [bytes(s) for s in await connection.scalars(select(Webhook.secret))]
    finally:
        await engine.dispose()
