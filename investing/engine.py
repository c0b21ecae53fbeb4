"""The alert engine: checks every active price alert and open trade idea once per CHAT_ALERT_INTERVAL across all
bot replicas, fires and closes them exactly once (the store's compare-and-set picks the one winner) and
delivers what it fired (docs/architecture.md, "Investor tools: alerts and ideas, exactly once")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from core.bus import Cache, Posting, RateLimits
from core.models import Quote, iso, utcnow
from core.settings import Settings
from core.store import Store
from core.trading import Alert, Idea, IdeaStatus, alert_crossed, closed, idea_outcome
from core.worker import StepCounter, run_steps
from investing.delivery import Whisper, deliver_alert, deliver_idea
from investing.rounds import SymbolWork, asking_order, grouped, past
from quotes import QuoteError, QuoteService

logger = logging.getLogger(__name__)
ROUND_KEY = "alerts:round"  # the bus's token bucket that hands out one round per interval among replicas
TICK = 5.0  # seconds between asks for the round's token: a round starts at most this late
CONCURRENCY = 16  # upstream calls in flight at once
# seconds after firing before a row still undelivered counts as left behind by a crash, so a round never
# delivers again what another replica's round is delivering right now
DELIVERY_GRACE = 10.0


class EngineBus(Posting, RateLimits, Protocol):
    """What the engine uses of the bus: the round's shared token, idea card changes, notices to the nodes."""


@dataclass
class RoundStats:
    """What one round did: `upstream` counts symbols asked upstream (never more than once each), `cached`
    those answered from the shared cache, `failed` those no quote could be had for, `skipped_budget` those
    left for the next round once the budget said busy; `closed` counts ideas closed (expiry included),
    `expired` alerts that ran out, `delivered` deliveries left behind by an earlier round and done now."""

    alerts: int = 0
    ideas: int = 0
    symbols: int = 0
    cached: int = 0
    upstream: int = 0
    failed: int = 0
    skipped_budget: int = 0
    fired: int = 0
    closed: int = 0
    expired: int = 0
    delivered: int = 0


def engine_quotes(settings: Settings, cache: Cache) -> QuoteService:
    """The engine's own QuoteService: the shared quote cache, and a budget of its own (CHAT_ALERT_BUDGET), so
    a round never leaves /stock without upstream calls."""
    return QuoteService.from_settings(settings.model_copy(update={"quote_budget": settings.alert_budget}), cache)


