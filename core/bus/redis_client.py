"""The Redis client every Redis-backed part uses: its connection settings, and script calls pipelined."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.commands.core import AsyncScript
from redis.connection import HiredisRespSerializer
from redis.exceptions import NoScriptError
from redis.typing import EncodableT

SOCKET_TIMEOUT = 30.0
MAX_CONNECTIONS = 64
POOL_TIMEOUT = 20.0  # seconds a caller waits for a free connection before giving up
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


_Call = tuple[list[str], list[EncodableT], "asyncio.Future[Any]"]


class ScriptPipeline:
    """Calls of one script go to Redis as pipelines, one at a time: those made in one turn of the event
    loop, or while the previous pipeline was on its way, leave together (one write and one read for all
    of them). Under load the batches grow instead of the round trips. redis-py retries a pipeline after
    a lost reply, so the script must make a repeated call harmless (the post script does: its retry
    marker takes no second seq)."""

    def __init__(self, redis: Redis, script: AsyncScript) -> None:
        self._redis, self._script = redis, script
        self._waiting: list[_Call] = []
        self._sending: asyncio.Task[None] | None = None

    async def call(self, keys: list[str], args: list[EncodableT]) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting.append((keys, args, future))
        if len(self._waiting) == 1 and self._sending is None:
            loop.call_soon(self._flush)  # after the callers already due this turn have called too
        return await future

    def _flush(self) -> None:
        batch, self._waiting = self._waiting, []
        if batch:
            self._sending = asyncio.create_task(self._send(batch))
            self._sending.add_done_callback(self._sent)

    def _sent(self, _: asyncio.Task[None]) -> None:
        self._sending = None
        self._flush()  # what came while that pipeline was on its way

    async def _send(self, batch: list[_Call]) -> None:
        results: list[Any]
        try:
            if len(batch) == 1:
                keys, args, _ = batch[0]
                results = [await self._script(keys=keys, args=args)]
            else:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for keys, args, _ in batch:
                        pipe.evalsha(self._script.sha, len(keys), *keys, *args)
                    results = await pipe.execute(raise_on_error=False)
        except Exception as exc:
            results = [exc] * len(batch)
        for i, (keys, args, future) in enumerate(batch):
            if isinstance(results[i], NoScriptError):  # Redis lost its scripts: one call loads it again
                try:
                    results[i] = await self._script(keys=keys, args=args)
                except Exception as exc:
                    results[i] = exc
            if future.done():  # its caller gave up (cancelled)
                continue
            if isinstance(results[i], BaseException):
                future.set_exception(results[i])
            else:
                future.set_result(results[i])
