"""REST API of a channel's messages: history pages, what changed since a seq, threads and pins."""

from __future__ import annotations

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from core.errors import ChatError
from core.models import MAX_SEQ, Channel, Message
from core.posting import find_message, read_changes, read_history, read_pins, read_replies
from server import api_docs
from server.access import Need, Viewer
from server.api import viewer
from server.api_docs import Reply, Route
from server.app_keys import ACCESS, BUDGETS, BUS, STORE
from server.payloads import validate_query


class HistoryQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    limit: int = Field(50, ge=1, le=200)
    before: int | None = Field(None, ge=1, le=MAX_SEQ, description="only seq below this")
    after: int | None = Field(None, ge=0, le=MAX_SEQ, description="only seq above this; pages forward")
    changed_after: int | None = Field(
        None,
        ge=0,
        le=MAX_SEQ,
        description="instead: every message whose rev is above this (new or changed since), the oldest "
        "changes first; page on from the highest rev returned",
    )


class ThreadQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    limit: int = Field(50, ge=1, le=200)
    after: int = Field(0, ge=0, le=MAX_SEQ, description="only replies with seq above this")


class MessagePage(BaseModel):
    messages: list[Message]
    has_more: bool

    def wire(self) -> bytes:
        return orjson.dumps({"messages": [m.wire() for m in self.messages], "has_more": self.has_more})


class PinList(BaseModel):
    messages: list[Message]


def add_routes(app: web.Application) -> None:
    api_docs.add_routes(app, ROUTES)


async def _channel(request: web.Request) -> tuple[Viewer, Channel]:
    """Who asks and the channel of the path, if they may read it (server/access.py)."""
    who = await viewer(request)
    grant = await request.app[ACCESS].channel(who, request.match_info["name"], Need.SEE)
    return who, grant.channel


async def history(request: web.Request) -> web.Response:
    query = validate_query(HistoryQuery, request.query)
    who, channel = await _channel(request)
    store, bus = request.app[STORE], request.app[BUS]
    async with request.app[BUDGETS].reading_history(who.username) as charge:
        if query.changed_after is not None:
            if query.before is not None or query.after is not None:
                raise ChatError("invalid_parameter", "changed_after: give it alone, without before or after", 400)
            messages, more = await read_changes(store, bus, channel.name, after=query.changed_after, limit=query.limit)
        else:
            messages, more = await read_history(
                store, bus, channel.name, limit=query.limit, before=query.before, after=query.after
            )
        charge(messages)
    return web.Response(body=MessagePage(messages=messages, has_more=more).wire(), content_type="application/json")


async def replies(request: web.Request) -> web.Response:
    query = validate_query(ThreadQuery, request.query)
    who, channel = await _channel(request)
    store, bus = request.app[STORE], request.app[BUS]
    async with request.app[BUDGETS].reading_history(who.username) as charge:
        root = request.match_info["id"]
        if await find_message(bus, store, channel.name, root) is None:
            raise ChatError("message_not_found", f"No message {root[:40]!r} in this channel", 404)
        messages, more = await read_replies(store, bus, channel.name, root, after=query.after, limit=query.limit)
        charge(messages)
    return web.Response(body=MessagePage(messages=messages, has_more=more).wire(), content_type="application/json")


async def pins(request: web.Request) -> web.Response:
    who, channel = await _channel(request)
    async with request.app[BUDGETS].reading_history(who.username) as charge:
        messages = await read_pins(request.app[STORE], request.app[BUS], channel.name)
        charge(messages)
    body = orjson.dumps({"messages": [m.wire() for m in messages]})
    return web.Response(body=body, content_type="application/json")


ROUTES = (
    Route(
        "GET",
        "/api/channels/{name}/messages",
        history,
        "A page of a channel's history in seq order, folded with every change; or, with changed_after, what "
        "is new or changed since",
        query=HistoryQuery,
        ok=Reply(200, "Messages", MessagePage),
        secured=True,
        errors=("channel_not_found", "banned", "rate_limited", "history_catching_up"),
    ),
    Route(
        "GET",
        "/api/channels/{name}/messages/{id}/replies",
        replies,
        "A thread: the replies to a message, in seq order",
        query=ThreadQuery,
        ok=Reply(200, "Replies", MessagePage),
        secured=True,
        errors=("channel_not_found", "banned", "message_not_found", "rate_limited"),
    ),
    Route(
        "GET",
        "/api/channels/{name}/pins",
        pins,
        "The channel's pinned messages, in seq order",
        ok=Reply(200, "Pinned messages", PinList),
        secured=True,
        errors=("channel_not_found", "banned", "rate_limited"),
    ),
)
