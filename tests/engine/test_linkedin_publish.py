"""LinkedIn end to end: connecting a member with the company page they administer through the
OAuth flow, then a member post with mentions and hashtags, a 3-image post, a video post and a
page post, through the API and the engine to the LinkedIn simulator over loopback."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from herald.engine.dispatcher import Engine
from linkedin_support import (
    ADA,
    ENGINES,
    MP4,
    LinkedInControl,
    connect,
    linkedin_app_on,
    linkedin_control,
    linkedin_sim,
    linkedin_sim_url,
)
from support import LiveServer, Tenant, iso_in, png, post_when

__all__ = [
    "linkedin_control",
    "linkedin_sim",
    "linkedin_sim_url",
]  # fixtures, found by pytest through their names

MEMBER = f"linkedin-{ADA.sub}"
PAGE = f"linkedin-org-{ENGINES.id}"
FEED = "https://www.linkedin.com/feed/update/"


def _published(tenant: Tenant, group_id: str) -> dict[str, Any]:
    body = post_when(tenant, group_id, "published", "failed", "partially_published", timeout=60)
    [post] = body["posts"]
    assert post["status"] == "published", post
    return dict(post)


def _scheduled(tenant: Tenant, text: str, platform_id: str) -> str:
    body = {"content": text, "platforms": [platform_id], "scheduledTime": iso_in(seconds=1)}
    created = tenant.client.post("/create-post", json=body)
    assert created.status_code == 200, created.text
    return str(created.json()["postGroupId"])


def _with_files(
    tenant: Tenant, text: str, alt_texts: list[str], files: list[tuple[bytes, str]]
) -> str:
    """A draft with `files` uploaded as a client does (get-upload-url, then PUT, over one
    client: a new HTTP client per file costs more than the upload), then scheduled."""
    body = {"content": text, "platforms": [MEMBER], "status": "draft", "altTexts": alt_texts}
    group_id = str(tenant.client.post("/create-post", json=body).json()["postGroupId"])
    with httpx.Client(timeout=30) as uploads:
        for index, (data, kind) in enumerate(files):
            issued = tenant.client.post(
                "/get-upload-url",
                json={"postGroupId": group_id, "fileName": f"f{index}", "contentType": kind},
            ).json()
            put = uploads.put(issued["uploadUrl"], content=data, headers={"Content-Type": kind})
            assert put.status_code == 200, put.text
    answer = tenant.client.put(
        f"/update-post/{group_id}", json={"scheduledTime": iso_in(seconds=1)}
    )
    assert answer.status_code == 200, answer.text
    return group_id


def _by_urn(sim: LinkedInControl) -> dict[str, dict[str, Any]]:
    return {p["urn"]: p for p in sim.posts()}


def test_member_and_page_connect_and_four_kinds_of_post_reach_linkedin(
    engine: Engine,
    server: LiveServer,
    tenant: Tenant,
    new_tenant: Callable[..., Tenant],
    linkedin_sim: LinkedInControl,
) -> None:
    with linkedin_app_on(server, linkedin_sim, linkedin_company_pages=True):
        page = connect(server, tenant.client, linkedin_sim)
    assert page.status_code == 200, page.text
    listed = {
        c["platformId"]: c
        for c in tenant.client.get("/platform-connections").json()["connections"]
        if c["platform"] == "linkedin"
    }
    assert set(listed) == {MEMBER, PAGE}
    assert listed[MEMBER]["username"] == "Ada Lovelace"
    assert listed[PAGE]["username"] == ENGINES.name
    for connection in listed.values():  # 60 days, no refresh: the owner sees the expiry
        assert connection["tokenStatus"] == "valid"
        assert connection["tokenExpiresIn"].startswith("59d ")

    # Four groups, scheduled together: a member post with Publora's mention form and a
    # hashtag, three images with alt texts, a video, and a post by the company page.
    text = "Shipping (at last) with @{urn:li:organization:2414183|Analytical Engines} #launch"
    member_group = _scheduled(tenant, text, MEMBER)
    images = [png((200, 10 * i, 40), (30 + i, 20)) for i in range(3)]
    alts = ["First", "Second", "Third"]
    image_group = _with_files(tenant, "Three pictures", alts, [(i, "image/png") for i in images])
    video_group = _with_files(tenant, "A short film", [], [(MP4, "video/mp4")])
    page_group = _scheduled(tenant, "News from the works", PAGE)

    member_post = _published(tenant, member_group)
    urn = member_post["postedId"]
    assert urn.startswith("urn:li:share:")
    assert member_post["permalink"] == FEED + urn
    sent = _by_urn(linkedin_sim)[urn]
    assert sent["author"] == ADA.urn
    assert sent["body"]["commentary"] == (
        "Shipping \\(at last\\) with @[Analytical Engines](urn:li:organization:2414183) "
        "{hashtag|\\#|launch}"
    )

    image_post = _published(tenant, image_group)
    content = _by_urn(linkedin_sim)[image_post["postedId"]]["body"]["content"]
    assert [i["altText"] for i in content["multiImage"]["images"]] == alts
    assets = {a["urn"]: a for a in linkedin_sim.assets()}
    assert [assets[i["id"]]["size"] for i in content["multiImage"]["images"]] == [
        len(i) for i in images
    ]

    # The video went up in parts with their ETags, was finalized, then posted.
    video_post = _published(tenant, video_group)
    video_urn = _by_urn(linkedin_sim)[video_post["postedId"]]["body"]["content"]["media"]["id"]
    video = {a["urn"]: a for a in linkedin_sim.assets()}[video_urn]
    assert (video["kind"], video["size"], video["parts"]) == ("video", len(MP4), 3)

    # The company page posts as the organization, with the member's token.
    page_post = _published(tenant, page_group)
    assert _by_urn(linkedin_sim)[page_post["postedId"]]["author"] == ENGINES.urn
    assert page_post["permalink"] == FEED + page_post["postedId"]

    _linkedin_endpoints_answer_for(tenant, new_tenant(), linkedin_sim, urn, page_post["postedId"])


def _linkedin_endpoints_answer_for(
    tenant: Tenant, other: Tenant, sim: LinkedInControl, urn: str, page_urn: str
) -> None:
    """Publora's LinkedIn endpoints on posts Herald published, as the member and the page."""
    client = tenant.client
    comment = client.post(
        "/linkedin-comments",
        json={"postedId": urn, "message": "Thanks (all)!", "platformId": MEMBER},
    )
    assert comment.status_code == 201, comment.text
    created = comment.json()["comment"]
    assert created["commentUrn"] == f"urn:li:comment:({urn},{created['id']})"
    assert _by_urn(sim)[urn]["comments"][0]["message"]["text"] == "Thanks \\(all\\)!"
    gone = client.request(
        "DELETE",
        "/linkedin-comments",
        params={"postedId": urn, "commentId": created["commentUrn"], "platformId": MEMBER},
    )
    assert gone.json() == {"success": True, "deleted": created["commentUrn"]}
    assert _by_urn(sim)[urn]["comments"] == []

    react = {"postedId": urn, "reactionType": "PRAISE", "platformId": MEMBER}
    first = client.post("/linkedin-reactions", json=react)
    assert first.status_code == 201, first.text
    assert first.json()["reaction"] == {"reactionType": "PRAISE", "actor": ADA.urn, "object": urn}
    again = client.post("/linkedin-reactions", json={**react, "reactionType": "LIKE"})
    assert again.status_code == 409
    assert again.json()["error"] == "REACTION_ALREADY_EXISTS"
    assert again.json()["requestedReactionType"] == "LIKE"
    bad = client.post("/linkedin-reactions", json={**react, "reactionType": "WOW"})
    assert bad.json()["error"] == (
        "reactionType must be one of: LIKE, PRAISE, EMPATHY, INTEREST, APPRECIATION, ENTERTAINMENT"
    )

    stats = client.post(
        "/linkedin-post-statistics",
        json={"postedId": urn, "platformId": MEMBER, "queryTypes": "ALL"},
    )
    assert stats.status_code == 200, stats.text
    metrics = stats.json()["metrics"]
    assert set(metrics) == {"IMPRESSION", "MEMBERS_REACHED", "RESHARE", "REACTION", "COMMENT"}
    assert (metrics["REACTION"], metrics["COMMENT"]) == (1, 0)
    assert metrics["IMPRESSION"] >= metrics["MEMBERS_REACHED"] > 0
    removed = client.request(
        "DELETE", "/linkedin-reactions", json={"postedId": urn, "platformId": MEMBER}
    )
    assert removed.json()["reaction"]["reactionType"] == "PRAISE"

    reshare = client.post(
        "/linkedin-reshare", json={"platformId": PAGE, "parent": urn, "commentary": "Worth a read"}
    )
    assert reshare.status_code == 201, reshare.text
    reshared = reshare.json()["reshare"]
    assert _by_urn(sim)[reshared["id"]]["body"]["reshareContext"] == {"parent": urn}
    single = client.post(
        "/linkedin-post-statistics",
        json={"postedId": urn, "platformId": MEMBER, "queryType": "RESHARE"},
    )
    # Read within two hours: Publora's cache answers, LinkedIn is not asked again.
    assert single.json() == {"success": True, "count": metrics["RESHARE"], "cached": True}
    connections = client.post(
        "/linkedin-reshare",
        json={"platformId": PAGE, "parent": page_urn, "visibility": "connections"},
    )
    assert connections.json()["error"] == (
        "LinkedIn organization reposts cannot use CONNECTIONS visibility; choose PUBLIC"
    )
    count = client.post("/linkedin-followers", json={"platformId": MEMBER}).json()
    assert count == {"success": True, "followersCount": ADA.followers, "cached": False}
    page = client.post("/linkedin-followers", json={"platformId": PAGE}).json()
    assert page["followersCount"] == ENGINES.followers
    span = {
        "start": {"year": 2026, "month": 11, "day": 1},
        "end": {"year": 2026, "month": 11, "day": 8},
    }
    daily = client.post(
        "/linkedin-followers", json={"platformId": MEMBER, "period": "daily", "dateRange": span}
    ).json()
    assert [d["date"] for d in daily["data"]] == [f"2026-11-0{d}" for d in range(1, 8)]
    assert daily["totalGrowth"] == sum(d["count"] for d in daily["data"])
    no_range = client.post("/linkedin-followers", json={"platformId": MEMBER, "period": "daily"})
    assert no_range.json()["error"] == "dateRange is required for daily period"
    like = {"postedId": urn, "reactionType": "LIKE", "platformId": MEMBER}
    assert client.post("/linkedin-reactions", json=like).status_code == 201
    account = client.post(
        "/linkedin-account-statistics",
        json={"platformId": MEMBER, "queryTypes": ["REACTION", "COMMENT"]},
    ).json()
    # The member's posts together: one reaction now, and the one comment was deleted.
    assert account == {
        "success": True,
        "metrics": {"REACTION": 1, "COMMENT": 0},
        "aggregation": "TOTAL",
        "cached": False,
    }

    # Another tenant cannot act through these connections.
    foreign = other.client.post("/linkedin-reactions", json=react)
    assert (foreign.status_code, foreign.json()["error"]) == (404, "LinkedIn connection not found")
    _profile_summary_answers(client, other, daily["totalGrowth"], span)
    _mentionables_answer(client, other, sim, page_urn)


