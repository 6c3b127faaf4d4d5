"""GET /platform-limits (publora-latest §2.4, Publora's platform-limits page): Publora's
envelope, filled from the rules Herald checks (domain.text, domain.media_rules), so what the
document says is what create-post and the upload checks enforce."""

from __future__ import annotations

import httpx

from herald.domain.media_rules import image_byte_limit, media_rule
from herald.domain.platform import Platform
from herald.domain.text import text_rule
from support import LiveServer, Tenant

PUBLORA_ORDER = [
    "twitter",
    "instagram",
    "threads",
    "tiktok",
    "linkedin",
    "youtube",
    "facebook",
    "mastodon",
    "bluesky",
    "telegram",
]
ENTRY_KEYS = {
    "platform",
    "displayName",
    "characters",
    "images",
    "videos",
    "requirements",
    "documents",
    "gifs",
    "thumbnails",
}


def test_the_envelope_is_publoras(tenant: Tenant) -> None:
    response = tenant.client.get("/platform-limits")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["schemaVersion"] == 1
    assert isinstance(body["source"], str)
    assert isinstance(body["packageVersion"], str)
    assert len(body["limitsLastUpdated"]) == len("2026-03-11")
    assert body["supportedPlatforms"] == PUBLORA_ORDER  # no sandbox: it is Herald's own
    assert list(body["platforms"]) == PUBLORA_ORDER
    for name, entry in body["platforms"].items():
        assert set(entry) == ENTRY_KEYS
        assert entry["platform"] == name


def test_each_value_is_the_rule_herald_checks(server: LiveServer, tenant: Tenant) -> None:
    platforms = tenant.client.get("/platform-limits").json()["platforms"]
    cap = server.settings.media_max_upload_bytes
    for name, entry in platforms.items():
        platform = Platform(name)
        text, media = text_rule(platform), media_rule(platform)
        assert entry["characters"] == {"standard": text.limit}
        assert entry["requirements"]["supportsThreading"] is text.threads
        assert entry["requirements"]["requiresMedia"] is media.required
        assert entry["requirements"]["supportsTextOnly"] is not media.required
        assert entry["images"]["maxCount"] == media.max_images
        assert entry["videos"]["maxCount"] == media.max_videos
        assert entry["videos"]["formats"] == sorted(media.video_types)
        assert entry["videos"]["maxSizeBytes"] == cap
        if media.max_images:
            assert entry["images"]["maxSizeBytes"] == (image_byte_limit(platform) or cap)
    assert platforms["twitter"]["displayName"] == "Twitter/X"
    assert platforms["twitter"]["characters"]["standard"] == 280
    assert platforms["bluesky"]["images"]["maxSizeBytes"] == 1_000_000
    assert platforms["youtube"]["requirements"]["requiresVideo"] is True
    assert platforms["youtube"]["images"] == {
        "supported": False,
        "maxSizeBytes": None,
        "maxCount": 0,
        "formats": [],
    }


def test_the_limits_need_a_key(anonymous: httpx.Client) -> None:
    response = anonymous.get("/platform-limits")
    assert response.status_code == 401
    assert response.json()["error"] == "Invalid API key"
