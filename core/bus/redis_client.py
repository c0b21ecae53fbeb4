"""The Redis client every Redis-backed part uses: its connection settings, and calls batched."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.typing import EncodableT

from core.fastpaths import FastPath, is_on, resolve

SOCKET_TIMEOUT = 30.0
MAX_CONNECTIONS = 64
POOL_TIMEOUT = 20.0  # seconds a caller waits for a free connection before giving up
Item = TypeVar("Item")
Result = TypeVar("Result")
HIREDIS_PACKING = FastPath(
    name="hiredis-packing",
    gain="commands packed in C, not in Python on every call (docs/performance.md#redis-bus-and-live-feed)",
    versions={"redis": "8.1.0", "hiredis": "3.5.0"},
    attributes=(
        "redis.connection:HiredisRespSerializer.pack",
        "redis.asyncio.connection:AbstractConnection.pack_command",
        "redis.asyncio.connection:AbstractConnection.pack_commands",
    ),
    sources={
        "redis.connection:HiredisRespSerializer.pack": "5f4b763d175e78ee",
        "redis.asyncio.connection:AbstractConnection.pack_command": "9a0e503fdcf56314",
        "redis.asyncio.connection:AbstractConnection.pack_commands": "6a0fb874993fb2e4",
    },
)


def per_db(url: str, name: str) -> str:
    """A pub/sub channel name for the Redis database of `url`: pub/sub ignores databases, so
    deployments sharing one Redis on different dbs would otherwise hear each other."""
    db = BlockingConnectionPool.from_url(url).connection_kwargs.get("db", 0)
    return f"{name}:{db}"


def connect(url: str) -> Redis:
    """A client that rides out a Redis restart (connection errors are retried with backoff) and
    makes a burst of callers queue for a connection instead of failing."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=POOL_TIMEOUT,
        decode_responses=False,
        health_check_interval=15,
        socket_timeout=SOCKET_TIMEOUT,
        socket_keepalive=True,
        retry=Retry(ExponentialWithJitterBackoff(base=0.1, cap=2.0), retries=8),
    )
    if is_on(HIREDIS_PACKING):
        pool.connection_class = hiredis_packing(pool.connection_class)
    return Redis.from_pool(pool)


class _HiredisPacking:
    """redis-py packs commands in C through hiredis only in its sync client; its asyncio connections
    pack in Python, a real share of a node's CPU under load (docs/performance.md#redis-bus-and-live-feed).
    This borrows the sync client's packer."""

    _packer: Any  # the sync client's serializer (redis-py leaves it untyped), set by hiredis_packing

    def pack_command(self, *args: EncodableT) -> list[bytes]:
        packed: list[bytes] = self._packer.pack(*args)
        return packed

    def pack_commands(self, commands: Iterable[Iterable[EncodableT]]) -> list[bytes]:
        return [b"".join(chunk for command in commands for chunk in self._packer.pack(*command))]


def hiredis_packing(connection_class: type[Any]) -> type[Any]:
    """The pool's connection class (plain, TLS or Unix socket, as the URL says) with hiredis packing."""
    serializer: Any = resolve("redis.connection:HiredisRespSerializer")
    return type(f"Hiredis{connection_class.__name__}", (_HiredisPacking, connection_class), {"_packer": serializer()})


class Batcher(Generic[Item, Result]):
    """Calls made in one turn of the event loop, or while the previous batch was on its way, leave
    together as one batch (at most `max_batch`), one batch at a time, and a batch leaves at least
    `spacing` seconds after the one before: under load the batches grow instead of the round trips,
    while a call after a quiet spell leaves at once. `send` answers each item of a batch, in order,
    with a result or an exception; an exception it raises fails the whole batch."""

    def __init__(
        self,
        send: Callable[[list[Item]], Awaitable[list[Result | Exception]]],
        max_batch: int,
        spacing: float = 0.0,
    ) -> None:
        self._send, self._max_batch, self._spacing = send, max_batch, spacing
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._sending: asyncio.Task[None] | None = None
        self._due = False  # a flush is scheduled
        self._last = -math.inf  # loop time the last batch left

    def submit(self, item: Item) -> asyncio.Future[Result]:
        """The future of the item's result."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._sending is None:
            self._schedule()
        return future

    def _schedule(self) -> None:
        if self._due:
            return
        self._due = True
        loop = asyncio.get_running_loop()
        wait = self._last + self._spacing - loop.time()
        if wait > 0:
            loop.call_later(wait, self._flush)
        else:
            loop.call_soon(self._flush)  # after the callers already due this turn have called too

    def _flush(self) -> None:
        self._due = False
        batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
        if batch:
            self._last = asyncio.get_running_loop().time()
            self._sending = asyncio.create_task(self._run(batch))
            self._sending.add_done_callback(self._sent)

    def _sent(self, _: asyncio.Task[None]) -> None:
        self._sending = None
        if self._waiting:
            self._schedule()  # what came while that batch was on its way

    async def _run(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        results: list[Result | Exception]
        try:
            results = await self._send([item for item, _ in batch])
        except Exception as exc:
            results = [exc] * len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # its caller gave up (cancelled)
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
