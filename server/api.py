"""REST API: accounts, channels and history, as docs/protocol.md describes them."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from core.errors import ChatError
from core.posting import read_history
from server.auth import Session
from server.channels import create_channel as create_channel_for
from server.channels import delete_channel as delete_channel_for
from server.app_keys import ACCOUNTS, BUDGETS, BUS, SETTINGS, STORE
from server.origins import browser_scheme, origin_allowed, own_origins
from server.payloads import validate

COOKIE = "chat_session"
Body = TypeVar("Body", bound=BaseModel)


class Credentials(BaseModel):
    model_config = ConfigDict(extra="ignore")
    username: str = Field(max_length=200)
    password: str = Field(max_length=1000)


class NewChannel(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(max_length=200)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/register", register)
    app.router.add_post("/api/login", login)
    app.router.add_post("/api/logout", logout)
    app.router.add_get("/api/me", me)
    app.router.add_get("/api/channels", list_channels)
    app.router.add_post("/api/channels", create_channel)
    app.router.add_delete("/api/channels/{name}", delete_channel)
    app.router.add_get("/api/channels/{name}/messages", history)


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


async def authenticate(request: web.Request, *, changes_state: bool = False) -> Session:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return await request.app[ACCOUNTS].verify(header[7:].strip())
    token = request.cookies.get(COOKIE)
    if not token:
        raise ChatError("unauthorized", "Log in first", 401)
    if changes_state:
        check_origin(request)
    return await request.app[ACCOUNTS].verify(token)


def session_response(request: web.Request, username: str, token: str, status: int) -> web.Response:
    response = web.json_response({"username": username, "token": token}, status=status)
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
    user, token = await request.app[ACCOUNTS].register(body.username, body.password)
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
    return web.json_response({"username": session.username})


async def list_channels(request: web.Request) -> web.Response:
    await authenticate(request)
    channels = await request.app[STORE].list_channels()
    return web.json_response({"channels": [c.model_dump() for c in channels]})


async def create_channel(request: web.Request) -> web.Response:
    session = await authenticate(request, changes_state=True)
    body = await parse_body(request, NewChannel)
    channel = await create_channel_for(request.app, session.username, body.name)
    return web.json_response(channel.model_dump(), status=201)


async def delete_channel(request: web.Request) -> web.Response:
    session = await authenticate(request, changes_state=True)
    channel = await delete_channel_for(request.app, session.username, request.match_info["name"])
    return web.json_response(channel.model_dump())


def _int_param(request: web.Request, name: str, low: int, high: int) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ChatError("invalid_parameter", f"{name} must be an integer from {low} to {high}", 400)
    return value


async def history(request: web.Request) -> web.Response:
    session = await authenticate(request)
    name = request.match_info["name"]
    limit = _int_param(request, "limit", 1, 200) or 50
    before = _int_param(request, "before", 1, 2**62)
    after = _int_param(request, "after", 0, 2**62)
    if await request.app[STORE].get_channel(name) is None:
        raise ChatError("channel_not_found", f"No channel #{name[:60]}", 404)
    async with request.app[BUDGETS].reading_history(session.username) as charge:
        messages, more = await read_history(
            request.app[STORE], request.app[BUS], name, limit=limit, before=before, after=after
        )
        charge(messages)
    payload: dict[str, Any] = {"messages": [m.wire() for m in messages], "has_more": more}
    return web.Response(body=orjson.dumps(payload), content_type="application/json")
