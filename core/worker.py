"""What a worker process (bot, archiver) is made of besides its step: the loop that retries it, the
counters of its steps, and the store and bus it holds. Web-free: the health endpoints are probes/."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from typing import Protocol, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from core.bus import Bus, Streams, open_bus
from core.retry import Backoff
from core.settings import Settings
from core.store import Store, open_store

logger = logging.getLogger(__name__)
BACKLOG_TIMEOUT = 2.0  # seconds a scrape waits for the backlog before reporting it unknown
RETRY_FIRST = 0.1
RETRY_CAP = 5.0
# records a worker handles between turns of the event loop: in standalone it shares the loop with the node's
# sockets, and a batch of 2,000 handled in one go would hold every send up for tens of milliseconds
SLICE = 256
T = TypeVar("T")
R = TypeVar("R")


async def map_in_slices(fn: Callable[[T], R], items: Sequence[T], size: int = SLICE) -> list[R]:
    """[fn(item) for item in items], letting the event loop run between slices of `size`."""
    out: list[R] = []
    for start in range(0, len(items), size):
        if start:
            await asyncio.sleep(0)
        out += map(fn, items[start : start + size])
    return out


class StepCounter(Protocol):
    async def count(self, step: Awaitable[int]) -> int:
        """Await one worker step (it returns how many entries it handled) and return its result."""


async def run_steps(
    step: Callable[[], Awaitable[int]],
    stop: asyncio.Event,
    *,
    failed: str,
    log: logging.Logger,
    counter: StepCounter | None = None,
    drain: str | None = None,
) -> None:
    """Call `step` until `stop` is set; a step that raises is logged (`failed`, on the worker's `log`) and
    tried again after a backoff (RETRY_FIRST doubling to RETRY_CAP, reset by a success). With `drain`,
    keep stepping after `stop` until a step handles nothing, so what is queued is not left behind; a
    step still failing there is given up, logging `drain`, once the backoff has reached its cap."""
    backoff = Backoff(RETRY_FIRST, RETRY_CAP)
    while drain is not None or not stop.is_set():
        try:
            handled = await (step() if counter is None else counter.count(step()))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("%s, retrying in %.1fs: %r", failed, backoff.delay, exc)
            if drain is not None and stop.is_set() and backoff.delay >= backoff.cap:
                log.error(drain)
                return
            await backoff.wait()
            continue
        backoff.reset()
        if stop.is_set() and handled == 0:
            return


class WorkerMetrics:
    """Counters of one worker and the backlog of the stream it consumes, read at scrape time."""

    def __init__(self, stream: str, group: str) -> None:
        self.stream = stream
        self.group = group
        self.registry = CollectorRegistry()
        self.processed = Counter(
            "chat_worker_processed_total", "Stream entries handled", ["stream"], registry=self.registry
        ).labels(stream)
        self.failures = Counter(
            "chat_worker_failures_total",
            "Steps that failed and will be retried",
            ["stream"],
            registry=self.registry,
        ).labels(stream)
        self.backlog = Gauge(
            "chat_stream_backlog",
            "Entries the consumer group has not acknowledged yet",
            ["stream", "group"],
            registry=self.registry,
        ).labels(stream, group)

    async def count(self, step: Awaitable[int]) -> int:
        """Await one worker step, counting what it handled or that it failed."""
        try:
            handled = await step
        except asyncio.CancelledError:
            raise
        except Exception:
            self.failures.inc()
            raise
        self.processed.inc(handled)
        return handled

    async def render(self, bus: Streams) -> bytes:
        try:
            self.backlog.set(await asyncio.wait_for(bus.backlog(self.stream, self.group), BACKLOG_TIMEOUT))
        except Exception as exc:
            logger.warning("backlog of %s unknown: %r", self.stream, exc)
            self.backlog.set(float("nan"))
        return generate_latest(self.registry)


async def open_worker(
    stack: AsyncExitStack, settings: Settings, stream: str, group: str
) -> tuple[Store, Bus, WorkerMetrics]:
    """What every worker process holds: the store, the bus and the counters of its steps, the first two
    closed by `stack`."""
    store = await open_store(settings.storage_url)
    stack.push_async_callback(store.close)
    bus = open_bus(settings.bus_url)
    stack.push_async_callback(bus.close)
    return store, bus, WorkerMetrics(stream, group)
