"""What every simulated publish shares (media_publish, threads_publish, a Page's feed, photos
and videos): the scripted or drawn fault, the record of what was published, and its permalink."""

from __future__ import annotations

import secrets
import string
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from herald.sim.faults import hold
from herald.sim.meta.http import GraphError, respond, sim_of
from herald.sim.meta.state import MetaSim, Published

_SHORTCODE = string.ascii_letters + string.digits + "_-"


def shortcode() -> str:
    return "".join(secrets.choice(_SHORTCODE) for _ in range(11))


def permalink(sim: MetaSim, item: Published) -> str:
    if item.host == "instagram":
        kind = "reel" if item.media_type == "REELS" else "p"
        return f"https://www.instagram.com/{kind}/{item.shortcode}/"
    if item.host == "threads":
        user = sim.threads_user(item.owner_id)
        name = user.threads_username if user else "threads"
        return f"https://www.threads.com/@{name}/post/{item.shortcode}"
    page_id, _, post_id = item.id.partition("_")
    return f"https://www.facebook.com/{page_id}/posts/{post_id or page_id}"


async def publish_with_faults(
    request: Request, create: Callable[[], Awaitable[dict[str, object]]]
) -> Response:
    """Draw a fault; refusals create nothing, error_after_create and lost_response create first."""
    sim = sim_of(request)
    sim.stats.publishes += 1
    fault = sim.injector.next_fault(sim.config.common.faults)
    if fault is not None:
        sim.stats.faults[fault] = sim.stats.faults.get(fault, 0) + 1
    if fault == "rate_limit":
        raise GraphError(400, 4, "(#4) Application request limit reached", transient=True)
    if fault == "unavailable":
        raise GraphError(500, 2, "Service temporarily unavailable", transient=True)
    if fault == "timeout":
        await hold(request, sim.config.common.hang_s)
        raise GraphError(500, 2, "Service temporarily unavailable", transient=True)
    if fault == "rejected":
        raise GraphError(400, 100, "(#100) Invalid parameter")
    answer = await create()
    sim.stats.published += 1
    if fault == "error_after_create":
        raise GraphError(500, 1, "An unknown error occurred", transient=True)
    if fault == "lost_response":
        await hold(request, sim.config.common.hang_s)
    return respond(answer)


def record(sim: MetaSim, item: Published) -> Published:
    item.shortcode = item.shortcode or shortcode()
    item.permalink = permalink(sim, item)
    sim.published[item.id] = item
    return item
