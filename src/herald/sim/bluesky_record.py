"""What the simulated PDS checks in an `app.bsky.feed.post` record before storing it.

The lexicon's rules, with the PDS's wording (`Invalid app.bsky.feed.post record: <problem> at
$.record.<path>`): text at most 3,000 UTF-8 bytes, then at most 300 graphemes; createdAt an RFC
3339 time with a zone; at most 3 langs; facets with non-negative integer offsets and known
feature types; 1-4 images (`array too big (maximum 4, got 5)`) or one video, each a blob this
repo uploaded (else `Could not find blob: <cid>`) of an accepted type and size; reply refs
`{"uri", "cid"}`.

Stricter than a real PDS, to catch connector bugs the PDS would store silently: a facet's range
must satisfy byteStart < byteEnd <= the text's byte length and fall on character boundaries, and a
reply's root and parent must be stored records whose cid matches.
"""

from __future__ import annotations

from collections.abc import Callable

from herald.domain.platform import Platform
from herald.domain.text import measure
from herald.domain.timestamps import InvalidTimestampError, parse_timestamp
from herald.sim.bluesky_state import Blob, StoredRecord, XrpcError, invalid

POST = "app.bsky.feed.post"
TEXT_MAX_BYTES = 3000
TEXT_MAX_GRAPHEMES = 300
MAX_IMAGES = 4
MAX_LANGS = 3
IMAGE_MAX_BYTES = 2_000_000  # the lexicon's maxSize in @atproto/pds 0.5.35
VIDEO_MAX_BYTES = 300_000_000
TAG_MAX_GRAPHEMES = 64
TAG_MAX_BYTES = 640
_FEATURES = {
    "app.bsky.richtext.facet#link": "uri",
    "app.bsky.richtext.facet#mention": "did",
    "app.bsky.richtext.facet#tag": "tag",
}

BlobLookup = Callable[[str], Blob | None]
RecordLookup = Callable[[object], StoredRecord | None]


def _invalid(path: str, problem: str) -> XrpcError:
    return invalid(f"Invalid {POST} record: {problem} at $.record{path}")


def validate_post(record: object, blob: BlobLookup, stored: RecordLookup) -> None:
    if not isinstance(record, dict):
        raise _invalid("", "expected an object")
    text = record.get("text")
    if not isinstance(text, str):
        raise _invalid(".text", "expected a string")
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) > TEXT_MAX_BYTES:
        raise _invalid(".text", f"string too big (maximum {TEXT_MAX_BYTES}, got {len(encoded)})")
    graphemes = measure(Platform.BLUESKY, text)
    if graphemes > TEXT_MAX_GRAPHEMES:
        raise _invalid(".text", f"grapheme too big (maximum {TEXT_MAX_GRAPHEMES}, got {graphemes})")
    _created_at(record.get("createdAt"))
    _langs(record.get("langs"))
    _facets(record.get("facets"), encoded)
    _embed(record.get("embed"), blob)
    _reply(record.get("reply"), stored)


def _created_at(value: object) -> None:
    try:
        if not isinstance(value, str):
            raise InvalidTimestampError(str(value))
        parse_timestamp(value)
    except InvalidTimestampError:
        raise _invalid(".createdAt", "must be a valid datetime (RFC 3339 with a zone)") from None


def _langs(value: object) -> None:
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(tag, str) and tag for tag in value):
        raise _invalid(".langs", "expected an array of language tags")
    if len(value) > MAX_LANGS:
        raise _invalid(".langs", f"array too big (maximum {MAX_LANGS}, got {len(value)})")


def _facets(value: object, text: bytes) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        raise _invalid(".facets", "expected an array")
    for number, facet in enumerate(value):
        path = f".facets[{number}]"
        if not isinstance(facet, dict):
            raise _invalid(path, "expected an object")
        _facet_range(facet.get("index"), text, f"{path}.index")
        features = facet.get("features")
        if not isinstance(features, list) or not features:
            raise _invalid(f"{path}.features", "expected a non-empty array")
        for index, feature in enumerate(features):
            _feature(feature, f"{path}.features[{index}]")


def _facet_range(index: object, text: bytes, path: str) -> None:
    start = _natural(index.get("byteStart")) if isinstance(index, dict) else None
    end = _natural(index.get("byteEnd")) if isinstance(index, dict) else None
    if start is None or end is None:
        raise _invalid(path, "byteStart and byteEnd must be non-negative integers")
    if not start < end <= len(text):
        raise _invalid(
            path, f"byte range {start}..{end} is not within the text's {len(text)} bytes"
        )
    try:
        text[start:end].decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid(path, f"byte range {start}..{end} splits a character") from None


