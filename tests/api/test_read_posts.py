"""get-post and list-posts: shapes, every filter, sorting, clamping and pagination."""

from __future__ import annotations

import pytest

from support import (
    LiveServer,
    Tenant,
    add_raw_connection,
    attach_file,
    create_post,
    error_body,
    force_target_states,
    png,
    update_target,
)


def test_get_post_shape(tenant: Tenant) -> None:
    """publora-latest §2.16, plus the fields Herald sent before (DESIGN §3.7)."""
    when = "2031-05-01T08:30:00.000Z"
    group_id = create_post(
        tenant,
        scheduledTime=when,
        content="Shape check",
        platformSettings={"youtube": {"privacy": "unlisted"}},
    )
    body = tenant.client.get(f"/get-post/{group_id}").json()
    assert body == {
        "success": True,
        "postGroupId": group_id,
        "status": "scheduled",
        "scheduledTime": when,
        "platforms": [tenant.platform_id],
        "platformSettings": {"youtube": {"privacy": "unlisted"}},
        "firstComment": None,
        "media": [],
        "content": "Shape check",
        "createdAt": body["createdAt"],
        "updatedAt": body["updatedAt"],
        "mediaUrls": [],
        "posts": body["posts"],
    }
    (post,) = body["posts"]
    assert len(post["_id"]) == 24
    assert post["_id"] != group_id
    assert post == {
        "_id": post["_id"],
        "platform": "sandbox",
        "platformId": tenant.platform_id.split("-", 1)[1],
        "platformConnectionId": tenant.platform_id,
        "content": "Shape check",
        "status": "scheduled",
        "postedId": None,
        "permalink": None,
        "isThread": False,
        "threadParts": [
            {
                "index": 0,
                "content": "Shape check",
                "status": "pending",
                "publishedId": None,
                "publishedUrl": None,
            }
        ],
        "firstCommentResult": None,
        "publishedUrl": None,
        "publishedAt": None,
        "errorMessage": None,
        "errorCode": None,
    }


def test_get_post_lists_media_with_their_state(tenant: Tenant) -> None:
    group_id = create_post(tenant, status="draft")
    ready = attach_file(tenant, group_id, "ready.png", png((1, 2, 3), (4, 4)))
    waiting = tenant.client.post(
        "/get-upload-url",
        json={"postGroupId": group_id, "fileName": "later.png", "contentType": "image/png"},
    ).json()
    body = tenant.client.get(f"/get-post/{group_id}").json()
    assert body["mediaUrls"] == [ready["fileUrl"]]
    assert body["media"] == [
        {
            "mediaId": ready["mediaId"],
            "sourceFileName": "ready.png",
            "fileName": "ready.png",
            "type": "image",
            "mimeType": "image/png",
            "status": "ready",
            "failureReason": None,
            "url": ready["fileUrl"],
        },
        {
            "mediaId": waiting["mediaId"],
            "sourceFileName": "later.png",
            "fileName": "later.png",
            "type": "image",
            "mimeType": "image/png",
            "status": "awaiting_upload",
            "failureReason": None,
            "url": None,
        },
    ]


def test_get_post_shows_posted_id_once_published(server: LiveServer, tenant: Tenant) -> None:
    group_id = create_post(tenant)
    force_target_states(server, group_id, ["published"], sent=True)
    update_target(
        server, group_id, external_id="1234567890123456789", external_url="https://x.test/1"
    )
    post = tenant.client.get(f"/get-post/{group_id}").json()["posts"][0]
    assert post["postedId"] == "1234567890123456789"
    assert post["permalink"] == post["publishedUrl"] == "https://x.test/1"
    assert post["status"] == "published"
    assert post["threadParts"][0]["status"] == "published"
    assert "error" not in post


