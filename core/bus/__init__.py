"""The bus: sequencing, archive and bot streams, presence and rate limits, chosen by URL scheme."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from core.models import Change, ChannelEvent, Message, Record

ARCHIVE_STREAM = "chat:archive"
BOT_STREAM = "chat:bot"
DEAD_LETTER_SUFFIX = ":dead"
RECENT_PER_CHANNEL = 200  # messages kept on the bus per channel, bridging the archiver's lag
CHANGED_TTL = 86400  # seconds the bus remembers a changed message for find(): far past the archiver's lag
DEDUP_TTL = 3600  # seconds a send's client_id is remembered: longer than any reconnect retry
# Redis pub/sub channel of the live feed (+ ":<db>"): b"<channel>\n<message JSON>" records joined by "\n"
LIVE_CHANNEL = "chat:live"
# The live feed's "channel" of notices to every node (Posting.notify); no channel has an empty name
NOTICES = ""

# Called with a channel name and a posted record's wire JSON (a Message's or a Change's), in seq order.
# Synchronous: it runs inside the post (memory) or the feed's reader (Redis) and must not block.
LiveHandler = Callable[[str, bytes], None]
logger = logging.getLogger(__name__)


async def unless_stopped(stop: asyncio.Event | None, read: Coroutine[Any, Any, list[Entry]]) -> list[Entry]:
    """`read` (a Bus.read), given up with nothing as soon as `stop` is set, so a worker stops at once
    instead of after its block. A read cancelled while it waits took nothing (memory), or leaves what
    Redis handed it pending, claimed by a consumer later as after a crash: nothing is lost."""
    if stop is None or stop.is_set():
        return await read
    reading = asyncio.ensure_future(read)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((reading, stopping), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    reading.cancel()  # nothing, if it is done
    try:
        return await reading
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        return []


def consumer_name() -> str:
    """A stream consumer name unique to this process."""
    return f"{socket.gethostname()}-{os.getpid()}"


class SeqUnseeded(Exception):
    """The bus has no sequence counter for a channel (new bus, restarted Redis): seed it first."""


class Conflict(Exception):
    """A change's message changed since it was read (another node's change took a seq first)."""

    def __init__(self, current: Message | None) -> None:
        super().__init__("the message changed meanwhile")
        self.current = current


class RateLimited(Exception):
    """A post's token bucket was empty: nothing was posted."""


@dataclass(frozen=True, slots=True)
class Limit:
    """A token bucket a post spends from, checked in the same step as the post (one Redis round trip)."""

    key: str
    rate: float
    burst: int


@dataclass(frozen=True, slots=True)
class Entry:
    """One stream entry handed to a consumer; `deliveries` counts this delivery too."""

    id: str
    data: bytes
    deliveries: int


class LiveHandlers:
    """The handlers subscribed to one bus's live feed; a failing handler cannot stop the others."""

    def __init__(self) -> None:
        self._handlers: list[LiveHandler] = []

    def __bool__(self) -> bool:
        return bool(self._handlers)

    def add(self, handler: LiveHandler) -> Callable[[], None]:
        self._handlers.append(handler)
        return lambda: self.remove(handler)

    def remove(self, handler: LiveHandler) -> None:
        with contextlib.suppress(ValueError):
            self._handlers.remove(handler)

    def clear(self) -> None:
        self._handlers.clear()

    def dispatch(self, channel: str, wire: bytes) -> None:
        for handler in list(self._handlers):
            try:
                handler(channel, wire)
            except Exception:
                logger.exception("live feed handler failed", extra={"channel": channel})


