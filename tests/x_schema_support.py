"""X's published API description as a validator, for the simulator's answers and for the
requests clients send it.

X publishes its API v2 as an OpenAPI document (api.x.com/2/openapi.json; a copy sits in the
xdevplatform/docs repository). Neither X's Python SDK (`xdk`) nor its TypeScript one ships the
document itself: `xdk` ships its component schemas turned into pydantic models
(`xdk.schemas`, "generated from the OpenAPI specification"). The X Developer Agreement governs
the document, so it is not copied here: the schemas are read from the installed `xdk`, exported
as JSON Schema by pydantic and checked with `jsonschema`, so a wrong type, a missing required
field or a misspelt enum value in an answer fails a test.

Known gap: the description's `Problem` union has no member for the plain problems X sends for
401, 403 and 429 (`"type": "about:blank"`, seen in client issue threads), so those answers are
checked by facts tests instead.
"""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import Draft202012Validator
from pydantic import TypeAdapter
from xdk import schemas

# (method, route, status) -> the component schema X's description gives that answer.
ANSWERS = {
    ("GET", "/2/users/me", 200): "GetUsersMeResponse",
    ("GET", "/2/users/{id}/tweets", 200): "GetUsersPostsResponse",
    ("POST", "/2/tweets", 201): "CreatePostsResponse",
    ("DELETE", "/2/tweets/{id}", 200): "DeletePostsResponse",
    ("POST", "/2/media/upload", 200): "MediaUploadResponse",
    ("GET", "/2/media/upload", 200): "GetMediaUploadStatusResponse",
    ("POST", "/2/media/upload/initialize", 200): "InitializeMediaUploadResponse",
    ("POST", "/2/media/upload/{id}/append", 200): "AppendMediaUploadResponse",
    ("POST", "/2/media/upload/{id}/finalize", 200): "FinalizeMediaUploadResponse",
    ("POST", "/2/media/metadata", 200): "CreateMediaMetadataResponse",
}
# Request bodies by the endpoint names of the simulator's /_sim/requests.
REQUESTS = {
    "POST /2/tweets": "CreatePostsRequest",
    "POST /2/media/upload/initialize": "InitializeMediaUploadRequest",
    "POST /2/media/metadata": "CreateMediaMetadataRequest",
}
PROBLEMS = {
    "https://api.x.com/2/problems/invalid-request": "InvalidRequestProblem",
    "https://api.x.com/2/problems/resource-not-found": "ResourceNotFoundProblem",
}


@functools.cache
def validator(name: str) -> Draft202012Validator:
    schema = TypeAdapter(getattr(schemas, name)).json_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def violations(name: str, instance: Any) -> list[str]:
    """What in `instance` the component schema `name` does not allow; empty when it conforms."""
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in validator(name).iter_errors(instance)
    ]


def answer_violations(method: str, route: str, status: int, body: Any) -> list[str]:
    """An answer checked against its schema: a success by its route, a problem by its type."""
    name = ANSWERS.get((method, route, status))
    if name is None and isinstance(body, dict):
        name = PROBLEMS.get(str(body.get("type")))
    if name is None:
        raise LookupError(f"X's description has no schema for {method} {route} {status}")
    return violations(name, body)


def request_violations(records: list[dict[str, Any]]) -> list[str]:
    """The simulator's /_sim/requests records checked against X's request schemas."""
    found = []
    for record in records:
        for problem in violations(REQUESTS[record["endpoint"]], record["body"]):
            found.append(f"{record['endpoint']} {problem}")
    return found
