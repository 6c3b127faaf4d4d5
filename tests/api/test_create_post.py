"""create-post: validation strings, platform resolution, text limits and thread plans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from herald.domain.timestamps import format_timestamp, parse_timestamp
from support import (
    CLIENT_TIMEOUT_S,
    LiveServer,
    Tenant,
    add_raw_connection,
    add_sandbox_connection,
    error_body,
    iso_in,
)


def test_create_answers_the_documented_shape_plus_posts(tenant: Tenant) -> None:
    response = tenant.client.post(
        "/create-post",
        json={
            "content": "Hi",
            "platforms": [tenant.platform_id],
            "scheduledTime": "2031-01-01T00:00:00+01:00",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "success": True,
        "postGroupId": body["postGroupId"],
        "scheduledTime": "2030-12-31T23:00:00.000Z",
        "posts": [{"platform": "sandbox", "platformId": tenant.platform_id, "status": "scheduled"}],
    }
    assert len(body["postGroupId"]) == 24
    int(body["postGroupId"], 16)


@pytest.mark.parametrize(
    "body",
    [
        {"platforms": ["x"]},
        {"content": None, "platforms": ["x"]},
        {"content": "", "platforms": ["x"]},
        {"content": "   \n", "platforms": ["x"]},
        {"content": 42, "platforms": ["x"]},
    ],
)
def test_content_is_required(tenant: Tenant, body: dict[str, object]) -> None:
    response = tenant.client.post("/create-post", json=body)
    assert response.status_code == 400
    assert response.json() == error_body("Content is required", "CONTENT_REQUIRED")


@pytest.mark.parametrize(
    "platforms", [None, [], "sandbox-1;sandbox-2", [1], [""], {"a": 1}, "missing"]
)
def test_platforms_are_required(tenant: Tenant, platforms: object) -> None:
    body: dict[str, object] = {"content": "Hi"}
    if platforms != "missing":
        body["platforms"] = platforms
    response = tenant.client.post("/create-post", json=body)
    assert response.status_code == 400
    assert response.json() == error_body("Platforms are required", "PLATFORMS_REQUIRED")


def test_unknown_or_foreign_platform_ids_are_listed(tenant: Tenant, new_tenant: object) -> None:
    other = new_tenant("Other")  # type: ignore[operator]
    wanted = [tenant.platform_id, "twitter-123", other.platform_id, "nonsense", "sandbox-"]
    response = tenant.client.post("/create-post", json={"content": "Hi", "platforms": wanted})
    assert response.status_code == 400
    assert response.json() == {
        **error_body("Invalid platform ID", "INVALID_PLATFORM_ID"),
        "platformIds": wanted[1:],
    }
    assert tenant.client.get("/list-posts").json()["pagination"]["totalItems"] == 0


def test_duplicate_platform_ids_are_merged(tenant: Tenant) -> None:
    response = tenant.client.post(
        "/create-post",
        json={"content": "Hi", "platforms": [tenant.platform_id, tenant.platform_id]},
    )
    assert len(response.json()["posts"]) == 1


def test_without_a_time_it_is_a_draft(tenant: Tenant) -> None:
    """publora-latest §2.14 and the newest OpenAPI: "If omitted, the post is saved as a draft"."""
    for extra in ({}, {"scheduledTime": None}):
        created = tenant.client.post(
            "/create-post", json={"content": "Later", "platforms": [tenant.platform_id], **extra}
        ).json()
        assert created["scheduledTime"] is None
        assert "warnings" not in created
        assert created["posts"][0]["status"] == "draft"
        got = tenant.client.get(f"/get-post/{created['postGroupId']}").json()
        assert (got["status"], got["scheduledTime"]) == ("draft", None)


def test_status_draft_creates_a_draft_with_or_without_time(tenant: Tenant) -> None:
    for extra, expected_time in (
        ({}, None),
        ({"scheduledTime": "2031-01-01T00:00:00Z"}, "2031-01-01T00:00:00.000Z"),
    ):
        group_id = tenant.client.post(
            "/create-post",
            json={"content": "D", "platforms": [tenant.platform_id], "status": "draft", **extra},
        ).json()["postGroupId"]
        got = tenant.client.get(f"/get-post/{group_id}").json()
        assert (got["status"], got["scheduledTime"]) == ("draft", expected_time)
        assert got["posts"][0]["status"] == "draft"


def test_status_scheduled_without_a_time_is_due_now(tenant: Tenant) -> None:
    """As update-post does when a post is scheduled with no time at all (§2.15)."""
    before = datetime.now(UTC).replace(microsecond=0)
    created = tenant.client.post(
        "/create-post",
        json={"content": "S", "platforms": [tenant.platform_id], "status": "scheduled"},
    ).json()
    assert created["posts"][0]["status"] == "scheduled"
    assert "warnings" not in created
    due = parse_timestamp(created["scheduledTime"])
    assert before <= due <= datetime.now(UTC)


def test_a_time_just_past_is_moved_to_now_with_a_warning(tenant: Tenant) -> None:
    requested = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=4)
    sent = format_timestamp(requested).replace(".000Z", "+00:00")
    response = tenant.client.post(
        "/create-post",
        json={"content": "Late", "platforms": [tenant.platform_id], "scheduledTime": sent},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    effective = body["scheduledTime"]
    assert parse_timestamp(effective) > requested + timedelta(minutes=3)
    assert body["warnings"] == [
        {
            "code": "SCHEDULED_TIME_COERCED",
            "message": f"Requested scheduled time {format_timestamp(requested)} was in the past"
            f" and was changed to server time {effective}.",
            "requested": format_timestamp(requested),
            "effective": effective,
        }
    ]
    assert body["posts"][0]["status"] == "scheduled"
    got = tenant.client.get(f"/get-post/{body['postGroupId']}").json()
    assert got["scheduledTime"] == effective


def test_a_time_five_minutes_past_is_refused_in_strict_mode(tenant: Tenant) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    response = tenant.client.post(
        "/create-post",
        json={
            "content": "Late",
            "platforms": [tenant.platform_id],
            "scheduledTime": iso_in(minutes=-5),
        },
    )
    assert response.status_code == 400
    body = response.json()
    server_time = body["serverTime"]
    assert before <= parse_timestamp(server_time) <= datetime.now(UTC)
    message = f"Scheduled time is in the past. Server time is {server_time} UTC."
    assert body == {**error_body(message, "SCHEDULED_TIME_IN_PAST"), "serverTime": server_time}
    assert tenant.client.get("/list-posts").json()["pagination"]["totalItems"] == 0


def test_strict_mode_can_be_turned_off(
    server: LiveServer, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HERALD_STRICT_SCHEDULED_TIME=false: any past time is moved to now with the warning."""
    lenient = server.settings.model_copy(update={"strict_scheduled_time": False})
    monkeypatch.setattr(server.context, "settings", lenient)
    response = tenant.client.post(
        "/create-post",
        json={
            "content": "Old",
            "platforms": [tenant.platform_id],
            "scheduledTime": "2020-01-01T00:00:00Z",
        },
    )
    assert response.status_code == 200, response.text
    (warning,) = response.json()["warnings"]
    assert (warning["code"], warning["requested"]) == (
        "SCHEDULED_TIME_COERCED",
        "2020-01-01T00:00:00.000Z",
    )