class AlertEngine:
    """Run by every bot replica (standalone: inside the node); `run` until stopped, or `evaluate_round` once."""

    def __init__(
        self,
        bus: EngineBus,
        store: Store,
        quotes: QuoteService,
        whisper: Whisper,
        *,
        interval: float,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.bus = bus
        self.store = store
        self.quotes = quotes
        self.whisper = whisper
        self.interval = interval
        self.clock = clock
        self.tick = min(TICK, interval / 4)
        self._seen: dict[str, Decimal] = {}  # the last price quoted per symbol: how near its alerts are

    async def run(self, stop: asyncio.Event, counter: StepCounter | None = None) -> None:
        """Ask for the round's token every tick and run a round when given it, until `stop`."""
        await run_steps(lambda: self._step(stop), stop, failed="alert round failed", log=logger, counter=counter)

    async def _step(self, stop: asyncio.Event) -> int:
        if not await self.bus.allow(ROUND_KEY, 1 / self.interval, 1):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.tick)
            return 0
        stats = await self.evaluate_round()
        busy = stats.fired or stats.closed or stats.failed or stats.skipped_budget or stats.delivered
        logger.log(logging.INFO if busy else logging.DEBUG, "alert round: %s", stats, extra=asdict(stats))
        return stats.fired + stats.closed

    async def evaluate_round(self) -> RoundStats:
        """One round: deliver what an earlier round left undelivered, then check every active alert and open
        idea against a quote of its symbol (cached ones first, then upstream nearest-first while the budget
        lasts), firing, closing and expiring them."""
        stats = RoundStats()
        stats.delivered = await self.deliver_pending()
        alerts = await self.store.active_alerts()
        ideas = await self.store.open_ideas()
        stats.alerts, stats.ideas = len(alerts), len(ideas)
        now = self.clock()
        works = grouped(await self._expire(alerts, now, stats), ideas)
        stats.symbols = len(works)
        to_ask = await self._from_cache(list(works.values()), stats)
        await self._from_upstream(asking_order(to_ask, self._seen, now), stats)
        self._seen = {symbol: price for symbol, price in self._seen.items() if symbol in works}
        return stats

    async def deliver_pending(self) -> int:
        """Deliver the fired alerts and closed ideas an earlier round (of any replica) left undelivered, by a
        crash or a failure, once DELIVERY_GRACE has passed since; how many were delivered."""
        now = self.clock()
        due = now - timedelta(seconds=DELIVERY_GRACE)
        delivered = 0
        for alert in await self.store.undelivered_alerts():
            if past(alert.triggered_at or alert.created_at, due):
                quote = await self._card_quote(alert.symbol)
                delivered += await self._deliver(deliver_alert(self.bus, self.store, self.whisper, alert, quote), alert)
        for idea in await self.store.undelivered_ideas():
            if past(idea.closed_at or idea.opened_at, due):
                delivered += await self._deliver(deliver_idea(self.bus, self.store, idea, now), idea)
        return delivered

    async def _expire(self, alerts: list[Alert], now: datetime, stats: RoundStats) -> list[Alert]:
        """The alerts still alive; those past their time become expired, telling nobody."""
        alive = []
        for alert in alerts:
            if not past(alert.expires_at, now):
                alive.append(alert)
            elif await self.store.settle_alert(alert.id, "expired", iso(now), None) is not None:
                stats.expired += 1
        return alive

    async def _from_cache(self, works: list[SymbolWork], stats: RoundStats) -> list[SymbolWork]:
        """Check the symbols whose quote is in the shared cache (free); the others, to ask upstream."""
        gate = asyncio.Semaphore(CONCURRENCY)
        to_ask: list[SymbolWork] = []

        async def check(work: SymbolWork) -> None:
            async with gate:
                try:
                    quote = await self.quotes.cached(work.symbol)
                except QuoteError:  # a code known to be unknown: nothing to check it against
                    stats.failed += 1
                    return
            if quote is None:
                to_ask.append(work)
                return
            stats.cached += 1
            await self._evaluate(work, quote, stats)

        await _each(check(work) for work in works)
        return to_ask

    async def _from_upstream(self, works: list[SymbolWork], stats: RoundStats) -> None:
        """Ask upstream for each symbol once, in the order given, until the budget says busy; the rest wait
        for the next round."""
        gate = asyncio.Semaphore(CONCURRENCY)  # waiters are let in first come, first served: in order
        busy = False

        async def ask(work: SymbolWork) -> None:
            nonlocal busy
            async with gate:
                if busy:
                    stats.skipped_budget += 1
                    return
                try:
                    quote = await self.quotes.get(work.symbol)
                except QuoteError as exc:
                    if exc.code == "busy":
                        busy = True
                        stats.skipped_budget += 1
                    else:  # a provider failure closes nothing: the symbol waits for the next round
                        stats.upstream += 1
                        stats.failed += 1
                    return
                stats.upstream += 1
            await self._evaluate(work, quote, stats)

        await _each(ask(work) for work in works)

    async def _evaluate(self, work: SymbolWork, quote: Quote, stats: RoundStats) -> None:
        """Fire the symbol's alerts and close its ideas that this quote decides."""
        price = Decimal(quote.price)
        self._seen[work.symbol] = price
        for alert in work.alerts:
            if quote.stale or not _same_money(alert.currency, quote) or not alert_crossed(alert, price):
                continue
            fired = await self.store.settle_alert(alert.id, "triggered", iso(self.clock()), quote.price)
            if fired is not None:  # else another replica's round won it
                stats.fired += 1
                await self._deliver(deliver_alert(self.bus, self.store, self.whisper, fired, quote), fired)
        for idea in work.ideas:
            now = self.clock()
            status = _outcome(idea, quote, price, now)
            if status is None:
                continue
            done = await self.store.close_idea(closed(idea, status, price, iso(now)))
            if done is not None:
                stats.closed += 1
                await self._deliver(deliver_idea(self.bus, self.store, done, now), done)

    async def _card_quote(self, symbol: str) -> Quote | None:
        """The quote for a late delivery's card (the firing one is gone with its round); none if it cannot be had."""
        try:
            return await self.quotes.get(symbol)
        except QuoteError:
            return None

    async def _deliver(self, delivery: Awaitable[None], what: Alert | Idea) -> bool:
        """Whether the delivery went through; a failure leaves it undelivered for a later round."""
        try:
            await delivery
        except Exception as exc:
            kind = "alert" if isinstance(what, Alert) else "idea"
            logger.warning("delivering %s %s failed, a later round retries: %r", kind, what.id, exc)
            return False
        return True


def _outcome(idea: Idea, quote: Quote, price: Decimal, now: datetime) -> IdeaStatus | None:
    """How this quote closes the idea, if it does: past its horizon at whatever the last trade was (a stale
    quote included), else at its target or stop on a live quote only."""
    if not _same_money(idea.currency, quote):
        return None
    if past(idea.expires_at, now):
        return "expired"
    return None if quote.stale else idea_outcome(idea, price)


def _same_money(currency: str, quote: Quote) -> bool:
    """Whether the quote is in the currency the alert or idea was set in: pence never compare with pounds."""
    if quote.currency == currency:
        return True
    logger.warning("%s is quoted in %s, set in %s: left alone", quote.symbol, quote.currency, currency)
    return False


async def _each(steps: Iterable[Awaitable[None]]) -> None:
    """Run the steps together; one that fails (the store, say) is logged and the others go on."""
    outcomes = await asyncio.gather(*steps, return_exceptions=True)
    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    for failure in failures:
        if isinstance(failure, asyncio.CancelledError):
            raise failure
    if failures:
        logger.warning("%d symbols failed this round, first: %r", len(failures), failures[0])