def test_a_failed_post_carries_an_error_object(server: LiveServer, tenant: Tenant) -> None:
    """§2.16's `error` object; the message stays readable as a string in `errorMessage`."""
    group_id = create_post(tenant)
    force_target_states(server, group_id, ["failed"], sent=True)
    update_target(
        server, group_id, last_error="Sandbox refused the post", last_error_code="PLATFORM_REJECTED"
    )
    post = tenant.client.get(f"/get-post/{group_id}").json()["posts"][0]
    failed_at = post["error"].pop("failedAt")
    assert failed_at.endswith("Z")
    assert post["error"] == {
        "code": "PLATFORM_REJECTED",
        "message": "Sandbox refused the post",
        "platformError": "Sandbox refused the post",
        "retryable": False,
    }
    assert (post["errorMessage"], post["errorCode"]) == (
        "Sandbox refused the post",
        "PLATFORM_REJECTED",
    )
    assert post["threadParts"][0]["status"] == "failed"


@pytest.mark.parametrize("group_id", ["507f1f77bcf86cd799439011", "pg_abc123", "%20", "x" * 300])
def test_get_unknown_ids_is_404(tenant: Tenant, group_id: str) -> None:
    response = tenant.client.get(f"/get-post/{group_id}")
    assert response.status_code == 404
    assert response.json() == error_body("Post group not found", "POST_GROUP_NOT_FOUND")


def _ids(tenant: Tenant, **params: object) -> list[str]:
    response = tenant.client.get("/list-posts", params=params)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return [p["postGroupId"] for p in response.json()["posts"]]


def test_list_shape_and_default_order(tenant: Tenant) -> None:
    first = create_post(tenant, scheduledTime="2031-01-01T00:00:00Z")
    second = create_post(tenant, status="draft")
    body = tenant.client.get("/list-posts").json()
    assert [p["postGroupId"] for p in body["posts"]] == [second, first]  # createdAt desc
    listed = body["posts"][1]
    assert listed == {
        "postGroupId": first,
        "content": "Hello from Herald",
        "status": "scheduled",
        "scheduledTime": "2031-01-01T00:00:00.000Z",
        "createdAt": listed["createdAt"],
        "updatedAt": listed["updatedAt"],
        "platforms": [
            {"platformId": tenant.platform_id, "platform": "sandbox", "status": "scheduled"}
        ],
        "mediaUrls": [],
    }
    assert body["pagination"] == {
        "page": 1,
        "limit": 20,
        "totalItems": 2,
        "totalPages": 1,
        "hasNextPage": False,
        "hasPrevPage": False,
    }


def test_status_filter(server: LiveServer, tenant: Tenant) -> None:
    draft = create_post(tenant, status="draft")
    scheduled = create_post(tenant, scheduledTime="2031-01-01T00:00:00Z")
    failed = create_post(tenant)
    force_target_states(server, failed, ["failed"], sent=True)
    assert _ids(tenant, status="draft") == [draft]
    assert _ids(tenant, status="scheduled") == [scheduled]
    assert _ids(tenant, status="failed") == [failed]
    assert _ids(tenant, status="published") == []
    response = tenant.client.get("/list-posts", params={"status": "pending"})
    assert response.status_code == 400
    assert response.json() == error_body(
        "Invalid status. Must be one of: draft, scheduled, published, failed, partially_published",
        "INVALID_STATUS",
    )


def test_platform_filter_is_a_case_insensitive_prefix(server: LiveServer, tenant: Tenant) -> None:
    linkedin = add_raw_connection(server, tenant.account_id, "linkedin", "Tz9W5i6ZYG")
    on_linkedin = create_post(tenant, platforms=[linkedin])
    on_sandbox = create_post(tenant)
    both = create_post(tenant, platforms=[linkedin, tenant.platform_id])
    assert _ids(tenant, platform="linkedin") == [both, on_linkedin]
    assert _ids(tenant, platform="LinkedIn") == [both, on_linkedin]
    assert _ids(tenant, platform="link") == [both, on_linkedin]
    assert _ids(tenant, platform="sand") == [both, on_sandbox]
    assert _ids(tenant, platform="twitter") == []
    assert _ids(tenant, platform="%") == []


