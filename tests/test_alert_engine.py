"""The alert engine in-process against the fake Yahoo, both stores (both buses where cheap): alerts fire and ideas
close exactly once at the prices the fake serves, never on a stale quote or a provider failure, exact money in
pence, points and crypto, the budget spent nearest-first, and exactly once across a crash and racing engines."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest

from bot.trading import post_idea
from core.bus import NOTICES, Bus
from core.bus.memory import MemoryBus
from core.commands import parse_command
from core.models import Change, Channel, Command, Notification, is_change, keyed_id, new_id, now_iso, utcnow
from core.posting import find_message
from core.store import Store
from core.trading import ALERT_KEY, Alert, Idea, closed
from investing.alerts import create_alert
from investing.engine import DELIVERY_GRACE, AlertEngine, RoundStats
from quotes import QuoteService
from tests.fakes.yahoo import FakeYahoo

NOWHERE = "http://127.0.0.1:9"
CHANNEL = "general"
_markers = itertools.count()


class Clock:
    """The engine's clock: real time, moved on by the test (an idea's horizon, the delivery grace)."""

    def __init__(self) -> None:
        self.shift = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.shift


@dataclass
class Rig:
    store: Store
    bus: Bus
    fake: FakeYahoo
    quotes: QuoteService
    engine: AlertEngine
    clock: Clock
    whispers: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)  # {user, notification} pushed to the nodes
    changes: list[Change] = field(default_factory=list)  # message_updated records on the live feed
    markers: set[int] = field(default_factory=set)

    async def round(self) -> RoundStats:
        return await self.engine.evaluate_round()

    async def heard_all(self) -> None:
        """Every notice pushed so far has arrived (the feed keeps order: a marker sent now comes after them)."""
        marker = next(_markers)
        await self.bus.notify(orjson.dumps({"seq": 0, "marker": marker}))
        async with asyncio.timeout(5):
            while marker not in self.markers:
                await asyncio.sleep(0.01)

    async def alert(self, text: str, *, channel: str | None = CHANNEL, user: str = "alice") -> Alert:
        spec = parse_command(text).alert
        assert spec is not None
        return await create_alert(self.store, self.quotes, user, spec, channel=channel, now=utcnow())

    async def idea(self, text: str, *, user: str = "alice") -> Idea:
        command = Command(id=new_id(), channel=CHANNEL, user=user, text=text, ts=now_iso())
        spec = parse_command(text).idea
        assert spec is not None
        await post_idea(self.bus, self.store, self.quotes, command, spec)
        idea = await self.store.get_idea(command.id)
        assert idea is not None
        return idea

    async def inbox(self, user: str = "alice") -> list[Notification]:
        return await self.store.notifications(user, before=None, limit=50)

    def chart_requests(self) -> list[str]:
        return [r.split("?")[0].removeprefix("/v8/finance/chart/") for r in self.fake.requests if "/chart/" in r]


MakeRig = Callable[..., Awaitable[Rig]]


@pytest.fixture
async def make_rig(store: Store, fake_yahoo: FakeYahoo) -> AsyncIterator[MakeRig]:
    async with AsyncExitStack() as stack:

        async def make(bus: Bus | None = None, *, budget: int = 600, cache_ttl: float = 0.0) -> Rig:
            bus = bus or MemoryBus()
            quotes = QuoteService(
                ["yahoo"], yahoo_url=fake_yahoo.url, stooq_url=NOWHERE, timeout=2,
                cache=bus, cache_ttl=cache_ttl, budget=budget,
            )  # fmt: skip
            await stack.enter_async_context(quotes)
            clock = Clock()
            rig = Rig(store, bus, fake_yahoo, quotes, None, clock)  # type: ignore[arg-type]

            async def whisper(user: str, message: Any) -> None:
                rig.whispers.append((user, message))

            rig.engine = AlertEngine(bus, store, quotes, whisper, interval=60, clock=clock)
            stack.callback(await bus.subscribe_live(lambda channel, wire: _heard(rig, channel, wire)))
            if await store.get_channel(CHANNEL) is None:
                await store.create_channel(Channel(name=CHANNEL, created_by="alice", created_at=now_iso()))
            return rig

        yield make


def _heard(rig: Rig, channel: str, wire: bytes) -> None:
    if channel == NOTICES:
        notice = orjson.loads(wire)
        rig.notices.extend(notice.get("notifications", ()))
        if "marker" in notice:
            rig.markers.add(notice["marker"])
    elif is_change(wire):
        rig.changes.append(Change.model_validate_json(wire))


@pytest.fixture
async def rig(make_rig: MakeRig) -> Rig:
    return await make_rig()


# ---- alerts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "price", "text"),
    [
        ("/alert AAPL above 95", "95.15", "Alert: AAPL.US above $95.00, now $95.15"),
        ("/alert aapl.us below 90", "89.99", "Alert: AAPL.US below $90.00, now $89.99"),
        ("/alert AAPL move 5%", "88.71", "Alert: AAPL.US moves 5% from $93.42, now $88.71"),
    ],
)
async def test_an_alert_fires_exactly_once_and_its_owner_hears_of_it(
    make_rig: MakeRig, bus: Bus, command: str, price: str, text: str
) -> None:
    rig = await make_rig(bus)
    alert = await rig.alert(command)
    assert (await rig.round()).fired == 0  # 93.42: not yet
    rig.fake.set_symbol("aapl", price)
    stats = await rig.round()
    assert (stats.alerts, stats.symbols, stats.upstream, stats.fired) == (1, 1, 1, 1)
    assert (await rig.round()).fired == 0  # a second round fires nothing
    [fired] = await rig.store.alerts("alice")
    assert (fired.status, fired.triggered_price) == ("triggered", price)
    [note] = await rig.inbox()
    assert (note.kind, note.text, note.channel, note.key) == ("alert", text, CHANNEL, ALERT_KEY + alert.id)
    await rig.heard_all()
    assert rig.notices == [{"user": "alice", "notification": note.wire()}]
    [(user, message)] = rig.whispers
    assert user == "alice" and message["user"] == "StockBot" and message["ephemeral"] is True
    assert message["text"] == text and message["channel"] == CHANNEL and message["quote"]["price"] == price
    assert not await rig.store.undelivered_alerts()


async def test_an_alert_set_over_rest_notifies_without_a_bot_message(rig: Rig) -> None:
    await rig.alert("/alert AAPL above 95", channel=None)
    rig.fake.set_symbol("aapl", "96")
    assert (await rig.round()).fired == 1
    assert [n.kind for n in await rig.inbox()] == ["alert"] and not rig.whispers


async def test_a_stale_quote_never_triggers(rig: Rig) -> None:
    await rig.alert("/alert AAPL above 95")
    rig.fake.set_symbol("aapl", "120", as_of=datetime.now(UTC) - timedelta(days=10))
    assert (await rig.round()).fired == 0
    assert [a.status for a in await rig.store.alerts("alice")] == ["active"] and not await rig.inbox()
    rig.fake.set_symbol("aapl", "120")  # it trades again
    assert (await rig.round()).fired == 1


async def test_an_alert_past_its_days_expires_telling_nobody(rig: Rig) -> None:
    await rig.alert("/alert AAPL above 95 days 1")
    rig.fake.set_symbol("aapl", "99")
    rig.clock.shift = timedelta(days=1, minutes=1)
    stats = await rig.round()
    assert (stats.expired, stats.fired, stats.upstream) == (1, 0, 0)
    assert [a.status for a in await rig.store.alerts("alice")] == ["expired"]
    assert not await rig.inbox() and not rig.whispers


# ---- ideas --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "price", "status", "return_pct"),
    [
        ("/idea long AAPL target 100 stop 90", "100.25", "target_hit", "7.31"),
        ("/idea long AAPL target 100 stop 90", "89.55", "stopped", "-4.14"),
        ("/idea short AAPL target 85 stop 97", "84.95", "target_hit", "9.07"),  # a short gains as it falls
        ("/idea short AAPL target 85 stop 97", "97.55", "stopped", "-4.42"),
    ],
)
async def test_an_idea_closes_at_its_target_or_stop_once(
    rig: Rig, command: str, price: str, status: str, return_pct: str
) -> None:
    idea = await rig.idea(command)
    assert idea.entry == "93.42" and (await rig.round()).closed == 0
    rig.fake.set_symbol("aapl", price)
    assert (await rig.round()).closed == 1
    assert (await rig.round()).closed == 0
    done = await rig.store.get_idea(idea.id)
    assert done is not None and (done.status, done.exit, done.return_pct) == (status, price, return_pct)
    card = await find_message(rig.bus, rig.store, CHANNEL, idea.id)
    signed = return_pct if return_pct.startswith("-") else f"+{return_pct}"
    assert card is not None and card.idea == done and card.text.endswith(f" at ${price} ({signed}%)")
    [update] = rig.changes
    assert update.kind == "idea" and update.by == "StockBot" and update.message.idea == done
    [note] = await rig.inbox()
    assert (note.kind, note.channel) == ("idea", CHANNEL) and note.message is not None
    assert note.message.idea == done and note.text.startswith(f"Your {done.side} AAPL.US idea: ")
    await rig.heard_all()
    assert [n["notification"]["id"] for n in rig.notices] == [note.id]


async def test_an_idea_past_its_days_closes_expired_at_the_last_trade(rig: Rig) -> None:
    idea = await rig.idea("/idea long AAPL target 100 stop 90 days 2")
    rig.fake.set_symbol("aapl", "94.01", as_of=datetime.now(UTC) - timedelta(days=4))  # stale: the last trade
    assert (await rig.round()).closed == 0  # a stale quote closes nothing before the horizon
    rig.clock.shift = timedelta(days=2, seconds=1)
    assert (await rig.round()).closed == 1
    done = await rig.store.get_idea(idea.id)
    assert done is not None and (done.status, done.exit, done.return_pct) == ("expired", "94.01", "0.63")
    assert [n.text for n in await rig.inbox()] == ["Your long AAPL.US idea: expired at $94.01 (+0.63%)"]


async def test_a_provider_failure_neither_fires_nor_closes(rig: Rig) -> None:
    await rig.alert("/alert AAPL above 95")
    idea = await rig.idea("/idea long AAPL stop 90 days 1")
    rig.fake.fail("500")
    rig.clock.shift = timedelta(days=2)  # the idea is due to close: it waits for a quote
    stats = await rig.round()
    assert (stats.failed, stats.fired, stats.closed) == (1, 0, 0)
    assert [a.status for a in await rig.store.alerts("alice")] == ["active"]
    assert (await rig.store.get_idea(idea.id)).status == "open"  # type: ignore[union-attr]
    rig.fake.fail(None)
    assert (await rig.round()).closed == 1


# ---- money: pence, points, crypto ---------------------------------------------------------------


async def test_pence_points_and_crypto_are_exact(rig: Rig) -> None:
    rig.fake.set_symbol("doge-usd", "0.12345678", kind="CRYPTOCURRENCY", timezone="UTC")
    await rig.alert("/alert VOD.UK above 75")
    await rig.alert("/alert DOGE-USD above 0.12345679")
    index = await rig.idea("/idea short ^SPX target 5000")
    coin = await rig.idea("/idea long DOGE-USD target 0.13")
    assert (index.entry, index.currency, coin.entry) == ("5123.4", "USD", "0.12345678")
    rig.fake.set_symbol("vod.l", "75.25", currency="GBp", timezone="Europe/London")
    rig.fake.set_symbol("doge-usd", "0.13000001", kind="CRYPTOCURRENCY", timezone="UTC")
    rig.fake.set_symbol("^gspc", "4999.9", kind="INDEX")
    stats = await rig.round()
    assert (stats.fired, stats.closed) == (2, 2)
    fired = {a.symbol: a for a in await rig.store.alerts("alice")}
    assert (fired["VOD.UK"].currency, fired["VOD.UK"].triggered_price) == ("GBX", "75.25")
    assert fired["DOGE-USD"].triggered_price == "0.13000001"
    texts = sorted(n.text for n in await rig.inbox())
    assert texts == [
        "Alert: DOGE-USD above $0.12345679, now $0.13000001",
        "Alert: VOD.UK above 75.00 GBX, now 75.25 GBX",
        "Your long DOGE-USD idea: target hit at $0.13000001 (+5.30%)",
        "Your short ^SPX idea: target hit at 4,999.90 points (+2.41%)",
    ]
    short = await rig.store.get_idea(index.id)
    assert short is not None and (short.exit, short.return_pct) == ("4999.9", "2.41")  # 123.5 / 5123.4 = 2.4105%


# ---- the budget ---------------------------------------------------------------------------------


async def test_a_short_budget_asks_for_the_nearest_symbols_first(make_rig: MakeRig) -> None:
    setup = await make_rig()
    for symbol in ("amd", "nvda", "tsla", "intc"):
        setup.fake.set_symbol(symbol, "100.00")
    # 1% from firing, 3%, 10%, 50%
    for code, level in (("TSLA", "110"), ("NVDA", "103"), ("INTC", "150"), ("AMD", "101")):
        await setup.alert(f"/alert {code} above {level}")
    rig = await make_rig(budget=2)
    rig.fake.requests.clear()
    stats = await rig.round()
    assert (stats.symbols, stats.upstream, stats.skipped_budget) == (4, 2, 2)
    # the two nearest, asked together (so in either order), the two farther left for the next round
    assert sorted(rig.chart_requests()) == ["AMD", "NVDA"]
    # the next round's budget goes to what this engine has never quoted first, however far
    async with QuoteService(["yahoo"], yahoo_url=rig.fake.url, stooq_url=NOWHERE, timeout=2, budget=1) as fresh:
        rig.engine.quotes = fresh
        rig.fake.requests.clear()
        await rig.round()
        assert rig.chart_requests() == ["TSLA"]


async def test_a_cached_quote_costs_no_upstream_call(make_rig: MakeRig) -> None:
    rig = await make_rig(cache_ttl=60)
    await rig.alert("/alert AAPL above 95")  # its quote is cached now, as a /stock reply would leave it
    rig.fake.requests.clear()
    stats = await rig.round()
    assert (stats.cached, stats.upstream) == (1, 0) and not rig.chart_requests()


# ---- exactly once -------------------------------------------------------------------------------


class NoticeFailsOnce(MemoryBus):
    """A bus whose first notice to the nodes fails, as a crash between firing and delivering would leave it."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    async def notify(self, notice: bytes) -> None:
        if not self.failed and b"notifications" in notice:
            self.failed = True
            raise ConnectionError("the bus went away")
        await super().notify(notice)


