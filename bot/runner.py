"""The bot process, alert engine included: private replies reach users via the nodes' Socket.IO Redis channel."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack

from bot.worker import GROUP, Bot, Limits
from core import fastpaths
from core.bus import BOT_STREAM, consumer_name
from core.settings import Settings
from core.worker import open_worker
from investing.engine import AlertEngine, engine_quotes
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
        # the engine's own quote service: its budget is not /stock's
        alert_quotes = await stack.enter_async_context(engine_quotes(settings, bus))
        engine = AlertEngine(bus, store, alert_quotes, whisper, interval=settings.alert_interval)
        logger.info("bot %s consuming, alert rounds every %gs", bot.consumer, settings.alert_interval)
        # both stop with `stop` (the round in hand finishes); either failing for good stops the other
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(bot.run(stop, metrics), name="bot")
            tasks.create_task(engine.run(stop), name="alert engine")