class Lifecycle(Protocol):
    """Every bus: reachable, and closed once."""

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class Posting(Protocol):
    """Sequencing and posting messages, the live feed and the recent buffer: nodes and the bot."""

    async def seed_seq(self, channel: str, floor: int) -> None:
        """Make the channel's next seq larger than `floor` (the store's last seq)."""

    async def post(
        self, message: Message, dedup_key: str | None = None, limit: Limit | None = None
    ) -> tuple[Message, bool]:
        """Atomically give `message` the next seq, append it to the archive stream and the recent
        buffer, and put it on the live feed. With a `dedup_key` seen before, return the first
        message and True instead (nothing goes on the feed).
        With a `limit`, first take a token as allow() does, else raise RateLimited.
        Raise SeqUnseeded when the channel's counter does not exist (no token is taken)."""

    def post_soon(
        self, message: Message, dedup_key: str | None = None, limit: Limit | None = None
    ) -> asyncio.Future[tuple[Message, bool]]:
        """post() without a coroutine, for callers on the event loop that answer from a callback: the
        future of its outcome (the same result or exception)."""

    async def subscribe_live(self, handler: LiveHandler) -> Callable[[], None]:
        """From now on, call `handler` for every message posted by any process on this bus, in each
        channel's seq order; returns, once the subscription is in place, the call that ends it."""

    async def post_change(self, change: Change, expected_rev: int, limit: Limit | None = None) -> Change:
        """post() for a change to a message: atomically give it the channel's next seq (the folded
        message's new rev), remember the folded message for find(), and append it to the archive stream,
        the recent buffer and the live feed. Raise Conflict with the message as the bus now holds it when
        its rev is not `expected_rev` (a change from elsewhere came first); RateLimited and SeqUnseeded as
        post() does."""

    async def post_event(self, event: ChannelEvent) -> ChannelEvent:
        """post() for a channel event (membership, moderation, settings): give it the channel's next seq and
        append it to the archive stream, the recent buffer and the live feed. SeqUnseeded as post()."""

    async def notify(self, notice: bytes) -> None:
        """Put a notice for every node on the live feed, as the channel NOTICES: '{"seq":0,...}' JSON."""

    async def find(self, channel: str, message_id: str) -> Message | None:
        """The message as the bus holds it: as its latest change left it while the bus remembers that (a day
        on Redis), else as posted while it is in the recent buffer; None when the bus has neither."""

    async def recent(self, channel: str, after: int = 0) -> list[Record]:
        """Records (messages and changes) still on the bus for `channel` with seq > after, in seq order."""


class Streams(Protocol):
    """Consumer-group streams: the archiver's and the bot's work queues."""

    async def append(self, stream: str, data: bytes) -> str:
        """Append one entry to a stream; returns its id."""

    async def read(
        self, stream: str, group: str, consumer: str, *, count: int, block_ms: int, claim_idle_ms: int
    ) -> list[Entry]:
        """Entries for this consumer: first those of other consumers idle over `claim_idle_ms`
        (a dead consumer's), then new ones, waiting up to `block_ms` when there are none."""

    async def ack(self, stream: str, group: str, ids: list[str]) -> None: ...

    async def dead_letter(self, stream: str, group: str, entry: Entry, reason: str) -> None:
        """Move an entry that keeps failing to `stream + DEAD_LETTER_SUFFIX` and ack it."""

    async def backlog(self, stream: str, group: str) -> int:
        """Entries not yet acknowledged by the group (pending plus never delivered)."""


class Presence(Protocol):
    """Who is in which channel, across the nodes."""

    async def presence_add(self, channel: str, user: str, connection: str) -> bool:
        """Count one connection of `user` in `channel`; True when it is the user's first."""

    async def presence_remove(self, channel: str, user: str, connection: str) -> bool:
        """Drop one connection; True when it was the user's last in the channel."""

    async def members(self, channel: str) -> list[str]:
        """Users with at least one connection in `channel`, sorted."""

    async def presence_sweep(self) -> list[tuple[str, str, bool]]:
        """Presence changes no presence_add/remove reported, as (channel, user, online): users whose every
        connection stopped being refreshed (their node died) are dropped and reported offline, each to
        one caller across the nodes, in the channels this process has connections in; users this process
        re-added after missing its own refreshes are reported online."""


class RateLimits(Protocol):
    """Token buckets shared by every process on the bus."""

    async def allow(self, key: str, rate: float, burst: int) -> bool:
        """Token bucket: take one token from `key`'s bucket if there is one."""

    async def hold(self, key: str, seconds: float) -> float:
        """Take `key` for `seconds` if nobody holds it (0.0), else the seconds left until it is free: one
        send per slow-mode interval, with the wait to tell the sender."""


class Cache(Protocol):
    """Values shared by every process on the bus for a while (quotes)."""

    async def cache_get(self, key: str) -> bytes | None:
        """The value cached under `key`, or None when it is absent or expired."""

    async def cache_set(self, key: str, value: bytes, ttl: float) -> None:
        """Cache `value` under `key` for `ttl` seconds, shared by every process on this bus."""


class Bus(Lifecycle, Posting, Streams, Presence, RateLimits, Cache, Protocol):
    """Every role at once: what MemoryBus and RedisBus implement; a user asks only for the roles it uses."""


def open_bus(url: str) -> Bus:
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        from core.bus.memory import MemoryBus

        return MemoryBus()
    if scheme in ("redis", "rediss"):
        from core.bus.redis import RedisBus

        return RedisBus(url)
    raise ValueError(f"unsupported bus URL {url!r}")
