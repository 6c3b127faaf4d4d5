"""Connector tests' fixtures: `bluesky_sim`, `mastodon_sim` and `telegram_sim` (one simulator per
module, reset for each test; defined in `tests/<platform>_support.py`) and `bluesky_connector`."""

from __future__ import annotations

import pytest

from bluesky_support import bluesky_sim, bluesky_sim_url
from herald.platforms.bluesky import BlueskyConnector
from mastodon_support import mastodon_sim, mastodon_sim_url
from telegram_support import telegram_sim, telegram_sim_url

# Imported fixtures are found by pytest through the module's names; __all__ marks them used.
__all__ = [
    "bluesky_connector",
    "bluesky_sim",
    "bluesky_sim_url",
    "mastodon_sim",
    "mastodon_sim_url",
    "telegram_sim",
    "telegram_sim_url",
]


@pytest.fixture
def bluesky_connector() -> BlueskyConnector:
    """A fresh connector for each test, so no session outlives it."""
    return BlueskyConnector()
