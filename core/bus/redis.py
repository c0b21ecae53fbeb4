"""Redis bus for distributed mode: atomic Lua sequencing, consumer-group streams, limits, presence."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import secrets
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import orjson
from redis.exceptions import RedisError, ResponseError
from redis.typing import EncodableT

from core.bus import (
    ARCHIVE_STREAM,
    CHANGED_TTL,
    DEAD_LETTER_SUFFIX,
    DEDUP_TTL,
    LIVE_CHANNEL,
    NOTICES,
    RECENT_PER_CHANNEL,
    Conflict,
    Entry,
    Limit,
    LiveHandler,
    RateLimited,
    SeqUnseeded,
)
from core.bus.redis_client import SOCKET_TIMEOUT, Batcher, connect, per_db
from core.bus.redis_live import LiveFeed
from core.bus.redis_scripts import (
    ACK_LUA,
    ALLOW_LUA,
    CHANGE_LUA,
    CLAIM_LUA,
    EVENT_LUA,
    FIND_LUA,
    FORGET_CONSUMERS_LUA,
    POSTS_LUA,
    PRESENCE_ADD_LUA,
    PRESENCE_MEMBERS_LUA,
    PRESENCE_REMOVE_LUA,
    PRESENCE_SWEEP_LUA,
    PRESENCE_TOUCH_LUA,
    SEED_LUA,
)
from core.models import Change, ChannelEvent, Message, Record, parse_record

logger = logging.getLogger(__name__)

# A batch of posts retried by redis-py after a lost reply must not post twice: each batch leaves its
# replies under a marker for this long (longer than the retry backoff).
POST_RETRY_TTL = 30
# Blocking reads end before the socket timeout, else a quiet stream would look like a dead server.
MAX_BLOCK_MS = int(SOCKET_TIMEOUT * 1000) - 5000
DEAD_LETTER_MAX = 10_000  # dead letters kept per stream, for inspection
# A presence entry not refreshed for PRESENCE_TTL seconds is stale: a node that crashed stops
# refreshing, so its users drop out of members() at most PRESENCE_TTL seconds after the crash.
PRESENCE_TTL = 30.0
HEARTBEAT_EVERY = 10.0
NEXT_ID_START = "0-0"
POST_BATCH = 100  # posts per script call at most: Redis runs nothing else meanwhile, so the call stays short
# under load a node sends its posts to Redis at most every 4 ms: fewer, larger script calls (Redis
# and node CPU per post fall; a call costs Redis about 20 µs besides its posts) for at most 4 ms of wait;
# a post after a quiet spell leaves at once (docs/performance.md#redis-bus-and-live-feed)
POST_SPACING = 0.004
FORGET_CONSUMERS_AFTER = 600.0  # seconds a stream consumer with nothing pending stays listed after its last read
FORGET_CONSUMERS_EVERY = 60.0  # seconds between a reader's passes over its group's consumers


_PostCall = tuple[list[str], list[EncodableT]]  # one post's keys and arguments in a POSTS_LUA call


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _seq_key(channel: str) -> str:
    return f"chat:seq:{channel}"


def _changed_key(channel: str, message_id: str) -> str:
    return f"chat:changed:{channel}:{message_id}"


def _rate_key(key: str) -> str:
    # chat:bucket, not chat:rate: those held the state as a hash, which the scripts no longer read
    return f"chat:bucket:{key}"


def _presence_keys(channel: str, user: str) -> list[str]:
    return [f"chat:presence:{channel}", f"chat:presence:{channel}:{user}"]


def _settle_post(
    posted: asyncio.Future[tuple[Message, bool]], message: Message, limit: Limit | None, reply: asyncio.Future[Any]
) -> None:
    """The outcome of one post from its reply in a POSTS_LUA batch."""
    if posted.done():  # its caller gave up (cancelled)
        return
    if reply.cancelled():
        posted.cancel()
        return
    if (failure := reply.exception()) is not None:
        posted.set_exception(failure)
        return
    status, data = reply.result()
    try:
        if status == 2:
            raise SeqUnseeded(message.channel)
        if status == 4:
            raise RateLimited(limit.key if limit is not None else "")
        if status == 0:
            posted.set_result((message.model_copy(update={"seq": int(data), "rev": int(data)}), False))
        else:
            posted.set_result((Message.model_validate_json(data), True))
    except Exception as exc:  # a callback's exception would only be logged, leaving the caller waiting
        posted.set_exception(exc)


class RedisBus:
    """The Bus on Redis >= 7.0. A crashed node's users leave members() within `presence_ttl` seconds."""

    def __init__(
        self,
        url: str,
        *,
        presence_ttl: float = PRESENCE_TTL,
        heartbeat_every: float = HEARTBEAT_EVERY,
        forget_consumers_after: float = FORGET_CONSUMERS_AFTER,
    ) -> None:
        self._redis = connect(url)
        self._presence_ttl_ms = int(presence_ttl * 1000)
        self._heartbeat_every = heartbeat_every
        self._groups: set[tuple[str, str]] = set()
        self._claim_cursor: dict[tuple[str, str], str] = {}
        self._forget_after_ms = int(forget_consumers_after * 1000)
        self._forgot_at: dict[tuple[str, str], float] = {}  # loop time of a group's last pass
        # This node's connections, refreshed by the heartbeat: (channel, user) -> connections.
        self._local: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._heartbeat: asyncio.Task[None] | None = None
        self._heartbeat_idle = asyncio.Event()
        self._heartbeat_idle.set()
        self._live_channel = per_db(url, LIVE_CHANNEL)
        self._feed = LiveFeed(self._redis, self._live_channel)
        self._closing = False
        register = self._redis.register_script
        self._post_many, self._seed, self._claim = register(POSTS_LUA), register(SEED_LUA), register(CLAIM_LUA)
        self._change, self._find = register(CHANGE_LUA), register(FIND_LUA)
        self._event = register(EVENT_LUA)
        self._ack, self._allow = register(ACK_LUA), register(ALLOW_LUA)
        self._presence_add, self._presence_remove = (
            register(PRESENCE_ADD_LUA),
            register(PRESENCE_REMOVE_LUA),
        )
        self._presence_touch = register(PRESENCE_TOUCH_LUA)
        self._presence_members = register(PRESENCE_MEMBERS_LUA)
        self._presence_sweep = register(PRESENCE_SWEEP_LUA)
        self._forget_consumers = register(FORGET_CONSUMERS_LUA)
        self._readded: list[tuple[str, str]] = []  # users the heartbeat put back in a channel's set
        # posts made together go to Redis as one script call
        self._posts: Batcher[_PostCall, Any] = Batcher(self._post_batch, POST_BATCH, POST_SPACING)

    async def ping(self) -> None:
        await self._redis.ping()
        if self._feed.down:
            raise ConnectionError("the live feed is not subscribed")

    async def close(self) -> None:
        # Presence entries are left to expire: after a shutdown the clients reconnect elsewhere,
        # and keeping them avoids a burst of offline/online events for users who never left.
        # The loops also stop on this flag: a cancellation landing inside a redis-py call can come back
        # as a connection error (asyncio.timeout on Python 3.11), which the loops would ride out forever.
        self._closing = True
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        await self._feed.close()
        await self._redis.aclose()

    async def seed_seq(self, channel: str, floor: int) -> None:
        await self._seed(keys=[_seq_key(channel)], args=[floor])

    async def post(
        self, message: Message, dedup_key: str | None = None, limit: Limit | None = None
    ) -> tuple[Message, bool]:
        return await self.post_soon(message, dedup_key, limit)

    def post_soon(
        self, message: Message, dedup_key: str | None = None, limit: Limit | None = None
    ) -> asyncio.Future[tuple[Message, bool]]:
        if "\n" in message.channel:  # the live feed's record separator; channel names never have one
            raise ValueError("a channel name cannot hold a newline")
        keys = [_seq_key(message.channel), f"chat:recent:{message.channel}"]
        unsequenced = message.wire()
        unsequenced.pop("seq", None)
        unsequenced.pop("rev", None)
        # the script puts '{"seq":<seq>,"rev":<seq>,' in front
        args: list[EncodableT] = [orjson.dumps(unsequenced)[1:], message.channel, 0, 0, 0, 0]
        if dedup_key is not None:
            keys.append(f"chat:dedup:{dedup_key}")
            args[2] = 1
        if limit is not None:
            keys.append(_rate_key(limit.key))
            args[3:] = [1, limit.rate, limit.burst]
        posted: asyncio.Future[tuple[Message, bool]] = asyncio.get_running_loop().create_future()
        reply = self._posts.submit((keys, args))
        reply.add_done_callback(functools.partial(_settle_post, posted, message, limit))
        return posted

    async def _post_batch(self, batch: list[_PostCall]) -> list[Any]:
        """One script call for a batch of posts. redis-py repeats it after a lost reply; the batch's
        retry marker then answers with the first call's replies (nothing is posted twice)."""
        keys: list[str] = [ARCHIVE_STREAM, f"chat:batch:{secrets.token_hex(8)}"]
        args: list[EncodableT] = [self._live_channel, RECENT_PER_CHANNEL, POST_RETRY_TTL, DEDUP_TTL]
        for post_keys, post_args in batch:
            keys += post_keys
            args += post_args
        replies: list[Any] = await self._post_many(keys=keys, args=args)
        return replies

    async def subscribe_live(self, handler: LiveHandler) -> Callable[[], None]:
        return await self._feed.subscribe(handler)

    async def post_change(self, change: Change, expected_rev: int, limit: Limit | None = None) -> Change:
        if "\n" in change.channel:
            raise ValueError("a channel name cannot hold a newline")
        head = change.wire()
        head.pop("seq", None)
        message = head.pop("message")
        message.pop("rev", None)
        keys = [
            _seq_key(change.channel),
            f"chat:recent:{change.channel}",
            ARCHIVE_STREAM,
            _changed_key(change.channel, change.message.id),
        ]
        args: list[EncodableT] = [
            self._live_channel,
            RECENT_PER_CHANNEL,
            orjson.dumps(head)[1:-1],
            orjson.dumps(message)[1:],
            expected_rev,
            CHANGED_TTL,
            change.channel,
        ]
        if limit is not None:
            keys.append(_rate_key(limit.key))
            args += [limit.rate, limit.burst]
        status, data = await self._change(keys=keys, args=args)
        if status == 2:
            raise SeqUnseeded(change.channel)
        if status == 3:
            raise Conflict(Message.model_validate_json(data))
        if status == 4:
            raise RateLimited(limit.key if limit is not None else "")
        seq = int(data)
        return change.model_copy(update={"seq": seq, "message": change.message.model_copy(update={"rev": seq})})

    async def post_event(self, event: ChannelEvent) -> ChannelEvent:
        if "\n" in event.channel:
            raise ValueError("a channel name cannot hold a newline")
        unsequenced = event.wire()
        unsequenced.pop("seq", None)
        keys = [_seq_key(event.channel), f"chat:recent:{event.channel}", ARCHIVE_STREAM]
        args: list[EncodableT] = [self._live_channel, RECENT_PER_CHANNEL, orjson.dumps(unsequenced)[1:], event.channel]
        status, data = await self._event(keys=keys, args=args)
        if status == 2:
            raise SeqUnseeded(event.channel)
        return event.model_copy(update={"seq": int(data)})

    async def notify(self, notice: bytes) -> None:
        await self._redis.publish(self._live_channel, NOTICES.encode() + b"\n" + notice)

    async def find(self, channel: str, message_id: str) -> Message | None:
        found = await self._find(
            keys=[_changed_key(channel, message_id), f"chat:recent:{channel}"],
            args=[RECENT_PER_CHANNEL, f'"id":"{message_id}"'],
        )
        return None if found is None else Message.model_validate_json(found)

    async def recent(self, channel: str, after: int = 0) -> list[Record]:
        # the post script trims the list only now and then: its last RECENT_PER_CHANNEL are the buffer
        raw: list[bytes | str] = await self._redis.lrange(f"chat:recent:{channel}", -RECENT_PER_CHANNEL, -1)
        records = [parse_record(item) for item in raw]
        return [r for r in records if r.seq is not None and r.seq > after]

    async def append(self, stream: str, data: bytes) -> str:
        return _text(await self._redis.xadd(stream, {"data": data}))

    async def read(
        self, stream: str, group: str, consumer: str, *, count: int, block_ms: int, claim_idle_ms: int
    ) -> list[Entry]:
        try:
            return await self._read(stream, group, consumer, count, block_ms, claim_idle_ms)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # The group vanished (Redis restarted without persistence): recreate it once.
            self._groups.discard((stream, group))
            return await self._read(stream, group, consumer, count, block_ms, claim_idle_ms)

    async def _read(
        self, stream: str, group: str, consumer: str, count: int, block_ms: int, claim_idle_ms: int
    ) -> list[Entry]:
        await self._ensure_group(stream, group)
        await self._forget_idle_consumers(stream, group)
        entries = await self._claim_idle(stream, group, consumer, count, claim_idle_ms)
        if len(entries) >= count:
            return entries
        block = min(block_ms, MAX_BLOCK_MS) if not entries and block_ms > 0 else None
        reply: Any = await self._redis.xreadgroup(
            group, consumer, {stream: ">"}, count=count - len(entries), block=block
        )
        for _, items in reply or []:
            entries += [Entry(_text(eid), fields.get(b"data", b""), 1) for eid, fields in items]
        return entries

    async def _ensure_group(self, stream: str, group: str) -> None:
        if (stream, group) in self._groups:
            return
        try:
            # From 0, so entries appended before the first consumer started are not skipped.
            await self._redis.xgroup_create(stream, group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._groups.add((stream, group))

    async def _forget_idle_consumers(self, stream: str, group: str) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._forgot_at.get((stream, group), -math.inf) < FORGET_CONSUMERS_EVERY:
            return
        self._forgot_at[(stream, group)] = now
        forgotten = await self._forget_consumers(keys=[stream], args=[group, self._forget_after_ms])
        if forgotten:
            logger.info("forgot %d idle consumers of %s/%s", forgotten, stream, group)

    async def _claim_idle(self, stream: str, group: str, consumer: str, count: int, idle_ms: int) -> list[Entry]:
        # Resume the pending-list scan where the last one stopped, so busy entries at its head
        # cannot hide idle ones behind them.
        start = self._claim_cursor.get((stream, group), NEXT_ID_START)
        reply = await self._claim(keys=[stream], args=[group, consumer, idle_ms, start, count])
        self._claim_cursor[(stream, group)] = _text(reply[0])
        return [Entry(_text(eid), bytes(data), int(deliveries)) for eid, data, deliveries in reply[1:]]

    async def ack(self, stream: str, group: str, ids: list[str]) -> None:
        if ids:
            await self._ack(keys=[stream], args=[group, *ids])

    async def dead_letter(self, stream: str, group: str, entry: Entry, reason: str) -> None:
        fields: dict[EncodableT, EncodableT] = {
            "data": entry.data,
            "reason": reason,
            "deliveries": entry.deliveries,
            "source_id": entry.id,
        }
        # Appended before the ack: a crash in between leaves the entry pending, so it is
        # dead-lettered again rather than lost.
        await self._redis.xadd(stream + DEAD_LETTER_SUFFIX, fields, maxlen=DEAD_LETTER_MAX, approximate=True)
        await self.ack(stream, group, [entry.id])
        logger.warning("dead-lettered %s from %s: %s", entry.id, stream, reason, extra={"group": group})

    async def backlog(self, stream: str, group: str) -> int:
        try:
            groups: list[dict[str, Any]] = await self._redis.xinfo_groups(stream)
        except ResponseError:
            return 0  # no such stream: nothing was ever appended
        for info in groups:
            if _text(info["name"]) == group:
                return int(info["pending"]) + await self._lag(stream, info)
        return int(await self._redis.xlen(stream))

    async def _lag(self, stream: str, info: dict[str, Any]) -> int:
        if info.get("lag") is not None:
            return int(info["lag"])
        # Redis cannot tell the lag (entries deleted by hand): count what lies past the group.
        last = _text(info["last-delivered-id"])
        return len(await self._redis.xrange(stream, min=f"({last}", max="+") or [])

    async def allow(self, key: str, rate: float, burst: int) -> bool:
        return bool(await self._allow(keys=[_rate_key(key)], args=[rate, burst]))

    async def hold(self, key: str, seconds: float) -> float:
        held = f"chat:hold:{key}"
        if await self._redis.set(held, b"1", px=max(1, int(seconds * 1000)), nx=True):
            return 0.0
        left: int = await self._redis.pttl(held)
        return max(left, 1) / 1000  # -2: freed meanwhile; the next try gets it

    async def cache_get(self, key: str) -> bytes | None:
        value: bytes | str | None = await self._redis.get(f"chat:cache:{key}")
        return value.encode() if isinstance(value, str) else value

    async def cache_set(self, key: str, value: bytes, ttl: float) -> None:
        await self._redis.set(f"chat:cache:{key}", value, px=max(1, int(ttl * 1000)))

    async def presence_add(self, channel: str, user: str, connection: str) -> bool:
        self._local[(channel, user)].add(connection)
        self._start_heartbeat()
        args: list[EncodableT] = [user, connection, self._presence_ttl_ms]
        return bool(await self._presence_add(keys=_presence_keys(channel, user), args=args))

    async def presence_remove(self, channel: str, user: str, connection: str) -> bool:
        connections = self._local.get((channel, user))
        if connections is not None:
            connections.discard(connection)
            if not connections:
                del self._local[(channel, user)]
        # A heartbeat already in flight may still carry this connection; removing after it lands keeps
        # it from resurrecting the entry.
        await self._heartbeat_idle.wait()
        args: list[EncodableT] = [user, connection, self._presence_ttl_ms]
        return bool(await self._presence_remove(keys=_presence_keys(channel, user), args=args))

    async def members(self, channel: str) -> list[str]:
        args: list[EncodableT] = ["", "", self._presence_ttl_ms]
        users = await self._presence_members(keys=[f"chat:presence:{channel}", ""], args=args)
        return sorted(_text(u) for u in users)

    async def presence_sweep(self) -> list[tuple[str, str, bool]]:
        # still connected here (one that left since was announced offline by its own removal)
        changes = [(channel, user, True) for channel, user in self._readded if (channel, user) in self._local]
        self._readded = []
        channels = sorted({channel for channel, _ in self._local})
        if not channels:
            return changes
        args: list[EncodableT] = ["", "", self._presence_ttl_ms]
        async with self._redis.pipeline(transaction=False) as pipe:
            for channel in channels:
                await self._presence_sweep(keys=[f"chat:presence:{channel}", ""], args=args, client=pipe)
            swept = await pipe.execute()
        for channel, gone in zip(channels, swept, strict=True):
            changes += [(channel, _text(user), False) for user in gone]
        return changes

    def _start_heartbeat(self) -> None:
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(self._beat_forever(), name="redis-bus-presence")

    async def _beat_forever(self) -> None:
        while not self._closing:
            await asyncio.sleep(self._heartbeat_every)
            try:
                await self._beat()
            except RedisError as exc:
                logger.warning("presence heartbeat failed: %s", exc)
            except Exception:
                # The task's boundary: a dead heartbeat would silently expire every local user.
                logger.exception("presence heartbeat crashed")

    async def _beat(self) -> None:
        self._heartbeat_idle.clear()
        try:
            # Snapshot synchronously after clearing: a removal from here on waits for us.
            snapshot = [(key, list(connections)) for key, connections in self._local.items()]
            if not snapshot:
                return
            async with self._redis.pipeline(transaction=False) as pipe:
                for (channel, user), connections in snapshot:
                    args: list[EncodableT] = [user, "", self._presence_ttl_ms, *connections]
                    await self._presence_touch(keys=_presence_keys(channel, user), args=args, client=pipe)
                readded = await pipe.execute()
            # swept while this node could not refresh them, yet still connected here: back online
            self._readded += [key for (key, _), back in zip(snapshot, readded, strict=True) if back]
        finally:
            self._heartbeat_idle.set()
