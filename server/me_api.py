"""REST API of what is the signed-in user's own: notification preferences, their channels with read marks
and unread counts, and the inbox of their notifications (docs/protocol.md#notifications)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.models import MAX_KEYWORDS, MAX_WATCHED_CASHTAGS, Channel, ChannelRole, NotifyLevel, NotifyPrefs, now_iso
from core.posting import last_seq
from core.textscan import CASHTAG, words
from server import api_docs
from server.api import parse_body, viewer
from server.api_docs import Reply, Route
from server.app_keys import BUS, STORE
from server.channels import visible_channels
from server.payloads import validate_query

UNREAD_CAP = 1000  # counted at most; a client shows "999+"
MAX_CHANNEL_LEVELS = 500
FIRST_SIGHT_MENTIONS = 100  # recent notifications looked through for mentions in channels listed the first time


class NotifyBody(BaseModel):
    """Preferences as a client sends them: keywords and cashtags are normalized, levels checked."""

    model_config = ConfigDict(extra="forbid")

    keywords: list[str] = Field(default_factory=list, max_length=MAX_KEYWORDS)
    cashtags: list[str] = Field(default_factory=list, max_length=MAX_WATCHED_CASHTAGS)
    channels: dict[str, NotifyLevel] = Field(default_factory=dict, max_length=MAX_CHANNEL_LEVELS)

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        out = []
        for keyword in value:
            phrase = " ".join(keyword.lower().split())
            if not 2 <= len(phrase) <= 50 or not words(phrase):
                raise ValueError(f"a keyword has 2 to 50 characters and a word in it: {keyword[:60]!r}")
            out.append(phrase)
        return list(dict.fromkeys(out))

    @field_validator("cashtags")
    @classmethod
    def _cashtags(cls, value: list[str]) -> list[str]:
        out = []
        for code in value:
            tag = "$" + code.strip().removeprefix("$")
            if not CASHTAG.fullmatch(tag):
                raise ValueError(f"not a cashtag: {code[:20]!r}")
            out.append(tag[1:].upper())
        return list(dict.fromkeys(out))

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: dict[str, NotifyLevel]) -> dict[str, NotifyLevel]:
        if any(len(name) > 100 for name in value):
            raise ValueError("a channel name has at most 100 characters")
        return {name.strip().lower(): level for name, level in value.items()}


class MyChannel(Channel):
    role: ChannelRole | None
    last_seq: int
    read_seq: int
    unread: int = Field(description=f"messages by others after read_seq, not deleted, counted up to {UNREAD_CAP}")
    mentions: int = Field(description="mentions of the user after read_seq")


class MyChannels(BaseModel):
    channels: list[MyChannel]


class InboxQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    before: str | None = Field(None, max_length=32, description="the next_before of the page before")
    limit: int = Field(30, ge=1, le=100)


class NotificationOut(BaseModel):
    id: str
    kind: str
    text: str
    ts: str
    channel: str | None = None
    message: dict[str, object] | None = None


class Inbox(BaseModel):
    notifications: list[NotificationOut]
    next_before: str | None


def add_routes(app: web.Application) -> None:
    api_docs.add_routes(app, ROUTES)


async def get_notify(request: web.Request) -> web.Response:
    who = await viewer(request)
    prefs = await request.app[STORE].get_notify_prefs(who.username) or NotifyPrefs()
    return web.json_response(prefs.model_dump())


async def put_notify(request: web.Request) -> web.Response:
    who = await viewer(request, changes_state=True)
    body = await parse_body(request, NotifyBody)
    prefs = NotifyPrefs.model_validate(body.model_dump())
    await request.app[STORE].set_notify_prefs(who.username, prefs, now_iso())
    return web.json_response(prefs.model_dump())


async def my_channels(request: web.Request) -> web.Response:
    """Every channel the user sees, with where they read up to and what waits for them since. A public
    channel shown for the first time counts as read up to now (its past is not news), except from a
    mention of the user in it on (a channel made while they were away that named them); a private one or
    a DM the user was added to has everything in it unread."""
    who = await viewer(request)
    store = request.app[STORE]
    channels = await visible_channels(request.app, who)
    known = await store.read_marks(who.username)
    last = {c.name: await last_seq(store, request.app[BUS], c.name) for c in channels}
    first_mention: dict[str, int] = {}  # channel -> the seq of the oldest of the user's recent mentions there
    if any(c.name not in known for c in channels if c.visibility == "public"):
        for note in await store.notifications(who.username, before=None, limit=FIRST_SIGHT_MENTIONS):
            if note.kind == "mention" and note.channel is not None and note.seq is not None:
                first_mention[note.channel] = min(note.seq, first_mention.get(note.channel, note.seq))
    marks = {}
    for channel in channels:
        mark = known.get(channel.name)
        if mark is None:  # kept, so what comes after counts as unread
            seen = last[channel.name] if channel.visibility == "public" else 0
            if channel.name in first_mention:
                seen = min(seen, first_mention[channel.name] - 1)
            mark = await store.mark_read(who.username, channel.name, seen)
        marks[channel.name] = mark
    unread, mentions, mine = await asyncio.gather(
        store.unread_counts(who.username, marks, cap=UNREAD_CAP),
        store.mention_counts(who.username, marks),
        store.channels_of(who.username),
    )
    out = []
    for channel in channels:
        role = await store.member_role(channel.name, who.username) if channel.name in mine else None
        out.append(
            MyChannel(
                **channel.model_dump(), role=role, last_seq=last[channel.name], read_seq=marks[channel.name],
                unread=unread.get(channel.name, 0), mentions=mentions.get(channel.name, 0),
            )
        )  # fmt: skip
    # a channel's unused fields (a DM's members elsewhere) are left out, the user's role never: null is news
    return web.json_response({"channels": [c.wire() | {"role": c.role} for c in out]})


async def inbox(request: web.Request) -> web.Response:
    query = validate_query(InboxQuery, request.query)
    who = await viewer(request)
    found = await request.app[STORE].notifications(who.username, before=query.before, limit=query.limit + 1)
    page = found[: query.limit]
    more = len(found) > query.limit
    body = {"notifications": [n.wire() for n in page], "next_before": page[-1].id if more and page else None}
    return web.json_response(body)


ROUTES = (
    Route(
        "GET",
        "/api/me/notify",
        get_notify,
        "The user's notification preferences: keywords, watched cashtags, a level per channel",
        ok=Reply(200, "Preferences", NotifyPrefs),
        secured=True,
    ),
    Route(
        "PUT",
        "/api/me/notify",
        put_notify,
        "Replace the user's notification preferences (keywords lower-cased, cashtags upper-cased without $)",
        body=NotifyBody,
        ok=Reply(200, "The preferences as stored", NotifyPrefs),
        secured=True,
        errors=("invalid_json", "invalid_payload", "forbidden_origin"),
    ),
    Route(
        "GET",
        "/api/me/channels",
        my_channels,
        "The channels the user sees, each with their role, read mark, unread messages and mentions",
        ok=Reply(200, "Channels", MyChannels),
        secured=True,
    ),
    Route(
        "GET",
        "/api/me/notifications",
        inbox,
        "The user's notifications, newest first (the inbox)",
        query=InboxQuery,
        ok=Reply(200, "A page of notifications", Inbox),
        secured=True,
        errors=("invalid_parameter",),
    ),
)
