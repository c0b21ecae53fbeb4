"""A mention costs no extra round trip on the send path: the send ack's latency and the send throughput of
messages with `@name` mentions of existing users beside messages without, on the same standalone server in
one run, interleaved, in one table.

    python bench/mentions.py                         # about a minute
    python bench/mentions.py --rate 400 --seconds 20
    python bench/mentions.py --redis-url redis://127.0.0.1:6379/5   # a node, and the notifier apart

Two runs on one server. The latency run sends at a fixed rate (--rate, all senders together), every other
send a mention, and times each `send` to its ack. The throughput run keeps --inflight sends open per sender
as fast as acks come back, mentions and plain messages in alternating blocks of --block seconds, and counts
acks per second and the server process's CPU per message (standalone, the notifier works in the same
process, off the send path, so its cost shows there and not in the ack; with --redis-url it works in the
archiver's process, sampled apart). The mentioned users are online, in a process of
their own, and count the `notification`s they get: a mention that notified nobody would measure nothing.
The senders are python-socketio clients in one process, so the throughput is a comparison, not the
server's ceiling (bench/run.py measures that with the C generator).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.procs import Children, Product, log, post, redis_cmd, user_token

CHANNEL = "bench-mentions"
MODES = ("plain", "mentions")
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Tally:
    """What one mode's sends came to."""

    acks_ms: list[float] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    cpu_s: Counter[str] = field(default_factory=Counter)  # per process sampled ("node", "archiver")


def text(mode: str, i: int, names: list[str]) -> tuple[str, int]:
    """A message of the mode and how many users it mentions; both kinds are the same length, give or take."""
    if mode == "plain":
        return f"bench {i} AAPL looks strong into earnings, watching guidance {'x' * 12}", 0
    mentioned = [names[i % len(names)]] + ([names[(i + 7) % len(names)]] if i % 4 == 0 else [])
    return f"bench {i} AAPL looks strong into earnings, " + " ".join(f"@{n}" for n in mentioned), len(mentioned)


def users(base: str, prefix: str, count: int) -> list[str]:
    """Tokens of `count` users named prefix00000...: registered, or logged in when they exist."""
    return [user_token(base, k, prefix) for k in range(count)]


