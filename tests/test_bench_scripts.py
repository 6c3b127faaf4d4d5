"""The benchmarks are not run by the suite (they print figures and take minutes), but they must
keep working as the code under them changes: each script's `--help` runs, which imports it and
everything it uses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize("script", sorted(p.name for p in BENCH.glob("[!_]*.py")))
def test_benchmark_script_starts(script: str) -> None:
    result = subprocess.run(  # noqa: S603 (our own scripts)
        [sys.executable, str(BENCH / script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=BENCH,
    )
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_list_reads_runs_in_a_small_mode(backend: str) -> None:
    """The reads benchmark end to end on a few hundred groups: build, migrate, serve, query."""
    result = subprocess.run(  # noqa: S603 (our own script)
        [sys.executable, "list_reads.py", "--backend", backend, "--groups", "300", "--repeat", "2"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=BENCH,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| platform=telegram&page=mid&limit=100 |" in result.stdout
    assert "| calendar: next week (service) |" in result.stdout
    assert "| engine claim (batch 100, nothing due) |" in result.stdout
