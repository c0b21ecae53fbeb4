"""The Yahoo Finance provider: yfinance's chart request and parsing, run off the event loop."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yfinance as yf
from curl_cffi import requests as curl_requests
from yfinance.exceptions import YFPricesMissingError, YFRateLimitError

from core.fastpaths import FastPath, is_on, resolve
from core.models import Quote, iso
from quotes.errors import QuoteError
from quotes.market import market_state
from quotes.numbers import change_vs, text, to_decimal
from quotes.symbols import Instrument

logger = logging.getLogger(__name__)
THREAD_GRACE = 1.0  # seconds yfinance's own HTTP timeout runs past the caller's

DEFAULT_URL = "https://query2.finance.yahoo.com"
SERIES_POINTS = 30
# Yahoo quotes some markets in minor units with odd codes; name them as stooq and traders do.
_MINOR_UNITS = {"GBp": "GBX", "ZAc": "ZAC", "ILA": "ILA"}
_STATES = {"pre": "pre-market", "regular": "open", "post": "after-hours"}
CHART_ONLY = FastPath(
    name="yfinance-chart-only",
    gain="one chart request per quote: Ticker.history first looks up the time zone, which for an unknown "
    "symbol fails with an HTTP 404 that reads as an outage (the chart's meta carries the zone; "
    "docs/performance.md#quotes)",
    versions={"yfinance": "1.7.0"},
    attributes=(
        "yfinance.scrapers.history:PriceHistory.history",
        "yfinance.scrapers.history:PriceHistory.get_history_metadata",
        "yfinance.data:YfData",
    ),
    sources={
        "yfinance.scrapers.history:PriceHistory.__init__": "484b030d3e2f6f7a",
        "yfinance.base:TickerBase.history": "4f2adf23079bd67a",
        "yfinance.data:YfData.__init__": "b6690c82ef0616da",
    },
)


class YahooSession(curl_requests.Session):  # type: ignore[type-arg]
    """yfinance's own HTTP session, sending every *.yahoo.com request to `base_url` instead.

    yfinance builds its URLs from constants copied into several modules and hard-codes the
    cookie and crumb hosts (fc.yahoo.com, query1/query2 getcrumb), so patching constants would
    miss some. Rewriting at the session, which yfinance accepts as a public `session=` argument,
    redirects all of them in one place and leaves yfinance's logic untouched.
    """

    def __init__(self, base_url: str) -> None:
        super().__init__(impersonate="chrome")
        base = urlsplit(base_url.rstrip("/"))
        self._base = None if base_url.rstrip("/") == DEFAULT_URL else base

    def request(self, method: Any, url: str, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(url)
        if self._base is not None and (parts.hostname or "").endswith("yahoo.com"):
            url = urlunsplit(
                (
                    self._base.scheme,
                    self._base.netloc,
                    self._base.path + parts.path,
                    parts.query,
                    "",
                )
            )
        return super().request(method, url, *args, **kwargs)


class YahooProvider:
    """Quotes from Yahoo's chart endpoint; one curl session, closed by `aclose`."""

    name = "yahoo"

    def __init__(self, base_url: str, timeout: float) -> None:
        # yfinance swallows and logs errors unless told otherwise; we want them raised.
        yf.config.debug.hide_exceptions = False
        # yfinance trips pandas deprecations we cannot fix; under -W error (the test suite) they
        # would turn every quote into a failure, so they are silenced for yfinance's code only.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"yfinance(\.|$)")
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"yfinance(\.|$)")
        self._session = YahooSession(base_url)
        self._timeout = timeout

    async def aclose(self) -> None:
        await asyncio.to_thread(self._session.close)

    async def fetch(self, instrument: Instrument) -> Quote:
        if instrument.yahoo_symbol is None:
            raise QuoteError("unknown_symbol", f"Yahoo does not list {instrument.code}")
        try:
            # A thread cannot be cancelled: yfinance's own timeout bounds how long it lingers.
            return await asyncio.wait_for(
                asyncio.to_thread(self._fetch_sync, instrument, instrument.yahoo_symbol),
                self._timeout,
            )
        except TimeoutError:
            raise QuoteError("timeout", "Yahoo Finance took too long to answer") from None

    def _fetch_sync(self, instrument: Instrument, symbol: str) -> Quote:
        # yfinance's PriceHistory is what Ticker.history runs, minus Ticker's first step: a
        # separate time zone lookup which, for an unknown symbol, falls back to quoteSummary and
        # fails with an HTTP 404 that would look like an outage. The chart's meta carries the zone.
        history: Any
        if is_on(CHART_ONLY):
            price_history: Any = resolve("yfinance.scrapers.history:PriceHistory")
            data: Any = resolve("yfinance.data:YfData")
            history = price_history(data(session=self._session), symbol, tz=None, session=self._session)
        else:
            history = yf.Ticker(symbol, session=self._session)
        try:
            # a little past the caller's bound: a slow Yahoo is reported as too slow by that bound, not as
            # whatever half an answer yfinance makes of its own timeout (under load it could win the race)
            frame = history.history(
                period="3mo", interval="1d", auto_adjust=False, actions=False, timeout=self._timeout + THREAD_GRACE
            )
            meta = history.get_history_metadata()
            closes = [to_decimal(float(value)) for value in frame["Close"].dropna().tolist()]
            return _quote(instrument, meta, closes)
        except QuoteError:
            raise
        except YFPricesMissingError as exc:
            raise QuoteError("unknown_symbol", f"Yahoo Finance knows no {instrument.code}") from exc
        except YFRateLimitError as exc:
            raise QuoteError("provider_error", "Yahoo Finance is rate limiting us") from exc
        except Exception as exc:
            if "timeout" in type(exc).__name__.lower():
                raise QuoteError("timeout", "Yahoo Finance took too long to answer") from exc
            logger.warning("yahoo failed for %s: %r", symbol, exc, extra={"symbol": symbol})
            raise QuoteError("provider_error", "Yahoo Finance is not answering properly") from exc


