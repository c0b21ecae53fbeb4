"""Small local HTTP servers speaking the quote providers' real wire formats, for tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from aiohttp import web
from aiohttp.typedefs import Handler

Failure = Literal["unknown", "html", "limit", "429", "500", "slow", "malformed", "empty"]
MarketState = Literal["open", "closed", "pre-market", "after-hours"]
SERIES_POINTS = 30


@dataclass
class Security:
    """One instrument a fake provider knows; prices are decimal strings, as on the wire."""

    price: str
    previous_close: str | None = None
    name: str = ""
    currency: str = "USD"
    timezone: str = "America/New_York"
    kind: str = "EQUITY"  # Yahoo's instrumentType: EQUITY, INDEX, CRYPTOCURRENCY, CURRENCY, FUTURE
    market_state: MarketState = "open"
    series: list[str] | None = None  # daily closes, oldest first, the last being `price`
    as_of: datetime | None = None  # time of the last trade; None means a minute ago

    def closes(self) -> list[str]:
        """The daily closes: the given series, or a gentle rise to previous_close then price."""
        if self.series is not None:
            return list(self.series)
        previous = Decimal(self.previous_close or self.price)
        step = previous * Decimal("0.002")
        earlier = [previous - step * n for n in range(SERIES_POINTS - 2, 0, -1)]
        places = Decimal(self.price).as_tuple().exponent
        assert isinstance(places, int)
        return [str(value.quantize(Decimal(1).scaleb(places))) for value in earlier] + [
            str(previous),
            self.price,
        ]

    def last_trade(self) -> datetime:
        return self.as_of or datetime.now(UTC) - timedelta(minutes=1)


def trading_days(count: int, last: date) -> list[date]:
    """`count` weekdays ending at `last` (or the weekday before it), oldest first."""
    days: list[date] = []
    day = last
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


@dataclass
class FakeProvider:
    """The controllable state and lifecycle both fakes share; subclasses add the routes."""

    securities: dict[str, Security] = field(default_factory=dict)
    failures: dict[str | None, Failure] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)  # path?query of every request, in order
    slow_seconds: float = 3.0
    _runner: web.AppRunner | None = None
    _port: int = 0

    def __post_init__(self) -> None:
        self.reset()

    def defaults(self) -> dict[str, Security]:
        """The instruments a fresh fake knows, keyed by lower-cased provider symbol."""
        raise NotImplementedError

    def reset(self) -> None:
        """Back to the default instruments, no failures and no recorded requests."""
        self.securities = self.defaults()
        self.failures.clear()
        self.requests.clear()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def set_symbol(self, symbol: str, price: str, **fields: object) -> Security:
        """Add or replace `symbol` (the provider's own form, any case) at `price`."""
        security = Security(price=price, **fields)  # type: ignore[arg-type]
        self.securities[symbol.lower()] = security
        return security

    def remove_symbol(self, symbol: str) -> None:
        self.securities.pop(symbol.lower(), None)

    def fail(self, failure: Failure | None, *, symbol: str | None = None) -> None:
        """Make every request (or only `symbol`'s) fail this way; None heals it."""
        key = None if symbol is None else symbol.lower()
        if failure is None:
            self.failures.pop(key, None)
        else:
            self.failures[key] = failure

    def failure_for(self, symbol: str) -> Failure | None:
        return self.failures.get(symbol.lower()) or self.failures.get(None)

    def lookup(self, symbol: str) -> Security | None:
        return self.securities.get(symbol.lower())

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    async def start(self) -> None:
        app = web.Application(middlewares=[self._record])
        app.add_routes(self.routes())
        # A slow answer must not hold the test's teardown hostage.
        self._runner = web.AppRunner(app, shutdown_timeout=0.1, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def maybe_slow(self, failure: Failure | None) -> None:
        if failure == "slow":
            await asyncio.sleep(self.slow_seconds)

    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests.append(request.path_qs)
        return await handler(request)


HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>Temporarily unavailable</title></head>"
    "<body><p>Please try again later.</p></body></html>"
)
