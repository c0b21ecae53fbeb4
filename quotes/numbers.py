"""Decimal helpers shared by the providers: exact prices, change and change percent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from quotes.errors import QuoteError

_PCT = Decimal("0.01")


def to_decimal(value: object) -> Decimal:
    """A provider's number as a Decimal; floats go through repr, the shortest exact text."""
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        raise QuoteError("provider_error", "The quote provider sent a malformed price") from None
    if not number.is_finite():
        raise QuoteError("provider_error", "The quote provider sent a malformed price")
    return number


def text(value: Decimal) -> str:
    """Plain notation, never 1E+3."""
    return format(value, "f")


def change_vs(price: Decimal, previous: Decimal | None) -> tuple[str | None, str | None]:
    """(change, change_pct) against the previous close, or (None, None) when there is none."""
    if previous is None or previous == 0:
        return None, None
    change = price - previous
    # Half up, as people round: 2.625 % is 2.63 %, not the bankers' 2.62 %.
    return text(change), text((change * 100 / previous).quantize(_PCT, ROUND_HALF_UP))
