"""`herald sim`: run a platform simulator on its own, for dry runs and benchmarks."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

import typer

from herald.sim.bluesky import serve_bluesky
from herald.sim.mastodon import serve_mastodon
from herald.sim.sandbox import serve_sandbox
from herald.sim.telegram import serve_telegram
from herald.sim.tiktok import serve_tiktok
from herald.sim.x import serve_x
from herald.sim.youtube import serve_youtube


class SimPlatform(StrEnum):
    SANDBOX = "sandbox"
    BLUESKY = "bluesky"
    MASTODON = "mastodon"
    TELEGRAM = "telegram"
    X = "x"
    TWITTER = "twitter"  # the wire name of the platform; `x` is its alias
    YOUTUBE = "youtube"
    TIKTOK = "tiktok"


SERVERS: dict[SimPlatform, Callable[[str, int], None]] = {
    SimPlatform.SANDBOX: serve_sandbox,
    SimPlatform.BLUESKY: serve_bluesky,
    SimPlatform.MASTODON: serve_mastodon,
    SimPlatform.TELEGRAM: serve_telegram,
    SimPlatform.X: serve_x,
    SimPlatform.TWITTER: serve_x,
    SimPlatform.YOUTUBE: serve_youtube,
    SimPlatform.TIKTOK: serve_tiktok,
}


def sim(
    platform: SimPlatform = typer.Argument(SimPlatform.SANDBOX, help="Which platform to simulate."),
    host: str = typer.Option("127.0.0.1", help="Bind address."),
    port: int = typer.Option(8090, help="Port."),
) -> None:
    """Serve a platform simulator, with its demo account, on its real wire protocol.
    Configure latency and faults at /_sim/config."""
    SERVERS[platform](host, port)
