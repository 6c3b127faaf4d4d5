"""The README's curl transcript, run against `herald serve` on a fresh data directory, prints the
documented responses (ids and creation times aside)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support import herald_serve

README = Path(__file__).resolve().parent.parent / "README.md"
# Times the commands do not set: when the docs were written versus when the test runs. The
# scheduledTime of a post published "now" is its creation time, so it is one of them too; the
# times the commands do set are all in 2030.
VOLATILE_TIMES = ("createdAt", "updatedAt", "publishedAt")
SET_BY_COMMANDS = "2030"
# A sandbox post's page is at a random key (sim/sandbox.py), which differs on every run.
SANDBOX_PAGE = re.compile(r"/sim/sandbox/p/[^/]+$")
# Ids the commands never see, such as get-post's per-platform `_id`, differ on every run too.
NEW_IDS = ("_id",)


@dataclass
class Step:
    command: str
    expected: str | None


def transcript() -> list[Step]:
    block = README.read_text().split("```console\n", 1)[1].split("```", 1)[0]
    steps: list[Step] = []
    lines = iter(block.splitlines())
    for line in lines:
        if not line.startswith("$ "):
            if line and not line.startswith("#"):
                steps[-1].expected = line
            continue
        command = line[2:]
        while command.endswith("\\"):
            command = command[:-1] + next(lines).strip()
        steps.append(Step(command, None))
    return steps


def _documented(name: str) -> str:
    match = re.search(rf"{name}=(\S+)", README.read_text())
    assert match, name
    return match.group(1)


def _volatile(key: str, value: Any) -> bool:
    now_time = key == "scheduledTime" and isinstance(value, str) and value < SET_BY_COMMANDS
    is_page = key in ("publishedUrl", "permalink") and isinstance(value, str)
    page = is_page and SANDBOX_PAGE.search(value)
    return key in VOLATILE_TIMES or key in NEW_IDS or now_time or bool(page)


def _mask_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "<time>" if _volatile(k, v) else _mask_times(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_times(v) for v in value]
    return value


@pytest.fixture
def first_start(tmp_path: Path) -> Iterator[tuple[int, str]]:
    with herald_serve(tmp_path) as (port, process):
        assert process.stdout is not None
        banner = "".join(process.stdout.readline() for _ in range(7))
        yield port, banner
    process.communicate(timeout=30)


def test_the_readme_transcript(first_start: tuple[int, str]) -> None:
    port, banner = first_start
    live_key = banner.split("API key:", 1)[1].split()[0]
    live_platform = banner.split("platform id:", 1)[1].split()[0]
    doc_platform = _documented("PLATFORM")
    replacements = {
        doc_platform: live_platform,
        doc_platform.split("-", 1)[1]: live_platform.split("-", 1)[1],
        "@sandbox_" + doc_platform.split("-", 1)[1][:6]: "@sandbox_" + live_platform[8:14],
        "127.0.0.1:8080": f"127.0.0.1:{port}",
    }
    env = {
        **os.environ,
        "API": f"http://127.0.0.1:{port}/api/v1",
        "HERALD_KEY": live_key,
        "PLATFORM": live_platform,
    }
    steps = transcript()
    assert len(steps) >= 12
    for step in steps:
        exported = re.fullmatch(r"export (\w+)=(\S+)", step.command)
        if exported:
            env[exported.group(1)] = replacements[exported.group(2)]
            continue
        result = subprocess.run(  # noqa: S603
            ["bash", "-c", step.command],  # noqa: S607
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
            check=True,
        )
        assert step.expected is not None, step.command
        actual = json.loads(result.stdout)
        documented = json.loads(step.expected)
        if "postGroupId" in documented:
            replacements.setdefault(documented["postGroupId"], actual["postGroupId"])
        expected = step.expected
        for doc_value, live_value in replacements.items():
            expected = expected.replace(doc_value, live_value)
        assert _mask_times(actual) == _mask_times(json.loads(expected)), step.command
