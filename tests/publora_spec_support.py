"""Publora's published OpenAPI description (tests/data/publora-openapi-latest.yaml), read with
the corrections Herald's compatibility decisions make to it, for the tests that hold Herald to
it: the fuzz (tests/api/test_publora_openapi_fuzz.py) and the documented examples
(tests/api/test_publora_doc_examples.py)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import schemathesis
import yaml

SPEC = Path(__file__).parent / "data" / "publora-openapi-latest.yaml"
# Where Publora's own pages contradict its OpenAPI, Herald follows the pages (DESIGN §3, README
# "Compatibility"); the document is read with these corrections, each (JSON pointer, patch).
CONTRADICTIONS: list[tuple[str, dict[str, Any]]] = [
    # EP/platform-connections: "displayName/profileImageUrl may be null"; the OpenAPI: a URI.
    ("/components/schemas/PlatformConnection/properties/profileImageUrl", {"nullable": True}),
]


@cache
def publora_document() -> dict[str, Any]:
    """The document as published, parsed once."""
    raw: dict[str, Any] = yaml.safe_load(SPEC.read_text())
    return raw


def publora_schema() -> Any:
    raw = yaml.safe_load(SPEC.read_text())  # a fresh copy: the patches change it
    for pointer, patch in CONTRADICTIONS:
        node = raw
        for part in pointer.strip("/").split("/"):
            node = node[part]
        node.update(patch)
    return schemathesis.openapi.from_dict(raw)
