"""REST API of retention and legal holds (docs/protocol.md#retention-and-legal-hold): holds placed, listed and
released by site admins and compliance; a channel's retention set by site admins alone, since a firm's
records policy is not a channel owner's to shorten."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.errors import ChatError
from core.models import CHANNEL_RE, USERNAME_RE, Channel, Hold, now_iso
from core.settings import MAX_RETENTION_DAYS
from server import api_docs, audit
from server.access import Need, require_site
from server.api import parse_body, viewer
from server.api_docs import Reply, Route
from server.app_keys import ACCESS, STORE

HOLD_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
MAX_HELD = 1000  # channels or users one hold names
MAX_REASON = 500
ChannelName = Annotated[str, StringConstraints(pattern=CHANNEL_RE.pattern)]
Username = Annotated[str, StringConstraints(pattern=USERNAME_RE.pattern)]


class NewHold(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(pattern=HOLD_NAME, description="unique in any letter case: a matter or case number")
    channels: list[ChannelName] | None = Field(
        None, min_length=1, max_length=MAX_HELD, description="only these channels (any channel when absent)"
    )
    users: list[Username] | None = Field(
        None, min_length=1, max_length=MAX_HELD, description="only these users' records (anyone's when absent)"
    )
    reason: str | None = Field(None, max_length=MAX_REASON)


class HoldList(BaseModel):
    holds: list[Hold]


class RetentionSetting(BaseModel):
    model_config = ConfigDict(extra="ignore")
    retention_days: int | None = Field(
        ge=1, le=MAX_RETENTION_DAYS, description="days the archive keeps what is said here; null: the site's default"
    )


def add_routes(app: web.Application) -> None:
    api_docs.add_routes(app, ROUTES)


async def place_hold(request: web.Request) -> web.Response:
    who = await viewer(request, changes_state=True)
    require_site(who, "admin", "compliance")
    body = await parse_body(request, NewHold)
    hold = Hold(
        name=body.name, channels=None if body.channels is None else sorted(set(body.channels)),
        users=None if body.users is None else list(dict.fromkeys(body.users)), created_by=who.username,
        created_at=now_iso(), reason=body.reason,
    )  # fmt: skip
    store = request.app[STORE]
    if not await store.add_hold(hold):
        raise ChatError("hold_exists", f"A hold named {hold.name} stands already", 409)
    await audit.record(
        store, who.username, "hold.placed", target=hold.name, channels=hold.channels, users=hold.users,
        reason=hold.reason,
    )  # fmt: skip
    return web.json_response(hold.model_dump(exclude_none=True), status=201)


async def list_holds(request: web.Request) -> web.Response:
    require_site(await viewer(request), "admin", "compliance")
    holds = await request.app[STORE].holds()
    return web.json_response(HoldList(holds=holds).model_dump(exclude_none=True))


async def release_hold(request: web.Request) -> web.Response:
    who = await viewer(request, changes_state=True)
    require_site(who, "admin", "compliance")
    name, store = request.match_info["hold"], request.app[STORE]
    if not await store.remove_hold(name):
        raise ChatError("hold_not_found", f"No hold named {name[:64]}", 404)
    await audit.record(store, who.username, "hold.released", target=name)
    return web.Response(status=204)


async def set_retention(request: web.Request) -> web.Response:
    who = await viewer(request, changes_state=True)
    # the channel first, as every route naming one: a private channel stays out of sight of an admin who
    # is no member (server/access.py)
    grant = await request.app[ACCESS].channel(who, request.match_info["name"], Need.SEE)
    require_site(who, "admin")
    body = await parse_body(request, RetentionSetting)
    channel, store = grant.channel, request.app[STORE]
    if body.retention_days != channel.retention_days:
        if not await store.set_retention(channel.name, body.retention_days):
            raise ChatError("channel_not_found", f"No channel #{channel.name}", 404)  # deleted meanwhile
        await audit.record(
            store, who.username, "retention.changed", channel=channel.name, retention_days=body.retention_days,
            previous=channel.retention_days,
        )  # fmt: skip
    return web.json_response(channel.model_copy(update={"retention_days": body.retention_days}).wire())


HOLD_ERRORS = ("forbidden_origin", "forbidden")

ROUTES = (
    Route(
        "POST",
        "/api/admin/holds",
        place_hold,
        "Place a legal hold (site admins and compliance): retention redacts nothing it covers while it stands",
        body=NewHold,
        ok=Reply(201, "The hold", Hold),
        secured=True,
        errors=(*HOLD_ERRORS, "hold_exists"),
    ),
    Route(
        "GET",
        "/api/admin/holds",
        list_holds,
        "The standing legal holds, oldest first (site admins and compliance)",
        ok=Reply(200, "Holds", HoldList),
        secured=True,
        errors=("forbidden",),
    ),
    Route(
        "DELETE",
        "/api/admin/holds/{hold}",
        release_hold,
        "Release a legal hold (site admins and compliance); the next daily run redacts what it kept",
        ok=Reply(204, "Released", media_type=None),
        secured=True,
        errors=(*HOLD_ERRORS, "hold_not_found"),
    ),
    Route(
        "PATCH",
        "/api/admin/channels/{name}/retention",
        set_retention,
        "Set a channel's retention in days, or null for the site's CHAT_RETENTION_DAYS (site admins only)",
        body=RetentionSetting,
        ok=Reply(200, "The channel", Channel),
        secured=True,
        errors=("forbidden_origin", "forbidden", "channel_not_found"),
    ),
)
