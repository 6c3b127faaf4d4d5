"""A managed user's connections page (Publora's workspace `connection-url`, publora-latest §2.19
and §6 item 24): "get or generate". A call gives back the current link while it is valid; a
`rotate` (or an expired link) makes a new one and the old one stops working at once.

The link is `<public URL>/connections-page/<token>`, the token an HMAC over (user, generation,
expiry) with a key of its own, so nothing secret is stored and rotation is a counter. The page
shows a form whose nonce is spent by the submission it carries (a forged or replayed form is
refused), so the link opens the page again and again, but each form posts once."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from herald.config import Settings
from herald.keys import derived_keys
from herald.models import Account, ConnectionsPage
from herald.services import link_token
from herald.store.account import AccountStore
from herald.store.connections_page import ConnectionsPageStore

PAGE_PATH = "/connections-page/"
_PURPOSE = "herald connections page links"
DEFAULT_DAYS = 90
# Publora sets no upper bound; a hundred years keeps the date representable everywhere.
MAX_DAYS = 36_500


class LinkNotValidError(Exception):
    """Not a link Herald made, rotated since, or past its expiry: the page says so."""


@dataclass(frozen=True)
class PageLinks:
    keys: Sequence[bytes]
    base_url: str

    def url(self, page: ConnectionsPage) -> str:
        return self.base_url + PAGE_PATH + self.token(page)

    def token(self, page: ConnectionsPage) -> str:
        fields: list[str | int] = [
            page.account_id,
            page.generation,
            int(page.expires_at.timestamp()),
        ]
        return link_token.sign(self.keys, fields)


def page_links(settings: Settings) -> PageLinks:
    return PageLinks(derived_keys(settings, _PURPOSE), settings.resolved_public_url)


def current(page: ConnectionsPage | None, now: datetime) -> ConnectionsPage | None:
    return page if page is not None and page.expires_at > now else None


async def get_or_generate(
    session: AsyncSession, user: Account, *, rotate: bool, days: float, now: datetime
) -> ConnectionsPage:
    store = ConnectionsPageStore(session)
    page = await store.get(user.id, for_update=True)
    live = current(page, now)
    if not rotate and live is not None:
        return live
    # Whole seconds: the token carries the expiry as an integer and must match the row.
    expires_at = (now + timedelta(days=days)).replace(microsecond=0)
    if page is None:
        return await store.add(
            ConnectionsPage(account_id=user.id, generation=1, expires_at=expires_at, updated_at=now)
        )
    page.generation += 1
    page.expires_at = expires_at
    page.form_nonce = None
    page.updated_at = now
    await session.flush()
    return page


async def open_page(
    session: AsyncSession, links: PageLinks, token: str, now: datetime
) -> tuple[ConnectionsPage, Account]:
    """The page and managed user a link is for; LinkNotValidError for anything else."""
    try:
        fields = link_token.verify(links.keys, token)
    except link_token.BadTokenError:
        raise LinkNotValidError from None
    if len(fields) != 3:
        raise LinkNotValidError
    account_id, generation, expiry = fields
    if not isinstance(account_id, str):
        raise LinkNotValidError
    page = await ConnectionsPageStore(session).get(account_id, for_update=True)
    live = current(page, now)
    if live is None or live.generation != generation or int(live.expires_at.timestamp()) != expiry:
        raise LinkNotValidError
    user = await AccountStore(session).get(account_id)
    if user is None or user.parent_id is None:
        raise LinkNotValidError
    return live, user


def new_form(page: ConnectionsPage, now: datetime) -> str:
    """A nonce for the form about to be shown; it replaces any earlier one."""
    page.form_nonce = secrets.token_urlsafe(24)
    page.updated_at = now
    return page.form_nonce


def spend_form(page: ConnectionsPage, submitted: str) -> bool:
    """True once for the nonce of the form last shown; it is gone afterwards."""
    expected = page.form_nonce
    page.form_nonce = None
    return expected is not None and hmac.compare_digest(expected.encode(), submitted.encode())
