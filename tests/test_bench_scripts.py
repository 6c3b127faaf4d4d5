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
