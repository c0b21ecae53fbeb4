"""The bot as its own process: replies reach the rooms through a write-only Socket.IO Redis manager."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from typing import Any

import socketio

from bot.quotes import QuoteService
from bot.worker import Bot
from core.bus import consumer_name, open_bus
from core.settings import Settings
from core.store import open_store

logger = logging.getLogger(__name__)


async def run(settings: Settings, stop: asyncio.Event) -> None:
    async with AsyncExitStack() as stack:
        store = await open_store(settings.storage_url)
        stack.push_async_callback(store.close)
        bus = open_bus(settings.bus_url)
        stack.push_async_callback(bus.close)
        quotes = await stack.enter_async_context(
            QuoteService(settings.providers, yahoo_url=settings.yahoo_url, stooq_url=settings.stooq_url,
                         timeout=settings.quote_timeout)
        )
        manager = socketio.AsyncRedisManager(settings.bus_url, write_only=True)

        async def emit(event: str, data: Any, room: str) -> None:
            await manager.emit(event, data, room=room, namespace="/")

        bot = Bot(bus, store, quotes, emit, consumer_name())
        logger.info("bot %s consuming", bot.consumer)
        await bot.run(stop)
