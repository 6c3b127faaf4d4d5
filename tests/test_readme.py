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
VOLATILE_TIMES = ("createdAt", "updatedAt")


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


def _mask_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "<time>" if k in VOLATILE_TIMES else _mask_times(v) for k, v in value.items()}
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
    doc_platform, doc_post = _documented("PLATFORM"), _documented("export POST")
    replacements = {
        doc_platform: live_platform,
        doc_platform.split("-", 1)[1]: live_platform.split("-", 1)[1],
        "@sandbox_" + doc_platform.split("-", 1)[1][:6]: "@sandbox_" + live_platform[8:14],
    }
    env = {
        **os.environ,
        "API": f"http://127.0.0.1:{port}/api/v1",
        "HERALD_KEY": live_key,
        "PLATFORM": live_platform,
    }
    steps = transcript()
    assert len(steps) >= 9
    for step in steps:
        if step.command.startswith("export POST="):
            env["POST"] = replacements[doc_post]
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
        if "postGroupId" in actual and doc_post not in replacements:
            replacements[doc_post] = actual["postGroupId"]
        expected = step.expected
        for documented, live in replacements.items():
            expected = expected.replace(documented, live)
        assert _mask_times(actual) == _mask_times(json.loads(expected)), step.command