@pytest.mark.parametrize("value", ["2031-01-01", "soon", 7, "9999-06-01T00:00:00Z"])
def test_invalid_scheduled_time_format(tenant: Tenant, value: object) -> None:
    response = tenant.client.post(
        "/create-post",
        json={"content": "T", "platforms": [tenant.platform_id], "scheduledTime": value},
    )
    assert response.status_code == 400
    assert response.json() == error_body("Invalid scheduled time format", "INVALID_SCHEDULED_TIME")


def test_invalid_status_on_create(tenant: Tenant) -> None:
    response = tenant.client.post(
        "/create-post",
        json={"content": "T", "platforms": [tenant.platform_id], "status": "published"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "Status must be draft or scheduled"


def test_long_text_becomes_a_numbered_thread_visible_in_get_post(tenant: Tenant) -> None:
    sentences = [f"Sentence number {i} says something worth reading." for i in range(30)]
    content = " ".join(sentences)
    group_id = tenant.client.post(
        "/create-post",
        json={
            "content": content,
            "platforms": [tenant.platform_id],
            "scheduledTime": iso_in(days=1),
        },
    ).json()["postGroupId"]
    post = tenant.client.get(f"/get-post/{group_id}").json()["posts"][0]
    parts = post["threadParts"]
    assert post["isThread"] is True
    assert len(parts) > 1
    total = len(parts)
    for index, part in enumerate(parts):
        assert part["index"] == index  # zero-based (publora-latest §2.16)
        assert part["content"].endswith(f" [{index + 1}/{total}]")
        assert len(part["content"]) <= 500
        assert part["status"] == "pending"
        assert part["publishedId"] is None
    rebuilt = " ".join(p["content"].rsplit(" [", 1)[0] for p in parts)
    assert rebuilt == content


def test_explicit_separators_split_a_short_text(tenant: Tenant) -> None:
    content = "First part\n---\nSecond part"
    group_id = tenant.client.post(
        "/create-post", json={"content": content, "platforms": [tenant.platform_id]}
    ).json()["postGroupId"]
    post = tenant.client.get(f"/get-post/{group_id}").json()["posts"][0]
    assert [p["content"] for p in post["threadParts"]] == ["First part [1/2]", "Second part [2/2]"]
    assert post["content"] == content


def test_short_text_is_a_single_part(tenant: Tenant) -> None:
    group_id = tenant.client.post(
        "/create-post", json={"content": "Short", "platforms": [tenant.platform_id]}
    ).json()["postGroupId"]
    post = tenant.client.get(f"/get-post/{group_id}").json()["posts"][0]
    assert post["isThread"] is False
    assert [p["content"] for p in post["threadParts"]] == ["Short"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"tiktok": {"brandedContent": True}},
            "platformSettings.tiktok: brandOrganic and brandedContent require "
            "commercialContent to be true",
        ),
        (
            {"tiktok": {"viewerSetting": "EVERYONE"}},
            "platformSettings.tiktok.viewerSetting must be one of: FOLLOWER_OF_CREATOR, "
            "MUTUAL_FOLLOW_FRIENDS, PUBLIC_TO_EVERYONE, SELF_ONLY",
        ),
        (
            {"youtube": {"title": "x" * 101}},
            "platformSettings.youtube.title must be at most 100 characters",
        ),
        (
            {"instagram": {"videoType": "POST"}},
            "platformSettings.instagram.videoType must be one of: REELS, STORIES",
        ),
        ({"telegram": "HTML"}, "platformSettings.telegram must be an object"),
        ([], "platformSettings must be an object"),
    ],
)
def test_platform_settings_are_validated(tenant: Tenant, settings: object, message: str) -> None:
    response = tenant.client.post(
        "/create-post",
        json={"content": "T", "platforms": [tenant.platform_id], "platformSettings": settings},
    )
    assert response.status_code == 400
    assert response.json() == error_body(message, "INVALID_PLATFORM_SETTINGS")