def _feature(feature: object, path: str) -> None:
    kind = feature.get("$type") if isinstance(feature, dict) else None
    field = _FEATURES.get(kind) if isinstance(kind, str) else None
    if field is None or not isinstance(feature, dict):
        raise _invalid(path, f"unknown facet feature $type {kind!r}")
    value = feature.get(field)
    if not isinstance(value, str) or not value:
        raise _invalid(f"{path}.{field}", "expected a non-empty string")
    if field == "uri" and ":" not in value:
        raise _invalid(f"{path}.uri", "must be a valid uri")
    if field == "did" and not value.startswith("did:"):
        raise _invalid(f"{path}.did", "must be a valid did")
    if field == "tag" and (
        len(value.encode()) > TAG_MAX_BYTES or measure(Platform.BLUESKY, value) > TAG_MAX_GRAPHEMES
    ):
        raise _invalid(f"{path}.tag", f"must be at most {TAG_MAX_GRAPHEMES} graphemes")


def _embed(value: object, blob: BlobLookup) -> None:
    if value is None:
        return
    kind = value.get("$type") if isinstance(value, dict) else None
    if not isinstance(value, dict):
        raise _invalid(".embed", "expected an object")
    if kind == "app.bsky.embed.images":
        images = value.get("images")
        if not isinstance(images, list) or not images:
            raise _invalid(".embed.images", "expected a non-empty array")
        if len(images) > MAX_IMAGES:
            raise _invalid(
                ".embed.images", f"array too big (maximum {MAX_IMAGES}, got {len(images)})"
            )
        for number, image in enumerate(images):
            path = f".embed.images[{number}]"
            if not isinstance(image, dict) or not isinstance(image.get("alt"), str):
                raise _invalid(path, "expected an object with image and alt")
            _blob(image.get("image"), f"{path}.image", "image/", IMAGE_MAX_BYTES, blob)
            _aspect_ratio(image.get("aspectRatio"), f"{path}.aspectRatio")
    elif kind == "app.bsky.embed.video":
        _blob(value.get("video"), ".embed.video", "video/mp4", VIDEO_MAX_BYTES, blob)
        if not isinstance(value.get("alt", ""), str):
            raise _invalid(".embed.alt", "expected a string")
        _aspect_ratio(value.get("aspectRatio"), ".embed.aspectRatio")
    else:
        raise _invalid(".embed", f"the simulator does not take embeds of type {kind!r}")


def _blob(value: object, path: str, accept: str, max_size: int, lookup: BlobLookup) -> None:
    ref = value.get("ref") if isinstance(value, dict) else None
    link = ref.get("$link") if isinstance(ref, dict) else None
    if not isinstance(value, dict) or value.get("$type") != "blob" or not isinstance(link, str):
        raise _invalid(path, "expected a blob")
    found = lookup(link)
    if found is None:
        raise invalid(f"Could not find blob: {link}")
    if not found.mime_type.startswith(accept):
        wanted = f"{accept}*" if accept.endswith("/") else accept
        raise _invalid(
            path, f"Wrong type of file. It is {found.mime_type} but it must match {wanted}"
        )
    if found.size > max_size:
        raise _invalid(
            path, f"This file is too large. It is {found.size} bytes but the maximum is {max_size}"
        )


def _aspect_ratio(value: object, path: str) -> None:
    if value is None:
        return
    width = _natural(value.get("width")) if isinstance(value, dict) else None
    height = _natural(value.get("height")) if isinstance(value, dict) else None
    if not width or not height:
        raise _invalid(path, "width and height must be positive integers")


def _reply(value: object, stored: RecordLookup) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise _invalid(".reply", "expected an object")
    for name in ("root", "parent"):
        ref = value.get(name)
        uri = ref.get("uri") if isinstance(ref, dict) else None
        cid = ref.get("cid") if isinstance(ref, dict) else None
        if not isinstance(uri, str) or not isinstance(cid, str):
            raise _invalid(f".reply.{name}", "expected a strong ref {uri, cid}")
        record = stored(uri)
        if record is None:
            raise invalid(f"reply {name} {uri} does not exist")
        if record.cid != cid:
            raise invalid(f"reply {name} cid {cid} does not match the record at {uri}")


def _natural(value: object) -> int | None:
    # bool is an int subclass, but `true` is never an offset.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None