async def connect(base: str, token: str) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(base, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    return client


def listen(base: str, tokens: list[str], conn: Connection) -> None:
    """The mentioned users, online in a process of their own (receiving the notifications costs the
    senders' process nothing): says "ready" once connected, then, given how many mentions were owed, waits
    up to 10 s for them (the notifier trails the acks) and answers how many came."""

    async def run() -> int:
        came, owed = 0, asyncio.Event()
        got_all = asyncio.Event()

        def notified(notification: dict[str, Any]) -> None:
            nonlocal came
            came += notification.get("kind") == "mention"
            if owed.is_set() and came >= expected:
                got_all.set()

        clients = [await connect(base, token) for token in tokens]
        for client in clients:
            client.on("notification", notified)
        conn.send("ready")
        expected = int(await asyncio.to_thread(conn.recv))
        owed.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                if came < expected:
                    await got_all.wait()
        for client in clients:
            await client.disconnect()
        return came

    conn.send(asyncio.run(run()))


def cpu_seconds(pid: int) -> float:
    """Seconds of CPU the process has used (user + system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class Bench:
    """The senders, joined to the channel, and what their sends came to."""

    def __init__(self, a: argparse.Namespace, base: str, pids: dict[str, int]) -> None:
        self.a, self.base, self.pids = a, base, pids
        self.senders: list[socketio.AsyncClient] = []
        self.names = [f"benchnamed{k:05d}" for k in range(a.named)]
        self.owed = 0  # the mentions the acks carried: the notifications the mentioned users should get
        self.counter = itertools.count()

    async def start(self, tokens: list[str]) -> None:
        for token in tokens:
            client = await connect(self.base, token)
            ack = await client.call("join", {"channel": CHANNEL}, timeout=10)
            assert ack["ok"], ack
            self.senders.append(client)

    async def send(self, client: socketio.AsyncClient, mode: str, tally: Tally) -> None:
        body, names = text(mode, next(self.counter), self.names)
        started = time.perf_counter()
        ack = await client.call("send", {"channel": CHANNEL, "text": body}, timeout=30)
        if not ack.get("ok"):
            tally.refused[str(ack.get("error", {}).get("code"))] += 1
            return
        tally.acks_ms.append((time.perf_counter() - started) * 1000)
        self.owed += len(ack["message"].get("mentions") or ())
        if names and not ack["message"].get("mentions"):
            raise SystemExit(f"a mention came back without mentions: {ack['message']}")

    async def latency_run(self) -> dict[str, Tally]:
        """--rate sends a second for --seconds (after a second's warm-up), modes taking turns send by send."""
        tallies = {mode: Tally() for mode in MODES}
        warm = {mode: Tally() for mode in MODES}
        interval = 1 / self.a.rate
        tasks: set[asyncio.Task[None]] = set()
        started = time.perf_counter()
        for n in itertools.count():
            due = started + n * interval
            if due - started > 1 + self.a.seconds:
                break
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            mode = MODES[n % 2]
            tally = (warm if due - started < 1 else tallies)[mode]
            task = asyncio.create_task(self.send(self.senders[n % len(self.senders)], mode, tally))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        for tally in tallies.values():
            tally.seconds = self.a.seconds
        return tallies

    async def block(self, mode: str, tally: Tally) -> None:
        """--block seconds of sends as fast as the acks come back, --inflight open per sender."""
        end = time.perf_counter() + self.a.block
        cpu, started = {name: cpu_seconds(pid) for name, pid in self.pids.items()}, time.perf_counter()

        async def loop(client: socketio.AsyncClient) -> None:
            while time.perf_counter() < end:
                await self.send(client, mode, tally)

        await asyncio.gather(*(loop(c) for c in self.senders for _ in range(self.a.inflight)))
        tally.seconds += time.perf_counter() - started
        tally.cpu_s.update({name: cpu_seconds(pid) - cpu[name] for name, pid in self.pids.items()})

    async def throughput_run(self) -> dict[str, Tally]:
        tallies = {mode: Tally() for mode in MODES}
        await self.block("plain", Tally())  # warm-up
        for _ in range(self.a.blocks):
            for mode in MODES:
                await self.block(mode, tallies[mode])
        return tallies

    async def stop(self) -> None:
        for client in self.senders:
            await client.disconnect()


def pct(values: list[float], q: int) -> float | None:
    if len(values) < 2:
        return values[0] if values else None
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def fmt(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def table(runs: Runs, processes: list[str], notified: int, owed: int) -> str:
    cpu_heads = "".join(f" {name} CPU ms/message |" for name in processes)
    lines = [
        "| messages | fixed rate: sends | ack p50 ms | ack p99 ms | flat out: messages/s | ack p50 ms | ack p99 ms |"
        f"{cpu_heads} refused |",
        "|---" * (8 + len(processes)) + "|",
    ]
    for mode in MODES:
        fixed, flat = runs["fixed rate"][mode], runs["flat out"][mode]
        done = len(flat.acks_ms)
        rate = done / flat.seconds if flat.seconds else None
        cpu = "".join(f" {fmt(flat.cpu_s[name] * 1000 / done if done else None, '.3f')} |" for name in processes)
        refused = sum((fixed.refused + flat.refused).values())
        lines.append(
            f"| {'with @mentions' if mode == 'mentions' else 'without mentions'} | {len(fixed.acks_ms)} "
            f"| {fmt(pct(fixed.acks_ms, 50))} | {fmt(pct(fixed.acks_ms, 99))} | {fmt(rate, '.0f')} "
            f"| {fmt(pct(flat.acks_ms, 50))} | {fmt(pct(flat.acks_ms, 99))} |{cpu} {refused} |"
        )
    lines.append(f"\nmention notifications received by the mentioned users: {notified} of {owed}")
    return "\n".join(lines)


Runs = dict[str, dict[str, Tally]]  # "fixed rate" and "flat out": plain and mentions each


async def measure(a: argparse.Namespace, base: str, pids: dict[str, int], senders: list[str]) -> tuple[Runs, int]:
    """Both runs, and the mentions their acks carried (the notifications owed)."""
    bench = Bench(a, base, pids)
    try:
        await bench.start(senders)
        log(f"latency run: {a.rate:g}/s for {a.seconds:g} s")
        latency = await bench.latency_run()
        log(f"throughput run: {a.blocks} blocks of {a.block:g} s per mode, {a.inflight} in flight per sender")
        throughput = await bench.throughput_run()
        return {"fixed rate": latency, "flat out": throughput}, bench.owed
    finally:
        await bench.stop()


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--senders", type=int, default=8, help="sending clients (users), each in the channel")
    ap.add_argument("--named", type=int, default=20, help="users the mentions name, each connected")
    ap.add_argument("--rate", type=float, default=200, help="sends a second in the latency run, both kinds")
    ap.add_argument("--seconds", type=float, default=15, help="measured seconds of the latency run")
    ap.add_argument("--blocks", type=int, default=4, help="blocks of each kind in the throughput run")
    ap.add_argument("--block", type=float, default=3, help="seconds of one throughput block")
    ap.add_argument("--inflight", type=int, default=4, help="sends open per sender in the throughput run")
    ap.add_argument(
        "--redis-url",
        help="a Redis db this benchmark may flush: run one node and the archiver, whose process holds the "
        "notifier, instead of standalone, so the node's CPU is the send path's alone (e.g. redis://127.0.0.1:6379/5)",
    )
    return ap.parse_args()


def main() -> None:
    a = parse_args()
    root = Path(tempfile.mkdtemp(prefix="investor-chat-mentions-"))
    children = Children(root)
    if a.redis_url:
        redis_cmd(a.redis_url, "FLUSHDB")
    product = Product(children, root / "server", nodes=1, redis_url=a.redis_url, rate=5000, burst=10000)
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    listener = None
    try:
        product.start()
        pids = {"server" if a.redis_url is None else "node": product.procs[0].pid}
        if product.archiver is not None:
            pids["archiver + notifier"] = product.archiver.pid
        senders, named = users(product.base, "benchsend", a.senders), users(product.base, "benchnamed", a.named)
        post(product.base, "/api/channels", {"name": CHANNEL}, senders[0])
        listener = multiprocessing.get_context("spawn").Process(target=listen, args=(product.base, named, theirs))
        listener.start()
        assert ours.recv() == "ready"
        runs, owed = asyncio.run(measure(a, product.base, pids, senders))
        ours.send(owed)
        notified = int(ours.recv())
    finally:
        if listener is not None:
            listener.join(timeout=20)
        children.stop_all()
    shape = "standalone" if a.redis_url is None else "one node and the archiver (with the notifier) on Redis"
    print(
        f"\n**mentions on the send path**: {shape}, {a.senders} senders in one public channel, "
        f"{a.named} mentioned users online, {os.cpu_count()} CPUs; a mention names one user (every fourth two)\n"
    )
    print(table(runs, list(pids), notified, owed))
    log(f"logs in {root}")


if __name__ == "__main__":
    main()
