"""Herald's OpenAPI document: FastAPI's, without its validation 422s, which Herald never gives."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

# FastAPI documents a 422 for every route with parameters; Herald answers a request it cannot
# validate with a 400 and its usual error body (api/error_handlers.py).
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def install_openapi(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()  # build() caches the document it returns
            _drop_validation_answers(document)
            _hoist_body_defs(document)
        schema: dict[str, Any] = app.openapi_schema or {}
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _drop_validation_answers(schema: dict[str, Any]) -> None:
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            # A 422 a route documents itself (Idempotency-Key conflicts) stays.
            if "HTTPValidationError" in str(responses.get("422", "")):
                responses.pop("422")
    components = schema.get("components", {}).get("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        components.pop(name, None)


def _hoist_body_defs(schema: dict[str, Any]) -> None:
    """A body documented with `request_body_doc` carries its nested models in its own `$defs`,
    referenced as `#/$defs/...`, which points nowhere in the whole document (ReDoc refuses
    it): move them to the components and point the references there."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                body = media.get("schema", {})
                components.update(body.pop("$defs", {}))
    _repoint(schema)


def _repoint(value: Any) -> None:
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            value["$ref"] = "#/components/schemas/" + ref.removeprefix("#/$defs/")
        for item in value.values():
            _repoint(item)
    elif isinstance(value, list):
        for item in value:
            _repoint(item)
