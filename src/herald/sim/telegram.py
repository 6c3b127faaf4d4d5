"""The Telegram simulator: the Bot API's wire protocol for the methods Herald uses, in memory.

`B` is the base URL (standalone `http://127.0.0.1:PORT`, or the mount point). Configured bots
(token, id, username) and chats (id, type, title, username, members with their status and
rights) stand in for Telegram's; see herald.sim.telegram_config. Every method is

    GET|POST B/bot<token>/<method>   parameters in the query string and/or the body: JSON,
                                     form-urlencoded or multipart/form-data (uploads); in the form
                                     encodings object parameters are JSON strings
        200  {"ok": true, "result": ...}
        4xx  {"ok": false, "error_code": <the HTTP status>, "description": "...",
              "parameters"?: {"retry_after": s} | {"migrate_to_chat_id": id}}

Method names are case-insensitive. A token that is not `<digits>:<secret>`, and an unknown
method, get 404 "Not Found"; a well-formed unknown token 401 "Unauthorized". A `chat_id` is an
integer, a numeric string or "@username"; a bot sees public chats (with a username) and the
chats it has a member record in (any status: a kicked bot is told it was kicked), else 400 "Bad
Request: chat not found"; a group upgraded to a supergroup answers 400 "Bad Request: group chat
was upgraded to a supergroup chat" with `parameters.migrate_to_chat_id`.

    getMe                          the bot's User (is_bot true)
    getChat {chat_id}              the ChatFullInfo: id, type, title | first_name, username?
    getChatMember {chat_id, user_id}  ChatMember {status, user, ...}; administrators of channels
                                   carry can_post_messages. A bot may always ask about itself;
                                   about others in a channel only as an administrator (else 400
                                   "member list is inaccessible"); unknown users: "user not found"
    sendMessage {chat_id, text, parse_mode?, entities?, link_preview_options?,
                 disable_web_page_preview?, reply_parameters?, reply_to_message_id?}
    sendPhoto {chat_id, photo, caption?, parse_mode?, caption_entities?, reply_parameters?}
    sendVideo {chat_id, video, caption?, ..., width?, height?, duration?, supports_streaming?}
        -> the Message: message_id (increasing per chat, never reused), date, chat, sender_chat
           (channels) or from, text + entities | caption + caption_entities + photo | video,
           reply_to_message
    sendMediaGroup {chat_id, media: [InputMediaPhoto | InputMediaVideo], reply_parameters?}
        -> an array of Messages sharing one media_group_id; each item's `media` must be
           "attach://<part>" naming an uploaded part; captions per item (the first one shows)

Sends are refused, before anything is stored, in this order:
    chat:    as above
    rights:  channels: 403 "Forbidden: bot is not a member of the channel chat" (absent or left),
             403 "...bot was kicked from the channel chat", 400 "Bad Request: need administrator
             rights in the channel chat" (a member, or an administrator without
             can_post_messages); groups and supergroups: 403 "...bot is not a member of the
             <group|supergroup> chat", "...bot was kicked from the ... chat", 400 "not enough
             rights to send <what> to the chat" (restricted without can_send_messages); private:
             403 "bot can't initiate conversation with a user", "bot was blocked by the user"
    reply:   reply_parameters.message_id must be a message of that chat, else 400 "message to be
             replied not found" (unless allow_sending_without_reply)
    content: text after parsing 1-4,096 UTF-16 code units ("message text is empty", "message is
             too long"); caption <= 1,024 ("message caption is too long"); parse_mode HTML,
             MarkdownV2 or Markdown parsed as Telegram documents them, with its errors ("can't
             parse entities: Unsupported start tag ...", "Character '.' is reserved ...");
             explicit entities within the text in UTF-16 units and not splitting a surrogate
             pair; photos must be images Pillow can open, width + height <= 10,000, ratio <= 20
             (IMAGE_PROCESS_FAILED, PHOTO_INVALID_DIMENSIONS); uploads non-empty and within
             photo_max_bytes / file_max_bytes (else 413 "Request Entity Too Large"); URLs and
             file ids cannot be fetched offline ("wrong file identifier/HTTP URL specified");
             an album has 2-10 photos and videos ("too much messages to send as an album")
    flood:   with chat_messages_per_minute set, 429 "Too Many Requests: retry after N" with
             parameters.retry_after when a chat would exceed it

Then the fault, from the script (FIFO, "ok" meaning none) or one draw over the probabilities:

    rate_limit          429 "Too Many Requests: retry after <retry_after_s>", parameters.retry_after
    unavailable         502 "Bad Gateway"; nothing stored
    error_after_create  the messages are stored, then 500 "Internal Server Error"
    lost_response       stored, then the answer is held `hang_s` (less if the client hangs up)
    timeout             held `hang_s`, then 502; nothing stored
    rejected            400 "Bad Request: rejected by fault injection"

Control API (no latency, no token):

    GET|POST B/_sim/config   read | merge {"bots": [...], "chats": [...] (each replaced whole),
                             "photo_max_bytes", "file_max_bytes", "chat_messages_per_minute",
                             "latency_ms", "latency_jitter_ms", "retry_after_s", "hang_s", "seed",
                             "faults": {name: p}}
    POST B/_sim/script       {"faults": [name | "ok", ...]}, appended to the script
    GET  B/_sim/stats        {"requests" (send calls), "calls": {method: n}, "messages", "albums",
                             "rate_limited", "faults": {name: n}}
    GET  B/_sim/messages[?chat=<id | @username>]  {"messages": [{"chat_id", "message_id",
                             "bot_id", "method", "date", "text", "caption", "entities", "spans"
                             ([type, covered text]), "parse_mode", "link_preview_options",
                             "media" ({"type", "filename", "content_type", "size", "sha256",
                             "width", "height", ...}), "reply_to", "media_group_id"}]}, oldest first
    POST B/_sim/reset        clears messages, script and stats and restores the config the app
                             was created with; message ids keep increasing
"""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from herald.sim.control import control_routes, serve
from herald.sim.faults import REFUSALS, hold
from herald.sim.telegram_config import SimBot, TelegramConfig, config_to_wire, demo_config
from herald.sim.telegram_methods import QUERIES, SENDS
from herald.sim.telegram_params import BotApiError, BotParams, api_error, api_ok, read_params
from herald.sim.telegram_state import TelegramSim, too_many_requests

