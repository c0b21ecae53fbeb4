"""Turn an Instrument and its Quote into the one-line chat reply the bot posts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.models import Quote
from quotes.symbols import Instrument

MIN_PLACES = 2


def format_reply(instrument: Instrument, quote: Quote) -> str:
    """`AAPL.US quote is $93.42 per share`, `^SPX is at 5,123.40 points`, `EURUSD is at 1.0842`,
    followed by a stale-data label when the quote is older than one trading session."""
    line = format_price(instrument, quote)
    if quote.stale:
        line += f" (stale: last traded {format_local_time(quote)})"
    return line


def format_local_time(quote: Quote) -> str:
    """`Thu 26 Nov 16:00 EST`: the quote's time on its exchange's clock."""
    moment = datetime.fromisoformat(quote.as_of)
    if quote.exchange_tz:
        moment = moment.astimezone(ZoneInfo(quote.exchange_tz))
    return f"{moment:%a %d %b %H:%M} {moment.tzname()}"


def format_price(instrument: Instrument, quote: Quote) -> str:
    price = Decimal(quote.price)
    if instrument.kind == "share":
        return f"{instrument.code} quote is {format_money(price, quote.currency)} per share"
    if instrument.kind == "index":
        return f"{instrument.code} is at {format_number(price)} points"
    if instrument.kind == "fx":
        return f"{instrument.code} is at {format_number(price)}"
    return f"{instrument.code} is at {format_money(price, quote.currency)}"


def format_money(amount: Decimal, currency: str) -> str:
    if currency.upper() == "USD":
        return f"${format_number(amount)}" if amount >= 0 else f"-${format_number(-amount)}"
    return f"{format_number(amount)} {currency}"


def format_number(amount: Decimal) -> str:
    """Thousands separators and the provider's own precision, but never fewer than two places."""
    exponent = amount.as_tuple().exponent
    places = max(MIN_PLACES, -exponent if isinstance(exponent, int) else 0)
    return f"{amount:,.{places}f}"
