"""The X simulator's OAuth 2.0: consent page, code exchange with PKCE, refresh rotation,
revocation, client authentication and token-endpoint faults, over real HTTP."""

from __future__ import annotations

import time

import httpx
import pytest

from sim_support import CLIENT_TIMEOUT_S
from x_support import (
    ADA,
    BOB,
    CLIENT_ID,
    PUBLIC_CLIENT_ID,
    REDIRECT_URI,
    SCOPE,
    XControl,
    basic,
    pkce_pair,
)


def test_consent_page_is_a_real_form_naming_the_app_and_scopes(x_sim: XControl) -> None:
    _, challenge = pkce_pair()
    page = x_sim.http.get(f"/i/oauth2/authorize?{x_sim.authorize_query(challenge)}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "Herald Test wants to access your X account." in html
    assert '<form method="post" action="/i/oauth2/authorize">' in html
    assert 'value="approve">Approve</button>' in html
    assert 'value="deny">Deny</button>' in html
    for scope in SCOPE.split():
        assert f'data-scope="{scope}"' in html
    assert "@ada" in html
    assert "@bob" in html


def test_approve_redirects_with_code_and_state_and_the_code_buys_tokens(x_sim: XControl) -> None:
    """docs.x.com fundamentals/authentication/oauth-2-0/user-access-token (steps 2-3) and
    authorization-code ("two hours"): code and state back, 7200 s tokens."""
    verifier, challenge = pkce_pair()
    back = x_sim.consent(x_sim.authorize_query(challenge, state="s-<&>"), user=BOB)
    assert back["state"] == "s-<&>"
    assert back["code"]
    answer = x_sim.exchange(back["code"], verifier)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    tokens = answer.json()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 7200
    assert tokens["scope"] == SCOPE
    assert tokens["refresh_token"]
    me = x_sim.api("GET", "/2/users/me", tokens["access_token"]).json()["data"]
    assert me == {"id": BOB.id, "name": "Bob", "username": "bob"}
    assert x_sim.stats()["codes_exchanged"] == 1
    assert x_sim.stats()["consents"] == 1


def test_deny_redirects_with_access_denied_and_issues_nothing(x_sim: XControl) -> None:
    _, challenge = pkce_pair()
    back = x_sim.consent(x_sim.authorize_query(challenge, state="st-9"), decision="deny")
    assert back == {"error": "access_denied", "state": "st-9"}
    assert x_sim.stats()["codes_issued"] == 0
    assert x_sim.stats()["denials"] == 1


def test_a_consent_form_answers_once(x_sim: XControl) -> None:
    _, challenge = pkce_pair()
    page = x_sim.http.get(f"/i/oauth2/authorize?{x_sim.authorize_query(challenge)}")
    request_id = page.text.split('name="request_id" value="')[1].split('"')[0]
    form = {"request_id": request_id, "decision": "approve", "user_id": ADA.id}
    assert x_sim.http.post("/i/oauth2/authorize", data=form).status_code == 302
    again = x_sim.http.post("/i/oauth2/authorize", data=form)
    assert again.status_code == 400
    assert "Something went wrong" in again.text


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"client_id": "nobody"}, "unknown client_id"),
        ({"redirect_uri": REDIRECT_URI + "/"}, "redirect_uri does not match"),
        ({"redirect_uri": "http://127.0.0.1:9/elsewhere"}, "redirect_uri does not match"),
        ({"response_type": "token"}, "response_type must be code"),
        ({"scope": "tweet.read everything"}, "scope must name known scopes"),
        ({"state": ""}, "state must be 1 to 500"),
        ({"state": "s" * 501}, "state must be 1 to 500"),
        ({"code_challenge": ""}, "code_challenge is required"),
        ({"code_challenge_method": "S512"}, "code_challenge_method must be S256 or plain"),
    ],
)
def test_a_bad_authorize_request_ends_on_an_error_page_not_a_redirect(
    x_sim: XControl, params: dict[str, str], reason: str
) -> None:
    page = x_sim.http.get(f"/i/oauth2/authorize?{x_sim.authorize_query('c' * 43, **params)}")
    assert page.status_code == 400
    assert "location" not in page.headers
    assert reason in page.text


def test_a_code_works_once_for_its_verifier_and_redirect(x_sim: XControl) -> None:
    """Error text as X sends it (PLhery/node-twitter-api-v2#496)."""
    code, verifier = x_sim.authorize()
    wrong = x_sim.exchange(code, verifier + "x")
    assert wrong.status_code == 400
    assert wrong.json() == {
        "error": "invalid_request",
        "error_description": "Value passed for the code verifier was invalid.",
    }
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI + "?x=1",
        "code_verifier": verifier,
    }
    assert x_sim.token_request(form, **basic()).status_code == 400
    assert x_sim.exchange(code, verifier).status_code == 200
    replay = x_sim.exchange(code, verifier)
    assert replay.status_code == 400
    assert replay.json()["error_description"] == (
        "Value passed for the authorization code was invalid."
    )


