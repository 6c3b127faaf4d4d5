"""Helpers shared by the tests: the live server handle, tenants, timestamps."""

from __future__ import annotations

import asyncio
import io
import ipaddress
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI

from herald.api.context import AppContext
from herald.config import Settings
from herald.domain.platform import Platform, platform_id
from herald.domain.timestamps import format_timestamp
from herald.services import connection as connections
from herald.services.account import create_account, issue_api_key

T = TypeVar("T")

# What a test client waits for an answer: well above any answer's time on a quiet machine, and
# above httpx's 5 s default, which a request queued behind a burst exceeded on a loaded one.
CLIENT_TIMEOUT_S = 30.0


# The simulators and the interop servers listen on loopback, which a new installation's egress
# policy refuses, and the engine tests script faults through the sandbox's /_sim/ routes: the
# test servers open both. The `default_server` fixture runs one with the defaults instead.
TEST_SETTINGS: dict[str, Any] = {
    "egress_allow": (ipaddress.ip_network("127.0.0.0/8"),),
    # The Meta simulator fetches media from the test server's loopback URLs.
    "media_reachable_networks": (ipaddress.ip_network("127.0.0.0/8"),),
    "sandbox_control": True,
}


def iso_in(**delta: float) -> str:
    """A wire timestamp relative to now, e.g. iso_in(days=1) or iso_in(hours=-1)."""
    return format_timestamp(datetime.now(UTC) + timedelta(**delta))


@dataclass
class LiveServer:
    """A Herald app served by uvicorn on a loopback port, in a thread with its own loop."""

    base_url: str
    settings: Settings
    app: FastAPI
    loop: asyncio.AbstractEventLoop

    @property
    def context(self) -> AppContext:
        context: AppContext = self.app.state.context
        return context

    def run(self, coroutine: Awaitable[T]) -> T:
        """Run a coroutine on the server's loop (where its engine and sessions live)."""

        async def wrapped() -> T:
            return await coroutine

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(timeout=60)

    def transaction(self, work: Callable[[Any], Awaitable[T]]) -> T:
        async def inside() -> T:
            async with self.context.transaction() as session:
                return await work(session)

        return self.run(inside())


@dataclass(frozen=True)
class Tenant:
    account_id: str
    api_key: str
    platform_id: str
    client: httpx.Client


def make_tenant(server: LiveServer, name: str = "Acme", *, workspace: bool = True) -> Tenant:
    async def work(session: Any) -> tuple[str, str, str]:
        account = await create_account(session, name, workspace=workspace)
        key, _ = await issue_api_key(session, account.id)
        connection = await connections.add_sandbox_connection(
            session, server.context.secret_box, account.id
        )
        return account.id, key, platform_id(Platform.SANDBOX, connection.external_id)

    account_id, key, public_id = server.transaction(work)
    client = httpx.Client(
        base_url=server.base_url + "/api/v1",
        headers={"x-publora-key": key},
        timeout=CLIENT_TIMEOUT_S,
    )
    return Tenant(account_id, key, public_id, client)


def force_target_states(
    server: LiveServer, group_id: str, states: list[str], *, sent: bool = False
) -> None:
    """Put a group's targets (by position) into engine states, as the publishing engine would,
    and refresh the stored group status the way the service does."""
    from herald.domain.timestamps import utc_now
    from herald.services.post import refresh_group_status
    from herald.store.post import PostStore

    async def work(session: Any) -> None:
        group = await PostStore(session).get_by_id(group_id)
        assert group is not None
        assert len(group.targets) == len(states)
        for target, state in zip(group.targets, states, strict=True):
            target.state = state
            target.sent_at = utc_now() if sent else None
        refresh_group_status(group)

    server.transaction(work)


def add_sandbox_connection(server: LiveServer, account_id: str) -> str:
    async def work(session: Any) -> str:
        connection = await connections.add_sandbox_connection(
            session, server.context.secret_box, account_id
        )
        return platform_id(Platform.SANDBOX, connection.external_id)

    return server.transaction(work)


def error_body(message: str, code: str) -> dict[str, str]:
    return {"error": message, "message": message, "code": code}


