"""The Redis bus's live feed: one pub/sub subscription per process, read straight off its connection,
resubscribed after a Redis loss, handing each posted message to the process's handlers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from core.bus import LiveHandler, LiveHandlers
from core.retry import Backoff

logger = logging.getLogger(__name__)

# After losing Redis, the live feed's reader resubscribes quickly (clients catch up on gaps by seq).
LIVE_RETRY_FIRST = 0.1
LIVE_RETRY_CAP = 2.0
LIVE_PING_EVERY = 15.0  # seconds between health-check PINGs on the live feed's connection
LIVE_SUBSCRIBE_WAIT = 2.0  # a node starts without its feed after this; ping() reports the feed down


class LiveFeed:
    def __init__(self, redis: Redis, channel: str) -> None:
        self._redis, self._channel = redis, channel
        self._handlers = LiveHandlers()
        self._reader: asyncio.Task[None] | None = None
        self._up = False
        self._closing = False

    @property
    def down(self) -> bool:
        """Someone listens but the subscription is not in place."""
        return bool(self._handlers) and not self._up

    async def close(self) -> None:
        self._closing = True  # see RedisBus.close
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None

    async def subscribe(self, handler: LiveHandler) -> Callable[[], None]:
        """Call `handler` for every message on the feed; returns, once subscribed (or after
        LIVE_SUBSCRIBE_WAIT), the call that ends it."""
        unsubscribe = self._handlers.add(handler)
        if self._reader is None:
            subscribed = asyncio.Event()
            self._reader = asyncio.create_task(self._read(subscribed), name="redis-bus-live")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(subscribed.wait(), LIVE_SUBSCRIBE_WAIT)
        return unsubscribe

    async def _read(self, subscribed: asyncio.Event) -> None:
        """One pub/sub connection for the feed; after a Redis loss, a new one with a short capped backoff."""
        retry = Backoff(LIVE_RETRY_FIRST, LIVE_RETRY_CAP)
        while not self._closing:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    self._up = True
                    subscribed.set()
                    retry.reset()
                    await self._follow(pubsub)
            except RedisError as exc:
                logger.warning("live feed lost; resubscribing in %.1f s: %s", retry.delay, exc)
            self._up = False
            await retry.wait()

    async def _follow(self, pubsub: PubSub) -> None:
        """Replies read straight off the subscribed connection, every one already buffered in the same
        task step: redis-py's listen() spends a retry wrapper, a health check and a dict on each message,
        a real share of a node's CPU at chat rates (docs/performance.md#redis-bus-and-live-feed). Its health
        check is kept: a PING every LIVE_PING_EVERY seconds, so a connection that died silently fails its
        writes and is replaced."""
        connection = pubsub.connection
        if connection is None:  # subscribe() made it; None only if it was closed since
            raise RedisConnectionError("the live feed's connection is closed")
        pinger = asyncio.create_task(self._ping(pubsub), name="redis-bus-live-ping")
        try:
            while True:
                # inf: no timer per message; push_request: pub/sub messages come as pushes, as PubSub reads them
                reply = await connection.read_response(timeout=math.inf, push_request=True)
                if reply[0] == b"message":  # [b"message", channel, data]; else pongs, confirmations
                    self._dispatch(reply[2])
        finally:
            pinger.cancel()

    @staticmethod
    async def _ping(pubsub: PubSub) -> None:
        while True:
            await asyncio.sleep(LIVE_PING_EVERY)
            with contextlib.suppress(RedisError):  # a lost connection fails the reader too
                await pubsub.ping()

    def _dispatch(self, data: bytes) -> None:
        """One PUBLISH of POSTS_LUA: '<channel>\\n<message>' records joined by newlines."""
        parts = data.split(b"\n")
        if len(parts) % 2 or not all(w.startswith(b'{"seq":') and w.endswith(b"}") for w in parts[1::2]):
            logger.warning("dropping a malformed live feed item of %d bytes", len(data))
            return
        for channel, wire in zip(parts[::2], parts[1::2], strict=True):
            self._handlers.dispatch(channel.decode(errors="replace"), wire)
