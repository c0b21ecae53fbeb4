"""The changes companion: a few Socket.IO clients beside the load generator that turn a step's traffic into
90 % messages and 10 % changes (react, unreact, edit), and measure the changes.

    python bench/changes.py --urls 127.0.0.1:8080 --token-file t.txt --rooms 10 --rate 22.2 --out c.json

It connects `--clients` users (one token per line), client c joining the rooms c, c + clients, ... of the
kit's `PREFIX0..PREFIX(rooms-1)`, so every room has one companion member; each client posts one message of
its own per room (the only messages it edits), writes `--ready`, then waits for the generator's messages
(`bench ts=` in the text). From the first one it makes `--rate` changes per second in all, round robin
over its clients: react to a message of the generator it received, edit its own message, unreact one of
its reactions the server has confirmed; it stops with the generator's sending (`--warmup` + `--duration`
after its first message: the generator's clients leave right after, and a change queued behind a thousand
disconnects would time those, not the change), early when the generator's messages stopped for `--idle`
seconds, or on SIGTERM, and pauses while none came for GAP seconds. A change's latency runs from its emit
to the client's own `message_updated` coming back; the rate and the latencies are those of the changes
emitted in the generator's measured window (after its warm-up). Every `message_updated` any client
receives is counted. The summary is one JSON object in `--out`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import signal
import statistics
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import socketio

EMOJIS = ("🐂", "🐻", "👍", "🔥", "🚀", "📈")  # from core.changes.EMOJIS, the allowlist
KINDS = ("react", "edit", "unreact")  # the cycle each client makes; unreact falls back to react
GAP = 0.2  # seconds without a generator message after which no change is made (its sending ended)


@dataclass
class Member:
    """One companion client and what it knows of its rooms."""

    index: int
    client: socketio.AsyncClient
    user: str = ""
    rooms: list[str] = field(default_factory=list)
    own: dict[str, str] = field(default_factory=dict)  # room -> id of its own message there
    seen: dict[str, deque[str]] = field(default_factory=dict)  # room -> ids of the generator's newest messages
    reacted: deque[tuple[str, str, str]] = field(default_factory=deque)  # confirmed (room, id, emoji)
    mine: set[tuple[str, str]] = field(default_factory=set)  # (id, emoji) reacted or being reacted
    kinds: itertools.cycle[str] = field(default_factory=lambda: itertools.cycle(KINDS))
    rooms_cycle: itertools.cycle[str] | None = None
    edits: int = 0


class Companion:
    def __init__(self, a: argparse.Namespace) -> None:
        self.a = a
        self.members: list[Member] = []
        self.pending: dict[tuple[str, str, str, str], float] = {}  # (user, kind, id, emoji or text) -> emitted
        self.emits: list[float] = []  # when each change was emitted, s after the generator's first message
        self.samples: list[tuple[float, str, float]] = []  # (emitted as above, kind, ms to its message_updated)
        self.acks: list[float] = []  # ms from emit to the server's ack
        self.started = 0.0
        self.emitted: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.paused = 0  # ticks without a change: no generator message for GAP seconds
        self.fallbacks = 0  # reacts made edits: no generator message seen in that room yet
        self.updates = 0  # message_updated deliveries to all companion clients
        self.generator_messages = 0
        self.first_generator: float | None = None
        self.last_generator = 0.0
        self.stop = asyncio.Event()
        self.generating = asyncio.Event()  # the generator's first message arrived
        self.settled = asyncio.Event()  # nothing pending once the changes have ended

    def on_message(self, member: Member, data: dict[str, Any]) -> None:
        text = data.get("text", "")
        if isinstance(text, str) and text.startswith("bench ts="):
            now = time.perf_counter()
            self.generator_messages += 1
            self.last_generator = now
            if self.first_generator is None:
                self.first_generator = now
                self.generating.set()
            member.seen[data["channel"]].append(data["id"])

    def on_updated(self, member: Member, data: dict[str, Any]) -> None:
        now = time.perf_counter()
        self.updates += 1
        if data.get("by") != member.user:
            return
        message = data["message"]
        kind = data["kind"]
        detail = message["text"] if kind == "edit" else data.get("emoji", "")
        t0 = self.pending.pop((member.user, kind, message["id"], detail), None)
        if t0 is None:
            return
        self.samples.append((round(t0 - self.started, 3), kind, round((now - t0) * 1000, 2)))
        if not self.pending:
            self.settled.set()
        if kind == "react":
            member.reacted.append((data["channel"], message["id"], detail))
        elif kind == "unreact":
            member.mine.discard((message["id"], detail))

    async def connect(self, tokens: list[str]) -> None:
        urls = self.a.urls.split(",")
        rooms = [f"{self.a.prefix}{k}" for k in range(self.a.rooms)]
        for i in range(self.a.clients):
            client = socketio.AsyncClient(reconnection=False)
            member = Member(i, client, rooms=rooms[i :: self.a.clients])
            member.rooms_cycle = itertools.cycle(member.rooms)
            member.seen = {room: deque(maxlen=50) for room in member.rooms}
            client.on("message", lambda d, m=member: self.on_message(m, d))
            client.on("message_updated", lambda d, m=member: self.on_updated(m, d))
            await client.connect(
                f"http://{urls[i % len(urls)]}", auth={"token": tokens[i % len(tokens)]}, transports=["websocket"]
            )
            self.members.append(member)
        for member in self.members:
            for room in member.rooms:
                ack = await member.client.call("join", {"channel": room}, timeout=10)
                if not ack.get("ok"):
                    raise SystemExit(f"join {room}: {ack}")
                sent = await member.client.call(
                    "send", {"channel": room, "text": f"changes companion {member.index}"}, timeout=10
                )
                if not sent.get("ok"):
                    raise SystemExit(f"send to {room}: {sent}")
                member.own[room] = sent["message"]["id"]
                member.user = sent["message"]["user"]

    def change(self, member: Member) -> None:
        """Emit the member's next change (react, edit, unreact in turn)."""
        assert member.rooms_cycle is not None
        kind = next(member.kinds)
        if kind == "unreact" and not member.reacted:
            kind = "react"
        room = next(member.rooms_cycle)
        choice = None
        if kind == "react":  # the newest message in the next room that has any (with -r 100 most rooms are quiet)
            at = member.rooms.index(room)
            found = next(
                (
                    (r, m, e)
                    for r in member.rooms[at:] + member.rooms[:at]
                    for m in reversed(member.seen[r])
                    for e in EMOJIS
                    if (m, e) not in member.mine
                ),
                None,
            )
            if found is not None:
                room, choice = found[0], (found[1], found[2])
            if choice is None:  # no message of the generator seen in that room yet: an edit instead
                self.fallbacks += 1
                kind = "edit"
        if kind == "unreact":
            room, mid, detail = member.reacted.popleft()
            payload = {"channel": room, "id": mid, "emoji": detail}
        elif kind == "edit":
            member.edits += 1
            mid, detail = member.own[room], f"changes companion {member.index} edit {member.edits}"
            payload = {"channel": room, "id": mid, "text": detail}
        else:
            assert choice is not None
            mid, detail = choice
            member.mine.add(choice)
            payload = {"channel": room, "id": mid, "emoji": detail}
        key = (member.user, kind, mid, detail)
        emitted = time.perf_counter()
        self.pending[key] = emitted
        self.emits.append(round(emitted - self.started, 3))
        self.emitted[kind] += 1

        def acked(ack: dict[str, Any]) -> None:
            self.acks.append((time.perf_counter() - emitted) * 1000)
            if not ack.get("ok"):
                self.refused[str(ack.get("error", {}).get("code", ack))] += 1
                self.pending.pop(key, None)
                if not self.pending:
                    self.settled.set()

        asyncio.get_running_loop().create_task(member.client.emit(kind, payload, callback=acked))

    async def run(self) -> dict[str, Any]:
        stopping = asyncio.ensure_future(self.stop.wait())
        await asyncio.wait([asyncio.ensure_future(self.generating.wait()), stopping], return_when="FIRST_COMPLETED")
        started = self.started = time.perf_counter()
        end = started + self.a.warmup + self.a.duration  # the generator's sending, as the window it measures
        members = itertools.cycle(self.members)
        interval, n = 1 / self.a.rate, 0
        while not self.stop.is_set():
            now = time.perf_counter()
            quiet = now - self.last_generator
            if quiet > self.a.idle or now >= end:
                break
            due = started + n * interval
            if due > now:
                await asyncio.sleep(due - now)
                continue
            if quiet > GAP:  # the generator has stopped (or stalls): no change without messages around it
                self.paused += 1
            else:
                self.change(next(members))
            n += 1
        ended = time.perf_counter()
        if self.pending:
            self.settled.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.settled.wait(), self.a.grace)
        stopping.cancel()
        span = max(1e-9, ended - started)
        total = sum(self.emitted.values())
        # the generator's measured window: after its warm-up, to the end of its sending
        w0, w1 = self.a.warmup, self.a.warmup + self.a.duration
        lat = sorted(ms for t, _, ms in self.samples if w0 <= t < w1)
        in_window = sum(w0 <= t < w1 for t in self.emits)

        def pct(q: int) -> float | None:
            if not lat:
                return None
            return lat[0] if len(lat) == 1 else statistics.quantiles(lat, n=100, method="inclusive")[q - 1]

        return {
            "clients": len(self.members),
            "rate_asked": self.a.rate,
            "seconds": span,
            "changes": total,
            "window_s": self.a.duration,
            "window_changes": in_window,
            "changes_ps": in_window / self.a.duration,
            "by_kind": dict(self.emitted),
            "react_fallbacks": self.fallbacks,
            "paused_ticks": self.paused,
            "refused": dict(self.refused),
            "lost": len(self.pending),  # emitted, not refused, and no own message_updated within the grace
            "confirmed": len(self.samples),
            "window_confirmed": len(lat),
            "lat_p50_ms": pct(50),
            "lat_p99_ms": pct(99),
            "lat_max_ms": lat[-1] if lat else None,
            "updates_received": self.updates,
            "generator_messages_received": self.generator_messages,
            "generator_messages_ps": self.generator_messages / span,
            "cpu_s": time.process_time(),
            "ack_p50_ms": statistics.median(self.acks) if self.acks else None,
            "ack_max_ms": max(self.acks, default=None),
            "samples": sorted(self.samples),
        }


