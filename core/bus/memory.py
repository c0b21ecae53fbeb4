"""In-process bus for standalone mode: the same semantics as the Redis bus, held in memory."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from core.bus import (
    ARCHIVE_STREAM,
    CHANGED_TTL,
    DEAD_LETTER_SUFFIX,
    DEDUP_TTL,
    NOTICES,
    RECENT_PER_CHANNEL,
    Conflict,
    Entry,
    Limit,
    LiveHandler,
    LiveHandlers,
    RateLimited,
    SeqUnseeded,
)
from core.models import Change, ChannelEvent, Message, Record, parse_record
from core.ratelimit import Buckets

SWEEP_EVERY = 10_000  # dictionary size that triggers dropping expired keys


@dataclass
class _Pending:
    consumer: str
    deliveries: int
    delivered_at: float


@dataclass
class _Group:
    next_index: int = 1
    pending: dict[int, _Pending] = field(default_factory=dict)


@dataclass
class _Stream:
    entries: dict[int, bytes] = field(default_factory=dict)
    last_index: int = 0
    groups: dict[str, _Group] = field(default_factory=dict)
    grown: asyncio.Event = field(default_factory=asyncio.Event)


def _index(entry_id: str) -> int:
    return int(entry_id.split("-", 1)[0])


class MemoryBus:
    def __init__(self) -> None:
        self._seq: dict[str, int] = {}
        # each channel's last records as (seq, wire JSON), parsed when read, as Redis keeps them: 200 records of
        # each of 500 channels as models held about half a gigabyte, and made every full collection walk them
        self._recent: dict[str, deque[tuple[int, bytes]]] = defaultdict(lambda: deque(maxlen=RECENT_PER_CHANNEL))
        self._changed: dict[tuple[str, str], tuple[Message, float]] = {}  # (channel, id) -> folded, expiry
        self._dedup: dict[str, tuple[Message, float]] = {}
        self._streams: dict[str, _Stream] = defaultdict(_Stream)
        self._buckets = Buckets(SWEEP_EVERY)
        self._presence: dict[str, dict[str, set[str]]] = defaultdict(dict)
        self._cache: dict[str, tuple[bytes, float]] = {}
        self._held: dict[str, float] = {}  # hold() key -> when it is free (monotonic)
        self._live = LiveHandlers()

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._live.clear()

    async def seed_seq(self, channel: str, floor: int) -> None:
        self._seq[channel] = max(self._seq.get(channel, 0), floor)

    async def post(
        self, message: Message, dedup_key: str | None = None, limit: Limit | None = None
    ) -> tuple[Message, bool]:
        return self._post(message, dedup_key, limit)

    def post_soon(
        self, message: Message, dedup_key: str | None = None, limit: Limit | None = None
    ) -> asyncio.Future[tuple[Message, bool]]:
        posted: asyncio.Future[tuple[Message, bool]] = asyncio.get_running_loop().create_future()
        try:
            posted.set_result(self._post(message, dedup_key, limit))
        except Exception as exc:
            posted.set_exception(exc)
        return posted

    def _post(self, message: Message, dedup_key: str | None, limit: Limit | None) -> tuple[Message, bool]:
        # No await: the whole post is atomic on the event loop.
        now = time.monotonic()
        seen = self._dedup.get(dedup_key) if dedup_key is not None else None
        if seen is not None and seen[1] <= now:
            seen = None
        if seen is None and message.channel not in self._seq:
            raise SeqUnseeded(message.channel)
        if limit is not None and not self._buckets.take(limit.key, limit.rate, limit.burst, now):
            raise RateLimited(limit.key)
        if seen is not None:
            return seen[0], True
        self._seq[message.channel] += 1
        seq = self._seq[message.channel]
        posted = message.model_copy(update={"seq": seq, "rev": seq})
        if dedup_key is not None:
            if len(self._dedup) > SWEEP_EVERY:
                self._dedup = {k: v for k, v in self._dedup.items() if v[1] > now}
            self._dedup[dedup_key] = (posted, now + DEDUP_TTL)
        wire = orjson.dumps(posted.wire())  # one encoding for the recent buffer, the archive stream, the live feed
        self._recent[posted.channel].append((seq, wire))
        self._append(ARCHIVE_STREAM, wire)
        self._live.dispatch(posted.channel, wire)
        return posted, False

    async def post_change(self, change: Change, expected_rev: int, limit: Limit | None = None) -> Change:
        # No await: atomic on the event loop, as _post.
        now = time.monotonic()
        if change.channel not in self._seq:
            raise SeqUnseeded(change.channel)
        key = (change.channel, change.message.id)
        known = self._changed.get(key)
        current = known[0] if known is not None and known[1] > now else None
        if current is not None and current.rev != expected_rev:
            raise Conflict(current)
        if limit is not None and not self._buckets.take(limit.key, limit.rate, limit.burst, now):
            raise RateLimited(limit.key)
        self._seq[change.channel] += 1
        seq = self._seq[change.channel]
        posted = change.model_copy(update={"seq": seq, "message": change.message.model_copy(update={"rev": seq})})
        if len(self._changed) > SWEEP_EVERY:
            self._changed = {k: v for k, v in self._changed.items() if v[1] > now}
        self._changed[key] = (posted.message, now + CHANGED_TTL)
        wire = orjson.dumps(posted.wire())
        self._recent[posted.channel].append((seq, wire))
        self._append(ARCHIVE_STREAM, wire)
        self._live.dispatch(posted.channel, wire)
        return posted

    async def post_event(self, event: ChannelEvent) -> ChannelEvent:
        if event.channel not in self._seq:
            raise SeqUnseeded(event.channel)
        self._seq[event.channel] += 1
        posted = event.model_copy(update={"seq": self._seq[event.channel]})
        wire = orjson.dumps(posted.wire())
        self._recent[posted.channel].append((self._seq[event.channel], wire))
        self._append(ARCHIVE_STREAM, wire)
        self._live.dispatch(posted.channel, wire)
        return posted

    async def notify(self, notice: bytes) -> None:
        self._live.dispatch(NOTICES, notice)

    async def find(self, channel: str, message_id: str) -> Message | None:
        known = self._changed.get((channel, message_id))
        if known is not None and known[1] > time.monotonic():
            return known[0]
        needle = message_id.encode()
        for _, wire in reversed(self._recent.get(channel, ())):
            if needle in wire:  # parsed only where the id appears
                record = parse_record(wire)
                if isinstance(record, Message) and record.id == message_id:
                    return record
        return None

    async def subscribe_live(self, handler: LiveHandler) -> Callable[[], None]:
        return self._live.add(handler)

    async def recent(self, channel: str, after: int = 0) -> list[Record]:
        return [parse_record(wire) for seq, wire in self._recent.get(channel, ()) if seq > after]

    async def append(self, stream: str, data: bytes) -> str:
        return self._append(stream, data)

    def _append(self, stream: str, data: bytes) -> str:
        state = self._streams[stream]
        state.last_index += 1
        state.entries[state.last_index] = data
        state.grown.set()
        return f"{state.last_index}-0"

    async def read(
        self, stream: str, group: str, consumer: str, *, count: int, block_ms: int, claim_idle_ms: int
    ) -> list[Entry]:
        state = self._streams[stream]
        grp = state.groups.setdefault(group, _Group())
        deadline = time.monotonic() + block_ms / 1000
        while True:
            entries = self._claim(state, grp, consumer, count, claim_idle_ms)
            entries += self._take_new(state, grp, consumer, count - len(entries))
            remaining = deadline - time.monotonic()
            if entries or remaining <= 0:
                return entries
            state.grown.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.grown.wait(), min(remaining, claim_idle_ms / 1000))

    def _claim(self, state: _Stream, grp: _Group, consumer: str, count: int, idle_ms: int) -> list[Entry]:
        now = time.monotonic()
        claimed: list[Entry] = []
        for index, pending in grp.pending.items():
            if len(claimed) >= count:
                break
            if (now - pending.delivered_at) * 1000 >= idle_ms and index in state.entries:
                pending.consumer, pending.delivered_at = consumer, now
                pending.deliveries += 1
                claimed.append(Entry(f"{index}-0", state.entries[index], pending.deliveries))
        return claimed

    def _take_new(self, state: _Stream, grp: _Group, consumer: str, count: int) -> list[Entry]:
        taken: list[Entry] = []
        now = time.monotonic()
        while len(taken) < count and grp.next_index <= state.last_index:
            index = grp.next_index
            grp.next_index += 1
            if index in state.entries:
                grp.pending[index] = _Pending(consumer, 1, now)
                taken.append(Entry(f"{index}-0", state.entries[index], 1))
        return taken

    async def ack(self, stream: str, group: str, ids: list[str]) -> None:
        state = self._streams[stream]
        grp = state.groups.setdefault(group, _Group())
        for entry_id in ids:
            index = _index(entry_id)
            grp.pending.pop(index, None)
            if all(index < g.next_index and index not in g.pending for g in state.groups.values()):
                state.entries.pop(index, None)

    async def dead_letter(self, stream: str, group: str, entry: Entry, reason: str) -> None:
        self._append(stream + DEAD_LETTER_SUFFIX, entry.data)
        await self.ack(stream, group, [entry.id])

    async def backlog(self, stream: str, group: str) -> int:
        state = self._streams[stream]
        grp = state.groups.get(group)
        if grp is None:
            return len(state.entries)
        return len(grp.pending) + sum(1 for i in state.entries if i >= grp.next_index)

    async def allow(self, key: str, rate: float, burst: int) -> bool:
        return self._buckets.take(key, rate, burst, time.monotonic())

    async def hold(self, key: str, seconds: float) -> float:
        now = time.monotonic()
        if len(self._held) > SWEEP_EVERY:
            self._held = {k: v for k, v in self._held.items() if v > now}
        free = self._held.get(key, 0.0)
        if free > now:
            return free - now
        self._held[key] = now + seconds
        return 0.0

    async def cache_get(self, key: str) -> bytes | None:
        hit = self._cache.get(key)
        if hit is None or hit[1] <= time.monotonic():
            return None
        return hit[0]

    async def cache_set(self, key: str, value: bytes, ttl: float) -> None:
        now = time.monotonic()
        if len(self._cache) > SWEEP_EVERY:
            self._cache = {k: v for k, v in self._cache.items() if v[1] > now}
        self._cache[key] = (value, now + ttl)

    async def presence_add(self, channel: str, user: str, connection: str) -> bool:
        connections = self._presence[channel].setdefault(user, set())
        if connection in connections:
            return False  # a repeated join of the same connection is not a new arrival
        connections.add(connection)
        return len(connections) == 1

    async def presence_remove(self, channel: str, user: str, connection: str) -> bool:
        users = self._presence.get(channel, {})
        connections = users.get(user)
        if not connections or connection not in connections:
            return False
        connections.discard(connection)
        if connections:
            return False
        del users[user]
        return True

    async def members(self, channel: str) -> list[str]:
        return sorted(self._presence.get(channel, {}))

    async def presence_sweep(self) -> list[tuple[str, str, bool]]:
        return []  # one process: every connection leaves through presence_remove
