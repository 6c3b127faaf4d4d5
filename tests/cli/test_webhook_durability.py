"""A delivery survives the process: `herald serve` is killed after a post is published and
before its webhook deliveries are sent; the next process sends each of them, once."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from support import herald_serve, read_banner, wait_until
from webhook_support import webhook_receiver

LOOPBACK = {"HERALD_EGRESS_ALLOW": "127.0.0.0/8"}


def test_deliveries_written_before_a_kill_arrive_once_after_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    asleep = LOOPBACK | {"HERALD_WEBHOOK_POLL_SECONDS": "3600"}  # publishes, never delivers
    with webhook_receiver() as receiver:
        with herald_serve(data, env=asleep) as (port, process):
            banner = read_banner(process)
            api = f"http://127.0.0.1:{port}/api/v1"
            with httpx.Client(base_url=api, headers={"x-publora-key": banner["API key"]}) as client:
                hook = {"name": "H", "url": receiver.url, "events": ["post.published"]}
                created = client.post("/webhooks", json=hook).json()["webhook"]
                receiver.secret = created["secret"]
                body = {"content": "Survives", "platforms": [banner["platform id"]]}
                body["status"] = "scheduled"  # with no time: due now
                group_id = client.post("/create-post", json=body).json()["postGroupId"]
                wait_until(
                    lambda: client.get(f"/get-post/{group_id}").json()["status"] == "published"
                )
                [pending] = client.get(f"/webhooks/{created['_id']}/deliveries").json()[
                    "deliveries"
                ]
                assert pending["status"] == "pending"
            process.kill()
            process.communicate(timeout=30)
        assert receiver.accepted == []

        with herald_serve(data, env=LOOPBACK) as (port, process):
            api = f"http://127.0.0.1:{port}/api/v1"
            with httpx.Client(base_url=api, headers={"x-publora-key": banner["API key"]}) as client:
                log = f"/webhooks/{created['_id']}/deliveries"
                wait_until(lambda: client.get(log).json()["deliveries"][0]["status"] == "delivered")
            process.terminate()
            process.communicate(timeout=30)
        assert receiver.refused == []
        [delivered] = receiver.accepted
        assert json.loads(delivered.body)["data"]["postGroupId"] == group_id
        assert delivered.headers["x-herald-delivery"] == pending["_id"]
