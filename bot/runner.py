"""The bot as its own process: private replies reach their user through the nodes' Socket.IO Redis channel."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack

from bot.worker import BLOCK_MS, GROUP, Bot, Limits, Whisper
from core import fastpaths
from core.bus import BOT_STREAM, Bus, consumer_name
from core.settings import Settings
from core.store import Store
from quotes import QuoteService
from socketio_edge import RemoteEmitter
from workers.health import WorkerMetrics, open_worker

logger = logging.getLogger(__name__)


class CountedBot(Bot):
    """The bot with its steps counted for /metrics."""

    def __init__(
        self,
        bus: Bus,
        store: Store,
        quotes: QuoteService,
        whisper: Whisper,
        metrics: WorkerMetrics,
        limits: Limits,
    ) -> None:
        super().__init__(bus, store, quotes, whisper, consumer_name(), limits)
        self.metrics = metrics

    async def process_batch(self, block_ms: int = BLOCK_MS, stop: asyncio.Event | None = None) -> int:
        return await self.metrics.count(super().process_batch(block_ms, stop))


async def run(settings: Settings, stop: asyncio.Event) -> None:
    fastpaths.configure(settings.fast_paths)
    async with AsyncExitStack() as stack:
        store, bus, metrics = await open_worker(stack, settings, BOT_STREAM, GROUP)
        # The bus doubles as the quote cache, so every replica shares one.
        quotes = await stack.enter_async_context(QuoteService.from_settings(settings, cache=bus))
        whisper = RemoteEmitter(settings.bus_url).private_message
        bot = CountedBot(bus, store, quotes, whisper, metrics, Limits.from_settings(settings))
        logger.info("bot %s consuming", bot.consumer)
        await bot.run(stop)
