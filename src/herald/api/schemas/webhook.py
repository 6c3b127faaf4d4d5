"""Wire shapes of the webhook endpoints (Publora §2.1) and the delivery log (a Herald extension)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import Field

from herald.api.schemas.base import WireModel
from herald.api.schemas.connection import optional_timestamp
from herald.domain.timestamps import format_timestamp
from herald.errors import ValidationError, check_length
from herald.models import Webhook, WebhookDelivery
from herald.net.egress import EgressPolicy
from herald.services.webhook import MAX_NAME, REQUIRED, WebhookPatch, check_events, check_url

Event = Literal["post.scheduled", "post.published", "post.failed", "post.demoted", "token.expiring"]


class CreateWebhookRequest(WireModel):
    name: str = Field(max_length=MAX_NAME)
    url: str = Field(description="http or https; no private, loopback or link-local address")
    events: list[Event]


class UpdateWebhookRequest(WireModel):
    name: str | None = None
    url: str | None = None
    events: list[Event] | None = None
    is_active: bool | None = None


class _Id(WireModel):
    id: str = Field(alias="_id")


class CreatedWebhook(_Id):
    name: str
    url: str
    events: list[str]
    secret: str = Field(description="Signs every delivery; shown only here and on regeneration")
    is_active: bool
    created_at: str


class ListedWebhook(_Id):
    name: str
    url: str
    events: list[str]
    is_active: bool
    failure_count: int = Field(description="Deliveries given up in a row (5 disable the webhook)")
    last_triggered_at: str | None
    created_at: str
    updated_at: str
    v: int = Field(alias="__v")


class UpdatedWebhook(_Id):
    name: str
    url: str
    events: list[str]
    is_active: bool
    updated_at: str


class CreateWebhookResponse(WireModel):
    success: bool = True
    webhook: CreatedWebhook


class WebhooksResponse(WireModel):
    success: bool = True
    webhooks: list[ListedWebhook]


class UpdateWebhookResponse(WireModel):
    success: bool = True
    webhook: UpdatedWebhook


class SecretResponse(WireModel):
    success: bool = True
    secret: str


class Delivery(_Id):
    event: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: str
    last_attempt_at: str | None
    next_attempt_at: str | None = Field(description="Set while the delivery is pending")
    delivered_at: str | None


class DeliveriesResponse(WireModel):
    success: bool = True
    deliveries: list[Delivery]


class RedeliverResponse(WireModel):
    success: bool = True
    delivery: Delivery


def parse_create_webhook(
    body: Mapping[str, Any], egress: EgressPolicy
) -> tuple[str, str, list[str]]:
    name, url, events = body.get("name"), body.get("url"), body.get("events")
    if not (isinstance(name, str) and name and isinstance(url, str) and url and events):
        raise ValidationError(REQUIRED, code="WEBHOOK_FIELDS_REQUIRED")
    checked = check_events(events)
    check_length("name", name, MAX_NAME)
    return name, check_url(url, egress), checked


def parse_update_webhook(body: Mapping[str, Any], egress: EgressPolicy) -> WebhookPatch:
    """Publora applies name, url and events only when truthy, and isActive only as a boolean."""
    name, url, events, active = (body.get(k) for k in ("name", "url", "events", "isActive"))
    for field, value in (("name", name), ("url", url)):
        if value and not isinstance(value, str):
            raise ValidationError(f"{field} must be a string", code="INVALID_REQUEST")
    if isinstance(name, str) and name:
        check_length("name", name, MAX_NAME)
    return WebhookPatch(
        name=name or None,
        url=check_url(url, egress) if isinstance(url, str) and url else None,
        events=check_events(events) if events else None,
        is_active=active if isinstance(active, bool) else None,
    )


def created_webhook(webhook: Webhook, secret: str) -> CreateWebhookResponse:
    return CreateWebhookResponse(
        webhook=CreatedWebhook(
            id=webhook.id,
            name=webhook.name,
            url=webhook.url,
            events=webhook.events,
            secret=secret,
            is_active=webhook.is_active,
            created_at=format_timestamp(webhook.created_at),
        )
    )


def listed_webhooks(webhooks: Sequence[Webhook]) -> WebhooksResponse:
    return WebhooksResponse(
        webhooks=[
            ListedWebhook(
                id=w.id,
                name=w.name,
                url=w.url,
                events=w.events,
                is_active=w.is_active,
                failure_count=w.failure_count,
                last_triggered_at=optional_timestamp(w.last_triggered_at),
                created_at=format_timestamp(w.created_at),
                updated_at=format_timestamp(w.updated_at),
                v=w.version,
            )
            for w in webhooks
        ]
    )


def updated_webhook(w: Webhook) -> UpdateWebhookResponse:
    return UpdateWebhookResponse(
        webhook=UpdatedWebhook(
            id=w.id,
            name=w.name,
            url=w.url,
            events=w.events,
            is_active=w.is_active,
            updated_at=format_timestamp(w.updated_at),
        )
    )


def delivery(d: WebhookDelivery) -> Delivery:
    return Delivery(
        id=d.id,
        event=d.event,
        status=d.status,
        attempts=d.attempts,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        created_at=format_timestamp(d.created_at),
        last_attempt_at=optional_timestamp(d.last_attempt_at),
        next_attempt_at=optional_timestamp(d.next_attempt_at) if d.status == "pending" else None,
        delivered_at=optional_timestamp(d.delivered_at),
    )