def _profile_summary_answers(
    client: httpx.Client, other: Tenant, growth: int, span: dict[str, Any]
) -> None:
    """linkedin-profile-summary: followers and the member's posts together, as read from
    LinkedIn; a page has no member post analytics, so its answer is partial."""
    every = client.post(
        "/linkedin-account-statistics", json={"platformId": MEMBER, "queryTypes": "ALL"}
    ).json()["metrics"]
    summary = client.post(
        "/linkedin-profile-summary", json={"platformId": MEMBER, "dateRange": span}
    )
    assert summary.status_code == 200, summary.text
    assert summary.json() == {
        "success": True,
        "partialData": False,
        "profile": {
            "followers": {"total": ADA.followers, "periodGrowth": growth},
            "posts": {
                "totalImpressions": every["IMPRESSION"],
                "totalReactions": every["REACTION"],
                "totalComments": every["COMMENT"],
                "totalReshares": every["RESHARE"],
                "totalMembersReached": every["MEMBERS_REACHED"],
            },
        },
    }
    assert every["REACTION"] == 1
    assert every["IMPRESSION"] > 0
    page = client.post("/linkedin-profile-summary", json={"platformId": PAGE}).json()
    assert page["partialData"] is True
    assert page["profile"] == {"followers": {"total": ENGINES.followers}}
    assert [e["metric"] for e in page["errors"]] == ["posts"]
    bad_range = client.post(
        "/linkedin-profile-summary", json={"platformId": MEMBER, "dateRange": "last week"}
    )
    assert (bad_range.status_code, bad_range.json()["error"]) == (
        400,
        "dateRange must be an object",
    )
    missing = client.post("/linkedin-profile-summary", json={})
    assert missing.json()["error"] == "platformId is required"
    foreign = other.client.post("/linkedin-profile-summary", json={"platformId": MEMBER})
    assert (foreign.status_code, foreign.json()["error"]) == (404, "LinkedIn connection not found")


