"""Fetching a container's media as Meta does: from the URL given, in the background, while the
container is IN_PROGRESS. The simulator fetches only from its configured networks (loopback by
default): a URL anywhere else ends the container in ERROR, as an unreachable file does at Meta."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import time

from yarl import URL

from herald.net.egress import EgressDenied, EgressPolicy, ip_literal
from herald.net.http_client import HttpError, InvalidUrl, one_off_client
from herald.sim.meta.state import Container, MetaSim

MAX_BYTES = 300 * 1024 * 1024


def start_fetch(sim: MetaSim, container: Container, urls: list[str]) -> None:
    """Fetch `urls` for `container`; it turns FINISHED after the fetch and `processing_s`, or
    ERROR with Meta's message when a URL cannot be fetched."""
    if not urls:
        container.status = "FINISHED"
        return
    task = asyncio.get_running_loop().create_task(_fetch_all(sim, container, urls))
    sim.tasks.add(task)
    task.add_done_callback(sim.tasks.discard)


async def _fetch_all(sim: MetaSim, container: Container, urls: list[str]) -> None:
    for url in urls:
        sim.stats.fetches += 1
        digest = await fetch_digest(sim, url)
        if digest is None:
            sim.stats.fetch_failures += 1
            container.status = "ERROR"
            container.error_message = (
                "Media download has failed.: The media could not be fetched from the URI "
                "provided. Make sure the URI is valid and publicly reachable."
            )
            return
        container.fetched[url] = digest
    container.ready_at = time.monotonic() + sim.config.processing_s
    if sim.config.processing_s <= 0:
        container.status = "FINISHED"


async def fetch_digest(sim: MetaSim, url: str) -> str | None:
    """The file's SHA-256, or None when it cannot be had from here."""
    networks = tuple(ipaddress.ip_network(n) for n in sim.config.fetch_networks)
    try:
        host = URL(url).host or ""
    except ValueError:
        return None
    literal = ip_literal(host)
    if literal is None or not any(literal in network for network in networks):
        return None
    policy = EgressPolicy(allow=networks)
    digest, size = hashlib.sha256(), 0
    try:
        async with (
            one_off_client(policy, sim.config.fetch_timeout_s) as client,
            client.stream(url) as answer,
        ):
            if answer.status_code != 200:
                return None
            async for chunk in answer.chunks:
                size += len(chunk)
                if size > MAX_BYTES:
                    return None
                digest.update(chunk)
    except (TimeoutError, HttpError, InvalidUrl, EgressDenied, OSError):
        return None
    return digest.hexdigest() if size else None


def settle(container: Container) -> None:
    """An IN_PROGRESS container whose fetch is done and whose processing time has passed."""
    done = container.fetched and container.ready_at
    if container.status == "IN_PROGRESS" and done and time.monotonic() >= container.ready_at:
        container.status = "FINISHED"
