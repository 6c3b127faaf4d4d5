"""Running the `herald` command line as a real process, as tests do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from herald.config import Settings

HERALD = [sys.executable, "-m", "herald"]


def herald(settings: Settings, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    command = [*HERALD, "--data-dir", str(settings.data_dir)]
    if settings.database_url:
        command += ["--database-url", settings.database_url]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    if settings.egress_allow:  # the simulators `connections add` verifies with are on loopback
        env["HERALD_EGRESS_ALLOW"] = ",".join(str(network) for network in settings.egress_allow)
    result = subprocess.run(  # noqa: S603 (our own CLI, fixed arguments)
        [*command, *args], capture_output=True, text=True, timeout=60, env=env, check=False
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def herald_json(settings: Settings, *args: str) -> dict[str, Any]:
    result = herald(settings, *args, "--json")
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    value: dict[str, Any] = json.loads(lines[0])
    return value