async def test_a_delivery_cut_short_is_made_once_by_a_later_round(make_rig: MakeRig) -> None:
    rig = await make_rig(NoticeFailsOnce())
    alert = await rig.alert("/alert AAPL above 95")
    rig.fake.set_symbol("aapl", "96")
    assert (await rig.round()).fired == 1
    assert [a.id for a in await rig.store.undelivered_alerts()] == [alert.id] and not rig.whispers
    assert (await rig.round()).delivered == 0  # within the grace: its firer may still be delivering it
    rig.clock.shift = timedelta(seconds=DELIVERY_GRACE + 1)
    stats = await rig.round()
    assert (stats.delivered, stats.fired) == (1, 0)
    assert (await rig.round()).delivered == 0
    [note] = await rig.inbox()
    [fired] = await rig.store.alerts("alice")
    assert note.id == keyed_id(fired.triggered_at or "", ALERT_KEY + alert.id)
    await rig.heard_all()
    assert [n["notification"]["id"] for n in rig.notices] == [note.id] and len(rig.whispers) == 1


async def test_an_alert_settled_by_a_process_that_died_is_delivered_by_another(make_rig: MakeRig) -> None:
    rig = await make_rig()
    idea = await rig.idea("/idea long AAPL target 95")
    alert = await rig.alert("/alert AAPL above 95")
    rig.fake.set_symbol("aapl", "96")
    at = (utcnow() - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    # what a replica killed right after its compare-and-sets leaves behind
    assert await rig.store.settle_alert(alert.id, "triggered", at, "96") is not None
    assert await rig.store.close_idea(closed(idea, "target_hit", Decimal("96"), at)) is not None
    stats = await rig.round()
    assert (stats.delivered, stats.fired, stats.closed) == (2, 0, 0)
    notes = {n.kind: n for n in await rig.inbox()}
    assert notes["alert"].id == keyed_id(at, ALERT_KEY + alert.id) and notes["alert"].ts == at
    card = await find_message(rig.bus, rig.store, CHANNEL, idea.id)
    assert card is not None and card.idea is not None and card.idea.status == "target_hit"
    assert (await rig.round()).delivered == 0 and len(await rig.inbox()) == 2


async def test_two_engines_racing_on_one_store_fire_once(make_rig: MakeRig) -> None:
    first, second = await make_rig(), await make_rig()
    await first.alert("/alert AAPL above 95")
    await first.idea("/idea long AAPL target 95")
    first.fake.set_symbol("aapl", "96")
    rounds = await asyncio.gather(first.round(), second.round())
    assert sum(r.fired for r in rounds) == 1 and sum(r.closed for r in rounds) == 1
    assert sorted(n.kind for n in await first.inbox()) == ["alert", "idea"]
    assert len(first.whispers) + len(second.whispers) == 1
    await first.heard_all()
    await second.heard_all()
    assert len(first.notices) + len(second.notices) == 2


async def test_replicas_share_one_round_per_interval(store: Store, bus: Bus, fake_yahoo: FakeYahoo) -> None:
    rounds: list[str] = []
    stop = asyncio.Event()
    async with AsyncExitStack() as stack:
        engines = []
        for name in ("one", "two"):
            quotes = await stack.enter_async_context(
                QuoteService(["yahoo"], yahoo_url=fake_yahoo.url, stooq_url=NOWHERE, timeout=2)
            )
            engine = AlertEngine(bus, store, quotes, _nobody, interval=0.5)

            async def counted(
                name: str = name, real: Callable[[], Awaitable[RoundStats]] = engine.evaluate_round
            ) -> RoundStats:
                rounds.append(name)
                return await real()

            engine.evaluate_round = counted  # type: ignore[method-assign]
            engines.append(engine)
        tasks = [asyncio.create_task(engine.run(stop)) for engine in engines]
        await asyncio.sleep(2.2)  # the span measured: about 2.2 / 0.5 + 1 rounds, not twice that
        stop.set()
        await asyncio.gather(*tasks)
    assert 3 <= len(rounds) <= 6, rounds


async def _nobody(user: str, message: Any) -> None:
    raise AssertionError("nothing fires here")