def test_a_code_expires_after_code_ttl(x_sim: XControl) -> None:
    """docs authorization-code glossary: an auth_code must be exchanged within 30 seconds."""
    assert x_sim.configure()["code_ttl_s"] == 30
    x_sim.configure(code_ttl_s=0.2)
    code, verifier = x_sim.authorize()
    time.sleep(0.3)
    assert x_sim.exchange(code, verifier).json()["error"] == "invalid_request"


def test_plain_pkce_compares_the_verifier_itself(x_sim: XControl) -> None:
    query = x_sim.authorize_query("plain-verifier-" + "v" * 30, code_challenge_method="plain")
    code = x_sim.consent(query)["code"]
    assert x_sim.exchange(code, "plain-verifier-" + "v" * 30).status_code == 200


def test_confidential_client_must_authenticate_with_basic(x_sim: XControl) -> None:
    """docs user-access-token "Working with confidential clients"; the refusal as client
    projects quote it (unasuke/omniauth-twitter2#4, PLhery/node-twitter-api-v2#319)."""
    code, verifier = x_sim.authorize()
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": CLIENT_ID,
    }
    for headers in ({}, basic(secret="wrong"), {"Authorization": "Basic !!!"}):
        refused = x_sim.token_request(form, **headers)
        assert refused.status_code == 401
        assert refused.json() == {
            "error": "unauthorized_client",
            "error_description": "Missing valid authorization header",
        }
    assert x_sim.token_request(form, **basic()).status_code == 200


def test_public_client_sends_its_client_id_in_the_body(x_sim: XControl) -> None:
    verifier, challenge = pkce_pair()
    query = x_sim.authorize_query(challenge, client_id=PUBLIC_CLIENT_ID)
    code = x_sim.consent(query)["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": PUBLIC_CLIENT_ID,
    }
    assert x_sim.token_request(form).status_code == 200


def test_a_code_is_bound_to_the_app_it_was_issued_to(x_sim: XControl) -> None:
    verifier, challenge = pkce_pair()
    code = x_sim.consent(x_sim.authorize_query(challenge, client_id=PUBLIC_CLIENT_ID))["code"]
    assert x_sim.exchange(code, verifier).status_code == 400  # redeemed as the other app


def test_refresh_rotates_and_a_spent_refresh_token_is_refused(x_sim: XControl) -> None:
    first = x_sim.mint()
    second = x_sim.refresh(first["refresh_token"])
    assert second.status_code == 200, second.text
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]
    spent = x_sim.refresh(first["refresh_token"])
    assert spent.status_code == 400
    assert spent.json() == {
        "error": "invalid_request",
        "error_description": "Value passed for the token was invalid.",
    }
    assert x_sim.refresh(rotated["refresh_token"]).status_code == 200
    stats = x_sim.stats()
    assert stats["refreshes"] == 2
    assert stats["refreshes_by_user"] == {ADA.id: 2}
    assert stats["token_refusals"] == 1


def test_no_refresh_token_without_offline_access(x_sim: XControl) -> None:
    """docs authorization-code "Refresh tokens": none without offline.access."""
    answer = x_sim.mint(scope="tweet.read users.read")
    assert "refresh_token" not in answer
    assert answer["scope"] == "tweet.read users.read"


def test_missing_parameters_and_unknown_grant_types(x_sim: XControl) -> None:
    missing = x_sim.token_request({"grant_type": "refresh_token"}, **basic())
    assert missing.json() == {
        "error": "invalid_request",
        "error_description": "Missing required parameter [refresh_token].",
    }
    other = x_sim.token_request({"grant_type": "client_credentials"}, **basic())
    assert other.status_code == 400
    assert other.json()["error"] == "unsupported_grant_type"


def test_expired_access_token_is_401_and_refresh_brings_a_working_one(x_sim: XControl) -> None:
    tokens = x_sim.mint(expires_in=2)
    assert tokens["expires_in"] == 2
    assert x_sim.api("GET", "/2/users/me", tokens["access_token"]).status_code == 200
    time.sleep(2.1)
    expired = x_sim.api("GET", "/2/users/me", tokens["access_token"])
    assert expired.status_code == 401
    assert expired.json() == {
        "title": "Unauthorized",
        "detail": "Unauthorized",
        "type": "about:blank",
        "status": 401,
    }
    fresh = x_sim.refresh(tokens["refresh_token"]).json()["access_token"]
    assert x_sim.api("GET", "/2/users/me", fresh).status_code == 200


