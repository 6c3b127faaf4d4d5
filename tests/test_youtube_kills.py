"""bench/youtube_kills.py in a small mode: workers SIGKILLed mid-upload, every video on the
YouTube simulator exactly once with its bytes intact, and the bytes sent in all under 1.2 x the
file sizes (the script's PASS)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_killed_workers_resume_uploads_and_never_double_a_video() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "youtube_kills.py",
            "--videos",
            "2",
            "--kills",
            "1",
            "--megabytes",
            "1",
            "--latency-ms",
            "250",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=BENCH,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 workers SIGKILLed mid-upload" in result.stdout
    assert "videos on YouTube: 2; exactly once: 2; bytes intact: 2" in result.stdout
    assert "PASS" in result.stdout
