"""Publora's own OpenAPI description (tests/data/publora-openapi-latest.yaml, as Publora
published it) drives schemathesis against Herald over real HTTP, on both databases: no answer
is a 5xx, every answer Publora's document describes has the shape it gives, and no operation
answers without a valid key.

The approach is tests/api/test_openapi_fuzz.py's (Herald's own document): per operation,
generated requests with a real key, invalid ones, as a managed user, and as the key's owner
aimed at real resources. Deterministic (`derandomize`) and bounded.

Not fuzzed: the LinkedIn-only operations (linkedin-*), which belong to the LinkedIn work and
are not served yet. Checked: `not_a_server_error`, `response_schema_conformance`,
`ignored_auth` (a 2xx is asked again without a key and with a wrong one), and each operation
once without a key. Not checked: statuses Publora's document does not list (it lists no 401
on most operations, and no 413 or 429 anywhere), which Herald answers in Publora's error
shape all the same."""

from __future__ import annotations

import itertools
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import ignored_auth, response_schema_conformance

from publora_spec_support import publora_schema
from support import LiveServer, Tenant, add_raw_connection, add_sandbox_connection, create_post

EXAMPLES = int(os.environ.get("PUBLORA_FUZZ_EXAMPLES", "30"))  # per operation and kind of request
CHECKS = [not_a_server_error, response_schema_conformance, ignored_auth]
# Cases per database; over both, at least 5,000 (the floor).
MIN_CASES = 2_500
AS_OWNER = ""  # an empty x-publora-user-id means the key's own account


# create-post and update-post fetch their `mediaUrls`, and attach-media its `file.download_url`:
# every generated one is replaced by an address on loopback where nothing listens (refused at
# once, looked up nowhere), and the run fails if anything in this process asks a resolver about
# any other name. tests/api/test_media_urls.py covers real fetches over loopback.
NOWHERE = "http://127.0.0.1:9/fuzz-{}.png"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


# Publora's operations Herald does not serve (none today); every other one is fuzzed, the
# LinkedIn ones included (they answer for the tenant's connections, LinkedIn or not).
NOT_SERVED: frozenset[str] = frozenset()


def excluded(label: str) -> bool:
    return label in NOT_SERVED


@dataclass(frozen=True)
class Known:
    key: str
    platform_id: str
    managed_user: str
    draft: str
    kept: dict[str, list[str]]  # by path parameter name
    disposable: dict[str, list[str]]

    def path_values(self, method: str, name: str) -> list[str]:
        return (self.disposable if method.upper() == "DELETE" else self.kept)[name]


def _user(tenant: Tenant, n: int) -> str:
    response = tenant.client.post("/workspace/users", json={"username": f"user{n}@example.com"})
    return str(response.json()["user"]["_id"])


def _media(tenant: Tenant, group_id: str) -> str:
    body = {"postGroupId": group_id, "fileName": "a.png", "contentType": "image/png"}
    return str(tenant.client.post("/get-upload-url", json=body).json()["mediaId"])


@pytest.fixture
def known(server: LiveServer, tenant: Tenant) -> Known:
    server.context.rate_limiter.limit = 0  # thousands of requests in a minute are the point
    users = [_user(tenant, n) for n in range(3)]
    hook = {"name": "Fuzz", "url": "https://example.com/hook", "events": ["post.scheduled"]}
    webhooks = [tenant.client.post("/webhooks", json=hook).json()["webhook"]["_id"] for _ in "ab"]
    # Posts go to a Mastodon connection: the sandbox is Herald's own test platform, which
    # Publora's platform enums rightly do not know. The engine is off: nothing is published.
    mastodon = add_raw_connection(server, tenant.account_id, "mastodon", "109876543210")
    drafts = [create_post(tenant, status="draft", platforms=[mastodon]) for _ in range(3)]
    due_now = [create_post(tenant, platforms=[mastodon]) for _ in range(2)]
    return Known(
        key=tenant.api_key,
        platform_id=mastodon,
        managed_user=users[0],
        draft=drafts[0],
        kept={
            "postGroupId": [drafts[0], due_now[0]],
            "userId": [users[0]],
            "id": [webhooks[0]],
            "mediaFileId": [_media(tenant, drafts[0])],
            "platformId": [mastodon, tenant.platform_id],
        },
        disposable={
            "postGroupId": [drafts[1], due_now[1]],
            "id": [webhooks[1]],
            "mediaId": [_media(tenant, drafts[2]), _media(tenant, drafts[2])],
            "userId": users[1:],
            "platformId": [add_sandbox_connection(server, tenant.account_id) for _ in "ab"],
        },
    )


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
        if case.body.get("contentType") is not None:
            case.body["contentType"] = "image/png"
        return case

    return aim


def fetches_nowhere(case: Case) -> Case:
    """Every URL a generated body asks Herald to fetch made a loopback address nothing serves:
    the strings of `mediaUrls` and attach-media's `file.download_url`."""
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("mediaUrls"), list):
        body["mediaUrls"] = [
            NOWHERE.format(n) if isinstance(url, str) else url
            for n, url in enumerate(body["mediaUrls"])
        ]
    file = body.get("file") if isinstance(body, dict) else None
    if isinstance(file, dict) and isinstance(file.get("download_url"), str):
        file["download_url"] = NOWHERE.format("file")
    return case