async def main_async(a: argparse.Namespace, tokens: list[str]) -> dict[str, Any]:
    companion = Companion(a)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, companion.stop.set)
    try:
        await companion.connect(tokens)
        await asyncio.to_thread(Path(a.ready).write_text, "ready\n")
        return await companion.run()
    finally:
        for member in companion.members:
            await member.client.disconnect()


def main() -> None:
    a = parse_args()
    tokens = [t for t in Path(a.token_file).read_text().splitlines() if t.strip()]
    summary = asyncio.run(main_async(a, tokens))
    Path(a.out).write_text(json.dumps(summary))
    print(json.dumps(summary), file=sys.stderr)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--urls", required=True, help="host:port,... of the server processes (clients spread over them)")
    ap.add_argument("--token-file", required=True, help="one token per line: the companion's own users")
    ap.add_argument("--rooms", type=int, required=True, help="the generator's -r")
    ap.add_argument("--prefix", default="bench-", help="the generator's channel prefix")
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--rate", type=float, required=True, help="changes per second, all clients together")
    ap.add_argument("--warmup", type=float, required=True, help="the generator's --warmup (unmeasured sending)")
    ap.add_argument("--duration", type=float, required=True, help="the generator's --duration (measured window)")
    ap.add_argument("--idle", type=float, default=0.5, help="seconds without generator messages that end it")
    ap.add_argument("--grace", type=float, default=3.0, help="seconds to wait for the last changes to come back")
    ap.add_argument("--ready", required=True, help="file written once every client joined")
    ap.add_argument("--out", required=True, help="the summary's JSON")
    return ap.parse_args(argv)


if __name__ == "__main__":
    main()
