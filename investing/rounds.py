"""One evaluation round's work, symbol by symbol, and the order in which upstream is asked for quotes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from core.trading import Alert, Idea, alert_distance

NEVER = Decimal("Infinity")  # an idea with neither target nor stop only waits for its horizon


@dataclass
class SymbolWork:
    """The active alerts and open ideas of one symbol: all of them are checked against one quote."""

    symbol: str
    alerts: list[Alert] = field(default_factory=list)
    ideas: list[Idea] = field(default_factory=list)

    def distance(self, price: Decimal | None, now: datetime) -> Decimal:
        """How near the nearest alert or idea of the symbol is to firing or closing at `price`, as a fraction
        of it (0: it would); without a price, each from the price it was set at (its own created price or
        entry), which is what is known of a symbol the engine has not quoted yet."""
        nearest = NEVER
        for alert in self.alerts:
            nearest = min(nearest, alert_distance(alert, price or Decimal(alert.created_price)))
        for idea in self.ideas:
            nearest = min(nearest, idea_distance(idea, price or Decimal(idea.entry), now))
        return nearest


def idea_distance(idea: Idea, price: Decimal, now: datetime) -> Decimal:
    """How far `price` is from the idea's nearer level (target or stop) as a fraction of the price; 0 once it is
    past its horizon (it closes at the next quote)."""
    if past(idea.expires_at, now):
        return Decimal(0)
    levels = [Decimal(level) for level in (idea.target, idea.stop) if level is not None]
    if not levels or price <= 0:
        return NEVER
    return min(abs(level - price) for level in levels) / price


def grouped(alerts: list[Alert], ideas: list[Idea]) -> dict[str, SymbolWork]:
    works: dict[str, SymbolWork] = {}
    for alert in alerts:
        works.setdefault(alert.symbol, SymbolWork(alert.symbol)).alerts.append(alert)
    for idea in ideas:
        works.setdefault(idea.symbol, SymbolWork(idea.symbol)).ideas.append(idea)
    return works


def asking_order(works: list[SymbolWork], seen: dict[str, Decimal], now: datetime) -> list[SymbolWork]:
    """The order to ask upstream in when the budget may run short: symbols the engine has never quoted
    first (nothing is known of where they went since their alerts were set), then the rest; each group by
    its nearest alert or idea."""
    return sorted(works, key=lambda work: (work.symbol in seen, work.distance(seen.get(work.symbol), now)))


def past(at: str, now: datetime) -> bool:
    """Whether the ISO time `at` has come."""
    return datetime.fromisoformat(at) <= now