def strategies(operation: Any, known: Known) -> Iterator[tuple[str, Any]]:
    for kind, strategy in _strategies(operation, known):
        yield kind, strategy.map(fetches_nowhere)


def _strategies(operation: Any, known: Known) -> Iterator[tuple[str, Any]]:
    key = {"x-publora-key": known.key}
    yield "generated", operation.as_strategy(GenerationMode.POSITIVE, headers=key)
    if len(operation.body) or len(operation.query):
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
        ).map(aimed_at(known))
        for values in choices
    ]
    yield "as the owner, at real resources", st.one_of(at_each)


def run(
    strategy: Any, session: requests.Session, base_url: str, key: str
) -> tuple[int, str | None]:
    """How many cases ran, and the first failure's report. Nothing is shrunk."""
    found: list[str] = []
    count = 0

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
        nonlocal count
        if found:
            return
        count += 1
        try:
            # The key given here, not only in the generated headers, is what `ignored_auth`
            # knows to be a real one and takes away to ask again.
            case.call_and_validate(
                base_url=base_url, session=session, headers={"x-publora-key": key}, checks=CHECKS
            )
        except FailureGroup as failure:
            found.append(str(failure))

    check()
    return count, (found[0] if found else None)


@pytest.fixture
def names_looked_up(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host name this process asks the system resolver about, other than loopback's;
    such a lookup is refused here, before any query leaves the machine."""
    asked: list[str] = []
    resolve = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.lower().strip("[]") not in LOOPBACK_NAMES:
            asked.append(name)
            raise socket.gaierror(socket.EAI_NONAME, "tests resolve loopback names only")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    return asked


def test_every_generated_media_url_is_made_a_loopback_one() -> None:
    """What the fuzz's strategies map every case through (strategies() above)."""
    bodies = [
        {"content": "x", "mediaUrls": ["https://cdn.example.com/a.png", "http://[::1]/b", 7]},
        {"mediaUrls": "https://not-a-list.example"},  # refused as a body, never fetched
        None,
        {"file": {"download_url": "https://files.example.com/a?sig=1", "file_id": "f"}},
        {"file": "https://a-string-is-refused.example"},
    ]
    cases = [fetches_nowhere(cast(Case, SimpleNamespace(body=body))) for body in bodies]
    assert cases[0].body["mediaUrls"] == [NOWHERE.format(0), NOWHERE.format(1), 7]
    assert cases[1].body == {"mediaUrls": "https://not-a-list.example"}
    assert cases[2].body is None
    assert cases[3].body["file"] == {"download_url": NOWHERE.format("file"), "file_id": "f"}
    assert cases[4].body == {"file": "https://a-string-is-refused.example"}


def test_the_tripwire_refuses_herald_looking_up_a_named_host(
    tenant: Tenant, names_looked_up: list[str]
) -> None:
    """The fuzz's tripwire sees the server's own lookups (it runs in this process) and refuses
    them before any query leaves: a mediaUrls host is named, not resolved, and not fetched."""
    body = {
        "content": "x",
        "platforms": [tenant.platform_id],
        "mediaUrls": ["https://media.example.invalid/a.png"],
    }
    response = tenant.client.post("/create-post", json=body)
    assert response.status_code == 400, response.text
    assert names_looked_up == ["media.example.invalid"]


def test_herald_keeps_to_publoras_openapi_document(
    server: LiveServer, known: Known, session: requests.Session, names_looked_up: list[str]
) -> None:
    schema = publora_schema()
    operations = [result.ok() for result in schema.get_all_operations()]
    fuzzed = [op for op in operations if not excluded(op.label)]
    assert len(fuzzed) >= 24, [op.label for op in fuzzed]
    base_url = server.base_url + "/api/v1"
    failures, total = [], 0
    for operation in fuzzed:
        for kind, strategy in strategies(operation, known):
            started = time.monotonic()
            count, report = run(strategy, session, base_url, known.key)
            if os.environ.get("PUBLORA_FUZZ_TIMES"):
                print(f"{operation.label} {kind}: {count} in {time.monotonic() - started:.1f}s")
            total += count
            if report is not None:
                failures.append(f"{operation.label} ({kind}):\n{report}")
    assert not failures, "\n\n".join(failures)
    assert total >= MIN_CASES, total
    assert names_looked_up == []


def test_no_operation_answers_without_a_key(server: LiveServer, session: requests.Session) -> None:
    schema = publora_schema()
    failures: list[tuple[str, str]] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if excluded(operation.label):
            continue
        path = operation.path.replace("{", "").replace("}", "")  # any value: auth comes first
        url = f"{server.base_url}/api/v1{path}"
        for headers in ({}, {"x-publora-key": "sk_0.0"}):
            response = session.request(operation.method.upper(), url, headers=headers, json={})
            failures += [] if response.status_code == 401 else [(operation.label, response.text)]
    assert not failures
