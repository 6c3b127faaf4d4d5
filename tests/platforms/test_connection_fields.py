"""The connection fields every connector reads the same way (platforms._http): a base URL
option, and a token that is safe to put in a header; and each connector's own messages."""

from __future__ import annotations

from typing import Any

import pytest

from herald.platforms._http import header_token, url_option
from herald.platforms.base import RejectedError
from herald.platforms.linkedin.api import api_url as linkedin_url
from herald.platforms.mastodon.api import instance_url
from herald.platforms.meta.graph import base_url as graph_url
from herald.platforms.x.api import api_url as x_url
from herald.platforms.youtube.api import api_url as youtube_url

BAD = "fix the URL"
DEFAULT = "https://api.example"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, DEFAULT),
        ({"apiUrl": None}, DEFAULT),
        ({"apiUrl": ""}, DEFAULT),
        ({"apiUrl": "http://127.0.0.1:8080/"}, "http://127.0.0.1:8080"),
        ({"apiUrl": "https://proxy.example/x/api//"}, "https://proxy.example/x/api"),
    ],
)
def test_a_usable_url_or_the_default(options: dict[str, Any], expected: str) -> None:
    assert url_option(options, "apiUrl", BAD, DEFAULT) == expected


@pytest.mark.parametrize(
    "value",
    [
        "ftp://files.example",
        "api.example",  # no scheme
        "https://",  # no host
        "https://api.example/?token=1",  # a query would ride along on every call
        "https://api.example/#part",
        "http://[::1",  # unparsable
        42,
        ["https://api.example"],
    ],
)
def test_anything_else_is_refused_with_the_connectors_message(value: Any) -> None:
    with pytest.raises(RejectedError) as refused:
        url_option({"apiUrl": value}, "apiUrl", BAD, DEFAULT)
    assert refused.value.message == BAD


def test_a_required_option_has_no_default() -> None:
    for options in ({}, {"instanceUrl": ""}, {"instanceUrl": None}):
        with pytest.raises(RejectedError):
            url_option(options, "instanceUrl", BAD)


@pytest.mark.parametrize(
    ("credentials", "expected"),
    [
        ({"accessToken": "  abc.DEF-123  "}, "abc.DEF-123"),
        ({}, None),
        ({"accessToken": ""}, None),
        ({"accessToken": "   "}, None),
        ({"accessToken": "tok\r\nX-Injected: 1"}, None),  # a header split
        ({"accessToken": "tøken"}, None),
        ({"accessToken": 12345}, None),
    ],
)
def test_a_token_goes_in_a_header_only_if_it_can(
    credentials: dict[str, Any], expected: str | None
) -> None:
    assert header_token(credentials) == expected


def test_each_connector_names_itself_and_its_field() -> None:
    bad = {"apiUrl": "https://api.example/?q=1", "instanceUrl": "mastodon.social"}
    for reader, names in (
        (x_url, ("X", "apiUrl")),
        (linkedin_url, ("LinkedIn", "apiUrl")),
        (youtube_url, ("YouTube", "apiUrl")),
        (instance_url, ("Mastodon", "instanceUrl")),
        (lambda o: graph_url(o, DEFAULT, "v24.0", "Facebook"), ("Facebook", "apiUrl")),
    ):
        with pytest.raises(RejectedError) as refused:
            reader(bad)
        assert all(name in refused.value.message for name in names), refused.value.message
