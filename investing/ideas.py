"""Opening a trade idea at the quote of the moment, and the words of its card and of its outcome."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from core.commands import IdeaSpec
from core.errors import ChatError
from core.models import iso
from core.trading import IDEA_DAYS, Idea, text
from investing.alerts import level
from quotes import QuoteService, parse_code

OUTCOMES = {"target_hit": "target hit", "stopped": "stopped out", "expired": "expired"}


async def open_idea(
    quotes: QuoteService, idea_id: str, author: str, channel: str, spec: IdeaSpec, *, now: datetime
) -> Idea:
    """The idea entered at the quote now. Raises QuoteError when the code cannot be quoted, ChatError
    stale_quote when the last trade is older than a session (nobody could trade at it), invalid_idea when
    the target or stop lies on the wrong side of the entry."""
    instrument = parse_code(spec.symbol)
    quote = await quotes.get(instrument.code)
    if quote.stale:
        raise ChatError(
            "stale_quote", f"{instrument.code} has not traded since {quote.as_of_local or quote.as_of}; "
            "ideas open at a live price", 409,
        )  # fmt: skip
    entry = Decimal(quote.price)
    _check_levels(spec, entry, lambda amount: level(instrument, amount, quote.currency))
    return Idea(
        id=idea_id,
        author=author,
        channel=channel,
        side=spec.side,
        symbol=instrument.code,
        currency=quote.currency,
        entry=quote.price,
        target=None if spec.target is None else text(spec.target),
        stop=None if spec.stop is None else text(spec.stop),
        opened_at=iso(now),
        expires_at=iso(now + timedelta(days=spec.days or IDEA_DAYS)),
    )


def _check_levels(spec: IdeaSpec, entry: Decimal, words: Callable[[Decimal], str]) -> None:
    above, below = ("target", "stop") if spec.side == "long" else ("stop", "target")
    high = spec.target if spec.side == "long" else spec.stop
    low = spec.stop if spec.side == "long" else spec.target
    if high is not None and high <= entry:
        raise ChatError("invalid_idea", f"A {spec.side} idea's {above} must be above the entry, {words(entry)}")
    if low is not None and low >= entry:
        raise ChatError("invalid_idea", f"A {spec.side} idea's {below} must be below the entry, {words(entry)}")


def card_text(idea: Idea) -> str:
    """The card's text, what a client without cards shows: `alice: long AAPL.US at $93.42, target $100.00,
    stop $90.00, until 2026-12-10`, and the outcome once closed."""
    instrument = parse_code(idea.symbol)

    def shown(amount: str) -> str:
        return level(instrument, Decimal(amount), idea.currency)

    parts = [f"{idea.author}: {idea.side} {idea.symbol} at {shown(idea.entry)}"]
    if idea.target is not None:
        parts.append(f"target {shown(idea.target)}")
    if idea.stop is not None:
        parts.append(f"stop {shown(idea.stop)}")
    parts.append(f"until {idea.expires_at[:10]}")
    line = ", ".join(parts)
    if idea.status != "open" and idea.exit is not None:
        line += f" · {OUTCOMES[idea.status]} at {shown(idea.exit)} ({_signed(idea.return_pct)}%)"
    return line


def closed_text(idea: Idea) -> str:
    """The author's notification: `Your long AAPL.US idea: target hit at $100.20 (+7.26%)`."""
    instrument = parse_code(idea.symbol)
    exit_price = level(instrument, Decimal(idea.exit or idea.entry), idea.currency)
    return f"Your {idea.side} {idea.symbol} idea: {OUTCOMES[idea.status]} at {exit_price} ({_signed(idea.return_pct)}%)"


def _signed(pct: str | None) -> str:
    return "0.00" if pct is None else pct if pct.startswith("-") else f"+{pct}"
