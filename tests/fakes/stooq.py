"""A fake stooq.com: the latest-quote CSV (/q/l/) and the daily-history CSV (/q/d/l/)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from aiohttp import web

from tests.fakes import HTML_PAGE, Failure, FakeProvider, Security, trading_days

QUOTE_HEADER = "Symbol,Date,Time,Open,High,Low,Close,Volume,Name"
HISTORY_HEADER = "Date,Open,High,Low,Close,Volume"
LIMIT_TEXT = "Exceeded the daily hits limit"
STOOQ_ZONE = ZoneInfo("Europe/Warsaw")
WEEKEND_STAMP = time(22)


class FakeStooq(FakeProvider):
    """Symbols are stooq's (aapl.us, vod.uk, ^spx, btc.v, eurusd, cl.f), any case."""

    def defaults(self) -> dict[str, Security]:
        return {
            "aapl.us": Security("93.42", "92.10", name="APPLE"),
            "vod.uk": Security("72.50", "71.90", name="VODAFONE", currency="GBX", timezone="Europe/London"),
            "^spx": Security("5123.40", "5100.00", name="S&P 500", kind="INDEX"),
            "btc.v": Security("64000.12", "63500.00", name="Bitcoin / U.S. Dollar", kind="CRYPTOCURRENCY"),
            "eurusd": Security("1.0842", "1.0810", name="EUR/USD", kind="CURRENCY"),
            "cl.f": Security("78.12", "77.50", name="Crude Oil WTI", kind="FUTURE"),
        }

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/q/l/", self._latest), web.get("/q/d/l/", self._history)]

    async def _latest(self, request: web.Request) -> web.Response:
        symbol = request.query.get("s", "")
        failure = self.failure_for(symbol)
        if (early := await self._failure(failure)) is not None:
            return early
        security = self.lookup(symbol)
        if security is None or failure == "unknown":
            row = ",".join([symbol.upper(), *["N/D"] * 7, symbol.upper()])
            return _csv(f"{QUOTE_HEADER}\n{row}\n")
        local = security.last_trade().astimezone(STOOQ_ZONE)
        day = trading_days(1, local.date())[0]
        if day != local.date():
            # A weekend shows Friday's last quote, stamped at New York's close.
            local = datetime.combine(day, WEEKEND_STAMP, STOOQ_ZONE)
        price, name = security.price, security.name or symbol.upper()
        row = f"{symbol.upper()},{day},{local:%H:%M:%S},{price},{price},{price},{price},1000,{name}"
        return _csv(f"{QUOTE_HEADER}\n{row}\n")

    async def _history(self, request: web.Request) -> web.Response:
        symbol = request.query.get("s", "")
        failure = self.failure_for(symbol)
        if (early := await self._failure(failure)) is not None:
            return early
        security = self.lookup(symbol)
        if security is None or failure == "unknown":
            return _csv("No data")
        closes = security.closes()
        days = trading_days(len(closes), security.last_trade().astimezone(STOOQ_ZONE).date())
        rows = [f"{day},{close},{close},{close},{close},1000" for day, close in zip(days, closes, strict=True)]
        return _csv("\n".join([HISTORY_HEADER, *rows]) + "\n")

    async def _failure(self, failure: Failure | None) -> web.Response | None:
        await self.maybe_slow(failure)
        if failure == "html":
            return web.Response(text=HTML_PAGE, content_type="text/html")
        if failure == "limit":
            return web.Response(text=LIMIT_TEXT, content_type="text/plain")
        if failure == "429":
            return web.Response(status=429, text="Too Many Requests")
        if failure == "500":
            return web.Response(status=500, text=HTML_PAGE, content_type="text/html")
        if failure == "malformed":
            return _csv("Symbol;Data;Czas\nAAPL.US;2024")
        if failure == "empty":
            return _csv("")
        return None


def _csv(body: str) -> web.Response:
    return web.Response(text=body, content_type="text/csv", headers={"Content-Disposition": "attachment"})