def create_post(tenant: Tenant, **fields: Any) -> str:
    """A post due now, unless `fields` give a `status` or a `scheduledTime` (a post created
    with neither is a draft)."""
    body = {"content": "Hello from Herald", "platforms": [tenant.platform_id], **fields}
    if "status" not in fields and "scheduledTime" not in fields:
        body["scheduledTime"] = iso_in()  # now: moved to the server's now if just past
    response = tenant.client.post("/create-post", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["postGroupId"])


def add_raw_connection(server: LiveServer, account_id: str, platform: str, external_id: str) -> str:
    """A connection row for a platform whose connector does not exist yet (no credentials)."""
    from herald.models import Connection

    async def work(session: Any) -> None:
        session.add(Connection(account_id=account_id, platform=platform, external_id=external_id))

    server.transaction(work)
    return f"{platform}-{external_id}"


@contextmanager
def herald_serve(
    data_dir: Path,
    *,
    database_url: str | None = None,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """`herald serve` as a real process on a free port with SQLite in `data_dir` (or
    `database_url`), until the block ends; yields the port and the process (its output is read
    after it stops). `env` adds HERALD_* variables; the caller's own are never passed on. `args`
    go to `serve` (e.g. `--no-engine`)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")} | (env or {})
    command = [sys.executable, "-m", "herald", "--data-dir", str(data_dir)]
    if database_url is not None:
        command += ["--database-url", database_url]
    process = subprocess.Popen(  # noqa: S603
        [*command, "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while not _healthy(port):
            assert time.monotonic() < deadline, "herald serve did not come up"
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                raise AssertionError(f"herald serve exited:\n{output[-4000:]}")
            time.sleep(0.1)
        yield port, process
    except BaseException:
        process.terminate()
        process.communicate(timeout=30)  # reaped, so a failing test leaves no process behind
        raise
    finally:
        if process.poll() is None:
            process.terminate()


def read_banner(process: subprocess.Popen[str]) -> dict[str, str]:
    """The first-start banner of a running `herald serve`, as {"API key": ..., ...}; it is
    printed (and flushed) before the server answers, so the lines are already there."""
    assert process.stdout is not None
    fields: dict[str, str] = {}
    while "API" not in fields:
        line = process.stdout.readline()
        assert line, "herald serve printed no first-start banner"
        field = re.match(r"\s+([\w ]+):\s+(\S+)", line)
        if field:
            fields[field.group(1)] = field.group(2)
    return fields


def publish_now(client: httpx.Client, platform_id: str) -> None:
    """Publish a post through `client` at once and wait until the platform has it."""
    body = {"content": "Now", "platforms": [platform_id], "scheduledTime": iso_in()}
    created = client.post("/create-post", json=body)
    assert created.status_code == 200, created.text
    group_id = created.json()["postGroupId"]
    wait_until(lambda: client.get(f"/get-post/{group_id}").json()["status"] == "published")


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def wait_until(check: Callable[[], T | None], timeout: float = 15.0, every: float = 0.05) -> T:
    """Poll until `check` returns something truthy; fail with the last value after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"condition not met within {timeout} s"
        time.sleep(every)


def post_when(tenant: Tenant, group_id: str, *statuses: str, timeout: float = 15.0) -> Any:
    """The get-post body once the group reaches one of `statuses`."""

    def reached() -> Any:
        body = tenant.client.get(f"/get-post/{group_id}").json()
        return body if body["status"] in statuses else None

    return wait_until(reached, timeout)


def target_rows(server: LiveServer, group_id: str) -> list[Any]:
    """The group's publish_target rows, by position, read fresh from the database."""
    from sqlalchemy import select

    from herald.models import PublishTarget

    async def read(session: Any) -> list[Any]:
        query = (
            select(PublishTarget)
            .where(PublishTarget.post_group_id == group_id)
            .order_by(PublishTarget.position)
        )
        return list((await session.scalars(query)).all())

    return server.transaction(read)


def as_connection(server: LiveServer, connection_id: str) -> dict[str, str]:
    """The headers a sandbox connection sends: the simulator shows an account's posts, and
    takes posts for it, only with the token of the connection that first posted for it."""
    from herald.models import Connection

    async def read(session: Any) -> dict[str, str]:
        connection = await session.get(Connection, connection_id)
        token = server.context.secret_box.open(connection.credentials)["token"]
        return {"Authorization": f"Bearer {token}"}

    return server.transaction(read)


def update_target(server: LiveServer, group_id: str, **values: Any) -> None:
    """Set columns on a group's targets directly, to stage what a crash would leave behind."""
    from sqlalchemy import update

    from herald.models import PublishTarget

    async def write(session: Any) -> None:
        await session.execute(
            update(PublishTarget).where(PublishTarget.post_group_id == group_id).values(**values)
        )

    server.transaction(write)


def set_group_time(server: LiveServer, group_id: str, scheduled_at: datetime) -> None:
    """Set a group's stored time directly, e.g. to a past one that the API no longer accepts."""
    from sqlalchemy import update

    from herald.models import PostGroup

    async def write(session: Any) -> None:
        await session.execute(
            update(PostGroup).where(PostGroup.id == group_id).values(scheduled_at=scheduled_at)
        )

    server.transaction(write)


@contextmanager
def run_live_server(settings: Settings) -> Iterator[LiveServer]:
    """Herald's API (engine off) served by uvicorn on a free loopback port, in a thread with its
    own event loop; `public_url` is set to that port so upload and file URLs point back at it."""
    import threading

    import uvicorn

    from herald.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Accepted sockets inherit this; without it Nagle's algorithm adds ~40 ms to each answer.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})
    app = create_app(settings, run_engine=False)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(
        target=lambda: loop.run_until_complete(server.serve(sockets=[sock])), daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "test server did not start"
            time.sleep(0.05)
        yield LiveServer(f"http://127.0.0.1:{port}", settings, app, loop)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        loop.close()
        sock.close()


@contextmanager
def running_engine(server: LiveServer, settings: Settings) -> Iterator[Any]:
    """A publishing engine on the server's loop, database and media store; API writes wake it."""
    from herald.engine.dispatcher import Engine

    async def start() -> Engine:
        context = server.context
        engine = Engine(
            settings, context.sessions, context.secret_box, media_store=context.media_store
        )
        await engine.start()
        return engine

    engine = server.run(start())
    server.context.publisher = engine
    try:
        yield engine
    finally:
        server.context.publisher = None
        server.run(engine.stop(grace=2))


def png(color: tuple[int, int, int], size: tuple[int, int]) -> bytes:
    """A small solid PNG: distinct colours and sizes tell images apart at the platform."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def attach_file(
    tenant: Tenant, group_id: str, name: str, data: bytes, content_type: str = "image/png"
) -> dict[str, Any]:
    """Upload a file to a post group the way a client does: get-upload-url, then PUT."""
    issued: dict[str, Any] = tenant.client.post(
        "/get-upload-url",
        json={"postGroupId": group_id, "fileName": name, "contentType": content_type},
    ).json()
    uploaded = httpx.put(issued["uploadUrl"], content=data, headers={"Content-Type": content_type})
    assert uploaded.status_code == 200, uploaded.text
    return issued


def connect_account(tenant: Tenant, **body: str) -> str:
    """Connect an account through the API; returns its platform id."""
    response = tenant.client.post("/platform-connections", json=body)
    assert response.status_code == 201, response.text
    platform_id: str = response.json()["connection"]["platformId"]
    return platform_id


def schedule_with_files(
    tenant: Tenant, content: str, platform_ids: list[str], files: list[bytes], alt_texts: list[str]
) -> str:
    """A draft group with PNG `files` uploaded the way a client does, then scheduled a second
    from now (the engine must not start before the uploads exist); returns its id."""
    created = tenant.client.post(
        "/create-post",
        json={
            "content": content,
            "platforms": platform_ids,
            "status": "draft",
            "altTexts": alt_texts,
        },
    )
    assert created.status_code == 200, created.text
    group_id: str = created.json()["postGroupId"]
    for index, data in enumerate(files):
        attach_file(tenant, group_id, f"image-{index}.png", data)
    scheduled = tenant.client.put(
        f"/update-post/{group_id}", json={"scheduledTime": iso_in(seconds=1)}
    )
    assert scheduled.status_code == 200, scheduled.text
    return group_id


def facet_spans(record: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each Bluesky facet's first feature with the text it covers, cut from the UTF-8 bytes as
    Bluesky's app does."""
    raw = record["text"].encode()
    return [
        (raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(), f["features"][0])
        for f in record.get("facets", [])
    ]


_PART_NUMBER = re.compile(r" \[\d+/\d+\]$")


def without_part_number(text: str) -> str:
    """A thread part's text without the ` [i/N]` suffix the planner adds."""
    return _PART_NUMBER.sub("", text)
