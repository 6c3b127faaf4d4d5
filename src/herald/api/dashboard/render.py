"""Rendering a dashboard page: Jinja2 templates, autoescaped, and the headers every page carries."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from herald.api.dashboard.viewer import Viewer
from herald.errors import AppError

STATIC_DIR = Path(__file__).parent / "static"
# Scripts and styles only from Herald's own /static: no inline script, nothing from elsewhere.
# Images may come from a platform (avatars) or the media store, which may be another host.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def local_time(moment: datetime | None, zone: str, pattern: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone)).strftime(pattern)


_ENV.filters["local"] = local_time


def render(
    template: str, viewer: Viewer | None, *, status: int = 200, **values: Any
) -> HTMLResponse:
    html = _ENV.get_template(template).render(viewer=viewer, **values)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def post_not_found_page(viewer: Viewer, refusal: AppError) -> HTMLResponse:
    """The API's refusal of a post (unknown, gone, or another tenant's) as a page."""
    return render(
        "message.html",
        viewer,
        title="Post not found",
        status=refusal.status_code,
        notice=refusal.message,
        notice_kind="error",
    )
