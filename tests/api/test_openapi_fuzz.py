"""Herald's own /openapi.json, fuzzed with schemathesis over real HTTP on both databases: no
answer is a 5xx, and each has a documented status, content type and body shape.

Each operation gets generated requests (valid ones, then ones that break the schema) with a
real key, as a real managed user, and as the key's owner aimed at real resources: its posts,
spare connections and managed users, and its real connection in create-post bodies.
Deterministic (`derandomize`) and bounded: about 120 requests per operation and database."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from support import LiveServer, Tenant, add_raw_connection, add_sandbox_connection, create_post

EXAMPLES = 20  # per operation and kind of request (the suite must fit CI's 30 minutes)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
AS_OWNER = ""  # an empty x-publora-user-id means the key's own account
# Connecting an account verifies its credentials at a client-supplied address: generated
# requests could send Herald to any host. tests/api/test_connect_platforms.py covers it.
NOT_FUZZED = frozenset({"POST /api/v1/platform-connections"})


@dataclass(frozen=True)
class Known:
    """The tenant's real resources. A DELETE gets resources of its own, so the order in which
    operations run changes nothing for the others."""

    key: str
    platform_id: str
    managed_user: str
    draft: str
    kept: dict[str, list[str]]  # by path parameter name
    disposable: dict[str, list[str]]

    def path_values(self, method: str, name: str) -> list[str]:
        return (self.disposable if method.upper() == "DELETE" else self.kept)[name]


@pytest.fixture
def known(server: LiveServer, tenant: Tenant) -> Known:
    server.context.rate_limiter.limit = 0  # thousands of requests in a minute are the point
    users = [
        tenant.client.post("/workspace/users", json={"username": f"user{n}@example.com"}).json()[
            "user"
        ]["_id"]
        for n in range(3)
    ]
    hook = {"name": "Fuzz", "url": "https://example.com/hook", "events": ["post.scheduled"]}
    webhooks = [tenant.client.post("/webhooks", json=hook).json()["webhook"]["_id"] for _ in "ab"]
    drafts = [create_post(tenant, status="draft") for _ in range(2)]
    due_now = [create_post(tenant) for _ in range(2)]  # each queues a delivery to both webhooks
    deliveries = tenant.client.get(f"/webhooks/{webhooks[0]}/deliveries").json()["deliveries"]
    # test-connection is aimed at a connection whose platform has no connector yet: its check
    # answers without a call, where a sandbox's would call the settings' default port.
    unchecked = add_raw_connection(server, tenant.account_id, "linkedin", "Tz9W5i6ZYG")
    return Known(
        key=tenant.api_key,
        platform_id=tenant.platform_id,
        managed_user=users[0],
        draft=drafts[0],
        kept={
            "post_group_id": [drafts[0], due_now[0]],
            "user_id": [users[0]],
            "webhook_id": [webhooks[0]],
            "delivery_id": [d["_id"] for d in deliveries],
            "platform_id": [unchecked],
            "media_file_id": [_media(tenant, drafts[0])],
        },
        disposable={
            "post_group_id": [drafts[1], due_now[1]],
            "webhook_id": [webhooks[1]],
            "platform_id": [add_sandbox_connection(server, tenant.account_id) for _ in "ab"],
            "user_id": users[1:],
            "media_id": [_media(tenant, drafts[1]) for _ in "ab"],
        },
    )


def _media(tenant: Tenant, group_id: str) -> str:
    body = {"postGroupId": group_id, "fileName": "a.png", "contentType": "image/png"}
    return str(tenant.client.post("/get-upload-url", json=body).json()["mediaId"])


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as opened:
        opened.trust_env = False  # loopback only, whatever proxy the environment names
        yield opened


def aimed_at(known: Known) -> Callable[[Case], Case]:
    """Bodies that name the tenant's real connection or draft, so valid ones get through."""

    def aim(case: Case) -> Case:
        if not isinstance(case.body, dict):
            return case
        if "platforms" in case.body:
            case.body["platforms"] = [known.platform_id]
        if "postGroupId" in case.body:
            case.body["postGroupId"] = known.draft
            case.body["contentType"] = "image/png"
        return case

    return aim


