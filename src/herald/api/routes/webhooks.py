"""Webhooks: Publora's CRUD and secret regeneration, plus the delivery log and redelivery."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from herald.api.deps import Context, CurrentPrincipal, JsonBody
from herald.api.routes._docs import errors
from herald.api.schemas.base import SuccessResponse, request_body_doc, wire
from herald.api.schemas.webhook import (
    CreateWebhookRequest,
    CreateWebhookResponse,
    DeliveriesResponse,
    RedeliverResponse,
    SecretResponse,
    UpdateWebhookRequest,
    UpdateWebhookResponse,
    WebhooksResponse,
    created_webhook,
    delivery,
    listed_webhooks,
    parse_create_webhook,
    parse_update_webhook,
    updated_webhook,
)
from herald.domain.timestamps import utc_now
from herald.net.egress import EgressPolicy
from herald.services import webhook as webhooks

router = APIRouter(tags=["webhooks"])


def _egress(context: Context) -> EgressPolicy:
    return EgressPolicy(allow=tuple(context.settings.egress_allow))


@router.get("/webhooks", responses={200: {"model": WebhooksResponse}, **errors()})
async def list_webhooks(context: Context, principal: CurrentPrincipal) -> JSONResponse:
    async with context.transaction(write=False) as session:
        found = await webhooks.list_webhooks(session, principal.account_id)
        return wire(listed_webhooks(found))


@router.post(
    "/webhooks",
    status_code=201,
    responses={201: {"model": CreateWebhookResponse}, **errors(400)},
    openapi_extra=request_body_doc(CreateWebhookRequest),
)
async def create_webhook(
    body: JsonBody, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    fields = parse_create_webhook(body, _egress(context))
    async with context.transaction() as session:
        made, secret = await webhooks.create_webhook(
            session, context.secret_box, principal.account_id, fields, utc_now()
        )
    return wire(created_webhook(made, secret), status_code=201)


@router.patch(
    "/webhooks/{webhook_id}",
    responses={200: {"model": UpdateWebhookResponse}, **errors(400, 404)},
    openapi_extra=request_body_doc(UpdateWebhookRequest),
)
async def update_webhook(
    webhook_id: str, body: JsonBody, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    patch = parse_update_webhook(body, _egress(context))
    async with context.transaction() as session:
        changed = await webhooks.update_webhook(
            session, principal.account_id, webhook_id, patch, utc_now()
        )
    return wire(updated_webhook(changed))


@router.delete("/webhooks/{webhook_id}", responses={200: {"model": SuccessResponse}, **errors(404)})
async def delete_webhook(
    webhook_id: str, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    async with context.transaction() as session:
        await webhooks.delete_webhook(session, principal.account_id, webhook_id)
    return wire(SuccessResponse())


@router.post(
    "/webhooks/{webhook_id}/regenerate-secret",
    responses={200: {"model": SecretResponse}, **errors(404)},
)
async def regenerate_secret(
    webhook_id: str, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    async with context.transaction() as session:
        secret = await webhooks.regenerate_secret(
            session, context.secret_box, principal.account_id, webhook_id, utc_now()
        )
    return wire(SecretResponse(secret=secret))


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    responses={200: {"model": DeliveriesResponse}, **errors(404)},
)
async def list_deliveries(
    webhook_id: str, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    async with context.transaction(write=False) as session:
        log = await webhooks.delivery_log(session, principal.account_id, webhook_id)
        return wire(DeliveriesResponse(deliveries=[delivery(d) for d in log]))


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    responses={202: {"model": RedeliverResponse}, **errors(404)},
)
async def redeliver(
    webhook_id: str, delivery_id: str, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    async with context.transaction() as session:
        copy = await webhooks.redeliver(
            session, principal.account_id, webhook_id, delivery_id, utc_now()
        )
    return wire(RedeliverResponse(delivery=delivery(copy)), status_code=202)
