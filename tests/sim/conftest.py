"""Simulator tests' fixtures: the platforms' simulators as in tests/platforms (see its conftest),
and a Bluesky access token."""

from __future__ import annotations

import pytest

from bluesky_support import BlueskyControl, bluesky_sim, bluesky_sim_url
from mastodon_support import mastodon_sim, mastodon_sim_url
from telegram_support import telegram_sim, telegram_sim_url
from x_support import x_sim, x_sim_url

# Imported fixtures are found by pytest through the module's names; __all__ marks them used.
__all__ = [
    "bluesky_sim",
    "bluesky_sim_url",
    "bluesky_token",
    "mastodon_sim",
    "mastodon_sim_url",
    "telegram_sim",
    "telegram_sim_url",
    "x_sim",
    "x_sim_url",
]


@pytest.fixture
def bluesky_token(bluesky_sim: BlueskyControl) -> str:
    """An access token for the demo account."""
    return bluesky_sim.login()
