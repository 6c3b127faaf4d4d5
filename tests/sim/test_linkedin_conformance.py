"""LinkedIn's official Python client (linkedin-api-client) against the LinkedIn simulator over
loopback: it must parse the simulator's answers as it parses LinkedIn's. Its requests go to
LinkedIn's hosts, so a requests transport adapter sends them to the simulator instead; nothing
else about the client is changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from typing import Any

import pytest
import requests
from linkedin_api.clients.auth.client import AuthClient
from linkedin_api.clients.restli.client import RestliClient

from herald.sim.linkedin import create_linkedin_app
from linkedin_support import (
    ADA,
    CLIENT_ID,
    CLIENT_SECRET,
    ENGINES,
    PAGE_SCOPE,
    VERSION,
    LinkedInControl,
    query_of,
    sim_config,
)
from sim_support import serve_in_thread

REDIRECT = "http://127.0.0.1:9/connect/linkedin/callback"
HOSTS = ("https://api.linkedin.com", "https://www.linkedin.com")


class ToSimulator(requests.adapters.HTTPAdapter):
    """Sends a request meant for LinkedIn to the simulator at `base`."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = request.url or ""
        for host in HOSTS:
            if url.startswith(host):
                request.url = self.base + url[len(host) :]
        return super().send(request, **kwargs)


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    with serve_in_thread(create_linkedin_app(sim_config(REDIRECT))) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def control(sim_url: str) -> Iterator[LinkedInControl]:
    """One control client per module: making an HTTP client costs more than a test."""
    with closing(LinkedInControl(sim_url)) as made:
        yield made


@pytest.fixture
def sim(control: LinkedInControl) -> LinkedInControl:
    control.reset()
    return control


def _routed(session: requests.Session, base: str) -> None:
    for host in HOSTS:
        session.mount(host, ToSimulator(base))


@pytest.fixture
def restli(sim: LinkedInControl) -> Iterator[RestliClient]:
    client = RestliClient()
    _routed(client.session, sim.base_url)
    yield client
    client.session.close()


def test_the_auth_client_gets_a_token_through_the_consent_page(sim: LinkedInControl) -> None:
    auth = AuthClient(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_url=REDIRECT)
    _routed(auth.session, sim.base_url)
    url = auth.generate_member_auth_url(scopes=["openid", "profile", "w_member_social"], state="s1")
    back = query_of(sim.consent(url.replace(HOSTS[1], sim.base_url)))
    assert back["state"] == "s1"
    token = auth.exchange_auth_code_for_access_token(back["code"])
    assert token.status_code == 200
    assert token.access_token
    assert token.expires_in > 59 * 86400
    again = auth.exchange_auth_code_for_access_token(back["code"])
    assert again.status_code == 400  # a code works once
    auth.session.close()


def test_userinfo_reads_as_a_non_versioned_get(sim: LinkedInControl, restli: RestliClient) -> None:
    answer = restli.get(resource_path="/userinfo", access_token=sim.token())
    assert answer.status_code == 200
    assert answer.entity["sub"] == ADA.sub
    assert answer.entity["name"] == ADA.name


def test_a_post_create_yields_the_urn_from_x_restli_id(
    sim: LinkedInControl, restli: RestliClient
) -> None:
    entity = {
        "author": ADA.urn,
        "commentary": "From the official client",
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED"},
        "lifecycleState": "PUBLISHED",
    }
    created = restli.create(
        resource_path="/posts", entity=entity, access_token=sim.token(), version_string=VERSION
    )
    assert created.status_code == 201
    [post] = sim.posts()
    assert created.decoded_entity_id == post["urn"]
    stale = restli.create(
        resource_path="/posts",
        entity={**entity, "commentary": "again"},
        access_token=sim.token(),
        version_string="202301",
    )
    assert stale.status_code == 426
    assert stale.response.json()["code"] == "NONEXISTENT_VERSION"


def test_upload_actions_and_the_roles_finder(sim: LinkedInControl, restli: RestliClient) -> None:
    token = sim.token(scope=PAGE_SCOPE)
    started = restli.action(
        resource_path="/images",
        action_name="initializeUpload",
        action_params={"initializeUploadRequest": {"owner": ENGINES.urn}},
        access_token=token,
        version_string=VERSION,
    )
    assert started.status_code == 200
    assert started.value["image"].startswith("urn:li:image:")
    assert started.value["uploadUrl"].startswith(sim.base_url)
    roles = restli.finder(
        resource_path="/organizationAcls",
        finder_name="roleAssignee",
        access_token=token,
        version_string=VERSION,
    )
    assert roles.status_code == 200
    assert [e["organization"] for e in roles.elements] == [ENGINES.urn]


def test_engagement_reads_back_through_finders_and_gets(
    sim: LinkedInControl, restli: RestliClient
) -> None:
    """The reads behind linkedin-mentionables: a page's posts (finder `author`), a post's
    comments (get_all), its reactions (finder `entity` on a complex key) and a member's name."""
    token = sim.token(scope=PAGE_SCOPE)
    entity = {
        "author": ENGINES.urn,
        "commentary": "Page news",
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED"},
        "lifecycleState": "PUBLISHED",
    }
    urn = restli.create(
        resource_path="/posts", entity=entity, access_token=token, version_string=VERSION
    ).decoded_entity_id
    said = {"actor": ADA.urn, "object": urn, "message": {"text": "Well done"}}
    restli.create(
        resource_path="/socialActions/{id}/comments",
        path_keys={"id": urn},
        entity=said,
        access_token=token,
        version_string=VERSION,
    )
    liked = restli.create(
        resource_path="/reactions",
        entity={"root": urn, "reactionType": "LIKE"},
        query_params={"actor": ADA.urn},
        access_token=token,
        version_string=VERSION,
    )
    assert liked.status_code == 201
    posts = restli.finder(
        resource_path="/posts",
        finder_name="author",
        query_params={"author": ENGINES.urn},
        access_token=token,
        version_string=VERSION,
    )
    assert [p["id"] for p in posts.elements] == [urn]
    comments = restli.get_all(
        resource_path="/socialActions/{id}/comments",
        path_keys={"id": urn},
        access_token=token,
        version_string=VERSION,
    )
    assert [c["actor"] for c in comments.elements] == [ADA.urn]
    reactions = restli.finder(
        resource_path="/reactions/{id}",
        finder_name="entity",
        path_keys={"id": {"entity": urn}},
        access_token=token,
        version_string=VERSION,
    )
    assert [(r["created"]["actor"], r["reactionType"]) for r in reactions.elements] == [
        (ADA.urn, "LIKE")
    ]
    person = restli.get(
        resource_path="/people/{id}",
        path_keys={"id": {"id": ADA.sub}},
        access_token=token,
        version_string=VERSION,
    )
    assert (person.entity["localizedFirstName"], person.entity["localizedLastName"]) == (
        ADA.given_name,
        ADA.family_name,
    )
