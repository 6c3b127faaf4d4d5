"""`herald worker`: publishes from PostgreSQL in its own process and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import httpx

from herald.app import SANDBOX_PATH
from support import LiveServer, Tenant, create_post, post_when


def test_worker(server: LiveServer, tenant: Tenant, sandbox: httpx.Client) -> None:
    settings = server.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    command = [sys.executable, "-m", "herald", "--data-dir", str(settings.data_dir)]
    if settings.is_sqlite:
        refused = subprocess.run(  # noqa: S603
            [*command, "worker"], capture_output=True, text=True, env=env, timeout=60, check=False
        )
        assert refused.returncode == 2
        assert "`herald worker` needs PostgreSQL" in refused.stderr
        return
    env |= {
        "HERALD_DATABASE_URL": str(settings.database_url),
        "HERALD_SANDBOX_URL": server.base_url + SANDBOX_PATH,
        "HERALD_LOG_LEVEL": "info",
    }
    metrics_port = _free_port()
    worker = subprocess.Popen(  # noqa: S603
        [*command, "worker", "--concurrency", "20", "--metrics-port", str(metrics_port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        group_id = create_post(tenant)
        body = post_when(tenant, group_id, "published", timeout=30)
        assert body["posts"][0]["postedId"] == sandbox.get("/_sim/posts").json()["posts"][0]["id"]
        operations = f"http://127.0.0.1:{metrics_port}"
        assert httpx.get(operations + "/healthz").json()["engine"] == "on"
        assert "herald_start_lateness_seconds_count 1" in httpx.get(operations + "/metrics").text
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    assert "engine.started" in output
    assert "loop=uvloop" in output  # pinned for Linux, which CI runs on
    assert "engine.stopped" in output
    assert tenant.api_key not in output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
