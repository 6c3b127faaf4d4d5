"""Base of every wire model: camelCase names, and only the fields that were set are sent."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


def wire(model: WireModel, status_code: int = 200) -> JSONResponse:
    body: Any = model.model_dump(mode="json", by_alias=True)
    return JSONResponse(body, status_code=status_code)


def omitted_when_none(description: str) -> Any:
    """A field the docs show only when it has a value (e.g. `postedId` before publishing):
    left out of the body rather than sent as null."""
    return Field(default=None, exclude_if=lambda value: value is None, description=description)


class ErrorBody(WireModel):
    """Every error answer. Some add fields: create-post's unknown `platformIds`, the `platform`
    and `limit` of a text or caption over its limit, a 429's `retryAfter` and `success`.
    Clients should ignore fields they do not know."""

    model_config = ConfigDict(extra="allow")

    error: str
    message: str
    code: str
    platform_ids: list[str] | None = Field(default=None, description="Unknown platform ids")
    platform: str | None = Field(default=None, description="The platform whose limit was passed")
    limit: int | None = Field(default=None, description="That limit")
    retry_after: int | None = Field(default=None, description="Seconds until the next window")
    success: bool | None = None


class SuccessResponse(WireModel):
    success: bool = True


def request_body_doc(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI for a JSON body the route parses itself (to answer with Publora's exact errors)."""
    schema = model.model_json_schema(by_alias=True)
    return {
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": schema}},
        }
    }
