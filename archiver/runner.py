"""The archiver as its own process: resources in an exit stack, SIGTERM drains and stops."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack

from archiver.worker import BLOCK_MS, GROUP, Archiver
from core import fastpaths
from core.bus import ARCHIVE_STREAM, Bus
from core.settings import Settings
from core.store import Store
from workers.health import WorkerMetrics, open_worker

logger = logging.getLogger(__name__)


class CountedArchiver(Archiver):
    """The archiver with its steps counted for /metrics."""

    def __init__(self, bus: Bus, store: Store, metrics: WorkerMetrics) -> None:
        super().__init__(bus, store)
        self.metrics = metrics

    async def process_batch(self, block_ms: int = BLOCK_MS, stop: asyncio.Event | None = None) -> int:
        return await self.metrics.count(super().process_batch(block_ms, stop))


async def run(settings: Settings, stop: asyncio.Event) -> None:
    fastpaths.configure(settings.fast_paths)
    async with AsyncExitStack() as stack:
        store, bus, metrics = await open_worker(stack, settings, ARCHIVE_STREAM, GROUP)
        archiver = CountedArchiver(bus, store, metrics)
        logger.info("archiver %s consuming", archiver.consumer)
        await archiver.run(stop)