def test_token_lifetime_and_expire_tokens_control(x_sim: XControl) -> None:
    x_sim.configure(access_token_ttl_s=60)
    assert x_sim.mint()["expires_in"] == 60
    ada, bob = x_sim.token(ADA), x_sim.token(BOB)
    assert x_sim.expire_tokens(ADA) == 2  # the two of Ada's minted here
    assert x_sim.api("GET", "/2/users/me", ada).status_code == 401
    assert x_sim.api("GET", "/2/users/me", bob).status_code == 200


def test_revoke_endpoint_ends_a_token(x_sim: XControl) -> None:
    tokens = x_sim.mint()
    form = {"token": tokens["access_token"]}
    answer = x_sim.http.post("/2/oauth2/revoke", data=form, headers=basic())
    assert answer.status_code == 200
    assert answer.json() == {"revoked": True}
    assert x_sim.api("GET", "/2/users/me", tokens["access_token"]).status_code == 401
    refresh = x_sim.http.post(
        "/2/oauth2/revoke", data={"token": tokens["refresh_token"]}, headers=basic()
    )
    assert refresh.status_code == 200
    assert x_sim.refresh(tokens["refresh_token"]).status_code == 400


def test_user_removing_the_app_ends_access_and_refresh(x_sim: XControl) -> None:
    tokens, bobs = x_sim.mint(), x_sim.mint(BOB)
    assert x_sim.revoke_app(ADA, CLIENT_ID) == 1
    assert x_sim.api("GET", "/2/users/me", tokens["access_token"]).status_code == 401
    assert x_sim.refresh(tokens["refresh_token"]).json()["error"] == "invalid_request"
    assert x_sim.api("GET", "/2/users/me", bobs["access_token"]).status_code == 200


def test_token_faults_are_transient_503s_that_spend_nothing(x_sim: XControl) -> None:
    tokens = x_sim.mint()
    x_sim.script_token("unavailable", "timeout")
    down = x_sim.refresh(tokens["refresh_token"])
    assert down.status_code == 503
    assert down.json()["title"] == "Service Unavailable"
    with pytest.raises(httpx.ReadTimeout):
        x_sim.http.post(
            "/2/oauth2/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            headers=basic(),
            timeout=CLIENT_TIMEOUT_S,
        )
    assert x_sim.refresh(tokens["refresh_token"]).status_code == 200
    assert x_sim.stats()["token_faults"] == 2


def test_control_api_validates_apps_users_and_tokens(x_sim: XControl) -> None:
    bad = x_sim.http.post("/_sim/apps", json={"client_id": "a", "redirect_uris": ["ftp://x"]})
    assert bad.status_code == 422
    x_sim.add_app("fresh-app", ["http://127.0.0.1:5/cb"], client_secret="s3cret")
    apps = x_sim.http.get("/_sim/apps").json()["apps"]
    assert {
        "client_id": "fresh-app",
        "redirect_uris": ["http://127.0.0.1:5/cb"],
        "confidential": True,
        "name": "Herald",
    } in apps
    assert "s3cret" not in x_sim.http.get("/_sim/apps").text
    carol = x_sim.add_user("carol", name="Carol")
    assert carol["username"] == "carol"
    assert carol["id"].isdecimal()
    assert x_sim.http.post("/_sim/users", json={"username": "ADA"}).status_code == 422
    assert x_sim.http.post("/_sim/tokens", json={"user_id": "404"}).status_code == 422
    scoped = x_sim.http.post("/_sim/tokens", json={"user_id": ADA.id, "scope": "nope"})
    assert scoped.status_code == 422
    x_sim.reset()
    assert "fresh-app" not in x_sim.http.get("/_sim/apps").text


def test_token_rate_limit_fault_and_latency(x_sim: XControl) -> None:
    tokens = x_sim.mint()
    x_sim.script_token("rate_limit")
    limited = x_sim.refresh(tokens["refresh_token"])
    assert limited.status_code == 429
    assert limited.json()["title"] == "Too Many Requests"
    x_sim.configure(latency_ms=300)
    started = time.monotonic()
    assert x_sim.refresh(tokens["refresh_token"]).status_code == 200  # nothing was spent
    assert time.monotonic() - started >= 0.3


def test_a_lost_refresh_answer_spends_the_refresh_token(x_sim: XControl) -> None:
    """The refresh happens but its answer never arrives: the client still holds the old
    refresh token, which X has already rotated away."""
    tokens = x_sim.mint()
    x_sim.script_token("lost_response")
    with pytest.raises(httpx.ReadTimeout):
        x_sim.http.post(
            "/2/oauth2/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            headers=basic(),
            timeout=CLIENT_TIMEOUT_S,
        )
    assert x_sim.stats()["refreshes"] == 1
    assert x_sim.refresh(tokens["refresh_token"]).json()["error"] == "invalid_request"
