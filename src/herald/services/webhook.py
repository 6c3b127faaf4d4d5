"""Webhooks (Publora §2.1): create, list, update, delete, new secret, delivery log, redeliver."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from herald.domain.ids import is_id
from herald.domain.webhooks import EVENTS, MAX_WEBHOOKS
from herald.errors import NotFoundError, ValidationError, check_length
from herald.models import Webhook, WebhookDelivery
from herald.net.egress import EgressPolicy, ip_literal
from herald.services.secret_box import SecretBox
from herald.store.webhook import WebhookStore
from herald.store.webhook_delivery import DeliveryStore

MAX_NAME = 200
MAX_URL = 2048
REQUIRED = "Name, URL, and at least one event are required"
NOT_FOUND = "Webhook not found"
_METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "metadata.azure.com"})
_METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
_LOOPBACK = ipaddress.ip_address("127.0.0.1")


@dataclass(frozen=True)
class WebhookPatch:
    name: str | None
    url: str | None
    events: list[str] | None
    is_active: bool | None


def new_secret() -> str:
    return secrets.token_hex(32)


def check_events(events: Any) -> list[str]:
    if not isinstance(events, list) or not all(isinstance(e, str) and e in EVENTS for e in events):
        raise ValidationError("Invalid events", code="INVALID_EVENTS")
    return list(dict.fromkeys(events))


def check_url(url: str, egress: EgressPolicy) -> str:
    """Publora's static checks, with Herald's egress policy deciding which addresses are
    private: an operator who opened a network (HERALD_EGRESS_ALLOW) may register it. A name
    is judged again by its resolved addresses at each delivery."""
    check_length("url", url, MAX_URL)
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        _ = parts.port
    except ValueError:
        host = ""
    if not parts.scheme or not host or "//" not in url:
        raise ValidationError("Invalid URL format", code="INVALID_URL")
    if parts.scheme.lower() not in ("http", "https"):
        raise ValidationError("URL must use HTTPS", code="INVALID_URL")
    if host in _METADATA_HOSTS:
        raise ValidationError("Cloud metadata endpoints are not allowed", code="URL_NOT_ALLOWED")
    local_name = host == "localhost" or host.endswith(".localhost")
    address = _LOOPBACK if local_name else ip_literal(host)
    if address is None or egress.permits(address):
        return url
    if address in _METADATA_ADDRESSES:
        raise ValidationError("Cloud metadata endpoints are not allowed", code="URL_NOT_ALLOWED")
    if address.is_loopback:
        raise ValidationError("Localhost URLs are not allowed", code="URL_NOT_ALLOWED")
    if address.is_link_local:
        raise ValidationError("Link-local addresses are not allowed", code="URL_NOT_ALLOWED")
    raise ValidationError("Private IP addresses are not allowed", code="URL_NOT_ALLOWED")


async def create_webhook(
    session: AsyncSession,
    box: SecretBox,
    account_id: str,
    fields: tuple[str, str, list[str]],
    now: datetime,
) -> tuple[Webhook, str]:
    name, url, events = fields
    store = WebhookStore(session)
    if await store.count(account_id) >= MAX_WEBHOOKS:
        raise ValidationError(
            f"Maximum of {MAX_WEBHOOKS} webhooks per user", code="WEBHOOK_LIMIT_REACHED"
        )
    secret = new_secret()
    webhook = Webhook(
        account_id=account_id,
        name=name,
        url=url,
        events=events,
        secret=box.seal({"secret": secret}),
        is_active=True,
        failure_count=0,
        version=0,
        created_at=now,
        updated_at=now,
    )
    return await store.add(webhook), secret


async def list_webhooks(session: AsyncSession, account_id: str) -> Sequence[Webhook]:
    return await WebhookStore(session).of_account(account_id)


async def find_webhook(session: AsyncSession, account_id: str, webhook_id: str) -> Webhook:
    webhook = (
        await WebhookStore(session).find(account_id, webhook_id) if is_id(webhook_id) else None
    )
    if webhook is None:
        raise NotFoundError(NOT_FOUND, code="WEBHOOK_NOT_FOUND")
    return webhook


async def update_webhook(
    session: AsyncSession, account_id: str, webhook_id: str, patch: WebhookPatch, now: datetime
) -> Webhook:
    """Publora's rules: a falsy name, url or events is ignored; re-enabling keeps the count of
    failed deliveries."""
    webhook = await find_webhook(session, account_id, webhook_id)
    if patch.name:
        webhook.name = patch.name
    if patch.url:
        webhook.url = patch.url
    if patch.events:
        webhook.events = patch.events
    if patch.is_active is not None:
        webhook.is_active = patch.is_active
    webhook.updated_at = now
    webhook.version += 1
    await session.flush()
    return webhook


async def delete_webhook(session: AsyncSession, account_id: str, webhook_id: str) -> None:
    await WebhookStore(session).delete(await find_webhook(session, account_id, webhook_id))


async def regenerate_secret(
    session: AsyncSession, box: SecretBox, account_id: str, webhook_id: str, now: datetime
) -> str:
    """The old secret stops at once: deliveries not yet sent are signed with the new one."""
    webhook = await find_webhook(session, account_id, webhook_id)
    secret = new_secret()
    webhook.secret = box.seal({"secret": secret})
    webhook.updated_at = now
    await session.flush()
    return secret


async def delivery_log(
    session: AsyncSession, account_id: str, webhook_id: str
) -> Sequence[WebhookDelivery]:
    await find_webhook(session, account_id, webhook_id)
    return await DeliveryStore(session).log(webhook_id)


async def redeliver(
    session: AsyncSession, account_id: str, webhook_id: str, delivery_id: str, now: datetime
) -> WebhookDelivery:
    await find_webhook(session, account_id, webhook_id)
    store = DeliveryStore(session)
    original = await store.find(webhook_id, delivery_id) if is_id(delivery_id) else None
    if original is None:
        raise NotFoundError("Delivery not found", code="DELIVERY_NOT_FOUND")
    return await store.redeliver(original, now)
