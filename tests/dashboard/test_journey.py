"""The dashboard as a new user meets it, in a real Chromium against a real `herald serve`:
sign in with the first-start link, connect the Mastodon simulator through the form, compose a
post with an image for two connections, find it on the calendar and drag it to another day,
publish it now and see its links, see a failed post's error and retry it. One server, one
browser; each page is saved as a screenshot (into HERALD_SCREENSHOTS when set). The browser
resolves no name but loopback, and every request it makes is checked to stay on loopback."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from browser_support import Chromium, chromium_or_skip
from herald.app import SANDBOX_PATH
from herald.config import Settings
from herald.db.migrate import migrate
from herald.domain.platform import Platform
from herald.domain.text import measure, plan_parts, text_rule
from herald.domain.timestamps import utc_now
from herald.errors import ValidationError
from herald.services import dashboard_auth
from herald.services.account import create_account
from herald.services.bootstrap import Bootstrap, bootstrap_if_empty
from herald.sim.mastodon import create_mastodon_app
from herald.sim.mastodon_config import DEFAULT_ACCOUNT
from sim_support import serve_in_thread
from support import (
    TEST_SETTINGS,
    LiveServer,
    iso_in,
    png,
    run_live_server,
    running_engine,
    wait_until,
)
from webhook_support import webhook_receiver

# Nothing but loopback resolves, so no image or script on a page can reach the internet.
NO_NAMES = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


@dataclass(frozen=True)
class Site:
    server: LiveServer
    sign_in: str
    api_key: str
    sandbox_id: str
    account_id: str
    instance: str
    shots: Path

    @property
    def base(self) -> str:
        return self.server.base_url

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.base + "/api/v1", headers={"x-publora-key": self.api_key})

    def sign_in_link(self, account_id: str) -> str:
        async def issue(session: Any) -> str:
            return await dashboard_auth.issue_sign_in_link(session, account_id, utc_now())

        return f"{self.base}/sign-in/{self.server.transaction(issue)}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A first start, in process: the same bootstrap `herald serve` runs (its banner is checked
    in tests/cli), an engine publishing to the app's own sandbox, and the Mastodon simulator."""
    shots = Path(os.environ.get("HERALD_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    settings = Settings(data_dir=tmp_path_factory.mktemp("dash"), **TEST_SETTINGS)
    asyncio.run(migrate(settings.resolved_database_url))
    with serve_in_thread(create_mastodon_app()) as instance, run_live_server(settings) as server:
        engine_settings = server.settings.model_copy(
            update={"sandbox_url": server.base_url + SANDBOX_PATH}
        )

        async def first_start(session: Any) -> Bootstrap | None:
            return await bootstrap_if_empty(session, server.context.secret_box)

        created = server.transaction(first_start)
        assert created is not None
        with running_engine(server, engine_settings):
            yield Site(
                server,
                f"{server.base_url}/sign-in/{created.sign_in_token}",
                created.api_key,
                created.platform_id,
                created.account_id,
                instance,
                shots,
            )


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    # A loaded machine takes seconds for a page; expectations wait for states, not timers.
    expect.set_options(timeout=15_000)
    chromium = Chromium(chromium_or_skip(), NO_NAMES)
    try:
        yield chromium
    finally:
        chromium.close()


AXE = Path(__file__).parents[2] / ".cache/interop/axe/node_modules/axe-core/axe.min.js"
_AXE_RUN = """async () => {
  const found = await axe.run(document, {resultTypes: ["violations"]});
  return found.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).join(", "));
}"""


def _axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run `make interop`")
    return AXE.read_text()


async def _shot(
    page: Page, site: Site, name: str, *, full_page: bool = True, axe: bool = True
) -> None:
    """Screenshot the page; with `axe`, axe-core (run through the DevTools protocol, which the
    page's CSP does not govern) must find no serious or critical violation on it."""
    if axe:
        await page.evaluate(_axe_source())
        assert await page.evaluate(_AXE_RUN) == [], name
    path = site.shots / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 1000


async def _until_status(page: Page, status: str) -> None:
    """Reload a post page until its status is `status` (the engine publishes meanwhile)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if status in (await page.locator("#post-status strong").inner_text()):
            return
        await page.wait_for_timeout(100)
        await page.reload()
    shown = await page.locator("#post-status strong").inner_text()
    raise AssertionError(f"post never became {status}: {shown}")


def _days_ahead(days: int) -> date:
    return (datetime.now(UTC) + timedelta(days=days)).date()


def test_the_journey(site: Site, browser: Chromium) -> None:
    requests: list[str] = []

    async def journey(page: Page) -> None:
        # What was answered or failed on the network; a request the page's CSP stopped (ReDoc's
        # footer logo) never left the browser and shows in neither.
        page.on("response", lambda response: requests.append(response.url))
        page.on(
            "requestfailed",
            lambda request: (
                None
                if "csp" in (request.failure or "").lower()
                else requests.append(f"{request.url} {request.failure}")
            ),
        )
        page.set_default_timeout(15_000)
        # 1. The first-start link signs in once and lands on the calendar.
        await page.goto(site.base + "/calendar")
        await expect(page.locator("h1")).to_have_text("Sign in")
        await _shot(page, site, "sign-in")
        await page.goto(site.sign_in)
        await expect(page.locator("h1")).to_have_text("Calendar")
        cookie = next(c for c in await page.context.cookies() if c["name"] == "herald_session")
        assert cookie["httpOnly"]
        assert cookie["sameSite"] == "Lax"
        # 2. Connect the Mastodon simulator through the form.
        await page.goto(site.base + "/connections")
        await page.fill("#mastodon-instanceUrl", site.instance)
        await page.fill("#mastodon-accessToken", DEFAULT_ACCOUNT.token)
        await page.click("#form-mastodon button")
        await expect(page.locator("#notice")).to_contain_text("Connected mastodon")
        mastodon_row = page.locator('#connected tr[data-platform-id^="mastodon-"]')
        await expect(mastodon_row).to_contain_text("valid")
        mastodon_id = await mastodon_row.get_attribute("data-platform-id")
        await _shot(page, site, "connections")
        # 3. Compose for both connections, with an image, two days ahead.
        due = _days_ahead(2)
        await page.goto(site.base + "/compose")
        await page.fill("#content", "Hello from the dashboard " + "word " * 120)
        await page.check(f'input[value="{site.sandbox_id}"]')
        await page.check(f'input[value="{mastodon_id}"]')
        preview = page.locator(f'#preview article[data-platform-id="{mastodon_id}"] .count')
        await expect(preview).to_contain_text("/ 500 characters · 2 posts in a thread")
        await page.set_input_files(
            "#files",
            {"name": "red.png", "mimeType": "image/png", "buffer": png((200, 0, 0), (64, 48))},
        )
        await page.fill("#alt", "A red rectangle")
        await page.fill("#when", f"{due.isoformat()}T10:00")
        await _shot(page, site, "composer")
        await page.click('button[value="schedule"]')
        await page.wait_for_url(re.compile(r"/posts/[0-9a-f]{24}$"))
        post_id = page.url.rsplit("/", 1)[1]
        await expect(page.locator("#post-status")).to_contain_text("scheduled")
        await expect(page.locator(".media")).to_contain_text("image red.png (ready)")
        # 4. Find it on the calendar and drag it to another day.
        await page.goto(f"{site.base}/calendar?day={due.isoformat()}")
        post = page.locator(f'.day[data-day="{due.isoformat()}"] .post[data-post="{post_id}"]')
        await expect(post).to_be_visible()
        await _shot(page, site, "calendar")
        later = due + timedelta(days=1)
        target = page.locator(f'.day[data-day="{later.isoformat()}"]')
        if not await target.count():  # the grid's last day: go back a day instead (still ahead)
            later = due - timedelta(days=1)
            target = page.locator(f'.day[data-day="{later.isoformat()}"]')
        await post.drag_to(target)
        await expect(page.locator("#notice")).to_contain_text(f"Moved to {later.isoformat()} 10:00")
        with site.api() as api:
            moved = api.get(f"/get-post/{post_id}").json()
        assert moved["scheduledTime"].startswith(f"{later.isoformat()}T10:00")
        # 4b. Edit it: the composer opens filled in; the save goes through update-post.
        await page.goto(f"{site.base}/posts/{post_id}")
        await page.click("#edit-post")
        await expect(page.locator("h1")).to_have_text("Edit post")
        await expect(page.locator("#content")).to_have_value(re.compile("^Hello from the dash"))
        await expect(page.locator(f'input[value="{mastodon_id}"]')).to_be_checked()
        await expect(page.locator("#when")).to_have_value(f"{later.isoformat()}T10:00")
        await expect(page.locator(".media")).to_contain_text("red.png")
        await page.fill("#content", "Edited in the dashboard")
        await page.fill("#first-comment", "More in the replies")
        await page.fill("#first-comment-platforms", "mastodon")
        await _shot(page, site, "edit")
        await page.click('button[value="schedule"]')
        await page.wait_for_url(f"{site.base}/posts/{post_id}")
        await expect(page.locator("#post-content")).to_have_text("Edited in the dashboard")
        with site.api() as api:
            edited = api.get(f"/get-post/{post_id}").json()
        assert edited["content"] == "Edited in the dashboard"
        assert edited["firstComment"] == {"text": "More in the replies", "platforms": ["mastodon"]}
        assert edited["scheduledTime"] == moved["scheduledTime"]
        assert edited["status"] == "scheduled"
        assert len(edited["posts"]) == 2
        # 5. Publish it now and see it published on both, with links.
        await page.goto(f"{site.base}/posts/{post_id}")
        await page.click("#publish-now")
        await _until_status(page, "published")
        links = page.locator(".published-link")
        await expect(links).to_have_count(2)
        await _shot(page, site, "post")
        # 6. A post the platform refuses: its error, what to do, and a retry that publishes.
        async with httpx.AsyncClient(base_url=site.base + "/sim/sandbox") as sandbox:
            (await sandbox.post("/_sim/script", json={"faults": ["rejected"]})).raise_for_status()
        await page.goto(site.base + "/compose")
        await page.fill("#content", "This one is refused the first time")
        await page.check(f'input[value="{site.sandbox_id}"]')
        await page.click('button[value="now"]')
        await page.wait_for_url(re.compile(r"/posts/[0-9a-f]{24}$"))
        await _until_status(page, "failed")
        await expect(page.locator(".error-message")).not_to_be_empty()
        await expect(page.locator(".advice")).to_contain_text("retry")
        await expect(page.locator("#attempt-log")).to_contain_text("publish_failed")
        await _shot(page, site, "failed-post")
        await page.click("button.retry")
        await page.wait_for_url(re.compile(r"/posts/[0-9a-f]{24}$"))
        assert page.url.rsplit("/", 1)[1] != post_id
        await _until_status(page, "published")
        # 7. The other pages, and the API docs with no asset from elsewhere.
        for name in ("status", "workspace"):
            await page.goto(f"{site.base}/{name}")
            await expect(page.locator("h1")).to_have_text(name.capitalize())
            await _shot(page, site, name)
        await page.goto(site.base + "/docs")
        # A 1.5 MB script and the first build of the OpenAPI document: give them time.
        title = page.locator(".swagger-ui .info .title")
        await expect(title).to_contain_text("Herald", timeout=30_000)
        # Swagger UI is not ours to fix; the whole API is a long page.
        await _shot(page, site, "docs", full_page=False, axe=False)
        await page.goto(site.base + "/redoc")
        await expect(page.locator("h1").first).to_contain_text("Herald", timeout=30_000)

    browser.run(journey)
    own = (site.base, site.instance, "data:", "blob:" + site.base)
    elsewhere = [u for u in requests if not u.startswith(own)]
    assert not elsewhere


@contextmanager
def _session(site: Site, link: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base) as client:
        signed_in = client.get(link)
        assert signed_in.status_code == 303, signed_in.text
        assert signed_in.headers["location"] == "/calendar"
        yield client


def _csrf(client: httpx.Client, path: str = "/workspace") -> str:
    page = client.get(path).text
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_passwords_cookies_csrf_and_the_rate_limit(site: Site) -> None:
    with pytest.raises(ValidationError, match="10 to 200 characters"):
        dashboard_auth.hash_password("too short")
    hashed = dashboard_auth.hash_password("correct horse battery")

    async def set_password(session: Any) -> None:
        await dashboard_auth.set_email(session, site.account_id, "Ada@Example.com")
        await dashboard_auth.set_password(session, site.account_id, hashed)

    site.server.transaction(set_password)
    with httpx.Client(base_url=site.base) as client:
        assert client.get("/calendar").headers["location"] == "/sign-in"
        wrong = client.post("/sign-in", data={"email": "ada@example.com", "password": "nope" * 3})
        assert wrong.status_code == 401
        assert "do not match" in wrong.text
        right = client.post(
            "/sign-in", data={"email": "ada@example.com", "password": "correct horse battery"}
        )
        assert right.status_code == 303
        cookie = right.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "secure" not in cookie
        page = client.get("/calendar")
        policy = page.headers["content-security-policy"]
        assert "script-src 'self';" in policy
        assert "unsafe-inline" not in policy
        assert "<script>" not in page.text  # only the static file, never inline
        # Every change needs the session's CSRF token.
        for form in ({}, {"csrf": "forged"}):
            refused = client.post("/workspace/api-keys", data=form)
            assert refused.status_code == 403
        made = client.post("/workspace/api-keys", data={"csrf": _csrf(client)})
        assert "shown once" in made.text
        # A drop on the calendar goes through update-post's rules: the seed's refusal comes back.
        with site.api() as api:
            body = {"content": "Later", "platforms": [site.sandbox_id], "status": "draft"}
            draft = api.post("/create-post", json=body).json()["postGroupId"]
        past = client.post(
            f"/posts/{draft}/move", data={"csrf": _csrf(client), "day": "2020-01-02"}
        )
        assert (past.status_code, past.json()) == (400, {"message": "Invalid scheduled time"})
        # So does a save of the composer's edit form, and the refusal is shown on the form.
        edit = {"csrf": _csrf(client), "content": "Later still", "platform": site.sandbox_id}
        refused_edit = client.post(
            f"/posts/{draft}/edit", data={**edit, "action": "schedule", "when": "2020-01-02T10:00"}
        )
        assert refused_edit.status_code == 400
        assert "Invalid scheduled time" in refused_edit.text
        saved = client.post(
            f"/posts/{draft}/edit", data={**edit, "action": "draft", "platformSettings": "[1]"}
        )
        assert saved.status_code == 400
        assert "platformSettings must be an object" in saved.text
        with site.api() as api:
            assert api.get(f"/get-post/{draft}").json()["content"] == "Later"
        # The composer's first comment and settings reach create-post's service as the API's do.
        composed = client.post(
            "/compose",
            data={
                "csrf": _csrf(client),
                "content": "With a comment",
                "platform": site.sandbox_id,
                "action": "draft",
                "firstComment": "Sources below",
                "platformSettings": '{"bluesky": {"lang": "en"}}',
            },
        )
        assert composed.status_code == 303, composed.text
        with site.api() as api:
            made = api.get(f"/get-post/{composed.headers['location'].rsplit('/', 1)[1]}").json()
        assert made["firstComment"] == {"text": "Sources below"}
        assert made["platformSettings"] == {"bluesky": {"lang": "en"}}
        # Ten attempts per address and email in five minutes, then 429 whatever the password.
        for _ in range(8):
            client.post("/sign-in", data={"email": "ada@example.com", "password": "x" * 12})
        limited = client.post(
            "/sign-in", data={"email": "ada@example.com", "password": "correct horse battery"}
        )
        assert limited.status_code == 429


def test_a_link_works_once_and_tenants_see_only_their_own(site: Site) -> None:
    with site.api() as api:
        created = api.post(
            "/create-post",
            json={"content": "Mine", "platforms": [site.sandbox_id], "status": "draft"},
        )
        assert created.status_code == 200, created.text
    mine = created.json()["postGroupId"]

    async def other_account(session: Any) -> str:
        return (await create_account(session, "Other", workspace=False)).id

    link = site.sign_in_link(site.server.transaction(other_account))
    with _session(site, link) as client:
        assert client.get(link).status_code == 404  # spent
        assert client.get(f"/posts/{mine}").status_code == 404
        assert site.sandbox_id not in client.get("/connections").text
        csrf = _csrf(client)
        moved = client.post(f"/posts/{mine}/move", data={"csrf": csrf, "day": "2030-01-02"})
        assert moved.status_code == 404
        retried = client.post(f"/posts/{mine}/publish-now", data={"csrf": csrf})
        assert "not found" in retried.text.lower()
        signed_out = client.post("/sign-out", data={"csrf": csrf})
        assert signed_out.status_code == 303
        assert client.get("/calendar").headers["location"] == "/sign-in"


def test_preview_post_plans_as_the_engine_does(site: Site) -> None:
    content = "Thread me " * 200
    with site.api() as api:
        answer = api.post(
            "/preview-post", json={"content": content, "platforms": [site.sandbox_id]}
        )
        assert answer.status_code == 200, answer.text
        unknown = api.post("/preview-post", json={"content": "x", "platforms": ["sandbox-nope"]})
    (preview,) = answer.json()["previews"]
    assert preview["parts"] == plan_parts(Platform.SANDBOX, content)
    assert preview["length"] == measure(Platform.SANDBOX, content)
    assert preview["limit"] == text_rule(Platform.SANDBOX).limit
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "INVALID_PLATFORM_ID"


def test_a_delivery_is_redelivered_from_the_webhooks_log(site: Site) -> None:
    with webhook_receiver() as receiver, site.api() as api:
        body = {"name": "Log", "url": receiver.url, "events": ["post.scheduled"]}
        hook = api.post("/webhooks", json=body).json()["webhook"]
        receiver.secret = hook["secret"]
        post = {
            "content": "Hooked",
            "platforms": [site.sandbox_id],
            "scheduledTime": iso_in(days=3),
        }
        assert api.post("/create-post", json=post).status_code == 200
        wait_until(lambda: len(receiver.accepted) == 1)
        [original] = api.get(f"/webhooks/{hook['_id']}/deliveries").json()["deliveries"]
        redeliver = f"/workspace/webhooks/{hook['_id']}/deliveries/{original['_id']}/redeliver"
        with _session(site, site.sign_in_link(site.account_id)) as client:
            page = client.get("/workspace").text
            assert f'action="{redeliver}"' in page
            again = client.post(redeliver, data={"csrf": _csrf(client)})
            assert again.status_code == 200
            assert "Delivery queued again." in again.text
        wait_until(lambda: len(receiver.accepted) == 2)
        assert receiver.accepted[0].body == receiver.accepted[1].body
        log = api.get(f"/webhooks/{hook['_id']}/deliveries").json()["deliveries"]
        assert len(log) == 2

        async def other_account(session: Any) -> str:
            return (await create_account(session, "Stranger", workspace=False)).id

        link = site.sign_in_link(site.server.transaction(other_account))
        with _session(site, link) as stranger:
            refused = stranger.post(redeliver, data={"csrf": _csrf(stranger)})
            assert refused.status_code == 404
        assert len(api.get(f"/webhooks/{hook['_id']}/deliveries").json()["deliveries"]) == 2
