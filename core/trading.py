"""Investor tools' data (docs/protocol.md#investor-tools): price alerts and trade ideas, prices as decimal strings."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from core.errors import ChatError

AlertOp = Literal["above", "below", "move_pct"]
AlertStatus = Literal["active", "triggered", "expired", "cancelled"]
IdeaSide = Literal["long", "short"]
IdeaStatus = Literal["open", "target_hit", "stopped", "expired"]

MAX_WATCHLIST = 50
MAX_ACTIVE_ALERTS = 20  # per user
ALERT_DAYS = 30  # an alert's life unless `days` says otherwise
MAX_ALERT_DAYS = 365
IDEA_DAYS = 5
MAX_IDEA_DAYS = 90
ALERT_KEY = "alert:"  # a fired alert's notification key: ALERT_KEY + the alert's id
IDEA_KEY = "idea:"  # a closed idea's notification key


class Alert(BaseModel):
    """One user's price alert. `value` is a price in the instrument's quote currency (pence for London
    shares, points for indices) or, for `move_pct`, a percentage against `created_price`. `channel` is
    where it was set (None from REST); `wire()` leaves out `user`. Whether its notification went out is
    the store's to know (Store.undelivered_alerts)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    user: str
    symbol: str  # the instrument's code as parse_code gives it: AAPL.US, VOD.UK, ^SPX, BTC-USD
    op: AlertOp
    value: str
    created_price: str
    currency: str
    status: AlertStatus = "active"
    created_at: str
    expires_at: str
    triggered_at: str | None = None
    triggered_price: str | None = None
    channel: str | None = None

    def wire(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, exclude={"user"})


class Idea(BaseModel):
    """A trade idea tracked to its outcome. `id` is also the id of its card, the StockBot message that
    carries it in `channel`. `entry` and `exit` are quotes seen at opening and closing, in `currency`;
    `return_pct` is signed as the side earns (a short gains when the price falls). Whether its card was
    updated and its author told after it closed is the store's to know (Store.undelivered_ideas)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    author: str
    channel: str
    side: IdeaSide
    symbol: str
    currency: str
    entry: str
    target: str | None = None
    stop: str | None = None
    opened_at: str
    expires_at: str
    status: IdeaStatus = "open"
    exit: str | None = None
    closed_at: str | None = None
    return_pct: str | None = None

    def wire(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class Scorecard(BaseModel):
    """A caller's record over the ideas the reader may see: `hit_rate` is the fraction (0-1) of closed
    ideas that hit their target, `avg_return_pct` the mean return of closed ideas (None while none closed)."""

    ideas: int
    closed: int
    hit_rate: float | None
    avg_return_pct: str | None


MAX_PLACES = 8  # decimal places a price or percentage may have (crypto quotes carry up to 8)
MAX_DIGITS = 18
MAX_MOVE_PCT = Decimal(1000)
_PCT = Decimal("0.01")
_AMOUNT = re.compile(r"^\$?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?%?$")


def parse_amount(text: str, what: str) -> Decimal:
    """A positive price or percentage as a user writes it ("200", "$1,234.50", "5%"), exactly; ChatError
    invalid_amount saying what is wrong otherwise."""
    cleaned = text.strip()
    if not _AMOUNT.match(cleaned):
        raise ChatError("invalid_amount", f"{what} must be a number like 200 or 187.5, not {cleaned[:20]!r}")
    number = Decimal(cleaned.strip("$%").replace(",", ""))
    exponent = number.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if number <= 0 or places > MAX_PLACES or len(number.as_tuple().digits) > MAX_DIGITS:
        raise ChatError("invalid_amount", f"{what} must be above 0 with at most {MAX_PLACES} decimal places")
    return number


def text(value: Decimal) -> str:
    """Plain notation, never 1E+3."""
    return format(value, "f")


def percent(part: Decimal, whole: Decimal) -> Decimal:
    """part / whole in percent, to two places, half up as people round."""
    return (part * 100 / whole).quantize(_PCT, ROUND_HALF_UP)


def return_pct(side: IdeaSide, entry: Decimal, exit_price: Decimal) -> Decimal:
    """What the idea earned, in percent of the entry: a long gains as the price rises, a short as it falls."""
    gain = exit_price - entry if side == "long" else entry - exit_price
    return percent(gain, entry)


def alert_crossed(alert: Alert, price: Decimal) -> bool:
    """Whether `price` fires the alert: at or past its level, or moved by at least `value` percent (either
    way) from the price when it was set."""
    value = Decimal(alert.value)
    if alert.op == "above":
        return price >= value
    if alert.op == "below":
        return price <= value
    created = Decimal(alert.created_price)
    return created != 0 and abs(price - created) * 100 / created >= value


def alert_distance(alert: Alert, price: Decimal) -> Decimal:
    """How far `price` is from firing the alert, as a fraction of the price (0 when it would fire): the
    evaluator asks upstream first for the symbols with the nearest alerts."""
    if price <= 0 or alert_crossed(alert, price):
        return Decimal(0)
    value = Decimal(alert.value)
    if alert.op in ("above", "below"):
        return abs(value - price) / price
    created = Decimal(alert.created_price)
    return max(Decimal(0), value / 100 - abs(price - created) / created)


def idea_outcome(idea: Idea, price: Decimal) -> IdeaStatus | None:
    """target_hit or stopped when `price` reaches the idea's target or stop, else None."""
    long = idea.side == "long"
    if idea.target is not None and (price >= Decimal(idea.target) if long else price <= Decimal(idea.target)):
        return "target_hit"
    if idea.stop is not None and (price <= Decimal(idea.stop) if long else price >= Decimal(idea.stop)):
        return "stopped"
    return None


def closed(idea: Idea, status: IdeaStatus, price: Decimal, at: str) -> Idea:
    """The idea closed at `price`: its exit, time and return."""
    pct = return_pct(idea.side, Decimal(idea.entry), price)
    return idea.model_copy(update={"status": status, "exit": text(price), "closed_at": at, "return_pct": text(pct)})


def scorecard(ideas: list[Idea]) -> Scorecard:
    """The record of these ideas: how many, how many closed, the share of closed ones that hit the target,
    and their mean return."""
    done = [i for i in ideas if i.status != "open" and i.return_pct is not None]
    hits = sum(1 for i in done if i.status == "target_hit")
    mean = sum((Decimal(i.return_pct or 0) for i in done), Decimal(0)) / len(done) if done else None
    return Scorecard(
        ideas=len(ideas),
        closed=len(done),
        hit_rate=round(hits / len(done), 4) if done else None,
        avg_return_pct=None if mean is None else text(mean.quantize(_PCT, ROUND_HALF_UP)),
    )