# Media URLs make Herald fetch files: generated ones are pointed at a closed loopback port, so
# the fetch path runs (and fails as documented) without a name ever being looked up.
CLOSED_PORT_FILE = "http://127.0.0.1:9/generated.png"


def on_loopback(case: Case) -> Case:
    body = case.body
    if isinstance(body, dict):
        if isinstance(body.get("mediaUrls"), list):
            body["mediaUrls"] = [CLOSED_PORT_FILE for _ in body["mediaUrls"]]
        file = body.get("file")
        if isinstance(file, dict) and "download_url" in file:
            file["download_url"] = CLOSED_PORT_FILE
    return case


def strategies(operation: Any, known: Known) -> Iterator[tuple[str, Any]]:
    key = {"x-publora-key": known.key}
    yield "generated", operation.as_strategy(GenerationMode.POSITIVE, headers=key)
    if len(operation.body) or len(operation.query):  # nothing else here can be made invalid
        yield "invalid", operation.as_strategy(GenerationMode.NEGATIVE, headers=key)
    as_user = {**key, "x-publora-user-id": known.managed_user}
    yield "as a managed user", operation.as_strategy(GenerationMode.POSITIVE, headers=as_user)
    as_owner = {**key, "x-publora-user-id": AS_OWNER}
    names = [parameter.name for parameter in operation.path_parameters]
    if not names:
        owned = operation.as_strategy(GenerationMode.POSITIVE, headers=as_owner)
        yield "as the owner", owned.map(aimed_at(known))
        return
    choices = itertools.product(*(known.path_values(operation.method, n) for n in names))
    at_each = [
        operation.as_strategy(
            GenerationMode.POSITIVE,
            headers=as_owner,
            path_parameters=dict(zip(names, values, strict=True)),
        )
        for values in choices
    ]
    yield "as the owner, at real resources", st.one_of(at_each)


def first_failure(strategy: Any, session: requests.Session, base_url: str) -> str | None:
    """The first failure's report, or None. Nothing is shrunk, so a run stays bounded."""
    found: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: Case) -> None:
        if found:
            return
        try:
            case.call_and_validate(base_url=base_url, session=session, checks=CHECKS)
        except FailureGroup as failure:
            found.append(str(failure))

    check()
    return found[0] if found else None


def test_every_answer_keeps_to_the_openapi_document(
    server: LiveServer, known: Known, session: requests.Session
) -> None:
    schema = schemathesis.openapi.from_url(server.base_url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    fuzzed = [op for op in operations if op.label not in NOT_FUZZED]
    assert len(fuzzed) == len(operations) - len(NOT_FUZZED) >= 12
    failures = [
        f"{operation.label} ({kind}):\n{report}"
        for operation in fuzzed
        for kind, strategy in strategies(operation, known)
        if (report := first_failure(strategy.map(on_loopback), session, server.base_url))
        is not None
    ]
    assert not failures, "\n\n".join(failures)


ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}


def test_the_document_lists_the_errors_herald_gives(server: LiveServer) -> None:
    spec = requests.get(server.base_url + "/openapi.json", timeout=10).json()
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            codes = set(operation["responses"])
            # FastAPI's 422 is never sent: a request it cannot validate is a 400 (INVALID_REQUEST).
            # The only 422 is Publora's IDEMPOTENCY_KEY_CONFLICT, in Herald's error body.
            if "422" in codes:
                assert "Idempotency-Key" in {p["name"] for p in operation["parameters"]}
                assert operation["responses"]["422"]["content"] == ERROR_CONTENT, (method, path)
            assert {"400", "401", "403", "413", "429"} <= codes, (method, path)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    listing = spec["paths"]["/api/v1/list-posts"]["get"]["parameters"]
    assert {"page", "limit", "status", "platform", "sortBy", "sortOrder", "fromDate", "toDate"} <= {
        parameter["name"] for parameter in listing
    }
