"""The request examples of Publora's newest documentation, sent to Herald as written (ids and
download addresses replaced by the test's own), each answered with the status and the shape
the documentation gives. Values come from Publora's OpenAPI document at run time (operation
examples, else the properties' examples; `publora-latest.md` where the document has none), and
every answer is checked against the document's response schema by schemathesis. Each test's
id names the page: the OpenAPI operation and the section of publora-latest.md."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from media_url_support import FileServer, file_server
from publora_spec_support import publora_document, publora_schema
from support import LiveServer, Tenant, add_raw_connection, create_post, make_tenant

SCHEMA = publora_schema()
LATER = "2030-01-01T09:00:00.000Z"


def operation_of(path: str, method: str) -> dict[str, Any]:
    operation: dict[str, Any] = publora_document()["paths"][path][method.lower()]
    return operation


def _resolved(node: Any) -> Any:
    """`node`, or what its `$ref` points to in the document."""
    while isinstance(node, dict) and "$ref" in node:
        reference = str(node["$ref"])
        node = publora_document()
        for part in reference.split("/")[1:]:
            node = node[part]
    return node


def request_example(path: str, method: str) -> Any:
    """The operation's own request example, else its body schema's, else every body property
    that has an example, with it."""
    content = operation_of(path, method)["requestBody"]["content"]["application/json"]
    schema = _resolved(content["schema"])
    if "example" in content or "example" in schema:
        return content.get("example", schema.get("example"))
    properties = schema["properties"].items()
    return {name: _resolved(p)["example"] for name, p in properties if "example" in _resolved(p)}


def property_examples(path: str, method: str, *names: str) -> dict[str, Any]:
    """The named body properties, each with its documented example."""
    content = operation_of(path, method)["requestBody"]["content"]["application/json"]
    properties = _resolved(content["schema"])["properties"]
    return {name: _resolved(properties[name])["example"] for name in names}


def parameter_example(path: str, method: str, name: str) -> Any:
    for parameter in operation_of(path, method).get("parameters", []):
        parameter = _resolved(parameter)
        if parameter["name"] == name:
            return parameter.get("example", parameter.get("schema", {}).get("example"))
    raise KeyError(name)


@dataclass
class World:
    """The tenant's own resources the examples' ids are replaced with."""

    tenant: Tenant
    files: FileServer
    platform_id: str  # a Mastodon connection: Publora's enums rightly do not know the sandbox
    draft: str
    scheduled: str

    def new_post(self, **fields: Any) -> str:
        return create_post(self.tenant, platforms=[self.platform_id], **fields)

    def upload(self) -> str:
        body = request_example("/get-upload-url", "POST") | {"postGroupId": self.draft}
        return str(self.tenant.client.post("/get-upload-url", json=body).json()["mediaId"])

    def webhook(self) -> str:
        body = request_example("/webhooks", "POST")
        return str(self.tenant.client.post("/webhooks", json=body).json()["webhook"]["_id"])

    def managed_user(self) -> str:
        """The documented user (createManagedUser's example), made if it is not there yet."""
        body = request_example("/workspace/users", "POST")
        users = self.tenant.client.get("/workspace/users").json()["users"]
        named = [u["_id"] for u in users if u.get("username") == body["username"]]
        if named:
            return str(named[0])
        return str(self.tenant.client.post("/workspace/users", json=body).json()["user"]["_id"])


@dataclass(frozen=True)
class Example:
    page: str  # the OpenAPI operation and the digest's section
    method: str
    path: str  # as the document names it
    status: int  # the documented answer
    body: Callable[[World], Any] | None = None
    path_parameters: Callable[[World], dict[str, str]] = lambda _world: {}
    query: dict[str, Any] | None = None


def _create_post(world: World) -> dict[str, Any]:
    body = property_examples("/create-post", "POST", "content", "platforms", "scheduledTime")
    return body | {"platforms": [world.platform_id]}


def _attach_media(world: World) -> dict[str, Any]:
    body = request_example("/attach-media/{postGroupId}", "POST")
    # The documented address is someone else's server: the test's own serves the file.
    return body | {"file": body["file"] | {"download_url": world.files.url("/red.png")}}


def _attach_user(world: World) -> Any:
    world.managed_user()  # whatever ran before: the example's user is in the workspace
    return request_example("/workspace/users/attach", "POST")


def _update_post(world: World) -> dict[str, Any]:
    return property_examples("/update-post/{postGroupId}", "PUT", "platforms") | {
        "platforms": [world.platform_id]
    }


EXAMPLES = [
    Example("createPost §2.14", "POST", "/create-post", 200, _create_post),
    Example(
        "getPost §2.16",
        "GET",
        "/get-post/{postGroupId}",
        200,
        path_parameters=lambda w: {"postGroupId": w.scheduled},
    ),
    Example(
        "updatePost §2.15",
        "PUT",
        "/update-post/{postGroupId}",
        200,
        _update_post,
        lambda w: {"postGroupId": w.scheduled},
    ),
    Example(
        "deletePost §2.18",
        "DELETE",
        "/delete-post/{postGroupId}",
        200,
        path_parameters=lambda w: {"postGroupId": w.new_post(status="draft")},
    ),
    Example("listPosts §2.20", "GET", "/list-posts", 200, query={"page": 1, "limit": 20}),
    Example(
        "getUploadUrl §2.9",
        "POST",
        "/get-upload-url",
        200,
        lambda w: request_example("/get-upload-url", "POST") | {"postGroupId": w.draft},
    ),
    Example(
        "completeMedia §2.9",
        "POST",
        "/complete-media/{mediaFileId}",
        200,
        path_parameters=lambda w: {"mediaFileId": w.upload()},
    ),
    Example(
        "deleteMedia §2.9",
        "DELETE",
        "/media/{mediaId}",
        200,
        path_parameters=lambda w: {"mediaId": w.upload()},
    ),
    Example(
        "attachMedia §2.6",
        "POST",
        "/attach-media/{postGroupId}",
        200,
        _attach_media,
        lambda w: {"postGroupId": w.new_post(scheduledTime=LATER)},
    ),
    Example(
        "getPlatformPostStatistics §2.5",
        "POST",
        "/post-statistics",
        200,
        lambda _w: request_example("/post-statistics", "POST"),  # not the tenant's: issues
    ),
    Example(
        "getPlatformProfileStatistics §2.5",
        "POST",
        "/profile-statistics",
        400,  # the example leaves out `platform`, which the document requires
        lambda _w: request_example("/profile-statistics", "POST"),
    ),
    Example("getPlatformConnections §2.17", "GET", "/platform-connections", 200),
    Example("getPlatformLimits §2.4", "GET", "/platform-limits", 200),
    Example(
        "testConnection §2.3",
        "POST",
        "/test-connection/{platformId}",
        200,
        path_parameters=lambda w: {"platformId": w.tenant.platform_id},
    ),
    Example(
        "getPostLogs §2.2",
        "GET",
        "/post-logs/{postGroupId}",
        200,
        path_parameters=lambda w: {"postGroupId": w.scheduled},
    ),
    Example(
        "createWebhook §2.1",
        "POST",
        "/webhooks",
        201,
        lambda _w: request_example("/webhooks", "POST"),
    ),
    Example("listWebhooks §2.1", "GET", "/webhooks", 200),
    Example(
        "regenerateWebhookSecret §2.1",
        "POST",
        "/webhooks/{id}/regenerate-secret",
        200,
        path_parameters=lambda w: {"id": w.webhook()},
    ),
    Example(
        "deleteWebhook §2.1",
        "DELETE",
        "/webhooks/{id}",
        200,
        path_parameters=lambda w: {"id": w.webhook()},
    ),
    Example(
        "createManagedUser §2.19",
        "POST",
        "/workspace/users",
        201,
        lambda _w: request_example("/workspace/users", "POST"),
    ),
    Example("getManagedUsers §2.19", "GET", "/workspace/users", 200),
    Example(
        "attachManagedUser §2.19",
        "POST",
        "/workspace/users/attach",
        200,  # the documented user is already in the workspace: alreadyInWorkspace
        _attach_user,
    ),
    Example(
        "getConnectionUrl §2.19",
        "POST",
        "/workspace/users/{userId}/connection-url",
        200,
        lambda _w: request_example("/workspace/users/{userId}/connection-url", "POST"),
        lambda w: {"userId": w.managed_user()},
    ),
    Example(
        "generateManagedUserApiKey §2.19",
        "POST",
        "/workspace/users/{userId}/api-key",
        200,
        path_parameters=lambda w: {"userId": w.managed_user()},
    ),
    Example(
        "detachManagedUser §2.19",
        "DELETE",
        "/workspace/users/{userId}",
        200,
        path_parameters=lambda w: {"userId": w.managed_user()},
    ),
]


@pytest.fixture(scope="module")
def world(live_server: LiveServer) -> Iterator[World]:
    """One tenant for the module's examples, each of which makes what it changes. No engine
    runs: nothing is published."""
    tenant = make_tenant(live_server, "Examples")
    mastodon = add_raw_connection(live_server, tenant.account_id, "mastodon", "109876543210")
    with tenant.client, file_server() as files:
        world = World(tenant, files, mastodon, "", "")
        world.draft = world.new_post(status="draft")
        world.scheduled = world.new_post(scheduledTime=LATER)
        yield world


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.page for e in EXAMPLES])
def test_the_documented_request_gets_the_documented_answer(
    live_server: LiveServer, world: World, example: Example
) -> None:
    operation = SCHEMA[example.path][example.method]
    case = operation.Case(
        path_parameters=example.path_parameters(world),
        query=example.query,
        **({"body": example.body(world)} if example.body is not None else {}),
        media_type="application/json" if example.body is not None else None,
    )
    with requests.Session() as session:
        session.trust_env = False  # loopback only
        response = case.call_and_validate(
            base_url=live_server.base_url + "/api/v1",
            session=session,
            headers={"x-publora-key": world.tenant.api_key},
            checks=[not_a_server_error, response_schema_conformance],
        )
    assert response.status_code == example.status, response.text
