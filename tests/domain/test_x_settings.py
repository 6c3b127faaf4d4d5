"""platformSettings.twitter: replyTo and quoteTweet (publora-latest §5.2) are stored as ids."""

from __future__ import annotations

import pytest

from herald.domain.platform_settings import (
    PlatformSettingsError,
    tweet_id_of,
    validate_platform_settings,
)

MESSAGE = (
    "platformSettings.twitter.{} must be a tweet URL (https://x.com/user/status/123...) or a "
    "numeric tweet ID"
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1234567890123456789", "1234567890123456789"),
        ("https://x.com/customer/status/1234567890123456789", "1234567890123456789"),
        ("https://twitter.com/a_b/status/42?s=20", "42"),
        ("http://mobile.twitter.com/a/statuses/42/photo/1", "42"),
        ("x.com/i/web/status/7", "7"),
        ("  99  ", "99"),
    ],
)
def test_a_tweet_is_named_by_id_or_status_url(value: str, expected: str) -> None:
    assert tweet_id_of(value) == expected
    stored = validate_platform_settings({"twitter": {"replyTo": value, "quoteTweet": value}})
    assert stored == {"twitter": {"replyTo": expected, "quoteTweet": expected}}


@pytest.mark.parametrize(
    "value",
    [
        "12345678901234567890",  # 20 digits
        "https://x.com/user/status/",
        "https://example.com/user/status/42",
        "https://x.com/user/likes",
        "tweet 42",
    ],
)
@pytest.mark.parametrize("field", ["replyTo", "quoteTweet"])
def test_anything_else_is_refused_with_publoras_message(value: str, field: str) -> None:
    assert tweet_id_of(value) is None
    with pytest.raises(PlatformSettingsError) as caught:
        validate_platform_settings({"twitter": {field: value}})
    assert str(caught.value) == MESSAGE.format(field)


def test_an_empty_string_clears_and_is_kept() -> None:
    stored = validate_platform_settings({"twitter": {"replyTo": "", "quoteTweet": ""}})
    assert stored == {"twitter": {"replyTo": "", "quoteTweet": ""}}
