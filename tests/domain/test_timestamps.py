"""Time parsing and formatting: strict RFC 3339 in, `.sssZ` UTC out (DESIGN §3.4)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herald.domain.timestamps import InvalidTimestampError, format_timestamp, parse_timestamp

WIRE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")

# Naive bounds are what hypothesis asks for; the values it draws are aware (timezones=UTC).
aware_datetimes = st.datetimes(
    min_value=datetime(1, 1, 2),  # noqa: DTZ001
    max_value=datetime(9999, 12, 30),  # noqa: DTZ001
    timezones=st.just(UTC),
)
offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


def _truncated(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@settings(max_examples=300)
@given(aware_datetimes)
def test_format_then_parse_round_trips_to_the_millisecond(moment: datetime) -> None:
    text = format_timestamp(moment)
    assert WIRE.fullmatch(text)
    assert parse_timestamp(text) == _truncated(moment)
    assert format_timestamp(parse_timestamp(text)) == text


@settings(max_examples=300)
@given(aware_datetimes, offsets, st.integers(min_value=0, max_value=9))
def test_any_zone_and_fraction_length_normalise_to_utc(
    moment: datetime, zone: timezone, digits: int
) -> None:
    local = moment.astimezone(zone)
    offset = local.strftime("%z")
    zone_text = f"{offset[:3]}:{offset[3:]}"
    fraction = f".{local.microsecond:06d}{'0' * 3}"[: digits + 1] if digits else ""
    text = f"{local.year:04d}-{local:%m-%dT%H:%M:%S}{fraction}{zone_text}"
    parsed = parse_timestamp(text)
    assert parsed.tzinfo is UTC
    kept = int(f"{local.microsecond:06d}{'0' * 3}"[:digits].ljust(6, "0")[:6]) if digits else 0
    assert parsed == moment.replace(microsecond=kept)


@settings(max_examples=200)
@given(aware_datetimes)
def test_zone_less_and_date_only_forms_are_rejected(moment: datetime) -> None:
    naive = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}"
    for text in (
        naive,
        naive + ".123",
        naive[:16],
        naive[:10],
        naive.replace("T", " ") + "Z",
        naive + "+0000",
        naive + "+00:00Z",
        naive + "UTC",
    ):
        with pytest.raises(InvalidTimestampError):
            parse_timestamp(text)


@given(st.text(max_size=40))
def test_arbitrary_text_is_either_rejected_or_a_valid_utc_time(text: str) -> None:
    try:
        parsed = parse_timestamp(text)
    except InvalidTimestampError:
        return
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "March 15, 2026",
        "03/15/2026",
        "tomorrow at 9am",
        "2026-02-29T10:00:00Z",
        "2026-13-01T10:00:00Z",
        "2026-03-15T24:00:00Z",
        "2026-03-15T10:60:00Z",
        "2026-03-15T10:00:60Z",
        "2026-03-15T10:00:00+24:00",
        "2026-03-15T10:00:00+05:60",
        "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "2026-03-15T10:00:00.Z",
        "\uff12\uff10\uff12\uff16-03-15T10:00:00Z",  # fullwidth digits
    ],
)
def test_impossible_or_non_iso_values_are_rejected(text: str) -> None:
    with pytest.raises(InvalidTimestampError):
        parse_timestamp(text)


def test_known_values() -> None:
    assert format_timestamp(parse_timestamp("2026-03-15T10:00:00Z")) == "2026-03-15T10:00:00.000Z"
    assert (
        format_timestamp(parse_timestamp("2026-03-01T09:00:00-05:00")) == "2026-03-01T14:00:00.000Z"
    )
    assert (
        format_timestamp(parse_timestamp("2026-03-15t10:00:00.9999z")) == "2026-03-15T10:00:00.999Z"
    )
    assert format_timestamp(datetime(999, 1, 2, tzinfo=UTC)) == "0999-01-02T00:00:00.000Z"
