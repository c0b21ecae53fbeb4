"""The archiver as its own process: resources in an exit stack, SIGTERM drains and stops."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack

from archiver.worker import Archiver
from core.bus import open_bus
from core.settings import Settings
from core.store import open_store

logger = logging.getLogger(__name__)


async def run(settings: Settings, stop: asyncio.Event) -> None:
    async with AsyncExitStack() as stack:
        store = await open_store(settings.storage_url)
        stack.push_async_callback(store.close)
        bus = open_bus(settings.bus_url)
        stack.push_async_callback(bus.close)
        archiver = Archiver(bus, store)
        logger.info("archiver %s consuming", archiver.consumer)
        await archiver.run(stop)