def test_valid_platform_settings_and_alt_texts_are_accepted(tenant: Tenant) -> None:
    settings = {
        "tiktok": {"commercialContent": True, "brandOrganic": True},
        "youtube": {
            "privacy": "unlisted",
            "tags": ["a", "b"],
            "playlist": {"id": "", "platformId": ""},
        },
        "twitter": {"replyTo": "", "quoteTweet": ""},
        "telegram": {"disableNotification": True, "parseMode": "HTML"},
        "linkedin": {"repostEnabled": False},
        "threads": {"replyControl": "everyone"},
        "instagram": {"videoType": "REELS", "shareToFeed": False},
        "bluesky": {"langs": ["en"]},
    }
    response = tenant.client.post(
        "/create-post",
        json={
            "content": "T",
            "platforms": [tenant.platform_id],
            "platformSettings": settings,
            "altTexts": ["a cat"],
        },
    )
    assert response.status_code == 200, response.text
    got = tenant.client.get(f"/get-post/{response.json()['postGroupId']}").json()
    assert got["platformSettings"] == settings


@pytest.mark.parametrize(
    ("settings", "path"),
    [
        ({"facebook": {}}, "facebook"),
        ({"mastodon": {"visibility": "public"}}, "mastodon"),
        ({"youtube": {"thumbnail": {"typo": "x"}}}, "youtube.thumbnail.typo"),
        ({"telegram": {"showCaptionAboveMedia": True}}, "telegram.showCaptionAboveMedia"),
        ({"tiktok": {"disableDuet": True}}, "tiktok.disableDuet"),
        ({"bluesky": {"lang": "en", "labels": []}}, "bluesky.labels"),
    ],
)
def test_unknown_platform_settings_paths_are_refused(
    server: LiveServer, tenant: Tenant, settings: object, path: str
) -> None:
    """publora-latest §5.1: strict allowlist, 400 PLATFORM_SETTING_UNKNOWN, nothing stored."""
    response = tenant.client.post(
        "/create-post",
        json={"content": "T", "platforms": [tenant.platform_id], "platformSettings": settings},
    )
    assert response.status_code == 400
    assert response.json() == {
        **error_body(f"Unknown platformSettings path: {path}", "PLATFORM_SETTING_UNKNOWN"),
        "field": path,
    }
    assert tenant.client.get("/list-posts").json()["pagination"]["totalItems"] == 0


