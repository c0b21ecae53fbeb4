"""The alert engine at scale: 10,000 active alerts over 500 symbols evaluated round after round, each round's wall
time and CPU time against CHAT_ALERT_INTERVAL, and the upstream calls it made per symbol (at most one).

    python bench/alerts.py                           # 10,000 alerts, 500 symbols, 5 rounds: a minute or two
    python bench/alerts.py --alerts 20000 --symbols 1000 --rounds 3 --budget 1200

The alerts (above, below and move_pct, their levels 0.5% to 20% from the price they were set at, 20 per user
as the limit allows) are added to a SQLite store in a temp dir through Store.add_alert. A fake Yahoo (the
tests' FakeYahoo, speaking Yahoo's chart JSON) runs in a child process, so its work is not counted; before
each round it moves every price by up to ±1%, so some alerts fire and are delivered (notification stored and
pushed, the private StockBot message handed over, the alert marked delivered) as in production. Each round
gets a fresh quote cache and budget, as CHAT_ALERT_INTERVAL later they would be: nothing is cached from the
round before, and the engine's budget (--budget, CHAT_ALERT_BUDGET) has refilled. CPU time is this process's
(time.process_time: the engine, its store's thread and the quote library's threads, where yfinance parses each
chart), per round; "event loop CPU" is the loop thread's alone (time.thread_time): the engine's own work.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import shutil
import statistics
import string
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.bus.memory import MemoryBus
from core.models import Channel, iso, now_iso, ordered_id, utcnow
from core.store import Store, open_store
from core.trading import MAX_ACTIVE_ALERTS, Alert, AlertOp
from investing.engine import AlertEngine, RoundStats
from quotes import QuoteService
from tests.fakes.yahoo import FakeYahoo

CHANNEL = "bench-alerts"
START = Decimal("100.00")
CENT = Decimal("0.01")


class BenchYahoo(FakeYahoo):
    """The fake Yahoo plus two routes for the bench: move the prices, and count (then forget) chart requests."""

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/bench/prices", self._prices), web.get("/bench/requests", self._requests), *super().routes()]

    async def _prices(self, request: web.Request) -> web.Response:
        for symbol, price in (await request.json()).items():
            self.set_symbol(symbol, price)
        return web.json_response({"ok": True})

    async def _requests(self, request: web.Request) -> web.Response:
        charts = Counter(r.split("?")[0].rsplit("/", 1)[-1] for r in self.requests if "/v8/finance/chart/" in r)
        self.requests.clear()
        return web.json_response(charts)


def serve_fake(conn: Connection) -> None:
    """The child process: the fake on a free port, its URL sent back, until the parent says stop."""

    async def run() -> None:
        fake = BenchYahoo()
        await fake.start()
        conn.send(fake.url)
        await asyncio.to_thread(conn.recv)
        await fake.stop()

    asyncio.run(run())


def tickers(count: int) -> list[str]:
    """count four-letter codes: BAAA, BAAB, ... (none of them the fake's own instruments)."""
    letters = string.ascii_uppercase
    return [
        "B" + letters[n // 676 % 26] + letters[n // 26 % 26] + letters[n % 26] for n in range(count)
    ]  # fmt: skip


def alerts_for(symbols: list[str], count: int, rng: random.Random) -> list[Alert]:
    """`count` alerts over the symbols in turn, each user holding MAX_ACTIVE_ALERTS of them."""
    now = utcnow()
    ops: tuple[AlertOp, ...] = ("above", "below", "move_pct")
    made = []
    for n in range(count):
        op, gap = rng.choice(ops), Decimal(rng.randint(50, 2000)) / 10_000  # 0.5% to 20% from firing
        user, symbol = f"benchuser{n // MAX_ACTIVE_ALERTS:05d}", f"{symbols[n % len(symbols)]}.US"
        value = gap * 100 if op == "move_pct" else START * (1 + gap if op == "above" else 1 - gap)
        made.append(
            Alert(
                id=ordered_id(), user=user, symbol=symbol, op=op, value=str(value.quantize(CENT)),
                created_price=str(START), currency="USD", created_at=iso(now),
                expires_at=iso(now + timedelta(days=30)), channel=CHANNEL,
            )
        )  # fmt: skip
    return made


async def fill(store: Store, alerts: list[Alert]) -> float:
    started = time.perf_counter()
    await store.create_channel(Channel(name=CHANNEL, created_by="bench", created_at=now_iso()))
    for alert in alerts:
        assert await store.add_alert(alert, max_active=MAX_ACTIVE_ALERTS)
    return time.perf_counter() - started


@dataclass
class Round:
    stats: RoundStats
    wall_s: float
    cpu_s: float  # the whole process's
    loop_cpu_s: float  # the event loop's thread alone: the engine's own work, without the quote library's threads
    calls: Counter[str]  # chart requests per symbol


async def rounds(a: argparse.Namespace, store: Store, fake_url: str, symbols: list[str]) -> list[Round]:
    rng = random.Random(a.seed + 1)
    prices = {s: START for s in symbols}
    delivered = Counter[str]()

    async def whisper(user: str, message: Any) -> None:
        delivered[user] += 1

    done: list[Round] = []
    async with aiohttp.ClientSession() as http:
        await http.post(f"{fake_url}/bench/prices", json={s: str(p) for s, p in prices.items()})
        engine: AlertEngine | None = None
        for _ in range(a.rounds):
            # every price moves by up to 1% either way
            prices = {s: (p * (1 + Decimal(rng.randint(-100, 100)) / 10_000)).quantize(CENT) for s, p in prices.items()}
            await http.post(f"{fake_url}/bench/prices", json={s: str(p) for s, p in prices.items()})
            await (await http.get(f"{fake_url}/bench/requests")).json()  # forget the warm-up's
            cache = MemoryBus()  # the interval later: the last round's quotes have expired, the budget refilled
            async with QuoteService(
                ["yahoo"], yahoo_url=fake_url, stooq_url="http://127.0.0.1:9", timeout=10,
                cache=cache, cache_ttl=15, budget=a.budget,
            ) as quotes:  # fmt: skip
                if engine is None:
                    engine = AlertEngine(MemoryBus(), store, quotes, whisper, interval=a.interval)
                engine.quotes = quotes
                cpu, loop_cpu, wall = time.process_time(), time.thread_time(), time.perf_counter()
                stats = await engine.evaluate_round()
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                loop_cpu = time.thread_time() - loop_cpu
            calls = Counter[str](await (await http.get(f"{fake_url}/bench/requests")).json())
            done.append(Round(stats, wall, cpu, loop_cpu, calls))
            print(f"  round {len(done)}: {wall:.2f} s, {stats.fired} fired", file=sys.stderr, flush=True)
    return done


def table(a: argparse.Namespace, done: list[Round]) -> str:
    title = (
        f"Alert engine rounds: {a.alerts:,} active alerts over {a.symbols} symbols (SQLite), budget {a.budget}/min, "
        f"against CHAT_ALERT_INTERVAL {a.interval:g} s"
    )
    lines = [f"**{title}**", ""]
    lines.append("| round | alerts checked | symbols | upstream calls | calls per symbol (max) | skipped (budget) "
                 "| fired | wall s | CPU s | of it, event loop CPU s | wall / interval |")  # fmt: skip
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for n, r in enumerate(done, 1):
        s = r.stats
        lines.append(
            f"| {n} | {s.alerts:,} | {s.symbols} | {sum(r.calls.values())} | {max(r.calls.values(), default=0)} "
            f"| {s.skipped_budget} | {s.fired} | {r.wall_s:.2f} | {r.cpu_s:.2f} | {r.loop_cpu_s:.2f} "
            f"| {r.wall_s / a.interval:.1%} |"
        )
    wall, cpu = statistics.median(r.wall_s for r in done), statistics.median(r.cpu_s for r in done)
    loop = statistics.median(r.loop_cpu_s for r in done)
    lines.append(f"| median | | | | | | | {wall:.2f} | {cpu:.2f} | {loop:.2f} | {wall / a.interval:.1%} |")
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alerts", type=int, default=10_000, help="active alerts (default 10,000)")
    ap.add_argument("--symbols", type=int, default=500, help="symbols they are spread over (default 500)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--interval", type=float, default=60.0, help="CHAT_ALERT_INTERVAL to compare with (default 60)")
    ap.add_argument("--budget", type=int, default=600, help="CHAT_ALERT_BUDGET, upstream calls a minute (default 600)")
    ap.add_argument("--seed", type=int, default=23)
    return ap.parse_args()


async def run(a: argparse.Namespace, root: Path, fake_url: str) -> None:
    symbols = tickers(a.symbols)
    store = await open_store(f"sqlite:///{root / 'alerts.sqlite3'}")
    try:
        alerts = alerts_for(symbols, a.alerts, random.Random(a.seed))
        seconds = await fill(store, alerts)
        print(f"**fill**: {a.alerts:,} alerts through Store.add_alert: {seconds:.1f} s\n", flush=True)
        print(table(a, await rounds(a, store, fake_url, symbols)), flush=True)
    finally:
        await store.close()


def main() -> None:
    a = parse_args()
    root = Path(tempfile.mkdtemp(prefix="investor-chat-alerts-"))
    parent, child = multiprocessing.Pipe()
    fake = multiprocessing.get_context("spawn").Process(target=serve_fake, args=(child,), daemon=True)
    fake.start()
    try:
        asyncio.run(run(a, root, parent.recv()))
    finally:
        parent.send("stop")
        fake.join(10)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
