"""The OAuth parts that need no network: PKCE, signed tokens, the provider table and settings,
token health on the wire, and when tokens are renewed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet

from herald.config import Settings
from herald.domain.platform import Platform
from herald.domain.token_health import token_expires_in, token_status
from herald.errors import NotFoundError
from herald.oauth import signed
from herald.oauth.connect import ConnectError, authorize_url, connect_link, read_link
from herald.oauth.lifecycle import effective_expiry, refresh_time
from herald.oauth.pkce import new_verifier, s256_challenge
from herald.oauth.providers import NotConfiguredError, X, oauth_app, oauth_platform
from herald.oauth.token_endpoint import TokenSet

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        secret_key=Fernet.generate_key().decode(),
        public_url="https://herald.example",
        **extra,  # type: ignore[arg-type]
    )


def test_s256_matches_the_rfc_7636_example() -> None:
    # RFC 7636 Appendix B: this verifier has this challenge.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert s256_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_verifiers_are_fresh_and_of_legal_length() -> None:
    made = {new_verifier() for _ in range(50)}
    assert len(made) == 50
    assert all(43 <= len(v) <= 128 for v in made)


def test_signed_tokens_verify_expire_and_refuse_changes() -> None:
    keys = (b"k" * 32,)
    token = signed.sign(keys, ["acct", "twitter"], NOW + timedelta(minutes=10))
    assert signed.verify(keys, token, NOW) == ["acct", "twitter"]
    with pytest.raises(signed.ExpiredTokenError):
        signed.verify(keys, token, NOW + timedelta(minutes=10))
    with pytest.raises(signed.BadTokenError):
        signed.verify((b"o" * 32,), token, NOW)
    mac = token.split(".")[1]
    forged = signed.sign((b"o" * 32,), ["other", "twitter"], NOW + timedelta(minutes=10))
    with pytest.raises(signed.BadTokenError):
        signed.verify(keys, forged.split(".")[0] + "." + mac, NOW)
    for junk in ("", "abc", "a.b.c", "é.é", "x" * 5000):
        with pytest.raises(signed.BadTokenError):
            signed.verify(keys, junk, NOW)


def test_a_token_signed_before_a_key_rotation_still_verifies() -> None:
    old, new = b"o" * 32, b"n" * 32
    token = signed.sign((old,), ["a"], NOW + timedelta(minutes=1))
    assert signed.verify((new, old), token, NOW) == ["a"]


def test_x_is_an_alias_of_twitter_and_others_are_not_oauth_yet() -> None:
    assert oauth_platform("x") is Platform.TWITTER
    assert oauth_platform("X") is Platform.TWITTER
    assert oauth_platform("twitter") is Platform.TWITTER
    assert oauth_platform("bluesky") is None
    assert oauth_platform("nonsense") is None


def test_a_platform_without_an_app_says_which_settings_to_set(tmp_path: Path) -> None:
    with pytest.raises(NotConfiguredError) as caught:
        oauth_app("x", _settings(tmp_path))
    message = caught.value.message
    assert "HERALD_X_CLIENT_ID" in message
    assert "https://herald.example/connect/twitter/callback" in message
    assert caught.value.code == "PLATFORM_NOT_CONFIGURED"
    with pytest.raises(NotFoundError):
        oauth_app("bluesky", _settings(tmp_path))


def test_settings_make_the_x_app(tmp_path: Path) -> None:
    app = oauth_app(
        "twitter",
        _settings(
            tmp_path,
            x_client_id="cid",
            x_client_secret="shh",
            x_api_url="http://127.0.0.1:9/",
            x_authorize_url="http://127.0.0.1:9/i/oauth2/authorize",
        ),
    )
    assert app.token_url == "http://127.0.0.1:9/2/oauth2/token"
    assert app.revoke_url == "http://127.0.0.1:9/2/oauth2/revoke"
    assert app.authorize_url == "http://127.0.0.1:9/i/oauth2/authorize"
    assert app.client_secret == "shh"
    assert "shh" not in repr(_settings(tmp_path, x_client_secret="shh"))


def test_the_authorize_url_asks_for_offline_access_with_pkce(tmp_path: Path) -> None:
    app = oauth_app("x", _settings(tmp_path, x_client_id="cid"))
    url = authorize_url(app, "https://herald.example/connect/twitter/callback", "st", "v" * 43)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://x.com/i/oauth2/authorize"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == "cid"
    assert query["state"] == "st"
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] == s256_challenge("v" * 43)
    assert set(query["scope"].split(" ")) >= {"tweet.write", "users.read", "offline.access"}
    assert "v" * 43 not in url  # the verifier stays with Herald


def test_connect_links_name_their_account_and_platform_only(tmp_path: Path) -> None:
    settings = _settings(tmp_path, x_client_id="cid")
    link = connect_link("acct1", "x", settings)
    assert link.url.startswith("https://herald.example/connect/twitter?link=")
    token = parse_qs(urlsplit(link.url).query)["link"][0]
    assert read_link(token, Platform.TWITTER, settings) == "acct1"
    with pytest.raises(ConnectError) as caught:
        read_link(token, Platform.LINKEDIN, settings)
    assert caught.value.kind == "bad_link"
    stale = connect_link("acct1", "x", settings, now=NOW - timedelta(days=3))
    with pytest.raises(ConnectError) as caught:
        read_link(parse_qs(urlsplit(stale.url).query)["link"][0], Platform.TWITTER, settings)
    assert caught.value.kind == "link_expired"
    other_install = _settings(tmp_path, x_client_id="cid")
    with pytest.raises(ConnectError) as caught:
        read_link(token, Platform.TWITTER, other_install)
    assert caught.value.kind == "bad_link"


def test_renewal_comes_ahead_of_expiry_and_only_with_a_refresh_token() -> None:
    two_hours = TokenSet("a", "r", NOW + timedelta(hours=2), "")
    assert refresh_time(two_hours, NOW) == NOW + timedelta(hours=2) - timedelta(minutes=10)
    short = TokenSet("a", "r", NOW + timedelta(seconds=40), "")
    assert refresh_time(short, NOW) == NOW + timedelta(seconds=30)
    assert refresh_time(TokenSet("a", None, NOW + timedelta(hours=2), ""), NOW) is None
    assert refresh_time(TokenSet("a", "r", None, ""), NOW) is None
    # X's refresh tokens last: nothing for the owner to act on while Herald holds one.
    assert effective_expiry(X, two_hours) is None
    lone = TokenSet("a", None, NOW + timedelta(hours=2), "")
    assert effective_expiry(X, lone) == NOW + timedelta(hours=2)


def test_a_reconnection_without_a_new_refresh_token_keeps_the_old_one() -> None:
    old = TokenSet("a1", "r1", NOW, "s")
    assert TokenSet("a2", None, NOW, "s").keeping(old).refresh_token == "r1"
    assert TokenSet("a2", "r2", NOW, "s").keeping(old).refresh_token == "r2"
    assert TokenSet("a2", None, NOW, "s").keeping(None).refresh_token is None


def test_credentials_round_trip_in_the_contract_shape() -> None:
    tokens = TokenSet("a", "r", NOW, "tweet.read")
    credentials = tokens.credentials()
    assert credentials == {
        "accessToken": "a",
        "refreshToken": "r",
        "expiresAt": "2026-12-05T12:00:00.000Z",
        "scope": "tweet.read",
    }
    assert TokenSet.from_credentials(credentials) == tokens


@pytest.mark.parametrize(
    ("status", "platform", "expires", "username", "expected"),
    [
        ("active", "twitter", None, "me", "valid"),
        ("needs_reauth", "twitter", None, "me", "expired"),
        ("needs_reauth", "twitter", NOW + timedelta(days=30), "me", "expired"),
        ("active", "twitter", NOW + timedelta(days=6), "me", "expiring_soon"),
        ("active", "twitter", NOW + timedelta(days=8), "me", "valid"),
        ("active", "twitter", NOW - timedelta(seconds=1), "me", "expired"),
        ("active", "bluesky", None, "", "unknown"),
        ("active", "mastodon", None, "", "valid"),
    ],
)
def test_token_status(
    status: str, platform: str, expires: datetime | None, username: str, expected: str
) -> None:
    assert (
        token_status(
            platform=platform, status=status, expires_at=expires, username=username, now=NOW
        )
        == expected
    )


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (None, None),
        (timedelta(seconds=-1), "expired"),
        (timedelta(0), "expired"),
        (timedelta(minutes=59), "< 1h"),
        (timedelta(hours=5, minutes=30), "5h"),
        (timedelta(days=82, hours=4, minutes=2), "82d 4h"),
        (timedelta(days=1), "1d 0h"),
    ],
)
def test_token_expires_in(left: timedelta | None, expected: str | None) -> None:
    assert token_expires_in(NOW + left if left is not None else None, NOW) == expected
