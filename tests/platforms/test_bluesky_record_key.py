"""Bluesky record keys: valid TIDs, the same for the same idempotency key, different otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from herald.platforms.bluesky.record_key import decode_tid, encode_tid, is_tid, record_key

SCHEDULED = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=UTC)


def test_the_same_key_and_time_give_the_same_record_key() -> None:
    assert record_key("target-1-0", SCHEDULED) == record_key("target-1-0", SCHEDULED)


def test_the_scheduled_second_is_the_tids_time_and_the_key_picks_the_rest() -> None:
    micros, _ = decode_tid(record_key("target-1-0", SCHEDULED))
    # Whole seconds from the schedule; the sub-second part comes from the key, not the schedule.
    assert micros // 1_000_000 == int(SCHEDULED.timestamp())


def test_targets_scheduled_for_the_same_second_get_different_keys() -> None:
    keys = {record_key(f"target-{n}-0", SCHEDULED) for n in range(2000)}
    assert len(keys) == 2000
    assert len({record_key(f"target-1-{part}", SCHEDULED) for part in range(25)}) == 25


def test_without_a_scheduled_time_the_key_still_fixes_a_plausible_time() -> None:
    tid = record_key("target-1-0", None)
    assert tid == record_key("target-1-0", None)
    micros, _ = decode_tid(tid)
    moment = datetime.fromtimestamp(micros / 1_000_000, UTC)
    assert datetime(2023, 1, 1, tzinfo=UTC) <= moment < datetime(2024, 1, 1, tzinfo=UTC)


def test_a_time_a_tid_cannot_hold_falls_back_to_the_key_derived_time() -> None:
    ancient = datetime(1969, 7, 20, tzinfo=UTC)
    assert record_key("k", ancient) == record_key("k", None)
    assert is_tid(record_key("k", datetime(9999, 1, 1, tzinfo=UTC)))


def test_encoding_matches_the_spec_examples() -> None:
    # Zero is all "2"s; the alphabet sorts as the numbers do.
    assert encode_tid(0, 0) == "2" * 13
    assert encode_tid(1, 0) < encode_tid(1, 1) < encode_tid(2, 0)
    assert decode_tid(encode_tid(1_700_000_000_000_000, 1023)) == (1_700_000_000_000_000, 1023)


def test_is_tid_refuses_what_the_syntax_refuses() -> None:
    assert is_tid("3jzfcijpj2z2a")
    for bad in (
        "3jzfcijpj2z2",
        "3jzfcijpj2z2aa",
        "kjzfcijpj2z2a",
        "3jzfcijpj2z2A",
        "3jzfcijpj2z21",
    ):
        assert not is_tid(bad)


# Naive bounds are what hypothesis asks for; the values it draws are aware (timezones=UTC).
_MOMENTS = st.datetimes(
    min_value=datetime(1970, 1, 2),  # noqa: DTZ001
    max_value=datetime(2200, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(key=st.text(min_size=1, max_size=80), moment=_MOMENTS | st.none())
def test_every_record_key_is_a_valid_tid(key: str, moment: datetime | None) -> None:
    tid = record_key(key, moment)
    assert is_tid(tid)
    assert tid[0] in "234567ab"  # the top bit of a TID is always 0
    if moment is not None:
        micros, _ = decode_tid(tid)
        assert abs(micros / 1_000_000 - moment.timestamp()) < timedelta(seconds=1).total_seconds()
