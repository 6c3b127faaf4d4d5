"""`herald sim`: run a platform simulator on its own, for dry runs and benchmarks."""

from __future__ import annotations

import typer

from herald.sim.sandbox import serve_sandbox


def sim(
    host: str = typer.Option("127.0.0.1", help="Bind address."),
    port: int = typer.Option(8090, help="Port."),
) -> None:
    """Serve the sandbox platform simulator (configure faults at /_sim/config)."""
    serve_sandbox(host, port)
