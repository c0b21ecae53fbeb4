"""What waits to be written to one client: engine.io's per-socket queue, slimmer and bounded in bytes.

engine.io gives each socket an unbounded asyncio.Queue (four deques). A client that never reads would
have it grow without end: a 60-byte `join {after: 0}` queues a multi-megabyte ack, and a room keeps
feeding it. This queue counts the bytes it holds; past `max_bytes` it drops what it holds, takes no
more, hands the writer its end (None) and reports the overflow once, so the socket is closed. It is
installed through engine.io's public `create_queue` hook for every socket, whatever the fast paths.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

OVERHEAD = 64  # bytes counted per queued packet besides its payload: a packet object and its list slot


def size_of(item: Any) -> int:
    """The memory a queued packet holds: a str of emoji takes four bytes a character, not one."""
    data = getattr(item, "data", None)
    return OVERHEAD + (sys.getsizeof(data) if isinstance(data, str | bytes) else 0)


class Outbox:
    """The part of asyncio.Queue engine.io uses (unbounded, one consumer), bounded in bytes."""

    __slots__ = ("_finished", "_getter", "_items", "_unfinished", "max_bytes", "on_overflow", "overflowed", "queued")

    def __init__(self, max_bytes: int) -> None:
        self._items: list[Any] | None = None  # created on the first put
        self._getter: asyncio.Future[None] | None = None  # the consumer, while it waits in get()
        self._unfinished = 0
        self._finished: asyncio.Future[None] | None = None  # only while someone waits in join()
        self.max_bytes = max_bytes
        self.queued = 0  # bytes held, as size_of counts them
        self.overflowed = False
        self.on_overflow: Callable[[], None] | None = None  # set by the server once it knows the socket

    @property
    def consumer_waiting(self) -> bool:
        """Is the consumer parked in get()? socketio_edge/broadcast.py may then write around the queue."""
        return self._getter is not None

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return False

    def put_nowait(self, item: Any) -> None:
        if self.overflowed:
            return  # the socket is being closed: nothing more is kept for it
        if item is not None:
            self.queued += size_of(item)
            if self.queued > self.max_bytes:
                self._overflow()
                return
        self._append(item)

    def _append(self, item: Any) -> None:
        if self._items is None:
            self._items = [item]
        else:
            self._items.append(item)
        self._unfinished += 1
        getter, self._getter = self._getter, None
        if getter is not None and not getter.done():
            getter.set_result(None)

    def _overflow(self) -> None:
        self.overflowed = True
        dropped = self.qsize()
        self._items, self.queued = None, 0
        for _ in range(dropped):
            self.task_done()
        self._append(None)  # the writer's end
        if self.on_overflow is not None:
            self.on_overflow()

    async def put(self, item: Any) -> None:
        self.put_nowait(item)

    def get_nowait(self) -> Any:
        if not self._items:
            raise asyncio.QueueEmpty
        item = self._items.pop(0)
        if not self._items:
            self._items = None
        if item is not None:
            self.queued -= size_of(item)
        return item

    async def get(self) -> Any:
        while not self._items:
            getter = self._getter = asyncio.get_running_loop().create_future()
            try:
                await getter
            finally:
                if self._getter is getter:
                    self._getter = None
        return self.get_nowait()

    def task_done(self) -> None:
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if self._unfinished == 0 and self._finished is not None:
            finished, self._finished = self._finished, None
            if not finished.done():
                finished.set_result(None)

    async def join(self) -> None:
        if self._unfinished > 0:
            if self._finished is None:
                self._finished = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._finished)


def install(eio: Any, max_bytes: int) -> None:
    """Every engine.io socket of this server gets an Outbox (engine.io's public `create_queue` hook)."""
    eio.create_queue = lambda *args, **kwargs: Outbox(max_bytes)
