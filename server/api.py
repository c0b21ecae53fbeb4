"""REST API: accounts and channels, as docs/protocol.md describes them (messages: server/messages_api.py)."""

from __future__ import annotations

from typing import TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from core.errors import ChatError
from core.models import CHANNEL_RE, USERNAME_RE, Channel, Visibility
from server import api_docs, auth, channels
from server.access import Viewer
from server.api_docs import Reply, Route
from server.app_keys import ACCOUNTS, BUS, SETTINGS
from server.channels import MAX_SLOW_MODE, MAX_TOPIC
from server.origins import browser_scheme, origin_allowed, own_origins
from server.payloads import validate

COOKIE = "chat_session"
Body = TypeVar("Body", bound=BaseModel)


# The patterns are the accounts' and channels' own rules, shown to readers of the API description;
# those modules check them, to answer with their own codes (invalid_username, invalid_channel_name).
class Credentials(BaseModel):
    model_config = ConfigDict(extra="ignore")
    username: str = Field(max_length=200, json_schema_extra={"pattern": USERNAME_RE.pattern})
    password: str = Field(max_length=1000, description="8 to 72 bytes in UTF-8")
    invite: str | None = Field(None, max_length=100, description="registering: the code when CHAT_REGISTRATION=invite")


class NewChannel(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(max_length=200, json_schema_extra={"pattern": CHANNEL_RE.pattern})
    visibility: Visibility = "public"
    topic: str = Field("", max_length=MAX_TOPIC)


class ChannelSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")
    topic: str | None = Field(None, max_length=MAX_TOPIC)
    slow_mode_s: int | None = Field(None, ge=0, le=MAX_SLOW_MODE, description="seconds between one user's sends")


class NewDm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    username: str = Field(max_length=64, json_schema_extra={"pattern": USERNAME_RE.pattern})


class Session(BaseModel):
    username: str
    token: str


class Me(BaseModel):
    username: str
    roles: list[str] = Field(description='"user", then the site roles granted (admin, compliance) sorted')


class ChannelList(BaseModel):
    channels: list[Channel]


def add_routes(app: web.Application) -> None:
    api_docs.add_routes(app, ROUTES)


async def parse_body(request: web.Request, model: type[Body]) -> Body:
    try:
        data = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise ChatError("invalid_json", "The request body is not valid JSON", 400) from None
    return validate(model, data, where="body")


def client_address(request: web.Request) -> str:
    """The caller's address; X-Forwarded-For counts only when the peer is a trusted proxy."""
    peer = request.remote or "unknown"
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded and peer in request.app[SETTINGS].proxies:
        return forwarded.split(",")[-1].strip()
    return peer


def is_https(request: web.Request) -> bool:
    return browser_scheme(request, request.app[SETTINGS].proxies) == "https"


def check_origin(request: web.Request) -> None:
    """CSRF guard for cookie-authenticated state changes: the page must be one of ours."""
    origin = request.headers.get("Origin")
    if origin is None:
        referer = request.headers.get("Referer", "")
        origin = "/".join(referer.split("/", 3)[:3]) if referer else None
    settings = request.app[SETTINGS]
    own = own_origins(request, settings.proxies)
    if origin is None or not origin_allowed(origin, own, settings.origins):
        raise ChatError("forbidden_origin", "This request must come from the chat's own page", 403)


async def authenticate(request: web.Request, *, changes_state: bool = False) -> auth.Session:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return await request.app[ACCOUNTS].verify(header[7:].strip())
    token = request.cookies.get(COOKIE)
    if not token:
        raise ChatError("unauthorized", "Log in first", 401)
    if changes_state:
        check_origin(request)
    return await request.app[ACCOUNTS].verify(token)


async def viewer(request: web.Request, *, changes_state: bool = False) -> Viewer:
    """Who asks (authenticated as authenticate() does), for server/access.py."""
    session = await authenticate(request, changes_state=changes_state)
    return Viewer(session.username, session.roles)


def session_response(request: web.Request, username: str, token: str, status: int) -> web.Response:
    response = web.json_response(Session(username=username, token=token).model_dump(), status=status)
    response.set_cookie(
        COOKIE,
        token,
        max_age=request.app[SETTINGS].token_ttl,
        httponly=True,
        samesite="Lax",
        secure=is_https(request),
        path="/",
    )
    return response


async def _throttle_login(request: web.Request, username: str) -> None:
    """Per address, and per (address, account) pair at the same pace; per account from every address
    together only at a slower, deeper pace: whoever guesses from one place cannot lock its owner out."""
    settings, bus = request.app[SETTINGS], request.app[BUS]
    account, address = username.lower()[:64], client_address(request)
    limits = (
        (f"login:addr:{address}", settings.login_rate, settings.login_burst),
        (f"login:pair:{address}:{account}", settings.login_rate, settings.login_burst),
        (f"login:user:{account}", settings.login_account_rate, settings.login_account_burst),
    )
    for key, rate, burst in limits:
        if not await bus.allow(key, rate, burst):
            raise ChatError("too_many_attempts", "Too many login attempts; wait a minute and retry", 429)


async def _credentials(request: web.Request) -> Credentials:
    """The body of register and login: from one of our pages (when a browser sends it), throttled."""
    if "Origin" in request.headers:
        check_origin(request)
    body = await parse_body(request, Credentials)
    await _throttle_login(request, body.username)
    return body


async def register(request: web.Request) -> web.Response:
    body = await _credentials(request)
    user, token = await request.app[ACCOUNTS].register(body.username, body.password, body.invite)
    return session_response(request, user.username, token, 201)


async def login(request: web.Request) -> web.Response:
    body = await _credentials(request)
    user, token = await request.app[ACCOUNTS].login(body.username, body.password)
    return session_response(request, user.username, token, 200)


async def logout(request: web.Request) -> web.Response:
    session = await authenticate(request, changes_state=True)
    await request.app[ACCOUNTS].revoke(session)
    response = web.Response(status=204)
    response.del_cookie(COOKIE, path="/")
    return response


async def me(request: web.Request) -> web.Response:
    session = await authenticate(request)
    return web.json_response(Me(username=session.username, roles=["user", *sorted(session.roles)]).model_dump())


async def list_channels(request: web.Request) -> web.Response:
    found = await channels.visible_channels(request.app, await viewer(request))
    return web.json_response(ChannelList(channels=found).model_dump(exclude_none=True))


async def create_channel(request: web.Request) -> web.Response:
    who = await viewer(request, changes_state=True)
    body = await parse_body(request, NewChannel)
    channel = await channels.create_channel(request.app, who, body.name, visibility=body.visibility, topic=body.topic)
    return web.json_response(channel.wire(), status=201)


async def update_channel(request: web.Request) -> web.Response:
    who = await viewer(request, changes_state=True)
    body = await parse_body(request, ChannelSettings)
    channel = await channels.update_settings(
        request.app, who, request.match_info["name"], topic=body.topic, slow_mode_s=body.slow_mode_s
    )
    return web.json_response(channel.wire())


async def delete_channel(request: web.Request) -> web.Response:
    who = await viewer(request, changes_state=True)
    channel = await channels.delete_channel(request.app, who, request.match_info["name"])
    return web.json_response(channel.wire())


async def open_dm(request: web.Request) -> web.Response:
    who = await viewer(request, changes_state=True)
    body = await parse_body(request, NewDm)
    channel, new = await channels.open_dm(request.app, who, body.username)
    return web.json_response(channel.wire(), status=201 if new else 200)


ROUTES = (
    Route(
        "POST",
        "/api/register",
        register,
        "Create an account and log in",
        body=Credentials,
        ok=Reply(201, "Registered; also sets the session cookie", Session),
        errors=(
            "invalid_username",
            "invalid_password",
            "forbidden_origin",
            "invite_required",
            "registration_closed",
            "username_taken",
            "too_many_attempts",
        ),
    ),
    Route(
        "POST",
        "/api/login",
        login,
        "Log in",
        body=Credentials,
        ok=Reply(200, "Logged in; also sets the session cookie", Session),
        errors=("invalid_credentials", "forbidden_origin", "account_suspended", "too_many_attempts"),
    ),
    Route(
        "POST",
        "/api/logout",
        logout,
        "Log out: the token stops working and the cookie is cleared",
        ok=Reply(204, "Logged out", media_type=None),
        secured=True,
        errors=("forbidden_origin",),
    ),
    Route("GET", "/api/me", me, "Who is logged in, with their site roles", ok=Reply(200, "The user", Me), secured=True),
    Route(
        "GET",
        "/api/channels",
        list_channels,
        "The channels you can see, sorted by name: public ones and the private ones and DMs you are in",
        ok=Reply(200, "Channels", ChannelList),
        secured=True,
    ),
    Route(
        "POST",
        "/api/channels",
        create_channel,
        "Create a channel; every connected client gets channel_created",
        body=NewChannel,
        ok=Reply(201, "Created", Channel),
        secured=True,
        errors=(
            "invalid_channel_name",
            "forbidden_origin",
            "forbidden",
            "too_many_channels",
            "channel_exists",
            "rate_limited",
        ),
    ),
    Route(
        "PATCH",
        "/api/channels/{name}",
        update_channel,
        "Change a channel's topic or slow mode (owners, moderators, site admins); channel_event settings_changed",
        body=ChannelSettings,
        ok=Reply(200, "The channel", Channel),
        secured=True,
        errors=("forbidden_origin", "forbidden", "channel_not_found"),
    ),
    Route(
        "POST",
        "/api/dms",
        open_dm,
        "The direct-message channel of you and another user: 201 when new (both get channel_created), 200 "
        "when it existed",
        body=NewDm,
        ok=Reply(201, "Opened", Channel),
        also=(Reply(200, "It existed", Channel),),
        secured=True,
        errors=("forbidden_origin", "user_not_found", "invalid_parameter", "rate_limited", "too_many_channels"),
    ),
    Route(
        "DELETE",
        "/api/channels/{name}",
        delete_channel,
        "Delete a channel you own (site admins any; not #general, not a DM); those who could see it get "
        "channel_deleted; its archived messages stay",
        ok=Reply(200, "Deleted", Channel),
        secured=True,
        errors=("forbidden_origin", "forbidden", "not_channel_owner", "channel_not_found"),
    ),
)
