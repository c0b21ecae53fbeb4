"""Turn an Instrument and its Quote into the one-line chat reply the bot posts."""

from __future__ import annotations

from decimal import Decimal

from bot.quotes.symbols import Instrument
from core.models import Quote

MIN_PLACES = 2


def format_reply(instrument: Instrument, quote: Quote) -> str:
    """`AAPL.US quote is $93.42 per share`, `^SPX is at 5,123.40 points`, `EURUSD is at 1.0842`."""
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
