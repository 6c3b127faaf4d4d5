"""BlueskyConnector against the Bluesky simulator over real HTTP: verify, posts, facets, threads,
limits, and every outcome in the taxonomy."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from bluesky_support import (
    ALICE,
    POST,
    SCHEDULED_AT,
    BlueskyControl,
    bluesky_request,
    lookup,
    publish,
    verify,
)
from herald.domain.platform import Platform
from herald.platforms.base import (
    AuthExpiredError,
    OutcomeUnknownError,
    Published,
    RejectedError,
    RetryableError,
)
from herald.platforms.bluesky import BlueskyConnector
from herald.platforms.bluesky.record_key import record_key
from sim_support import closed_port, platform_client

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def expected(key: str = "key-1") -> Published:
    rkey = record_key(key, SCHEDULED_AT)
    return Published(
        f"at://{ALICE.did}/{POST}/{rkey}", f"https://bsky.app/profile/{ALICE.handle}/post/{rkey}"
    )


def test_declares_bluesky_and_its_capabilities(bluesky_connector: BlueskyConnector) -> None:
    assert bluesky_connector.platform is Platform.BLUESKY
    ttl = bluesky_connector.capabilities.idempotency_ttl
    assert ttl is not None
    assert ttl.days >= 3650  # the record key never expires
    assert bluesky_connector.capabilities.supports_lookup
    assert bluesky_connector.capabilities.threads


def test_verify_returns_the_profile_from_the_app_view(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    bluesky_sim.configure(appview=True)
    bluesky_sim.add_account(
        handle="bob.test",
        appPassword="bbbb-cccc-dddd-eeee",
        displayName="Bob B.",
        avatar="https://cdn.example/bob.jpg",
    )
    profile = verify(bluesky_connector, bluesky_sim.base_url, "bob.test", "bbbb-cccc-dddd-eeee")
    assert profile.external_id.startswith("did:plc:")
    assert (profile.username, profile.display_name) == ("@bob.test", "Bob B.")
    assert profile.profile_image_url == "https://cdn.example/bob.jpg"
    assert profile.profile_url == "https://bsky.app/profile/bob.test"
    assert profile.options == {"handle": "bob.test"}
    assert profile.access_token_expires_at is None  # Herald renews sessions itself


def test_verify_on_a_bare_pds_falls_back_to_the_handle(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    profile = verify(
        bluesky_connector, bluesky_sim.base_url, ALICE.did
    )  # a DID works as the identifier too
    assert profile.external_id == ALICE.did
    assert (profile.username, profile.display_name) == ("@alice.test", "alice.test")
    assert profile.profile_image_url == ""
    assert bluesky_sim.stats()["calls"]["app.bsky.actor.getProfile"] == 1  # asked, and answered 502


def test_verify_with_a_wrong_password_names_bluesky_and_the_reason(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    with pytest.raises(AuthExpiredError) as caught:
        verify(bluesky_connector, bluesky_sim.base_url, password="wxyz-wxyz-wxyz-wxyz")
    assert caught.value.message == (
        "Bluesky refused the handle or app password: "
        "AuthenticationRequired: Invalid identifier or password"
    )
    assert caught.value.http_status == 401
    assert "wxyz-wxyz-wxyz-wxyz" not in repr(caught.value)


def test_verify_of_an_unreachable_pds_is_retryable(bluesky_connector: BlueskyConnector) -> None:
    with pytest.raises(RetryableError, match="Could not reach Bluesky"):
        verify(bluesky_connector, f"http://127.0.0.1:{closed_port()}")


def test_publish_creates_a_post_at_the_derived_record_key(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    published = publish(
        bluesky_connector, bluesky_request(bluesky_sim.base_url, text="Hello, Bluesky")
    )
    assert published == expected()
    [record] = bluesky_sim.records()
    assert record["uri"] == published.external_id
    value = record["value"]
    assert set(value) == {"$type", "text", "createdAt"}  # no langs, facets, embed or reply
    assert (value["$type"], value["text"]) == (POST, "Hello, Bluesky")
    assert TIMESTAMP.fullmatch(value["createdAt"])


def test_the_url_uses_the_did_when_the_handle_is_unknown(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    published = publish(
        bluesky_connector,
        bluesky_request(bluesky_sim.base_url, options={"pdsUrl": bluesky_sim.base_url}),
    )
    assert (
        published.url
        == f"https://bsky.app/profile/{ALICE.did}/post/{record_key('key-1', SCHEDULED_AT)}"
    )


@pytest.mark.parametrize(
    ("settings", "langs"),
    [({"langs": ["en", "pt-BR"]}, ["en", "pt-BR"]), ({"lang": "ja"}, ["ja"]), ({}, None)],
)
def test_languages_only_when_the_settings_give_them(
    bluesky_sim: BlueskyControl,
    bluesky_connector: BlueskyConnector,
    settings: dict[str, object],
    langs: list[str] | None,
) -> None:
    publish(bluesky_connector, bluesky_request(bluesky_sim.base_url, settings=settings))
    assert bluesky_sim.records()[0]["value"].get("langs") == langs


def test_links_hashtags_and_mentions_become_facets_at_byte_offsets(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    bob = bluesky_sim.add_account(handle="bob.test", appPassword="bbbb-cccc-dddd-eeee")
    text = (
        "👨‍👩‍👧 日本語のテスト #東京 https://example.com/a?b=1. "
        "¡Hola @Bob.test y @nadie.test! #2026"
    )
    publish(bluesky_connector, bluesky_request(bluesky_sim.base_url, text=text))
    facets = bluesky_sim.records()[0]["value"]["facets"]
    assert facets == [
        {
            "index": {"byteStart": 41, "byteEnd": 48},
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "東京"}],
        },
        {
            "index": {"byteStart": 49, "byteEnd": 74},
            "features": [
                {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/a?b=1"}
            ],
        },
        {
            "index": {"byteStart": 83, "byteEnd": 92},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": bob["did"]}],
        },
    ]
    encoded = text.encode()
    assert [encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in facets] == [
        "#東京",
        "https://example.com/a?b=1",
        "@Bob.test",
    ]
    # @nadie.test does not resolve: plain text, not an error. #2026 is only digits.
    assert bluesky_sim.stats()["calls"]["com.atproto.identity.resolveHandle"] == 2


def test_a_thread_of_three_parts_carries_root_and_parent_strong_refs(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    first = publish(
        bluesky_connector, bluesky_request(bluesky_sim.base_url, text="1/3", part_count=3), "k-0"
    )
    parts = [first]
    for index in (1, 2):
        request = bluesky_request(
            bluesky_sim.base_url,
            text=f"{index + 1}/3",
            part_index=index,
            part_count=3,
            reply_to_id=parts[-1].external_id,
            root_id=first.external_id,
        )
        parts.append(publish(bluesky_connector, request, f"k-{index}"))
    stored = {record["uri"]: record for record in bluesky_sim.records()}
    refs = [{"uri": part.external_id, "cid": stored[part.external_id]["cid"]} for part in parts]
    assert "reply" not in stored[parts[0].external_id]["value"]
    assert stored[parts[1].external_id]["value"]["reply"] == {"root": refs[0], "parent": refs[0]}
    assert stored[parts[2].external_id]["value"]["reply"] == {"root": refs[0], "parent": refs[1]}


def test_a_reply_to_a_post_that_is_gone_is_rejected(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    missing = f"at://{ALICE.did}/{POST}/3kaaaaaaaaaaa"
    request = bluesky_request(
        bluesky_sim.base_url, part_index=1, reply_to_id=missing, root_id=missing
    )
    with pytest.raises(RejectedError, match="gone from Bluesky"):
        publish(bluesky_connector, request)
    with pytest.raises(RejectedError, match="not a Bluesky post URI"):
        publish(bluesky_connector, bluesky_request(bluesky_sim.base_url, reply_to_id="12345"))
    assert bluesky_sim.records() == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("é" * 301, "grapheme too big (maximum 300, got 301)"),
        ("👨‍👩‍👧" * 300, "string too big (maximum 3000, got 5400)"),
    ],
)
def test_text_over_the_limits_is_rejected_with_the_pds_message(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector, text: str, message: str
) -> None:
    with pytest.raises(RejectedError) as caught:
        publish(bluesky_connector, bluesky_request(bluesky_sim.base_url, text=text))
    assert caught.value.message.startswith("Bluesky rejected the post: InvalidRequest: ")
    assert message in caught.value.message
    assert caught.value.http_status == 400
    assert bluesky_sim.records() == []
    assert publish(
        bluesky_connector, bluesky_request(bluesky_sim.base_url, text="é" * 300)
    ).external_id


def test_rate_limit_is_retryable_after_the_reset(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    bluesky_sim.configure(retry_after_s=7)
    bluesky_sim.script("rate_limit")
    with pytest.raises(RetryableError) as caught:
        publish(bluesky_connector, bluesky_request(bluesky_sim.base_url))
    assert caught.value.rate_limited
    assert caught.value.retry_after is not None
    assert 5 <= caught.value.retry_after <= 7  # from RateLimit-Reset, epoch seconds
    assert caught.value.http_status == 429
    assert bluesky_sim.records() == []


def test_a_resend_with_the_same_key_creates_nothing_new(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    request = bluesky_request(bluesky_sim.base_url)
    first = publish(bluesky_connector, request, "key-1")
    assert publish(bluesky_connector, request, "key-1") == first
    assert publish(BlueskyConnector(), request, "key-1") == first  # another worker, same answer
    stats = bluesky_sim.stats()
    assert (stats["records"], stats["duplicates"]) == (1, 2)


def test_different_keys_create_different_posts(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    request = bluesky_request(bluesky_sim.base_url)
    assert publish(bluesky_connector, request, "k1") != publish(bluesky_connector, request, "k2")
    assert bluesky_sim.stats()["records"] == 2


@pytest.mark.parametrize("fault", ["error_after_create", "lost_response"])
def test_a_post_created_before_an_unclear_answer_is_found_and_returned(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector, fault: str
) -> None:
    bluesky_sim.script(fault)
    request = bluesky_request(bluesky_sim.base_url)
    assert publish(bluesky_connector, request) == expected()
    assert lookup(bluesky_connector, request) == expected()
    assert bluesky_sim.stats()["records"] == 1
    assert bluesky_sim.stats()["calls"]["com.atproto.repo.getRecord"] == 2  # the check, then lookup


@pytest.mark.parametrize("fault", ["unavailable", "timeout"])
def test_an_unclear_answer_with_no_post_is_retryable_and_a_resend_posts_once(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector, fault: str
) -> None:
    bluesky_sim.script(fault)
    request = bluesky_request(bluesky_sim.base_url)
    with pytest.raises(RetryableError, match="the post was not created") as caught:
        publish(bluesky_connector, request)
    assert not caught.value.rate_limited
    assert bluesky_sim.records() == []
    assert lookup(bluesky_connector, request) is None
    assert publish(bluesky_connector, request) == expected()
    assert bluesky_sim.stats()["records"] == 1


def test_no_answer_and_no_way_to_check_is_outcome_unknown(
    bluesky_connector: BlueskyConnector,
) -> None:
    """A PDS that logs in, then drops every connection once a request is in: the post may
    exist and getRecord cannot tell, so the engine must not treat it as unsent."""
    session = {"did": ALICE.did, "handle": ALICE.handle, "accessJwt": "a", "refreshJwt": "r"}

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if b"createSession" in head.split(b"\r\n")[0]:
            length = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
            await reader.readexactly(int(length[1]) if length else 0)
            body = json.dumps(session).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def scenario() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        request = bluesky_request(f"http://127.0.0.1:{port}")
        async with server, platform_client() as http:
            with pytest.raises(OutcomeUnknownError, match="ServerDisconnected") as caught:
                await bluesky_connector.publish(http, request, "key-1")
            assert "checking whether the post exists failed too" in caught.value.message

    asyncio.run(scenario())


def test_lookup_of_a_key_never_sent_is_none(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    publish(bluesky_connector, bluesky_request(bluesky_sim.base_url), "sent")
    assert lookup(bluesky_connector, bluesky_request(bluesky_sim.base_url), "never-sent") is None


def test_lookup_needs_no_login(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    publish(BlueskyConnector(), bluesky_request(bluesky_sim.base_url))
    revoked = {"identifier": ALICE.handle, "appPassword": "revoked-0000"}
    assert (
        lookup(bluesky_connector, bluesky_request(bluesky_sim.base_url, credentials=revoked))
        == expected()
    )
    assert bluesky_sim.stats()["sessions"]["created"] == 1  # only the publishing connector's


def test_a_refused_connection_is_retryable(bluesky_connector: BlueskyConnector) -> None:
    request = bluesky_request(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(RetryableError, match="Could not reach Bluesky"):
        publish(bluesky_connector, request)
    with pytest.raises(RetryableError, match="Bluesky lookup failed"):
        lookup(bluesky_connector, request)


@pytest.mark.parametrize("options", [{"pdsUrl": "ftp://pds.example"}, {"pdsUrl": 7}])
def test_a_bad_pds_url_is_rejected(
    bluesky_connector: BlueskyConnector, options: dict[str, object]
) -> None:
    with pytest.raises(RejectedError, match="pdsUrl"):
        publish(bluesky_connector, bluesky_request("unused", options=options))


def test_missing_credentials_need_a_reconnect(bluesky_connector: BlueskyConnector) -> None:
    with pytest.raises(AuthExpiredError, match="no handle or app password"):
        publish(bluesky_connector, bluesky_request("http://127.0.0.1:9", credentials={}))


def test_a_handle_that_now_names_another_account_is_not_posted_to(
    bluesky_sim: BlueskyControl, bluesky_connector: BlueskyConnector
) -> None:
    request = bluesky_request(
        bluesky_sim.base_url, account_external_id="did:plc:someoneelse0000000000"
    )
    with pytest.raises(AuthExpiredError, match="reconnect"):
        publish(bluesky_connector, request)
    assert bluesky_sim.records() == []
