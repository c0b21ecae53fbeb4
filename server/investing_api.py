"""REST API of the investor tools (docs/protocol.md#investor-tools): the user's watchlist (with its quotes from
the shared cache, for the ticker strip) and price alerts, and a caller's trade ideas with their scorecard over
the channels the reader may read."""

from __future__ import annotations

import asyncio
from typing import Annotated

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, StringConstraints

from core.commands import AlertSpec
from core.errors import ChatError
from core.models import Quote, utcnow
from core.trading import (
    MAX_ALERT_DAYS,
    MAX_MOVE_PCT,
    MAX_WATCHLIST,
    AlertOp,
    AlertStatus,
    Idea,
    IdeaStatus,
    Scorecard,
    parse_amount,
    scorecard,
)
from investing.alerts import create_alert
from investing.watchlists import watched
from server import api_docs
from server.api import parse_body, viewer
from server.api_docs import Reply, Route
from server.app_keys import ACCESS, BUS, STORE
from server.payloads import validate_query
from server.quotes_api import QUOTES, QuoteFailure, count_quote_request, user_quote
from server.watchlist import save_watchlist

Code = Annotated[StrictStr, StringConstraints(max_length=40)]
ALERT_RATE = 1.0  # new alerts a second per user, after a burst of ALERT_BURST: each may cost an upstream quote
ALERT_BURST = 30  # a list of 20 alerts, with room for a few refused, in one go
IDEAS_RATE = 5.0  # record lookups a second per user, after a burst of IDEAS_BURST
IDEAS_BURST = 30
SCORED_IDEAS = 5000  # the newest ideas a scorecard counts


class WatchlistQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    quotes: bool = Field(False, description="true: each code's quote too, from the shared cache")


class WatchlistBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    symbols: list[Code] = Field(
        max_length=4 * MAX_WATCHLIST,  # duplicates fold into one; past MAX_WATCHLIST codes: watchlist_full
        description=f"codes in stooq or Yahoo form, up to {MAX_WATCHLIST} once normalized",
    )


class Watchlist(BaseModel):
    symbols: list[str] = Field(description="codes as the quote library names them (AAPL.US, VOD.UK, ^SPX)")
    quotes: list[Quote] | None = Field(None, description="with quotes=true: one per code that could be had")
    errors: list[QuoteFailure] | None = Field(None, description="with quotes=true: one per code that could not")


class AlertsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: AlertStatus | None = Field(None, description="only alerts of this status")
    limit: int = Field(100, ge=1, le=100)


class NewAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")
    symbol: Code = Field(description="a code in stooq or Yahoo form")
    op: AlertOp
    value: Annotated[StrictStr, StringConstraints(max_length=32)] | StrictInt | StrictFloat = Field(
        description='a price in the instrument\'s currency ("200", "72.50"), or for move_pct a percentage '
        '("5" or "5%"), as a decimal string; a JSON number is read as written'
    )
    days: StrictInt | None = Field(None, ge=1, le=MAX_ALERT_DAYS, description="its life; 30 days when left out")


class AlertOut(BaseModel):
    """An alert as its owner sees it; prices are decimal strings in `currency`."""

    id: str
    symbol: str
    op: AlertOp
    value: str
    created_price: str
    currency: str
    status: AlertStatus
    created_at: str
    expires_at: str
    triggered_at: str | None = None
    triggered_price: str | None = None
    channel: str | None = Field(None, description="where it was set with /alert; absent when set over REST")


class AlertList(BaseModel):
    alerts: list[AlertOut]


class IdeasQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: IdeaStatus | None = Field(None, description="only ideas of this status (the scorecard counts all)")
    limit: int = Field(50, ge=1, le=200)


class IdeaRecord(BaseModel):
    ideas: list[Idea]
    scorecard: Scorecard


def add_routes(app: web.Application) -> None:
    api_docs.add_routes(app, ROUTES)


async def get_watchlist(request: web.Request) -> web.Response:
    query = validate_query(WatchlistQuery, request.query)
    who = await viewer(request)
    symbols = await request.app[STORE].get_watchlist(who.username)
    answer = Watchlist(symbols=symbols, quotes=None, errors=None)
    if query.quotes:
        await count_quote_request(request.app, who.username)
        outcomes = await asyncio.gather(*(user_quote(request.app, who.username, code) for code in symbols))
        answer.quotes, answer.errors = [], []
        for code, outcome in zip(symbols, outcomes, strict=True):
            if isinstance(outcome, Quote):
                answer.quotes.append(outcome)
            else:
                failure = {"symbol": code, "code": outcome.code, "message": outcome.message}
                answer.errors.append(QuoteFailure.model_validate(failure))
    return _json(answer.model_dump(exclude_none=True))


async def put_watchlist(request: web.Request) -> web.Response:
    who = await viewer(request, changes_state=True)
    body = await parse_body(request, WatchlistBody)
    symbols = watched([], add=body.symbols)
    await save_watchlist(request.app, who.username, symbols)
    return _json({"symbols": symbols})


