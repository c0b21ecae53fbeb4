"""The bot as its own process: replies reach the rooms through a write-only Socket.IO Redis manager."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from typing import Any

import socketio

from bot.quotes import QuoteService
from bot.worker import BLOCK_MS, GROUP, Bot, Emit, Limits
from core import fastpaths
from core.bus import BOT_STREAM, Bus, consumer_name
from core.bus.redis_client import SOCKETIO_CHANNEL, per_db
from core.settings import Settings
from core.store import Store
from workers.health import WorkerMetrics, open_worker

logger = logging.getLogger(__name__)


class CountedBot(Bot):
    """The bot with its steps counted for /metrics."""

    def __init__(
        self,
        bus: Bus,
        store: Store,
        quotes: QuoteService,
        emit: Emit,
        metrics: WorkerMetrics,
        limits: Limits,
    ) -> None:
        super().__init__(bus, store, quotes, emit, consumer_name(), limits)
        self.metrics = metrics

    async def process_batch(self, block_ms: int = BLOCK_MS, stop: asyncio.Event | None = None) -> int:
        return await self.metrics.count(super().process_batch(block_ms, stop))


async def run(settings: Settings, stop: asyncio.Event) -> None:
    fastpaths.configure(settings.fast_paths)
    async with AsyncExitStack() as stack:
        store, bus, metrics = await open_worker(stack, settings, BOT_STREAM, GROUP)
        # The bus doubles as the quote cache, so every replica shares one.
        quotes = await stack.enter_async_context(QuoteService.from_settings(settings, cache=bus))
        channel = per_db(settings.bus_url, SOCKETIO_CHANNEL)  # the nodes' python-socketio channel
        manager = socketio.AsyncRedisManager(settings.bus_url, channel=channel, write_only=True)

        async def emit(event: str, data: Any, room: str) -> None:
            await manager.emit(event, data, room=room, namespace="/")

        bot = CountedBot(bus, store, quotes, emit, metrics, Limits.from_settings(settings))
        logger.info("bot %s consuming", bot.consumer)
        await bot.run(stop)
