"""GET /api/quotes: cached quotes for the web client's cashtag chips, from the node's own QuoteService."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
from aiohttp import web

from quotes import QuoteError, QuoteService
from core.errors import ChatError
from core.models import Quote
from server.api import authenticate
from server.app_keys import BUS, SETTINGS
from server.stamps import RECENT_QUOTES, RecentQuotes

QUOTES = web.AppKey("quotes", QuoteService)
MAX_SYMBOLS = 10
MAX_PARAM = 400  # characters of `symbols`: ten codes of twenty, commas and spaces
# A page of chips asks once per render; this stops a script from spending the upstream budget.
USER_RATE = 2.0
USER_BURST = 20


def setup(app: web.Application) -> None:
    """Register the QuoteService (after the bus, whose cache it shares) and the route."""
    app.cleanup_ctx.append(_quotes_ctx)
    app[RECENT_QUOTES] = RecentQuotes(app[SETTINGS].quote_cache_ttl)  # stamped into messages posted here
    app.router.add_get("/api/quotes", get_quotes)


async def _quotes_ctx(app: web.Application) -> AsyncIterator[None]:
    async with QuoteService.from_settings(app[SETTINGS], cache=app[BUS]) as quotes:
        app[QUOTES] = quotes
        yield


def requested_symbols(request: web.Request) -> list[str]:
    """The distinct codes of `?symbols=`, in order; 400 invalid_parameter unless 1 to 10."""
    raw = request.query.get("symbols", "")
    codes = list(dict.fromkeys(c.strip() for c in raw[: MAX_PARAM + 1].split(",") if c.strip()))
    if not codes or len(raw) > MAX_PARAM or len(codes) > MAX_SYMBOLS:
        raise ChatError("invalid_parameter", f"symbols must list 1 to {MAX_SYMBOLS} codes, comma separated", 400)
    return codes


async def get_quotes(request: web.Request) -> web.Response:
    session = await authenticate(request)
    if not await request.app[BUS].allow(f"quotes:user:{session.username}", USER_RATE, USER_BURST):
        raise ChatError("rate_limited", "Too many quote requests; wait a moment", 429)
    codes = requested_symbols(request)
    outcomes = await asyncio.gather(*(_quote(request, session.username, code) for code in codes))
    quotes: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    resolved: dict[str, str] = {}
    for code, outcome in zip(codes, outcomes, strict=True):
        if isinstance(outcome, Quote):
            request.app[RECENT_QUOTES].remember(code, outcome)
            quotes.append(outcome.model_dump(exclude_none=True))
            resolved[code] = outcome.symbol
        else:
            errors.append({"symbol": code, "code": outcome.code, "message": outcome.message})
    payload = {"quotes": quotes, "errors": errors, "resolved": resolved}
    ttl = int(request.app[SETTINGS].quote_cache_ttl)
    return web.Response(
        body=orjson.dumps(payload),
        content_type="application/json",
        headers={"Cache-Control": f"private, max-age={ttl}"},
    )


async def _quote(request: web.Request, user: str, code: str) -> Quote | ChatError:
    """A cached quote costs nothing; a code that needs an upstream call is charged to the user's own
    budget first, so one account spends at most its share of the node's upstream budget."""
    service, settings = request.app[QUOTES], request.app[SETTINGS]
    try:
        cached = await service.cached(code)
        if cached is not None:
            return cached
        per_minute = settings.quote_user_budget
        if not await request.app[BUS].allow(f"quotes:new:{user}", per_minute / 60, per_minute):
            return ChatError("rate_limited", "You asked for too many new codes; try again in a minute", 429)
        return await service.get(code)
    except QuoteError as exc:
        return exc
