"""The Bluesky simulator's app.bsky.feed.getPosts and getProfile counts, checked against the
lexicons of the reference PDS package (@atproto/pds, installed by `make interop`), which we did
not write: every field the simulator sends is one the lexicon defines, with its required ones,
and the URI limit is the lexicon's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from herald.sim.bluesky import create_bluesky_app
from herald.sim.bluesky_config import DEMO_ACCOUNT, BlueskyConfig
from herald.sim.bluesky_feed import MAX_URIS
from interop_support import PDS_MODULES, PDS_STAMP, require_installed
from sim_support import serve_in_thread

LEXICONS = PDS_MODULES / "@atproto" / "pds" / "dist" / "lexicons" / "app" / "bsky"
_FIELD = re.compile(r"^    (\w+): /\*#__PURE__\*/ (l\.optional\()?", re.MULTILINE)


def lexicon_fields(path: Path, definition: str) -> tuple[set[str], set[str]]:
    """(all fields, required fields) of one object definition in a compiled lexicon module."""
    text = path.read_text()
    start = text.index(f"'{definition}',")
    body = text[start : text.index("\n}));", start)]
    fields = {m[1]: m[2] is None for m in _FIELD.finditer(body)}
    return set(fields), {name for name, required in fields.items() if required}


@pytest.fixture(scope="module")
def pds() -> Iterator[str]:
    require_installed("The Bluesky PDS", PDS_STAMP, PDS_MODULES / "@atproto" / "pds")
    with serve_in_thread(create_bluesky_app(BlueskyConfig(appview=True))) as base:
        yield base


def test_post_views_keep_to_the_lexicon(pds: str) -> None:
    defined, required = lexicon_fields(LEXICONS / "feed" / "defs.defs.js", "postView")
    assert {"likeCount", "replyCount", "repostCount", "quoteCount", "bookmarkCount"} <= defined
    session = httpx.post(
        f"{pds}/xrpc/com.atproto.server.createSession",
        json={"identifier": DEMO_ACCOUNT.handle, "password": DEMO_ACCOUNT.app_password},
    ).json()
    auth = {"Authorization": f"Bearer {session['accessJwt']}"}
    record = {"$type": "app.bsky.feed.post", "text": "Hi", "createdAt": "2026-12-05T10:00:00.000Z"}
    uri = httpx.post(
        f"{pds}/xrpc/com.atproto.repo.createRecord",
        json={"repo": session["did"], "collection": "app.bsky.feed.post", "record": record},
        headers=auth,
    ).json()["uri"]
    answer = httpx.get(f"{pds}/xrpc/app.bsky.feed.getPosts", params={"uris": uri}, headers=auth)
    [view] = answer.json()["posts"]
    assert required <= set(view) <= defined
    too_many = [("uris", uri)] * (MAX_URIS + 1)
    refused = httpx.get(f"{pds}/xrpc/app.bsky.feed.getPosts", params=too_many, headers=auth)
    assert refused.status_code == 400


def test_the_uri_limit_is_the_lexicons() -> None:
    require_installed("The Bluesky PDS", PDS_STAMP, PDS_MODULES / "@atproto" / "pds")
    text = (LEXICONS / "feed" / "getPosts.defs.js").read_text()
    match = re.search(r"uris: .*?maxLength: (\d+)", text, re.DOTALL)
    assert match is not None
    assert int(match[1]) == MAX_URIS


def test_profile_counts_are_the_lexicons() -> None:
    require_installed("The Bluesky PDS", PDS_STAMP, PDS_MODULES / "@atproto" / "pds")
    defined, _ = lexicon_fields(LEXICONS / "actor" / "defs.defs.js", "profileViewDetailed")
    assert {"followersCount", "followsCount", "postsCount"} <= defined
