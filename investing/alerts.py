"""Setting a price alert (REST and /alert alike) and the words that tell its owner it fired."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from core.commands import AlertSpec
from core.errors import ChatError
from core.models import iso, ordered_id
from core.store import Store
from core.trading import ALERT_DAYS, MAX_ACTIVE_ALERTS, Alert, alert_crossed, text
from quotes import QuoteService, parse_code
from quotes.format import format_money, format_number
from quotes.symbols import Instrument


async def create_alert(
    store: Store,
    quotes: QuoteService,
    user: str,
    spec: AlertSpec,
    *,
    channel: str | None,
    now: datetime,
    alert_id: str | None = None,
) -> Alert:
    """Store `user`'s new alert, priced against the quote now (through the shared cache). Raises QuoteError
    when the code is not one or cannot be quoted, ChatError already_crossed when the price is already past
    the level, too_many_alerts past MAX_ACTIVE_ALERTS. `alert_id` keys an alert set by a command, so the
    command handled again after a crash stores no second one."""
    instrument = parse_code(spec.symbol)
    quote = await quotes.get(instrument.code)
    price = Decimal(quote.price)
    alert = Alert(
        id=alert_id or ordered_id(now.timestamp()),
        user=user,
        symbol=instrument.code,
        op=spec.op,
        value=text(spec.value),
        created_price=quote.price,
        currency=quote.currency,
        created_at=iso(now),
        expires_at=iso(now + timedelta(days=spec.days or ALERT_DAYS)),
        channel=channel,
    )
    if spec.op != "move_pct" and alert_crossed(alert, price):
        where = "above" if spec.op == "above" else "below"
        raise ChatError(
            "already_crossed",
            f"{instrument.code} is already {where} {level(instrument, spec.value, quote.currency)} "
            f"(at {level(instrument, price, quote.currency)}); pick a level it has yet to reach",
            409,
        )
    if not await store.add_alert(alert, max_active=MAX_ACTIVE_ALERTS):
        raise ChatError(
            "too_many_alerts", f"You have {MAX_ACTIVE_ALERTS} active alerts; cancel one to set another", 409
        )
    return alert


def level(instrument: Instrument, amount: Decimal, currency: str) -> str:
    """A price as the bot words it: $200.00, 72.50 GBX, 5,000.00 points for an index, 1.0842 for fx."""
    if instrument.kind == "index":
        return f"{format_number(amount)} points"
    if instrument.kind == "fx":
        return format_number(amount)
    return format_money(amount, currency)


def describe(alert: Alert) -> str:
    """`AAPL.US above $200.00`, `VOD.UK moves 5%`."""
    instrument = parse_code(alert.symbol)
    if alert.op == "move_pct":
        start = level(instrument, Decimal(alert.created_price), alert.currency)
        return f"{alert.symbol} moves {alert.value}% from {start}"
    return f"{alert.symbol} {alert.op} {level(instrument, Decimal(alert.value), alert.currency)}"


def fired_text(alert: Alert) -> str:
    """The notification's words: `Alert: AAPL.US above $200.00, now $201.50`."""
    instrument = parse_code(alert.symbol)
    now = level(instrument, Decimal(alert.triggered_price or alert.created_price), alert.currency)
    return f"Alert: {describe(alert)}, now {now}"