async def list_alerts(request: web.Request) -> web.Response:
    query = validate_query(AlertsQuery, request.query)
    who = await viewer(request)
    alerts = await request.app[STORE].alerts(who.username, status=query.status, limit=query.limit)
    return _json({"alerts": [a.wire() for a in alerts]})


async def post_alert(request: web.Request) -> web.Response:
    who = await viewer(request, changes_state=True)
    body = await parse_body(request, NewAlert)
    what = "The percentage" if body.op == "move_pct" else "The price"
    value = parse_amount(str(body.value), what)
    if body.op == "move_pct" and value > MAX_MOVE_PCT:
        raise ChatError("invalid_amount", f"The percentage must be at most {MAX_MOVE_PCT}")
    app = request.app
    if not await app[BUS].allow(f"alerts:new:{who.username}", ALERT_RATE, ALERT_BURST):
        raise ChatError("rate_limited", "Setting alerts too fast; wait a moment", 429)
    # priced as the ticker strip is: a code not in the cache spends from the user's own upstream budget,
    # then create_alert finds it cached
    priced = await user_quote(app, who.username, body.symbol)
    if isinstance(priced, ChatError):
        raise priced
    spec = AlertSpec(body.symbol, body.op, value, body.days)
    alert = await create_alert(app[STORE], app[QUOTES], who.username, spec, channel=None, now=utcnow())
    return _json(alert.wire(), status=201)


async def cancel_alert(request: web.Request) -> web.Response:
    who = await viewer(request, changes_state=True)
    alert_id = request.match_info["id"]
    cancelled = await request.app[STORE].cancel_alert(who.username, alert_id) if len(alert_id) <= 64 else None
    if cancelled is None:
        raise ChatError("alert_not_found", "You have no active alert with that id", 404)
    return _json(cancelled.wire())


async def user_ideas(request: web.Request) -> web.Response:
    """A caller's record as the reader may see it: ideas posted in channels the reader may not read (a
    private channel they are not in) are neither listed nor counted."""
    query = validate_query(IdeasQuery, request.query)
    who = await viewer(request)
    name = request.match_info["username"].strip()[:64]
    author = await request.app[STORE].get_user(name) if name else None
    if author is None:
        raise ChatError("user_not_found", f"No user {name[:40]!r}", 404)
    if not await request.app[BUS].allow(f"ideas:{who.username}", IDEAS_RATE, IDEAS_BURST):
        raise ChatError("rate_limited", "Looking up records too fast; wait a moment", 429)
    channels = [c.name for c in await request.app[ACCESS].readable(who)]
    ideas = await request.app[STORE].ideas_by(author.username, channels=channels, limit=SCORED_IDEAS)
    listed = [i for i in ideas if query.status is None or i.status == query.status][: query.limit]
    return _json({"ideas": [i.wire() for i in listed], "scorecard": scorecard(ideas).model_dump()})


def _json(body: object, *, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


QUOTE_ERRORS = ("invalid_symbol", "unknown_symbol", "provider_error", "timeout", "busy")
CHANGES = ("forbidden_origin",)

ROUTES = (
    Route(
        "GET",
        "/api/me/watchlist",
        get_watchlist,
        "The user's watchlist; with quotes=true each code's quote from the shared cache (the ticker strip)",
        query=WatchlistQuery,
        ok=Reply(200, "The codes, and with quotes=true their quotes and the codes that could not be had", Watchlist),
        secured=True,
        errors=("rate_limited",),
    ),
    Route(
        "PUT",
        "/api/me/watchlist",
        put_watchlist,
        f"Replace the user's watchlist (up to {MAX_WATCHLIST} codes, normalized); the user's connections get "
        "a watchlist event",
        body=WatchlistBody,
        ok=Reply(200, "The watchlist as stored", Watchlist),
        secured=True,
        errors=(*CHANGES, "invalid_symbol", "watchlist_full"),
    ),
    Route(
        "GET",
        "/api/me/alerts",
        list_alerts,
        "The user's price alerts, newest first",
        query=AlertsQuery,
        ok=Reply(200, "Alerts", AlertList),
        secured=True,
    ),
    Route(
        "POST",
        "/api/me/alerts",
        post_alert,
        "Set a price alert against the quote now: above or below a price, or a move of a percentage",
        body=NewAlert,
        ok=Reply(201, "The alert", AlertOut),
        secured=True,
        errors=(*CHANGES, "invalid_amount", "already_crossed", "too_many_alerts", "rate_limited", *QUOTE_ERRORS),
    ),
    Route(
        "DELETE",
        "/api/me/alerts/{id}",
        cancel_alert,
        "Cancel one of the user's active alerts",
        ok=Reply(200, "The alert, cancelled", AlertOut),
        secured=True,
        errors=(*CHANGES, "alert_not_found"),
    ),
    Route(
        "GET",
        "/api/users/{username}/ideas",
        user_ideas,
        "A user's trade ideas and scorecard, over the channels the caller may read",
        query=IdeasQuery,
        ok=Reply(200, "Ideas newest first, and the scorecard of all of them", IdeaRecord),
        secured=True,
        errors=("user_not_found", "rate_limited"),
    ),
)
