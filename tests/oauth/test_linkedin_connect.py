"""Connecting LinkedIn through the simulator over real HTTP, on both databases: the member's
60-day token is shown with its expiry, company pages come only when asked for and granted, and
`token.expiring` is queued ten days ahead (LinkedIn), not the common seven."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from herald.domain.timestamps import utc_now
from herald.models import Connection
from herald.oauth.warnings import warn_expiring
from linkedin_support import (
    ADA,
    ENGINES,
    LinkedInControl,
    connect,
    linkedin_app_on,
    linkedin_control,
    linkedin_sim,
    linkedin_sim_url,
)
from support import LiveServer, Tenant

__all__ = [
    "linkedin_control",
    "linkedin_sim",
    "linkedin_sim_url",
]  # fixtures, found by pytest through their names


def _linkedin(tenant: Tenant) -> dict[str, dict[str, Any]]:
    listed = tenant.client.get("/platform-connections").json()["connections"]
    return {c["platformId"]: c for c in listed if c["platform"] == "linkedin"}


def test_a_member_connects_without_pages_unless_the_operator_asks(
    server: LiveServer, tenant: Tenant, linkedin_sim: LinkedInControl
) -> None:
    with linkedin_app_on(server, linkedin_sim):
        page = connect(server, tenant.client, linkedin_sim)
    assert page.status_code == 200, page.text
    [member] = _linkedin(tenant).values()
    assert member["platformId"] == f"linkedin-{ADA.sub}"
    assert member["tokenStatus"] == "valid"
    assert member["accessTokenExpiresAt"] is not None  # no refresh: the owner must act
    assert linkedin_sim.stats()["codes_exchanged"] == 1


def test_pages_declined_on_the_consent_page_are_not_connected(
    server: LiveServer, tenant: Tenant, linkedin_sim: LinkedInControl
) -> None:
    with linkedin_app_on(server, linkedin_sim, linkedin_company_pages=True):
        page = connect(server, tenant.client, linkedin_sim, untick=("w_organization_social",))
    assert page.status_code == 200, page.text
    assert set(_linkedin(tenant)) == {f"linkedin-{ADA.sub}"}
    with linkedin_app_on(server, linkedin_sim, linkedin_company_pages=True):
        again = connect(server, tenant.client, linkedin_sim)
    assert again.status_code == 200, again.text
    assert set(_linkedin(tenant)) == {f"linkedin-{ADA.sub}", f"linkedin-org-{ENGINES.id}"}


def test_token_expiring_is_queued_ten_days_ahead_once(
    server: LiveServer, tenant: Tenant, linkedin_sim: LinkedInControl
) -> None:
    linkedin_sim.configure(access_token_ttl_s=int(timedelta(days=12).total_seconds()))
    with linkedin_app_on(server, linkedin_sim):
        assert connect(server, tenant.client, linkedin_sim).status_code == 200
    sessions = server.context.sessions
    now = utc_now()
    assert server.run(warn_expiring(sessions, now)) == 0  # twelve days left
    assert server.run(warn_expiring(sessions, now + timedelta(days=2, hours=1))) == 1
    assert server.run(warn_expiring(sessions, now + timedelta(days=3))) == 0  # once

    async def warned(session: Any) -> list[Any]:
        rows = await session.scalars(
            select(Connection.expiry_warned_at).where(Connection.platform == "linkedin")
        )
        return list(rows)

    assert [w is not None for w in server.transaction(warned)] == [True]