def _quote(instrument: Instrument, meta: Mapping[str, Any], closes: list[Decimal]) -> Quote:
    if meta.get("regularMarketPrice") is None:
        raise QuoteError("provider_error", "Yahoo Finance sent a quote without a price")
    price = to_decimal(meta["regularMarketPrice"])
    previous = meta.get("previousClose")
    if previous is None:
        # A daily chart's last bar is the latest session; the bar before it is the previous close.
        previous = closes[-2] if len(closes) >= 2 else meta.get("chartPreviousClose")
    change, change_pct = change_vs(price, None if previous is None else to_decimal(previous))
    currency = str(meta.get("currency") or instrument.currency or "USD")
    now = datetime.now(UTC)
    traded: Any = meta.get("regularMarketTime")  # yfinance makes Yahoo's epoch seconds a Timestamp
    as_of = traded.to_pydatetime() if hasattr(traded, "to_pydatetime") else now
    return Quote(
        symbol=instrument.code,
        name=meta.get("longName") or meta.get("shortName"),
        price=text(price),
        currency=_MINOR_UNITS.get(currency, currency),
        change=change,
        change_pct=change_pct,
        as_of=iso(as_of),
        market_state=_trading_state(meta, now) or market_state(instrument, now),
        source="yahoo",
        series=[text(close) for close in closes[-SERIES_POINTS:]],
        exchange_tz=zone if isinstance(zone := meta.get("exchangeTimezoneName"), str) else None,
    )


def _trading_state(meta: Mapping[str, Any], now: datetime) -> str | None:
    """Where `now` falls in Yahoo's currentTradingPeriod (yfinance makes its bounds Timestamps)."""
    periods = meta.get("currentTradingPeriod")
    if not isinstance(periods, Mapping):
        return None
    for period, state in _STATES.items():
        bounds = periods.get(period)
        if isinstance(bounds, Mapping) and bounds["start"] <= now < bounds["end"]:
            return state
    return "closed"