def _mentionables_answer(
    client: httpx.Client, other: Tenant, sim: LinkedInControl, page_urn: str
) -> None:
    """linkedin-mentionables: the member who reacted to, then commented on, the company page's
    post, named by LinkedIn, with a mention token; only for the tenant owning the page."""
    assert client.get("/linkedin-mentionables").json() == {"success": True, "people": []}
    react = {"postedId": page_urn, "reactionType": "LIKE", "platformId": MEMBER}
    assert client.post("/linkedin-reactions", json=react).status_code == 201
    said = {"postedId": page_urn, "message": "Congratulations", "platformId": MEMBER}
    assert client.post("/linkedin-comments", json=said).status_code == 201
    [comment] = _by_urn(sim)[page_urn]["comments"]
    when = datetime.fromtimestamp(comment["created"]["time"] / 1000, UTC)
    person = ADA.urn.removeprefix("urn:li:person:")
    listed = client.get("/linkedin-mentionables", params={"q": "LOVE"})
    assert listed.status_code == 200, listed.text
    [entry] = listed.json()["people"]
    assert entry == {
        "personId": person,
        "name": "Ada Lovelace",
        "profileUrl": "",
        "profilePicture": "",
        "source": "comment",
        "lastSeenAt": entry["lastSeenAt"],
        "mention": f"@{{urn:li:person:{person}|Ada Lovelace}}",
    }
    assert datetime.fromisoformat(entry["lastSeenAt"]) == when
    unmatched = client.get("/linkedin-mentionables", params={"q": ".*", "limit": "0"}).json()
    assert unmatched["people"] == []
    assert other.client.get("/linkedin-mentionables").json()["people"] == []
