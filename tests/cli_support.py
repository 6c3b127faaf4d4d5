"""Running the `herald` command line as a real process, as tests do."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select

from herald.config import Settings
from herald.db.engine import create_engine
from herald.models import Connection

HERALD = [sys.executable, "-m", "herald"]


def herald(
    settings: Settings, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`herald` with the settings' data dir and database; `env` adds HERALD_* variables (the
    caller's own are never passed on)."""
    command = [*HERALD, "--data-dir", str(settings.data_dir)]
    if settings.database_url:
        command += ["--database-url", settings.database_url]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")} | (env or {})
    if settings.egress_allow:  # the simulators `connections add` verifies with are on loopback
        env["HERALD_EGRESS_ALLOW"] = ",".join(str(network) for network in settings.egress_allow)
    result = subprocess.run(  # noqa: S603 (our own CLI, fixed arguments)
        [*command, *args], capture_output=True, text=True, timeout=60, env=env, check=False
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def herald_json(
    settings: Settings, *args: str, env: dict[str, str] | None = None
) -> dict[str, Any]:
    result = herald(settings, *args, "--json", env=env)
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    value: dict[str, Any] = json.loads(lines[0])
    return value


def sealed_credentials(settings: Settings) -> list[bytes]:
    """Every connection's sealed credentials, read straight from the database."""

    async def read() -> list[bytes]:
        engine = create_engine(settings.resolved_database_url)
        try:
            async with engine.connect() as connection:
                query = select(Connection.credentials).where(Connection.credentials.is_not(None))
                rows = await connection.scalars(query.order_by(Connection.id))
                return [bytes(sealed) for sealed in rows if sealed is not None]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def opened_by(sealed: bytes, keys: dict[str, str | bytes]) -> list[str]:
    """The names of the keys that open `sealed` on their own."""
    names = []
    for name, key in keys.items():
        try:
            Fernet(key).decrypt(sealed)
        except InvalidToken:
            continue
        names.append(name)
    return names
