"""Upload memory: stream files to `herald serve` (local backend) and watch the server's RSS.

Usage: python bench/upload.py [--megabytes 600] [--ok-megabytes 100]
The first upload is over the 512 MB cap and sent without Content-Length (chunked), so only
counting the streamed bytes can stop it; the second is under the cap and must be stored."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

CHUNK = b"\0" * (1024 * 1024)


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else 0.0


class RssSampler:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.05)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def body(megabytes: int) -> Iterator[bytes]:
    for _ in range(megabytes):
        yield CHUNK


def start_server(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "herald", "--data-dir", str(data_dir), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    banner = "".join(process.stdout.readline() for _ in range(7))
    key = banner.split("API key:", 1)[1].split()[0]
    platform = banner.split("platform id:", 1)[1].split()[0]
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    return process, key, platform


def upload(api: httpx.Client, platform: str, megabytes: int, pid: int) -> tuple[int, float]:
    group = api.post(
        "/create-post", json={"content": "bench", "platforms": [platform], "status": "draft"}
    ).json()["postGroupId"]
    ticket = api.post(
        "/get-upload-url",
        json={"postGroupId": group, "fileName": "big.mp4", "contentType": "video/mp4"},
    ).json()
    with RssSampler(pid) as sampler:
        response = httpx.put(
            ticket["uploadUrl"],
            content=body(megabytes),
            headers={"Content-Type": "video/mp4"},
            timeout=300,
        )
    return response.status_code, sampler.peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=int, default=600)
    parser.add_argument("--ok-megabytes", type=int, default=100)
    parser.add_argument("--port", type=int, default=18234)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        process, key, platform = start_server(Path(data_dir), args.port)
        try:
            base = f"http://127.0.0.1:{args.port}/api/v1"
            with httpx.Client(base_url=base, headers={"x-publora-key": key}) as api:
                api.get("/list-posts")  # warm up the app before the baseline
                baseline = rss_mb(process.pid)
                print(f"server RSS at rest: {baseline:.1f} MB")
                for megabytes in (args.megabytes, args.ok_megabytes):
                    started = time.perf_counter()
                    status, peak = upload(api, platform, megabytes, process.pid)
                    elapsed = time.perf_counter() - started
                    print(
                        f"PUT {megabytes} MB (chunked): HTTP {status} in {elapsed:.1f} s; "
                        f"server peak RSS {peak:.1f} MB (+{peak - baseline:.1f} MB over rest)"
                    )
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
