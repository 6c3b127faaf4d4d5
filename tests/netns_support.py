"""Hosts in network namespaces on one bridge, for tests that cut a host off and heal it again.

Everything lives in namespaces the lab makes and deletes itself: the bridge sits in a "switch"
namespace of its own, each host has one veth into it and one 10.213.0.x/24 address, and the
machine's own namespace gets no address, route or interface."""

from __future__ import annotations

import asyncio
import ctypes
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
SUBNET = "10.213.0"
# A retransmission waits at most this long, so a healed host's TCP connections resume within
# about a second however long the cut lasted (Linux 6.15+; older kernels keep 120 s).
RTO_MAX_MS = 1000


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"no `{name}` on PATH")
    return found


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (iproute2, fixed arguments)
        [_tool("ip"), *args], capture_output=True, text=True, timeout=30, check=check
    )


def namespaces_unavailable() -> str | None:
    """Why this machine cannot run a namespace lab, or None when it can."""
    if os.geteuid() != 0:
        return "making network namespaces needs root"
    if shutil.which("ip") is None:
        return "no `ip` command (iproute2)"
    probe = f"herald-probe-{secrets.token_hex(3)}"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"`ip netns add` failed: {made.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    return None


@dataclass(frozen=True)
class Host:
    name: str
    namespace: str
    address: str
    port: str  # its veth's end on the bridge, in the switch namespace


@dataclass
class Lab:
    """A switch namespace with a bridge, and hosts plugged into it; `close()` removes it all."""

    prefix: str = field(default_factory=lambda: f"herald-{secrets.token_hex(3)}")
    hosts: dict[str, Host] = field(default_factory=dict)
    made: list[str] = field(default_factory=list)

    @property
    def switch(self) -> str:
        return f"{self.prefix}-switch"

    def build(self, names: Sequence[str]) -> None:
        self._namespace(self.switch)
        _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.switch, "link", "set", "br0", "up")
        for number, name in enumerate(names, start=2):
            self._plug(Host(name, f"{self.prefix}-{name}", f"{SUBNET}.{number}", f"p-{name}"))

    def _namespace(self, namespace: str) -> None:
        _ip("netns", "add", namespace)
        self.made.append(namespace)
        _ip("-n", namespace, "link", "set", "lo", "up")
        # Best effort: only speeds up the resumption after a heal.
        rto = "/proc/sys/net/ipv4/tcp_rto_max_ms"
        script = f"test ! -e {rto} || echo {RTO_MAX_MS} > {rto}"
        subprocess.run(  # noqa: S603
            [_tool("ip"), "netns", "exec", namespace, "/bin/sh", "-c", script],
            check=True,
            timeout=30,
        )

    def _plug(self, host: Host) -> None:
        self._namespace(host.namespace)
        ns = ("-n", host.namespace)
        _ip(
            *ns,
            "link",
            "add",
            "eth0",
            "type",
            "veth",
            "peer",
            "name",
            host.port,
            "netns",
            self.switch,
        )
        _ip("-n", self.switch, "link", "set", host.port, "master", "br0", "up")
        _ip(*ns, "addr", "add", f"{host.address}/24", "dev", "eth0")
        _ip(*ns, "link", "set", "eth0", "up")
        self.hosts[host.name] = host

    def cut(self, name: str) -> None:
        """Unplug the host at the switch: its packets go nowhere, its sockets see only silence."""
        _ip("-n", self.switch, "link", "set", self.hosts[name].port, "down")

    def heal(self, name: str) -> None:
        _ip("-n", self.switch, "link", "set", self.hosts[name].port, "up")

    def close(self) -> None:
        """Deleting a namespace deletes its veth ends, and the bridge with the switch's."""
        for namespace in reversed(self.made):
            _ip("netns", "del", namespace, check=False)
        self.made.clear()

    def run_in(self, name: str, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """`asyncio.run(work())` on a new thread inside the host's network namespace: every
        socket it opens (and threads it starts) belong there; the calling thread stays put."""
        namespace = self.hosts[name].namespace
        outcome: list[T] = []
        failure: list[BaseException] = []

        def body() -> None:
            try:
                _join(namespace)
                outcome.append(asyncio.run(work()))
            except BaseException as exc:  # handed to the caller's thread
                failure.append(exc)

        thread = threading.Thread(target=body, name=f"in-{namespace}")
        thread.start()
        thread.join()
        if failure:
            raise failure[0]
        return outcome[0]


def _join(namespace: str) -> None:
    """setns(2) for the calling thread only (os.setns arrives in Python 3.12)."""
    libc = ctypes.CDLL(None, use_errno=True)
    descriptor = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
    try:
        if libc.setns(descriptor, CLONE_NEWNET) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"setns into {namespace}: {os.strerror(errno)}")
    finally:
        os.close(descriptor)


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    output: IO[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self, lines: int = 30) -> str:
        return f"--- {self.name} ({self.log}) ---\n" + "\n".join(self.text().splitlines()[-lines:])


