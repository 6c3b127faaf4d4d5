"""The post endpoints: create, get, list, update and delete."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from herald.api.deps import Context, CurrentPrincipal, JsonBody
from herald.api.idempotency import IdempotencyKey, Once
from herald.api.media_fetching import fetched_media
from herald.api.routes._docs import errors
from herald.api.schemas.base import SuccessResponse, request_body_doc, wire
from herald.api.schemas.post_request import (
    LIST_QUERY_DOC,
    CreatePostRequest,
    UpdatePostRequest,
    parse_create_post,
    parse_list_query,
    parse_update_post,
)
from herald.api.schemas.post_response import (
    CreatePostResponse,
    GetPostResponse,
    ListPostsResponse,
    UpdatePostResponse,
    create_post_response,
    get_post_response,
    list_posts_response,
    update_post_response,
)
from herald.domain.timestamps import utc_now
from herald.services import post as posts
from herald.services.idempotency import fingerprint
from herald.services.media import delete_files
from herald.services.media_urls import attach_fetched, fetched_result
from herald.services.post_list import list_posts
from herald.services.post_update import (
    check_editable,
    plan_retarget,
    read_retarget,
    update_post,
)

router = APIRouter(tags=["posts"])


@router.post(
    "/create-post",
    responses={200: {"model": CreatePostResponse}, **errors(400, 409, 422, 429)},
    openapi_extra=request_body_doc(CreatePostRequest),
)
async def create_post(
    body: JsonBody, context: Context, principal: CurrentPrincipal, key: IdempotencyKey = None
) -> Response:
    new_post = parse_create_post(body)
    async with Once(
        context, principal.account_id, key, fingerprint("create-post", None, body)
    ) as once:
        if once.replayed is not None:
            return once.replayed
        now = utc_now()
        # Checked and planned before the write transaction, and planned off the event loop: a
        # long content's plan never holds the write lock, nor keeps other requests waiting.
        async with context.transaction(write=False) as session:
            checked = await posts.check_post(
                session,
                principal.account_id,
                new_post,
                now,
                strict=context.settings.strict_scheduled_time,
            )
        planned = await asyncio.to_thread(posts.plan_post, checked)
        urls = new_post.media_urls
        # Files are removed again if the post is not stored (fetched_media).
        async with (
            fetched_media(context, principal.account_id, checked.group_id, urls) as files,
            context.transaction() as session,
        ):
            group = await posts.store_post(session, planned, now)
            await attach_fetched(session, group, files, context.media_store, now)
            results = [fetched_result(f, context.media_store) for f in files]
            response = create_post_response(
                group, checked.coerced, checked.notices, results if urls else None
            )
            answer = await once.answer(session, wire(response))
    context.wake_publisher()
    return answer


@router.get(
    "/get-post/{post_group_id}",
    responses={200: {"model": GetPostResponse}, **errors(404)},
)
async def get_post(
    post_group_id: str, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    async with context.transaction(write=False) as session:
        details = await posts.get_post(session, principal.account_id, post_group_id)
        return wire(get_post_response(details))


@router.get(
    "/list-posts",
    responses={200: {"model": ListPostsResponse}, **errors(400)},
    openapi_extra=LIST_QUERY_DOC,
)
async def list_posts_route(
    request: Request, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    query = parse_list_query(principal.account_id, request.query_params)
    async with context.transaction(write=False) as session:
        page = await list_posts(session, query)
        return wire(list_posts_response(page))


@router.put(
    "/update-post/{post_group_id}",
    responses={200: {"model": UpdatePostResponse}, **errors(400, 404, 409, 422, 429)},
    openapi_extra=request_body_doc(UpdatePostRequest),
)
async def update_post_route(
    post_group_id: str,
    body: JsonBody,
    context: Context,
    principal: CurrentPrincipal,
    key: IdempotencyKey = None,
) -> Response:
    change = parse_update_post(body)
    print_ = fingerprint("update-post", post_group_id, body)
    async with Once(context, principal.account_id, key, print_) as once:
        if once.replayed is not None:
            return once.replayed
        account_id = principal.account_id
        async with context.transaction(write=False) as session:
            # Checked before anything is fetched: a post that cannot change costs no URL.
            retarget = await read_retarget(session, account_id, post_group_id, change)
            if change.media_urls and retarget is None:
                await check_editable(session, account_id, post_group_id)
        if retarget is not None:
            retarget = await asyncio.to_thread(plan_retarget, retarget)
        urls = change.media_urls
        async with (
            fetched_media(context, account_id, post_group_id, urls) as files,
            context.transaction() as session,
        ):
            outcome = await update_post(
                session,
                account_id,
                post_group_id,
                change,
                utc_now(),
                retarget=retarget,
                fetched=files,
                store=context.media_store,
            )
            results = [fetched_result(f, context.media_store) for f in files]
            response = update_post_response(
                outcome.group, outcome.notices, results if urls else None
            )
            answer = await once.answer(session, wire(response))
    context.wake_publisher()
    return answer


@router.delete(
    "/delete-post/{post_group_id}",
    responses={200: {"model": SuccessResponse}, **errors(400, 404, 409)},
)
async def delete_post(
    post_group_id: str, context: Context, principal: CurrentPrincipal
) -> JSONResponse:
    async with context.transaction() as session:
        storage_keys = await posts.delete_post(session, principal.account_id, post_group_id)
    # Files go after the rows' commit, best effort: a failure leaves an orphan file, never a
    # post pointing at a missing one.
    await delete_files(context.media_store, storage_keys)
    return wire(SuccessResponse())