__all__ = ["TelegramConfig", "TelegramSim", "create_telegram_app", "serve_telegram"]


def _sim(request: Request) -> TelegramSim:
    sim: TelegramSim = request.app.state.telegram
    return sim


async def bot_method(request: Request) -> Response:
    sim = _sim(request)
    await asyncio.sleep(sim.injector.latency_s(sim.config.behaviour))
    method = request.path_params["method"].lower()
    try:
        bot = sim.bot(request.path_params["token"])
        if method not in QUERIES and method not in SENDS:
            raise BotApiError(404, "Not Found")
        sim.calls[method] += 1
        params = await read_params(request)
        if method in SENDS:
            return await _send(request, sim, bot, method, params)
        return api_ok(QUERIES[method](sim, bot, params))
    except BotApiError as exc:
        return exc.response()


async def _send(
    request: Request, sim: TelegramSim, bot: SimBot, method: str, params: BotParams
) -> Response:
    sim.sends += 1
    drafts = SENDS[method](sim, bot, params)
    sim.check_rate(drafts[0].chat, len(drafts))
    fault = sim.injector.next_fault(sim.config.behaviour.faults)
    if fault in REFUSALS:
        return await _refusal(request, sim, str(fault))
    messages = sim.store(drafts)
    if fault == "error_after_create":
        return api_error(500, "Internal Server Error")
    if fault == "lost_response":
        await hold(request, sim.config.behaviour.hang_s)
    chat_messages = sim.by_chat[drafts[0].chat.id]
    replied = chat_messages.get(drafts[0].reply_to) if drafts[0].reply_to else None
    wires = [message.wire(replied) for message in messages]
    return api_ok(wires if method == "sendmediagroup" else wires[0])


async def _refusal(request: Request, sim: TelegramSim, fault: str) -> Response:
    behaviour = sim.config.behaviour
    if fault == "rate_limit":
        return too_many_requests(behaviour.retry_after_s).response()
    if fault == "rejected":
        return api_error(400, "Bad Request: rejected by fault injection")
    if fault == "timeout":
        await hold(request, behaviour.hang_s)
    return api_error(502, "Bad Gateway")


async def sim_messages(request: Request) -> Response:
    chat = request.query_params.get("chat")
    return JSONResponse({"messages": _sim(request).listing(chat)})


def create_telegram_app(config: TelegramConfig | None = None) -> Starlette:
    """A fresh simulator; its state is `app.state.telegram` (a TelegramSim). Without a config
    it knows one demo bot administering one public channel (telegram_config.demo_config)."""
    app = Starlette(
        routes=[
            Route("/bot{token}/{method}", bot_method, methods=["GET", "POST"]),
            *control_routes(_sim, config_to_wire),
            Route("/_sim/messages", sim_messages, methods=["GET"]),
        ]
    )
    app.state.telegram = TelegramSim(config or demo_config())
    return app


def serve_telegram(host: str, port: int, config: TelegramConfig | None = None) -> None:
    """Run the simulator until interrupted."""
    serve(create_telegram_app(config), host, port)
