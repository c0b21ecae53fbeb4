"""The archiver as its own process, the notifier beside it (both read the archive stream) and the daily
retention run: resources in an exit stack, SIGTERM drains and stops."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack

from archiver.notifier import Notifier
from archiver.retention import Retention
from archiver.worker import GROUP, Archiver
from core import fastpaths
from core.bus import ARCHIVE_STREAM
from core.settings import Settings
from core.worker import open_worker
from probes import health_server

logger = logging.getLogger(__name__)


async def run(settings: Settings, stop: asyncio.Event) -> None:
    fastpaths.configure(settings.fast_paths)
    async with AsyncExitStack() as stack:
        store, bus, metrics = await open_worker(stack, settings, ARCHIVE_STREAM, GROUP)
        await stack.enter_async_context(health_server(settings, store, bus, metrics))
        archiver = Archiver(bus, store)
        logger.info("archiver %s consuming", archiver.consumer)
        await asyncio.gather(
            archiver.run(stop, metrics),
            Notifier(bus, store).run(stop),
            Retention(bus, store, settings.retention_days).run(stop),
        )
