"""Simulator tests' fixtures: each platform's simulator, one per test module and reset for each
test (`<platform>_sim`, defined next to its control client in `tests/<platform>_support.py`)."""

from __future__ import annotations

import pytest

from bluesky_support import BlueskyControl, bluesky_sim, bluesky_sim_url
from mastodon_support import mastodon_sim, mastodon_sim_url
from telegram_support import telegram_sim, telegram_sim_url

__all__ = [
    "bluesky_sim",
    "bluesky_sim_url",
    "bluesky_token",
    "mastodon_sim",
    "mastodon_sim_url",
    "telegram_sim",
    "telegram_sim_url",
]


@pytest.fixture
def bluesky_token(bluesky_sim: BlueskyControl) -> str:
    """An access token for the demo account."""
    return bluesky_sim.login()
