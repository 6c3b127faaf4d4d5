"""A headless Chromium for tests that must see what a browser does, not only the headers.

Debian's `chromium` is driven by Playwright; browsers are never downloaded. Playwright runs on a
loop of its own in a thread, like the live server, because its sync API would leave a running
loop in the test's thread and break every `asyncio.run` after it. Without Chromium the tests
that ask for `chromium` are skipped with a notice, or fail when CI=true."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import pytest
from playwright.async_api import Browser, Page, Playwright, async_playwright

T = TypeVar("T")

CHROMIUM = Path(os.environ.get("HERALD_TEST_CHROMIUM", "/usr/bin/chromium"))
# Headless on a shared machine as root: no sandbox, no GPU, and nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Chromium:
    """One browser for a module; each scenario gets a fresh context (no shared cookies)."""

    def __init__(self, executable: Path, extra_args: Sequence[str] = ()) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        try:
            self._call(self._start(executable, [*CHROMIUM_ARGS, *extra_args]))
        except BaseException:
            self.close()
            raise

    def run(self, scenario: Callable[[Page], Awaitable[T]]) -> T:
        """Run `scenario` with a new page, on the browser's thread; its result comes back."""
        return self._call(self._with_page(scenario))

    def close(self) -> None:
        try:
            self._call(self._stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
            self._loop.close()

    def _call(self, coroutine: Awaitable[T]) -> T:
        async def wrapped() -> T:
            return await coroutine

        return asyncio.run_coroutine_threadsafe(wrapped(), self._loop).result(timeout=120)

    async def _start(self, executable: Path, args: list[str]) -> None:
        self._playwright = await async_playwright().start()
        self._browser = await self._playwright.chromium.launch(
            executable_path=executable, args=args
        )

    async def _stop(self) -> None:
        if self._browser is not None:
            await self._browser.close()
        if self._playwright is not None:
            await self._playwright.stop()

    async def _with_page(self, scenario: Callable[[Page], Awaitable[T]]) -> T:
        assert self._browser is not None
        context = await self._browser.new_context(accept_downloads=True)
        try:
            return await scenario(await context.new_page())
        finally:
            await context.close()


def chromium_or_skip() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; the browser tests are required when CI=true")
    pytest.skip(message + ": browser tests skipped")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    browser = Chromium(chromium_or_skip())
    try:
        yield browser
    finally:
        browser.close()
