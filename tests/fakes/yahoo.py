"""A fake Yahoo Finance: the v8 chart JSON plus the cookie and crumb endpoints yfinance calls."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from aiohttp import web

from tests.fakes import HTML_PAGE, FakeProvider, Security, trading_days

CRUMB = "fake-crumb"
# Where "now" falls for each market state: (pre start, regular start, regular end, post end)
# as offsets from now, so the fake needs no calendar.
_PERIODS: dict[str, tuple[float, float, float, float]] = {
    "open": (-7, -1.5, 5, 9),
    "pre-market": (-1, 4.5, 11, 15),
    "after-hours": (-14, -8.5, -2, 2),
    "closed": (5, 10.5, 17, 21),
}


class FakeYahoo(FakeProvider):
    """Answers /v8/finance/chart/{symbol}; symbols are Yahoo's (AAPL, VOD.L, ^GSPC, EURUSD=X)."""

    def defaults(self) -> dict[str, Security]:
        return {
            "aapl": Security("93.42", "92.10", name="Apple Inc."),
            "vod.l": Security(
                "72.50",
                "71.90",
                name="Vodafone Group Public Limited Company",
                currency="GBp",
                timezone="Europe/London",
            ),
            "^gspc": Security("5123.40", "5100.00", name="S&P 500", kind="INDEX"),
            "btc-usd": Security("64000.12", "63500.00", name="Bitcoin USD", kind="CRYPTOCURRENCY", timezone="UTC"),
            "eurusd=x": Security("1.0842", "1.0810", name="EUR/USD", kind="CURRENCY", timezone="Europe/London"),
            "cl=f": Security("78.12", "77.50", name="Crude Oil Jan 27", kind="FUTURE"),
        }

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self._cookie),  # stands in for https://fc.yahoo.com
            web.get("/v1/test/getcrumb", self._crumb),
            web.get("/v8/finance/chart/{symbol}", self._chart),
            web.route("*", "/{tail:.*}", self._not_found),
        ]

    async def _cookie(self, request: web.Request) -> web.Response:
        response = web.Response(status=404, text="Not Found")
        response.set_cookie("A3", "fake-cookie", max_age=3600)
        return response

    async def _crumb(self, request: web.Request) -> web.Response:
        return web.Response(text=CRUMB, content_type="text/plain")

    async def _not_found(self, request: web.Request) -> web.Response:
        body = {
            "finance": {
                "result": None,
                "error": {"code": "Not Found", "description": "HTTP 404 Not Found"},
            }
        }
        return web.json_response(body, status=404, dumps=_dumps)

    async def _chart(self, request: web.Request) -> web.Response:
        symbol = request.match_info["symbol"]
        failure = self.failure_for(symbol)
        await self.maybe_slow(failure)
        if failure == "429":
            return web.Response(status=429, text="Too Many Requests")
        if failure == "500" or failure == "limit":
            return web.Response(status=500, text=HTML_PAGE, content_type="text/html")
        if failure == "html":
            return web.Response(text=HTML_PAGE, content_type="text/html")
        if failure == "empty":
            return web.Response(text="", content_type="application/json")
        if failure == "malformed":
            return web.Response(text='{"chart": {"result": [{"meta": ', content_type="application/json")
        security = self.lookup(symbol)
        if security is None or failure == "unknown":
            error = {"code": "Not Found", "description": "No data found, symbol may be delisted"}
            return web.json_response({"chart": {"result": None, "error": error}}, status=404, dumps=_dumps)
        result = chart_result(symbol.upper(), security, request.query.get("range", "1mo"))
        return web.json_response({"chart": {"result": [result], "error": None}}, dumps=_dumps)


def chart_result(symbol: str, security: Security, range_: str) -> dict[str, Any]:
    """One `chart.result[0]` as Yahoo shapes it for a daily interval."""
    zone = ZoneInfo(security.timezone)
    now = datetime.now(UTC)
    closes = [float(close) for close in security.closes()]
    if range_ == "1d":
        closes = closes[-1:]
    days = trading_days(len(closes), now.astimezone(zone).date())
    stamps = [int(datetime.combine(day, time(9, 30), zone).timestamp()) for day in days]
    offset = int((now.astimezone(zone).utcoffset() or timedelta()).total_seconds())
    tzname = now.astimezone(zone).tzname()
    meta = {
        "currency": security.currency,
        "symbol": symbol,
        "exchangeName": "NMS",
        "fullExchangeName": "NasdaqGS",
        "instrumentType": security.kind,
        "firstTradeDate": 345479400,
        "regularMarketTime": int(security.last_trade().timestamp()),
        "hasPrePostMarketData": True,
        "gmtoffset": offset,
        "timezone": tzname,
        "exchangeTimezoneName": security.timezone,
        "regularMarketPrice": float(security.price),
        "longName": security.name or symbol,
        "shortName": security.name or symbol,
        "chartPreviousClose": closes[0],
        "priceHint": 2,
        "currentTradingPeriod": _trading_period(security, now, tzname, offset),
        "dataGranularity": "1d",
        "range": range_,
        "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
    }
    quote = {
        "open": closes,
        "high": closes,
        "low": closes,
        "close": closes,
        "volume": [1000] * len(closes),
    }
    return {
        "meta": meta,
        "timestamp": stamps,
        "indicators": {"quote": [quote], "adjclose": [{"adjclose": closes}]},
    }


def _trading_period(security: Security, now: datetime, tzname: str | None, offset: int) -> dict[str, Any]:
    pre, start, end, post = (int((now + timedelta(hours=h)).timestamp()) for h in _PERIODS[security.market_state])

    def period(begin: int, finish: int) -> dict[str, Any]:
        return {"timezone": tzname, "start": begin, "end": finish, "gmtoffset": offset}

    return {"pre": period(pre, start), "regular": period(start, end), "post": period(end, post)}


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()
