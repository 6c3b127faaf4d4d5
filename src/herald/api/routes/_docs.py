"""OpenAPI `responses` entries shared by the routes."""

from __future__ import annotations

from typing import Any

from herald.api.schemas.base import ErrorBody

ERROR = {"model": ErrorBody}
# Every route takes a key (401, 429), may act as a managed user (400 for a malformed
# x-publora-user-id, 403 for one the key does not manage) and has its body capped (413).
_EVERY_ROUTE = (400, 401, 403, 413, 429)


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return dict.fromkeys(sorted({*_EVERY_ROUTE, *codes}), ERROR)
