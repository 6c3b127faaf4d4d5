"""`herald sim`: run a platform simulator on its own, for dry runs and benchmarks."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from importlib import import_module
from typing import cast

import typer


class SimPlatform(StrEnum):
    SANDBOX = "sandbox"
    BLUESKY = "bluesky"
    MASTODON = "mastodon"
    TELEGRAM = "telegram"
    X = "x"
    TWITTER = "twitter"  # the wire name of the platform; `x` is its alias
    LINKEDIN = "linkedin"
    META = "meta"  # Facebook Pages, Instagram and Threads on one port
    YOUTUBE = "youtube"
    TIKTOK = "tiktok"


# "module:function" of each simulator's server, imported only for the one that starts: the
# command line would otherwise load every simulator for every command it runs.
SERVERS: dict[SimPlatform, str] = {
    SimPlatform.SANDBOX: "herald.sim.sandbox:serve_sandbox",
    SimPlatform.BLUESKY: "herald.sim.bluesky:serve_bluesky",
    SimPlatform.MASTODON: "herald.sim.mastodon:serve_mastodon",
    SimPlatform.TELEGRAM: "herald.sim.telegram:serve_telegram",
    SimPlatform.X: "herald.sim.x:serve_x",
    SimPlatform.TWITTER: "herald.sim.x:serve_x",
    SimPlatform.LINKEDIN: "herald.sim.linkedin:serve_linkedin",
    SimPlatform.META: "herald.sim.meta:serve_meta",
    SimPlatform.YOUTUBE: "herald.sim.youtube:serve_youtube",
    SimPlatform.TIKTOK: "herald.sim.tiktok:serve_tiktok",
}


def simulator_server(platform: SimPlatform) -> Callable[[str, int], None]:
    """The function that serves `platform`'s simulator on a host and port."""
    module, function = SERVERS[platform].split(":")
    return cast(Callable[[str, int], None], getattr(import_module(module), function))


def sim(
    platform: SimPlatform = typer.Argument(SimPlatform.SANDBOX, help="Which platform to simulate."),
    host: str = typer.Option("127.0.0.1", help="Bind address."),
    port: int = typer.Option(8090, help="Port."),
) -> None:
    """Serve a platform simulator, with its demo account, on its real wire protocol.
    Configure latency and faults at /_sim/config."""
    simulator_server(platform)(host, port)
