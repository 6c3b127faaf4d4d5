"""The public media rule: Meta fetches files from their URL, so a file for a Facebook,
Instagram or Threads post on an address the internet cannot reach is refused when it is
attached (MEDIA_NOT_PUBLIC, naming HERALD_PUBLIC_URL), and again before publishing."""

from __future__ import annotations

import ipaddress

from herald.services.public_media import is_reachable
from support import LiveServer, Tenant, add_raw_connection

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


def test_a_file_for_meta_on_a_loopback_url_is_refused_when_attached(
    server: LiveServer, tenant: Tenant
) -> None:
    # The test server's files are on loopback, which its settings declare reachable for the
    # Meta simulator; a new installation declares nothing.
    store = server.context.media_store
    declared, store.reachable_networks = store.reachable_networks, ()
    try:
        for platform in ("instagram", "facebook", "threads"):
            meta = add_raw_connection(server, tenant.account_id, platform, "1784140000009")
            created = tenant.client.post(
                "/create-post", json={"content": "Hi", "platforms": [meta], "status": "draft"}
            )
            group_id = created.json()["postGroupId"]
            upload = {"postGroupId": group_id, "fileName": "a.png", "contentType": "image/png"}
            refused = tenant.client.post("/get-upload-url", json=upload)
            assert refused.status_code == 400, refused.text
            body = refused.json()
            assert body["code"] == "MEDIA_NOT_PUBLIC"
            assert body["platform"] == platform
            assert "HERALD_PUBLIC_URL" in body["error"]
            assert server.settings.resolved_public_url in body["error"]
        # Other platforms upload the file as they always did: the rule is Meta's.
        other = tenant.client.post(
            "/create-post",
            json={"content": "Hi", "platforms": [tenant.platform_id], "status": "draft"},
        )
        allowed = {**upload, "postGroupId": other.json()["postGroupId"]}
        assert tenant.client.post("/get-upload-url", json=allowed).status_code == 200
    finally:
        store.reachable_networks = declared


def test_reachability_of_urls() -> None:
    assert is_reachable("https://media.example.com/a.png", ())
    assert is_reachable("http://93.184.215.14/a.png", ())
    for url in (
        "http://127.0.0.1:8080/a.png",
        "http://localhost/a.png",
        "http://herald.local/a.png",
        "http://10.1.2.3/a.png",
        "http://[::1]/a.png",
        "http://herald/a.png",
    ):
        assert not is_reachable(url, ()), url
    # The operator's word for a dry run against a simulator on this host.
    assert is_reachable("http://127.0.0.1:8080/a.png", LOOPBACK)
