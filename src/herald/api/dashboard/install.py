"""Mount the dashboard on the app: its routers, its static files, and what a page does when
the session is missing (go and sign in) or a change lacks its CSRF token (refused)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from herald.api.dashboard import (
    calendar,
    compose,
    connections,
    edit,
    post_page,
    sign_in,
    status,
    workspace,
)
from herald.api.dashboard.render import STATIC_DIR, render
from herald.api.dashboard.viewer import CsrfRefusedError, SignInRequiredError

STATIC_PATH = "/static"


async def _sign_in_required(request: Request, _exc: Exception) -> Response:
    if request.method != "GET":
        return JSONResponse({"message": "Sign in again."}, status_code=401)
    return RedirectResponse("/sign-in", status_code=303)


async def _csrf_refused(_request: Request, _exc: Exception) -> Response:
    message = "This form is out of date or did not come from Herald. Reload the page and try again."
    return render(
        "message.html", None, title="Refused", status=403, notice=message, notice_kind="error"
    )


def install_dashboard(app: FastAPI) -> None:
    for module in (sign_in, calendar, compose, edit, post_page, connections, workspace, status):
        app.include_router(module.router)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(SignInRequiredError, _sign_in_required)
    app.add_exception_handler(CsrfRefusedError, _csrf_refused)
