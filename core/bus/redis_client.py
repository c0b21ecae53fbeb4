"""The Redis client every Redis-backed part uses: its connection settings, and calls batched."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.connection import HiredisRespSerializer
from redis.typing import EncodableT

SOCKET_TIMEOUT = 30.0
MAX_CONNECTIONS = 64
POOL_TIMEOUT = 20.0  # seconds a caller waits for a free connection before giving up
Item = TypeVar("Item")
Result = TypeVar("Result")
SOCKETIO_CHANNEL = "socketio"  # python-socketio's pub/sub channel (presence, typing, private replies)


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
    pool.connection_class = hiredis_packing(pool.connection_class)
    return Redis.from_pool(pool)


class _HiredisPacking:
    """redis-py packs commands in C through hiredis only in its sync client; its asyncio connections
    pack in Python, a sixth of a node's CPU at 3000 posts/s. This borrows the sync client's packer."""

    _packer: Any = HiredisRespSerializer()  # its annotation takes each argument for a list

    def pack_command(self, *args: EncodableT) -> list[bytes]:
        packed: list[bytes] = self._packer.pack(*args)
        return packed

    def pack_commands(self, commands: Iterable[Iterable[EncodableT]]) -> list[bytes]:
        return [b"".join(chunk for command in commands for chunk in self._packer.pack(*command))]


def hiredis_packing(connection_class: type[Any]) -> type[Any]:
    """The pool's connection class (plain, TLS or Unix socket, as the URL says) with hiredis packing."""
    return type(f"Hiredis{connection_class.__name__}", (_HiredisPacking, connection_class), {})


class Batcher(Generic[Item, Result]):
    """Calls made in one turn of the event loop, or while the previous batch was on its way, leave
    together as one batch (at most `max_batch`), one batch at a time: under load the batches grow
    instead of the round trips. `send` answers each item of a batch, in order, with a result or an
    exception; an exception it raises fails the whole batch."""

    def __init__(self, send: Callable[[list[Item]], Awaitable[list[Result | Exception]]], max_batch: int) -> None:
        self._send, self._max_batch = send, max_batch
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._sending: asyncio.Task[None] | None = None

    async def call(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._waiting.append((item, future))
        if len(self._waiting) == 1 and self._sending is None:
            loop.call_soon(self._flush)  # after the callers already due this turn have called too
        return await future

    def _flush(self) -> None:
        batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
        if batch:
            self._sending = asyncio.create_task(self._run(batch))
            self._sending.add_done_callback(self._sent)

    def _sent(self, _: asyncio.Task[None]) -> None:
        self._sending = None
        self._flush()  # what came while that batch was on its way

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
