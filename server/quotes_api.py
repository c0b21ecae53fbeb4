"""GET /api/quotes: cached quotes for the web client's cashtag chips, from the node's own QuoteService."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Literal

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.errors import ChatError
from core.models import Quote
from quotes import QuoteError, QuoteService
from quotes.errors import QuoteErrorCode
from server import api_docs
from server.api import authenticate
from server.api_docs import Reply, Route
from server.app_keys import BUS, SETTINGS
from server.payloads import validate_query
from server.stamps import RECENT_QUOTES, RecentQuotes

QUOTES = web.AppKey("quotes", QuoteService)
MAX_SYMBOLS = 10
MAX_PARAM = 400  # characters of `symbols`: ten codes of twenty, commas and spaces
# A page of chips asks once per render; this stops a script from spending the upstream budget.
USER_RATE = 2.0
USER_BURST = 20


class QuotesQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    symbols: str = Field(max_length=MAX_PARAM, description="1 to 10 codes, comma separated, e.g. AAPL,vod.uk,^spx")

    @field_validator("symbols")
    @classmethod
    def _one_to_ten(cls, symbols: str) -> str:
        if not 1 <= len(_distinct(symbols)) <= MAX_SYMBOLS:
            raise ValueError(f"list 1 to {MAX_SYMBOLS} codes, comma separated")
        return symbols

    @property
    def codes(self) -> list[str]:
        return _distinct(self.symbols)


def _distinct(symbols: str) -> list[str]:
    return list(dict.fromkeys(c.strip() for c in symbols.split(",") if c.strip()))


class QuoteFailure(BaseModel):
    symbol: str = Field(description="the code as requested")
    code: QuoteErrorCode | Literal["rate_limited"]
    message: str


class QuoteList(BaseModel):
    quotes: list[Quote]
    errors: list[QuoteFailure]
    resolved: dict[str, str] = Field(description="requested code -> the `symbol` of its quote")


def setup(app: web.Application) -> None:
    """Register the QuoteService (after the bus, whose cache it shares) and the route."""
    app.cleanup_ctx.append(_quotes_ctx)
    app[RECENT_QUOTES] = RecentQuotes(app[SETTINGS].quote_cache_ttl)  # stamped into messages posted here
    api_docs.add_routes(app, ROUTES)


async def _quotes_ctx(app: web.Application) -> AsyncIterator[None]:
    async with QuoteService.from_settings(app[SETTINGS], cache=app[BUS]) as quotes:
        app[QUOTES] = quotes
        yield


async def get_quotes(request: web.Request) -> web.Response:
    session = await authenticate(request)
    await count_quote_request(request.app, session.username)
    codes = validate_query(QuotesQuery, request.query).codes
    outcomes = await asyncio.gather(*(user_quote(request.app, session.username, code) for code in codes))
    answer = QuoteList(quotes=[], errors=[], resolved={})
    for code, outcome in zip(codes, outcomes, strict=True):
        if isinstance(outcome, Quote):
            request.app[RECENT_QUOTES].remember(code, outcome)
            answer.quotes.append(outcome)
            answer.resolved[code] = outcome.symbol
        else:
            failure = {"symbol": code, "code": outcome.code, "message": outcome.message}
            answer.errors.append(QuoteFailure.model_validate(failure))
    ttl = int(request.app[SETTINGS].quote_cache_ttl)
    return web.Response(
        body=orjson.dumps(answer.model_dump(exclude_none=True)),
        content_type="application/json",
        headers={"Cache-Control": f"private, max-age={ttl}"},
    )


async def count_quote_request(app: web.Application, user: str) -> None:
    """A request for quotes (chips, the ticker strip) spends from the user's request rate, or is refused."""
    if not await app[BUS].allow(f"quotes:user:{user}", USER_RATE, USER_BURST):
        raise ChatError("rate_limited", "Too many quote requests; wait a moment", 429)


async def user_quote(app: web.Application, user: str, code: str) -> Quote | ChatError:
    """`code`'s quote for `user` (chips, the watchlist's ticker strip, a new alert's price): a cached quote
    costs nothing; a code that needs an upstream call is charged to the user's own budget first, so one
    account spends at most its share of the node's upstream budget."""
    service, settings = app[QUOTES], app[SETTINGS]
    try:
        cached = await service.cached(code)
        if cached is not None:
            return cached
        per_minute = settings.quote_user_budget
        if not await app[BUS].allow(f"quotes:new:{user}", per_minute / 60, per_minute):
            return ChatError("rate_limited", "You asked for too many new codes; try again in a minute", 429)
        return await service.get(code)
    except QuoteError as exc:
        return exc


ROUTES = (
    Route(
        "GET",
        "/api/quotes",
        get_quotes,
        "Quotes for up to 10 codes (stooq or Yahoo form), cached for a few seconds",
        query=QuotesQuery,
        ok=Reply(200, "One quote per code that could be had, one error per code that could not", QuoteList),
        secured=True,
        errors=("rate_limited",),
    ),
)
