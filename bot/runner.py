"""The bot as its own process: private replies reach their user through the nodes' Socket.IO Redis channel."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack

from bot.worker import GROUP, Bot, Limits
from core import fastpaths
from core.bus import BOT_STREAM, consumer_name
from core.settings import Settings
from core.worker import open_worker
from probes import health_server
from quotes import QuoteService
from socketio_edge import RemoteEmitter

logger = logging.getLogger(__name__)


async def run(settings: Settings, stop: asyncio.Event) -> None:
    fastpaths.configure(settings.fast_paths)
    async with AsyncExitStack() as stack:
        store, bus, metrics = await open_worker(stack, settings, BOT_STREAM, GROUP)
        await stack.enter_async_context(health_server(settings, store, bus, metrics))
        # The bus doubles as the quote cache, so every replica shares one.
        quotes = await stack.enter_async_context(QuoteService.from_settings(settings, cache=bus))
        whisper = RemoteEmitter(settings.bus_url).private_message
        bot = Bot(bus, store, quotes, whisper, consumer_name(), Limits.from_settings(settings))
        logger.info("bot %s consuming", bot.consumer)
        await bot.run(stop, metrics)
