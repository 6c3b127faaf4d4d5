"""Fixtures that run real third-party servers on loopback: a Bluesky PDS and mastodon-mock.

Installed by `make interop` under .cache/interop; when missing, every test using them fails
(never skips) with that hint. Servers are session-scoped and shared: tests create their own
records and users rather than expecting an empty server. A failing test's report names the log
file of each server it used."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from interop_support import (
    BlueskyAccount,
    BlueskyPds,
    MastodonMock,
    running_mastodon_mock,
    running_pds,
)

_SERVER_LOGS = pytest.StashKey[dict[str, Path]]()


def _remember_log(config: pytest.Config, fixture: str, log_path: Path) -> None:
    config.stash.setdefault(_SERVER_LOGS, {})[fixture] = log_path


@pytest.fixture(scope="session")
def bluesky_pds(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BlueskyPds]:
    """A PDS (rate limits off) with `alice.test`, its password and an app password."""
    with running_pds(tmp_path_factory.mktemp("bluesky-pds")) as pds:
        _remember_log(request.config, "bluesky_pds", pds.log_path)
        yield pds


@pytest.fixture(scope="session")
def bluesky_bob(bluesky_pds: BlueskyPds) -> BlueskyAccount:
    """A second account on the same PDS (`bob.test`), e.g. to mention or reply to."""
    return bluesky_pds.create_account("bob.test")


@pytest.fixture(scope="session")
def bluesky_pds_rate_limited(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BlueskyPds]:
    """A second PDS with its rate limits on (e.g. createSession: 30 per 5 minutes per account)."""
    with running_pds(tmp_path_factory.mktemp("bluesky-pds-limited"), rate_limits=True) as pds:
        _remember_log(request.config, "bluesky_pds_rate_limited", pds.log_path)
        yield pds


@pytest.fixture(scope="session")
def mastodon_mock(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MastodonMock]:
    """mastodon-mock (in-memory) with the user `alice` and her access token."""
    with running_mastodon_mock(tmp_path_factory.mktemp("mastodon-mock")) as server:
        _remember_log(request.config, "mastodon_mock", server.log_path)
        yield server


@pytest.fixture
def mastodon_faults(mastodon_mock: MastodonMock) -> Iterator[MastodonMock]:
    """The shared mastodon-mock, for a test that injects faults; all rules are cleared after."""
    mastodon_mock.clear_faults()
    yield mastodon_mock
    mastodon_mock.clear_faults()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    logs = item.config.stash.get(_SERVER_LOGS, {})
    used = [name for name in getattr(item, "fixturenames", ()) if name in logs]
    if report.failed and used:
        lines = "\n".join(f"{name}: {logs[name]}" for name in used)
        report.sections.append(("interop server logs", lines))
    return report
