"""The publishing engine of `herald worker`, with its optional operations server. Apart from the
command, so that the command line loads the engine only when a worker starts."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

import uvicorn

from herald.api.context import AppContext
from herald.app import build_context, create_operations_app
from herald.cli._runtime import freeze_startup_heap, prepare_database
from herald.config import Settings
from herald.engine.dispatcher import Engine


async def run_worker(settings: Settings, metrics_port: int | None = None) -> None:
    """Publish until SIGTERM or SIGINT, then stop claiming and finish or release in-flight work.
    With `metrics_port`, also serve /metrics and /healthz for this worker."""
    await prepare_database(settings)
    context = build_context(settings)
    engine = Engine(settings, context.sessions, context.secret_box)
    context.publisher = engine
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    operations = _operations_server(context, metrics_port) if metrics_port else None
    serving = asyncio.create_task(operations.serve()) if operations else None
    try:
        await engine.start()
        freeze_startup_heap()
        await stop.wait()
    finally:
        if operations is not None and serving is not None:
            operations.should_exit = True
            await serving
        await engine.stop()
        await context.engine.dispose()


def _operations_server(context: AppContext, port: int) -> uvicorn.Server:
    app = create_operations_app(context)
    config = uvicorn.Config(
        app, host=context.settings.host, port=port, log_level="warning", access_log=False
    )
    return _EmbeddedServer(config)


class _EmbeddedServer(uvicorn.Server):
    """Leaves SIGTERM and SIGINT to the worker, which stops the engine first."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