def test_platform_settings_aliases_and_string_booleans_are_normalised(tenant: Tenant) -> None:
    settings = {
        "instagram": {"cover_url": "https://example.com/c.jpg"},
        "telegram": {"protectContent": "yes", "disableNotification": "off"},
        "tiktok": {"allowComments": "0"},
        "youtube": {"thumbnail": {"id": "m1", "path": "/x.jpg"}},
    }
    group_id = tenant.client.post(
        "/create-post",
        json={"content": "T", "platforms": [tenant.platform_id], "platformSettings": settings},
    ).json()["postGroupId"]
    assert tenant.client.get(f"/get-post/{group_id}").json()["platformSettings"] == {
        "instagram": {"coverUrl": "https://example.com/c.jpg"},
        "telegram": {"protectContent": True, "disableNotification": False},
        "tiktok": {"allowComments": False},
        "youtube": {"thumbnail": {"mediaId": "m1", "url": "/x.jpg"}},
    }


def test_legacy_youtube_settings_answer_with_a_hint(tenant: Tenant) -> None:
    response = tenant.client.post(
        "/create-post",
        json={
            "content": "T",
            "platforms": [tenant.platform_id],
            "platformSettings": {"youtube": {"playlistId": "PL1"}},
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == (
        "platformSettings.youtube.playlistId is not supported; "
        "use platformSettings.youtube.playlist."
    )


def test_alt_texts_must_be_strings(tenant: Tenant) -> None:
    response = tenant.client.post(
        "/create-post",
        json={"content": "T", "platforms": [tenant.platform_id], "altTexts": [1]},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "altTexts must be an array of strings"


def test_each_target_gets_its_own_plan(server: LiveServer, tenant: Tenant) -> None:
    second = add_sandbox_connection(server, tenant.account_id)
    group_id = tenant.client.post(
        "/create-post",
        json={"content": "Both", "platforms": [second, tenant.platform_id]},
    ).json()["postGroupId"]
    posts = tenant.client.get(f"/get-post/{group_id}").json()["posts"]
    assert [p["platformConnectionId"] for p in posts] == [second, tenant.platform_id]
    assert [p["platformId"] for p in posts] == [
        second.split("-", 1)[1],
        tenant.platform_id.split("-", 1)[1],
    ]


@pytest.mark.parametrize(
    ("platform", "limit"),
    [
        ("linkedin", 3000),
        ("instagram", 2200),
        ("tiktok", 2200),
        ("youtube", 5000),
        ("telegram", 4096),
    ],
)
def test_platforms_without_threads_reject_over_limit_text(
    server: LiveServer, tenant: Tenant, platform: str, limit: int
) -> None:
    public_id = add_raw_connection(server, tenant.account_id, platform, "acct-1")
    at_limit = tenant.client.post(
        "/create-post", json={"content": "a" * limit, "platforms": [public_id]}
    )
    assert at_limit.status_code == 200
    over = tenant.client.post(
        "/create-post", json={"content": "a" * (limit + 1), "platforms": [public_id]}
    )
    assert over.status_code == 400
    message = f"Content too long for {platform}: {limit + 1} characters, the limit is {limit}"
    assert over.json() == {
        **error_body(message, "CONTENT_TOO_LONG"),
        "platform": platform,
        "limit": limit,
    }


def test_x_threads_by_weighted_length(server: LiveServer, tenant: Tenant) -> None:
    public_id = add_raw_connection(server, tenant.account_id, "twitter", "1985855679454986200")
    content = "漢字" * 100  # 200 code points, weight 400 on X: over 280
    group_id = tenant.client.post(
        "/create-post", json={"content": content, "platforms": [public_id]}
    ).json()["postGroupId"]
    post = tenant.client.get(f"/get-post/{group_id}").json()["posts"][0]
    assert post["platform"] == "twitter"
    assert post["platformId"] == "1985855679454986200"
    assert post["isThread"] is True
    assert [p["content"][-6:] for p in post["threadParts"]] == [" [1/2]", " [2/2]"]


def test_concurrent_creates_all_land(server: LiveServer, tenant: Tenant) -> None:
    """Writers queue for the database (BEGIN IMMEDIATE on SQLite) instead of failing."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    def create(index: int) -> int:
        with httpx.Client(
            base_url=server.base_url + "/api/v1",
            headers={"x-publora-key": tenant.api_key},
            timeout=CLIENT_TIMEOUT_S,
        ) as c:
            body = {"content": f"post {index}", "platforms": [tenant.platform_id]}
            return c.post("/create-post", json=body).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(create, range(48)))
    assert codes == [200] * 48
    assert tenant.client.get("/list-posts").json()["pagination"]["totalItems"] == 48


def test_content_of_only_separators_is_refused(tenant: Tenant) -> None:
    response = tenant.client.post(
        "/create-post", json={"content": "---\n---\n", "platforms": [tenant.platform_id]}
    )
    assert response.status_code == 400
    assert response.json() == error_body("Content is required", "CONTENT_REQUIRED")


def _envelope(platform: str, code: str, message: str, first_hint: str) -> dict[str, object]:
    return {
        "error": "Validation failed",
        "message": "Validation failed",
        "code": "VALIDATION_FAILED",
        "validation": {
            "valid": False,
            "errors": [
                {
                    "platform": platform,
                    "code": code,
                    "message": message,
                    "field": "media",
                    "severity": "error",
                    "suggestions": [
                        first_hint,
                        "Create the post without scheduledTime, upload the file with POST "
                        "/api/v1/get-upload-url and a PUT to its uploadUrl, then schedule it "
                        "with PUT /api/v1/update-post/{postGroupId}",
                    ],
                }
            ],
            "warnings": [],
            "summary": {"errorCount": 1, "warningCount": 0, "affectedPlatforms": [platform]},
        },
    }


INSTAGRAM_NEEDS_MEDIA = (
    "instagram",
    "MEDIA_REQUIRED",
    "Instagram posts require media",
    "Upload an image or video for this platform",
)
YOUTUBE_NEEDS_VIDEO = (
    "youtube",
    "VIDEO_REQUIRED",
    "YouTube requires a video",
    "Upload a video for this platform",
)


@pytest.mark.parametrize("expected", [INSTAGRAM_NEEDS_MEDIA, YOUTUBE_NEEDS_VIDEO])
def test_scheduling_without_the_media_a_platform_needs_is_refused(
    server: LiveServer, tenant: Tenant, expected: tuple[str, str, str, str]
) -> None:
    """publora-latest §2.14 and §5.8: validated at the scheduling gate; a draft skips it."""
    platform = add_raw_connection(server, tenant.account_id, expected[0], "1784")
    body = {"content": "Look", "platforms": [platform, tenant.platform_id]}
    scheduled = tenant.client.post("/create-post", json={**body, "scheduledTime": iso_in(days=1)})
    assert scheduled.status_code == 400
    assert scheduled.json() == _envelope(*expected)
    assert tenant.client.get("/list-posts").json()["pagination"]["totalItems"] == 0
    draft = tenant.client.post("/create-post", json=body)
    assert draft.status_code == 200, draft.text
    group_id = draft.json()["postGroupId"]
    refused = tenant.client.put(f"/update-post/{group_id}", json={"scheduledTime": iso_in(days=1)})
    assert refused.status_code == 400
    assert refused.json() == _envelope(*expected)
    got = tenant.client.get(f"/get-post/{group_id}").json()
    assert (got["status"], got["scheduledTime"]) == ("draft", None)
