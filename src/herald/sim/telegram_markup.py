"""Telegram message entities: UTF-16 lengths, building them, and checking those sent as JSON.

Entity offsets and lengths count UTF-16 code units (https://core.telegram.org/api/entities#entity-
length), so an emoji outside the Basic Multilingual Plane takes two. `MarkupError` carries the text
Telegram puts after "Bad Request: can't parse entities: "; the parse modes are in
telegram_parse_modes."""

from __future__ import annotations

from typing import Any

ENTITY_TYPES = frozenset(
    {
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "blockquote",
        "expandable_blockquote",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
    }
)
_LINK_SCHEMES = ("http://", "https://", "tg://", "mailto:")


class MarkupError(ValueError):
    """The text after "can't parse entities: " in Telegram's answer."""


def utf16_length(text: str) -> int:
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def byte_offset(source: str, index: int) -> int:
    # Telegram reports parse errors at UTF-8 byte offsets into the text it was sent.
    return len(source[:index].encode())


class EntityBuilder:
    """The plain text being produced, its UTF-16 length so far, and the entities found."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.position = 0
        self.entities: list[dict[str, Any]] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.position += utf16_length(text)

    def entity(self, kind: str, start: int, end: int | None = None, **extra: Any) -> None:
        length = (self.position if end is None else end) - start
        if length > 0:  # Telegram drops empty entities
            self.entities.append({"type": kind, "offset": start, "length": length, **extra})

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), entities


# ---- entities sent as JSON ----


def _low_surrogates(text: str) -> set[int]:
    """UTF-16 positions that are the second half of a surrogate pair: no entity may start or
    end there, or it would cut an emoji in two."""
    positions, position = set(), 0
    for char in text:
        position += 1
        if ord(char) > 0xFFFF:
            positions.add(position)
            position += 1
    return positions


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def validate_entities(text: str, entities: object) -> list[dict[str, Any]]:
    """The entities of a request, checked against its text; raises MarkupError."""
    if not isinstance(entities, list):
        raise MarkupError("entities must be an array")
    length, inside = utf16_length(text), _low_surrogates(text)
    checked = []
    for entity in entities:
        if not isinstance(entity, dict) or entity.get("type") not in ENTITY_TYPES:
            raise MarkupError("unsupported entity type")
        offset, size = _integer(entity.get("offset")), _integer(entity.get("length"))
        if offset is None or size is None:
            raise MarkupError("entity offset and length must be integers")
        if offset < 0 or size < 1 or offset + size > length:
            raise MarkupError(f"entity at offset {offset} is outside the text")
        if offset in inside or offset + size in inside:
            raise MarkupError(f"entity at offset {offset} splits a character")
        url = entity.get("url")
        if entity["type"] == "text_link" and not (
            isinstance(url, str) and url.startswith(_LINK_SCHEMES)
        ):
            raise MarkupError("wrong HTTP URL")
        checked.append(entity)
    return sorted(checked, key=lambda e: (e["offset"], -e["length"]))


def entity_text(text: str, entity: dict[str, Any]) -> str:
    """The part of `text` an entity covers, cut at UTF-16 positions as Telegram cuts it."""
    units = text.encode("utf-16-le")
    start, end = 2 * entity["offset"], 2 * (entity["offset"] + entity["length"])
    return units[start:end].decode("utf-16-le")
