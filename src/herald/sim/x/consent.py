"""The HTML of the simulated consent screen and of its error page: real forms a browser can
submit, every value escaped."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from starlette.responses import HTMLResponse

from herald.sim.x.config import XUser

# What X's consent screen says each scope lets the app do (docs: authorization-code, "Scopes").
SCOPE_TEXT = {
    "tweet.read": "All the posts you can view, including posts from protected accounts.",
    "tweet.write": "Post and repost for you.",
    "users.read": "Any account you can view, including protected accounts.",
    "offline.access": "Stay connected to your account until you revoke access.",
    "media.write": "Upload media.",
}

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title></head>
<body>
<main>
{body}
</main>
</body>
</html>
"""


def consent_page(
    app_name: str, scopes: Iterable[str], users: Iterable[XUser], request_id: str
) -> HTMLResponse:
    """The screen that asks the signed-in user to let `app_name` act for them."""
    items = "\n".join(
        f'<li data-scope="{escape(scope)}">{escape(SCOPE_TEXT.get(scope, scope))}</li>'
        for scope in scopes
    )
    options = "\n".join(
        f'<option value="{escape(user.id)}">@{escape(user.username)}</option>' for user in users
    )
    body = f"""<h1>{escape(app_name)} wants to access your X account.</h1>
<form method="post" action="/i/oauth2/authorize">
<input type="hidden" name="request_id" value="{escape(request_id)}">
<p><label for="user_id">Signed in as</label>
<select id="user_id" name="user_id">
{options}
</select></p>
<p>This app will be able to:</p>
<ul>
{items}
</ul>
<button id="approve" type="submit" name="decision" value="approve">Approve</button>
<button id="deny" type="submit" name="decision" value="deny">Deny</button>
</form>"""
    return HTMLResponse(_PAGE.format(title=f"Authorize {escape(app_name)}", body=body))


def error_page(reason: str, status: int = 400) -> HTMLResponse:
    """X's dead end for a request it will not send back to the app: no redirect."""
    body = f"""<h1>Something went wrong</h1>
<p>You weren't able to give access to the App. Go back and try logging in again.</p>
<p id="reason">{escape(reason)}</p>"""
    return HTMLResponse(_PAGE.format(title="Something went wrong", body=body), status_code=status)