def test_date_range_is_inclusive_and_drops_undated_drafts(tenant: Tenant) -> None:
    early = create_post(tenant, scheduledTime="2031-01-01T00:00:00Z")
    middle = create_post(tenant, scheduledTime="2031-06-01T12:00:00Z")
    late = create_post(tenant, scheduledTime="2031-12-31T23:59:59Z")
    undated = create_post(tenant, status="draft")
    assert _ids(tenant) == [undated, late, middle, early]
    assert _ids(tenant, fromDate="2031-06-01T12:00:00Z") == [late, middle]
    assert _ids(tenant, toDate="2031-06-01T12:00:00.000Z") == [middle, early]
    assert _ids(tenant, fromDate="2031-01-01T00:00:00Z", toDate="2031-06-01T14:00:00+02:00") == [
        middle,
        early,
    ]
    for name in ("fromDate", "toDate"):
        response = tenant.client.get("/list-posts", params={name: "2031-01-01"})
        assert response.status_code == 400
        assert response.json() == error_body(f"Invalid {name} format", "INVALID_DATE_FILTER")


def test_sorting_puts_nulls_last_and_breaks_ties_by_id(tenant: Tenant) -> None:
    undated = create_post(tenant, status="draft")
    later = create_post(tenant, scheduledTime="2032-01-01T00:00:00Z")
    sooner = create_post(tenant, scheduledTime="2031-01-01T00:00:00Z")
    tie_a = create_post(tenant, scheduledTime="2031-06-01T00:00:00Z")
    tie_b = create_post(tenant, scheduledTime="2031-06-01T00:00:00Z")
    # Ids are random after their creation second, so the tie's order is the ids' order.
    low, high = sorted([tie_a, tie_b])
    assert _ids(tenant, sortBy="scheduledTime", sortOrder="asc") == [
        sooner,
        low,
        high,
        later,
        undated,
    ]
    assert _ids(tenant, sortBy="scheduledTime", sortOrder="desc") == [
        later,
        high,
        low,
        sooner,
        undated,
    ]
    assert _ids(tenant, sortBy="createdAt", sortOrder="asc") == [
        undated,
        later,
        sooner,
        tie_a,
        tie_b,
    ]
    tenant.client.put(f"/update-post/{later}", json={"status": "draft"})
    assert _ids(tenant, sortBy="updatedAt")[0] == later
    bad = tenant.client.get("/list-posts", params={"sortBy": "content"})
    assert bad.json() == error_body(
        "Invalid sortBy. Must be one of: createdAt, updatedAt, scheduledTime", "INVALID_SORT_BY"
    )
    bad_order = tenant.client.get("/list-posts", params={"sortOrder": "up"})
    assert bad_order.status_code == 400
    assert bad_order.json() == error_body(
        "Invalid sortOrder. Must be one of: asc, desc", "INVALID_SORT_ORDER"
    )


def test_pagination_walks_every_post_once(tenant: Tenant) -> None:
    created = [create_post(tenant, scheduledTime="2031-01-01T00:00:00Z") for _ in range(7)]
    seen: list[str] = []
    page = 1
    while True:
        body = tenant.client.get("/list-posts", params={"page": page, "limit": 3}).json()
        seen += [p["postGroupId"] for p in body["posts"]]
        assert body["pagination"]["totalPages"] == 3
        assert body["pagination"]["hasPrevPage"] is (page > 1)
        if not body["pagination"]["hasNextPage"]:
            break
        page += 1
    assert page == 3
    assert sorted(seen) == sorted(created)
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize(
    ("params", "page", "limit"),
    [
        ({"page": "0"}, 1, 20),
        ({"page": "-3"}, 1, 20),
        ({"page": "abc", "limit": "x"}, 1, 20),
        ({"limit": "500"}, 1, 100),
        ({"limit": "0"}, 1, 1),
        ({"limit": "-1"}, 1, 1),
        ({"page": "", "limit": ""}, 1, 20),
        ({"page": "2.5"}, 1, 20),
    ],
)
def test_page_and_limit_fall_back_and_clamp(
    tenant: Tenant, params: dict[str, str], page: int, limit: int
) -> None:
    body = tenant.client.get("/list-posts", params=params).json()
    assert (body["pagination"]["page"], body["pagination"]["limit"]) == (page, limit)


def test_beyond_the_last_page_is_empty(tenant: Tenant) -> None:
    create_post(tenant)
    body = tenant.client.get("/list-posts", params={"page": 5}).json()
    assert body["posts"] == []
    assert body["pagination"] == {
        "page": 5,
        "limit": 20,
        "totalItems": 1,
        "totalPages": 1,
        "hasNextPage": False,
        "hasPrevPage": True,
    }
