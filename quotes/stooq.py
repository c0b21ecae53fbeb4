"""The stooq provider: the latest-quote and daily-history CSVs over one aiohttp session."""

from __future__ import annotations

import csv
import logging
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import aiohttp

from core.models import Quote, iso
from quotes.errors import QuoteError
from quotes.market import market_state
from quotes.numbers import change_vs, text, to_decimal
from quotes.symbols import Instrument

logger = logging.getLogger(__name__)

QUOTE_HEADER = ["Symbol", "Date", "Time", "Open", "High", "Low", "Close", "Volume", "Name"]
SERIES_POINTS = 30
# stooq stamps its quotes in its own (Polish) local time.
STOOQ_ZONE = ZoneInfo("Europe/Warsaw")
MISSING = "N/D"


class StooqProvider:
    """Quotes from stooq.com's CSV endpoints; owns its ClientSession, closed by `aclose`."""

    name = "stooq"

    def __init__(self, base_url: str, timeout: float) -> None:
        self._base = base_url.rstrip("/")
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout), raise_for_status=False)

    async def aclose(self) -> None:
        await self._session.close()

    async def fetch(self, instrument: Instrument) -> Quote:
        symbol = instrument.stooq_symbol
        if symbol is None:
            raise QuoteError("unknown_symbol", f"stooq does not list {instrument.code}")
        encoded = quote(symbol, safe="")
        # One after the other: an unknown symbol then costs a single request.
        row = _latest_row(await self._csv("/q/l/", f"s={encoded}&f=sd2t2ohlcvn&h&e=csv"), instrument)
        history = await self._csv("/q/d/l/", f"s={encoded}&i=d")
        price = to_decimal(row["Close"])
        as_of = _stooq_time(row["Date"], row["Time"])
        # Days before the quote's are history; the quote itself is today's point, traded or not.
        earlier = [close for day, close in _daily_closes(history) if day < row["Date"]]
        previous = earlier[-1] if earlier else None
        series = [*earlier, price][-SERIES_POINTS:]
        change, change_pct = change_vs(price, previous)
        return Quote(
            symbol=instrument.code,
            name=row["Name"] or None,
            price=text(price),
            currency=instrument.currency or "USD",
            change=change,
            change_pct=change_pct,
            as_of=iso(as_of),
            market_state=market_state(instrument, datetime.now(UTC)),
            source="stooq",
            series=[text(close) for close in series],
        )

    async def _csv(self, path: str, query: str) -> str:
        """The body of a stooq CSV answer; anything that is not CSV is the provider's fault."""
        try:
            async with self._session.get(f"{self._base}{path}?{query}") as response:
                body = await response.text(errors="replace")
        except TimeoutError:
            raise QuoteError("timeout", "stooq took too long to answer") from None
        except aiohttp.ClientError as exc:
            logger.warning("stooq unreachable: %r", exc, extra={"path": path})
            raise QuoteError("provider_error", "stooq is not answering") from None
        if response.status != 200:
            logger.warning("stooq answered %s", response.status, extra={"path": path})
            raise QuoteError("provider_error", f"stooq answered HTTP {response.status}")
        if "Exceeded the daily hits limit" in body:
            logger.warning("stooq daily hits limit reached", extra={"path": path})
            raise QuoteError("provider_error", "stooq's daily limit is reached, try again tomorrow")
        if body.lstrip().startswith("<"):
            # stooq serves an HTML page with status 200 when it is unhappy.
            logger.warning("stooq answered HTML", extra={"path": path})
            raise QuoteError("provider_error", "stooq is not answering properly")
        return body


def _latest_row(body: str, instrument: Instrument) -> dict[str, str]:
    rows = list(csv.reader(body.splitlines()))
    if len(rows) < 2 or rows[0] != QUOTE_HEADER or len(rows[1]) != len(QUOTE_HEADER):
        raise QuoteError("provider_error", "stooq sent a malformed quote")
    row = dict(zip(QUOTE_HEADER, rows[1], strict=True))
    if row["Close"] == MISSING:
        raise QuoteError("unknown_symbol", f"stooq knows no {instrument.code}")
    return row


def _daily_closes(body: str) -> list[tuple[str, Decimal]]:
    """(ISO date, close) pairs, oldest first; `No data` is an empty history, not an error."""
    if body.strip() == "No data":
        return []
    reader = csv.DictReader(body.splitlines())
    if not reader.fieldnames or "Date" not in reader.fieldnames or "Close" not in reader.fieldnames:
        raise QuoteError("provider_error", "stooq sent a malformed price history")
    return [(row["Date"], to_decimal(row["Close"])) for row in reader if row["Date"] and row["Close"]]


def _stooq_time(day: str, clock: str) -> datetime:
    try:
        local = datetime.fromisoformat(f"{day}T{clock}")
    except ValueError:
        raise QuoteError("provider_error", "stooq sent a malformed quote time") from None
    return local.replace(tzinfo=STOOQ_ZONE).astimezone(UTC)
