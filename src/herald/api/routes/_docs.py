"""OpenAPI `responses` entries shared by the routes."""

from __future__ import annotations

from typing import Any

from herald.api.schemas.base import ErrorBody

ERROR = {"model": ErrorBody}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return dict.fromkeys((401, 429, *codes), ERROR)
