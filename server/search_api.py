"""GET /api/search: messages by words, cashtag, channel and author, newest first, over the channels the
caller may read (server/access.py). The store indexes the latest text of every archived message: SQLite
FTS5 standalone, a MongoDB index of words and cashtags distributed (docs/protocol.md#search)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from core.errors import ChatError
from core.models import Message
from core.textscan import CASHTAG, cashtags, words
from server import api_docs
from server.access import Need
from server.api import viewer
from server.api_docs import Reply, Route
from server.app_keys import ACCESS, BUDGETS, BUS, STORE
from server.payloads import validate_query

MAX_WORDS = 8  # words of one query; more narrow nothing a reader would notice
SEARCH_RATE = 5.0  # searches a second per user, with a burst of SEARCH_BURST
SEARCH_BURST = 30


class SearchQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    q: str = Field("", max_length=200, description="words (all must match, whole words) and $TICKERs")
    channel: str | None = Field(None, max_length=100, description="only this channel")
    user: str | None = Field(None, max_length=32, description="only messages by this user")
    cashtag: str | None = Field(None, max_length=24, description="only messages mentioning this ticker")
    before: str | None = Field(None, max_length=64, description="the next_before of the page before")
    limit: int = Field(20, ge=1, le=100)


class SearchPage(BaseModel):
    hits: list[Message]
    next_before: str | None


def add_routes(app: web.Application) -> None:
    api_docs.add_routes(app, ROUTES)


async def search(request: web.Request) -> web.Response:
    query = validate_query(SearchQuery, request.query)
    who = await viewer(request)
    access = request.app[ACCESS]
    tags = cashtags(query.q)
    if query.cashtag:
        code = query.cashtag.strip().removeprefix("$")
        if not CASHTAG.fullmatch("$" + code):
            raise ChatError("invalid_parameter", f"cashtag: not a ticker: {code[:24]!r}", 400)
        tags = list(dict.fromkeys([*tags, code.upper()]))
    # the words outside the cashtags: "$TSLA earnings" looks for earnings in messages about TSLA
    found = words(CASHTAG.sub(" ", query.q))[:MAX_WORDS]
    user = query.user.strip().removeprefix("@") if query.user else None
    if not found and not tags and not user and not query.channel:
        raise ChatError("invalid_parameter", "q: say what to look for (words, a $TICKER, a channel or a user)", 400)
    if query.channel:
        channels = [(await access.channel(who, query.channel, Need.SEE)).channel.name]
    else:
        channels = [c.name for c in await access.readable(who)]
    if not await request.app[BUS].allow(f"search:{who.username}", SEARCH_RATE, SEARCH_BURST):
        raise ChatError("rate_limited", "Searching too fast; wait a moment", 429)
    async with request.app[BUDGETS].reading_history(who.username) as charge:
        hits, next_before = await request.app[STORE].search(
            words=found, cashtags=tags, channels=channels, user=user, before=query.before, limit=query.limit
        )
        charge(hits)
    body = SearchPage(hits=hits, next_before=next_before)
    return web.json_response({"hits": [m.wire() for m in body.hits], "next_before": body.next_before})


ROUTES = (
    Route(
        "GET",
        "/api/search",
        search,
        "Messages matching every word of q (whole words of their latest text), its $TICKERs, the channel and "
        "the user, newest first, over the channels the caller may read; deleted messages never match",
        query=SearchQuery,
        ok=Reply(200, "A page of hits", SearchPage),
        secured=True,
        errors=("invalid_parameter", "channel_not_found", "banned", "rate_limited"),
    ),
)