@dataclass
class Children:
    """Processes started in the lab's hosts, each logging to a file; `stop_all` ends them."""

    lab: Lab
    workdir: Path
    started: list[Child] = field(default_factory=list)

    def start(
        self,
        host: str,
        name: str,
        argv: Sequence[str],
        env: dict[str, str],
        *,
        user: str | None = None,
    ) -> Child:
        """`ip netns exec` replaces itself with the command, so the pid is the command's."""
        command = [_tool("ip"), "netns", "exec", self.lab.hosts[host].namespace]
        if user is not None:
            command += ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]
        log = self.workdir / f"{name}.log"
        output = log.open("ab")
        process = subprocess.Popen(  # noqa: S603 (our own commands, fixed arguments)
            [*command, *argv],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.workdir,
            start_new_session=True,
        )
        self.started.append(Child(name, process, log, output))
        return self.started[-1]

    def stop(self, child: Child, signum: int = signal.SIGTERM, grace: float = 30) -> int:
        if child.process.poll() is None:
            child.process.send_signal(signum)
            try:
                child.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait(timeout=30)
        child.output.close()
        return child.process.returncode

    def stop_all(self, last: Sequence[str] = ()) -> None:
        """Newest first, the `last` names (the database) after everything else."""
        newest_first = self.started[::-1]
        for child in sorted(newest_first, key=lambda child: child.name in last):
            # PostgreSQL: SIGINT is the fast shutdown; SIGTERM would wait for clients.
            self.stop(child, signal.SIGINT if child.name in last else signal.SIGTERM)

    def tails(self) -> str:
        return "\n".join(child.tail() for child in self.started)


def postgres_bin() -> Path | None:
    """The newest PostgreSQL server's bin directory (Debian's layout), if one is installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: p.parts)
    return found[-1].parent if found else None


def postgres_unavailable() -> str | None:
    if postgres_bin() is None:
        return "no PostgreSQL server under /usr/lib/postgresql/*/bin"
    if shutil.which("setpriv") is None:
        return "no `setpriv` (util-linux) to run PostgreSQL as its own user"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no `postgres` system user"
    return None


def start_postgres(children: Children, host: str, *settings: str) -> Child:
    """A throwaway cluster in `workdir/pg`, listening on the host's address only (trust from
    the lab's subnet): initdb without fsync, then the server in the host's namespace."""
    binaries = postgres_bin()
    assert binaries is not None
    user = pwd.getpwnam("postgres")
    data = children.workdir / "pg"
    data.mkdir(mode=0o700)
    os.chown(data, user.pw_uid, user.pw_gid)
    as_postgres = [_tool("setpriv"), "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]
    initdb = [str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
    subprocess.run(  # noqa: S603 (fixed arguments)
        [*as_postgres, *initdb, "--no-sync", "-E", "UTF8", "--locale=C"],
        capture_output=True,
        check=True,
        timeout=120,
        cwd=children.workdir,
    )
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write(f"host all all {SUBNET}.0/24 trust\n")
    address = children.lab.hosts[host].address
    server = [str(binaries / "postgres"), "-D", str(data), "-c", f"listen_addresses={address}"]
    # No Unix socket: nothing but the lab's network reaches this cluster.
    server += ["-c", "unix_socket_directories=", "-c", "fsync=off"]
    for setting in settings:
        server += ["-c", setting]
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"}
    return children.start(host, "postgres", server, env, user="postgres")
