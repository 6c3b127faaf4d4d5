"""Media URL memory: `herald serve` fetches large files named in `mediaUrls` from a loopback file
server, and the server's RSS is watched.

Usage: python bench/media_urls.py [--megabytes 140] [--over-megabytes 200]
The first file (an MP4 under the 150 MB video cap) must be stored; the second is over the cap and
served without Content-Length, so only counting the streamed bytes can stop it."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from upload import RssSampler, rss_mb

MEBIBYTE = 1024 * 1024
MP4_HEAD = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41"


def _handler(sizes: dict[str, int]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            megabytes = sizes.get(self.path)
            if megabytes is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.end_headers()
            try:
                self.wfile.write(MP4_HEAD)
                chunk = b"\0" * MEBIBYTE
                for _ in range(megabytes):
                    self.wfile.write(chunk)
            except OSError:
                pass  # Herald stopped reading

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


@contextmanager
def file_server(sizes: dict[str, int]) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(sizes))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def start_server(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    env["HERALD_EGRESS_ALLOW"] = "127.0.0.0/8"  # the file server is on loopback
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
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    return process, key, platform


def fetch(api: httpx.Client, platform: str, url: str, pid: int) -> tuple[int, str, float]:
    body = {"content": "bench", "platforms": [platform], "status": "draft", "mediaUrls": [url]}
    with RssSampler(pid) as sampler:
        response = api.post("/create-post", json=body, timeout=300)
    answer = response.json()
    code = answer.get("mediaResults", [{}])[0].get("code", "") if response.is_error else "stored"
    return response.status_code, code, sampler.peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=int, default=140)
    parser.add_argument("--over-megabytes", type=int, default=200)
    parser.add_argument("--port", type=int, default=18235)
    args = parser.parse_args()
    sizes = {"/ok.mp4": args.megabytes, "/over.mp4": args.over_megabytes}
    with tempfile.TemporaryDirectory() as data_dir, file_server(sizes) as files:
        process, key, platform = start_server(Path(data_dir), args.port)
        try:
            base = f"http://127.0.0.1:{args.port}/api/v1"
            with httpx.Client(base_url=base, headers={"x-publora-key": key}) as api:
                api.get("/list-posts")  # warm up the app before the baseline
                baseline = rss_mb(process.pid)
                print(f"server RSS at rest: {baseline:.1f} MB")
                for path in sizes:
                    started = time.perf_counter()
                    status, code, peak = fetch(api, platform, files + path, process.pid)
                    elapsed = time.perf_counter() - started
                    print(
                        f"mediaUrls {sizes[path]} MB: HTTP {status} {code} in {elapsed:.1f} s; "
                        f"server peak RSS {peak:.1f} MB (+{peak - baseline:.1f} MB over rest)"
                    )
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
