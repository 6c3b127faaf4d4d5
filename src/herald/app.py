"""create_app(settings): the FastAPI app, its middleware and the lifespan of its resources."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from herald.api.context import AppContext
from herald.api.dashboard.install import install_dashboard
from herald.api.deps import RATE_DECISION_STATE
from herald.api.docs_pages import install_docs
from herald.api.error_handlers import install_error_handlers
from herald.api.middleware import (
    BodySizeLimitMiddleware,
    CatchAllMiddleware,
    RateLimitHeadersMiddleware,
)
from herald.api.openapi import install_openapi
from herald.api.routes import (
    analytics,
    artwork,
    attach_media,
    connect,
    connection_check,
    connections,
    connections_page,
    linkedin,
    media,
    media_files,
    operations,
    platform_limits,
    post_logs,
    post_preview,
    posts,
    webhooks,
    workspace,
)
from herald.config import Settings
from herald.db.engine import create_engine, create_session_factory
from herald.engine.dispatcher import Engine
from herald.media.factory import create_media_store
from herald.services.rate_limit import DatabaseRateLimiter, MemoryRateLimiter, RateLimiter
from herald.services.secret_box import load_secret_box
from herald.sim.sandbox import create_sandbox_app

API_PREFIX = "/api/v1"
SANDBOX_PATH = "/sim/sandbox"


def build_context(settings: Settings) -> AppContext:
    engine = create_engine(settings.resolved_database_url)
    sessions = create_session_factory(engine)
    # In-process counting is exact for the embedded shape (one process owns the SQLite file);
    # with PostgreSQL there may be several API replicas, so the window lives in the database.
    limit = settings.rate_limit_per_minute
    limiter: RateLimiter = (
        MemoryRateLimiter(limit) if settings.is_sqlite else DatabaseRateLimiter(limit, sessions)
    )
    return AppContext(
        settings=settings,
        engine=engine,
        sessions=sessions,
        rate_limiter=limiter,
        secret_box=load_secret_box(settings),
        media_store=create_media_store(settings),
    )


def create_app(settings: Settings, *, run_engine: bool = True) -> FastAPI:
    """The API; with `run_engine` the publishing engine runs in the same process (embedded)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        context = build_context(settings)
        app.state.context = context
        if run_engine:
            context.publisher = Engine(settings, context.sessions, context.secret_box)
            await context.publisher.start()
        try:
            yield
        finally:
            if context.publisher is not None:
                await context.publisher.stop()
            await context.engine.dispose()

    app = FastAPI(
        title="Herald",
        version="0.1.0",
        summary="Self-hosted social media scheduler with a Publora-compatible API",
        lifespan=lifespan,
        docs_url=None,  # served by install_docs, with local assets
        redoc_url=None,
    )
    install_error_handlers(app)
    for router in (
        connections.router,
        posts.router,
        workspace.router,
        media.router,
        attach_media.router,
        webhooks.router,
        post_logs.router,
        connection_check.router,
        platform_limits.router,
        artwork.router,
        media_files.router,
        analytics.router,
        linkedin.router,
        post_preview.router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(operations.router)
    app.include_router(connect.router)
    app.include_router(media.files_router)
    app.include_router(connections_page.router)
    install_dashboard(app)
    install_openapi(app)
    install_docs(app)
    # The embedded default's sandbox connection publishes here (HERALD_SANDBOX_URL overrides).
    # Anyone who reaches Herald reaches it, so its control routes are the operator's choice.
    app.mount(SANDBOX_PATH, create_sandbox_app(control=settings.sandbox_control))

    # Added innermost first: the catch-all must wrap everything.
    app.add_middleware(RateLimitHeadersMiddleware, state_key=RATE_DECISION_STATE)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_json_body_bytes,
        exempt=lambda path: path.startswith(media.UPLOAD_PATH),  # streamed, with its own cap
        larger=artwork.body_limit,
    )
    app.add_middleware(CatchAllMiddleware)
    return app


def create_operations_app(context: AppContext) -> FastAPI:
    """Only /metrics and /healthz, for a `herald worker` process."""
    app = FastAPI(title="Herald worker", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.context = context
    install_error_handlers(app)
    app.include_router(operations.router)
    app.include_router(connect.router)
    return app
