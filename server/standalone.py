"""Standalone mode: one process with the node, the bot and alert engine, the archiver, the notifier and the
daily retention run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from archiver.notifier import Notifier
from archiver.retention import Retention
from archiver.worker import Archiver
from bot.worker import Bot, Limits
from core.bus import consumer_name
from core.settings import Settings
from investing.engine import AlertEngine, engine_quotes
from quotes import QuoteService
from server.app import create_app
from server.app_keys import BUS, SETTINGS, SIO, STORE


def create_standalone_app(settings: Settings) -> web.Application:
    app = create_app(settings)
    app.cleanup_ctx.append(_workers)  # last: stopped first, while the bus and store are still open
    return app


async def _workers(app: web.Application) -> AsyncIterator[None]:
    settings, bus, store, sio = app[SETTINGS], app[BUS], app[STORE], app[SIO]

    stop = asyncio.Event()
    async with (
        QuoteService.from_settings(settings, cache=bus) as quotes,
        engine_quotes(settings, bus) as alert_quotes,  # its own budget, not /stock's
    ):
        bot = Bot(bus, store, quotes, sio.private_message, consumer_name(), Limits.from_settings(settings))
        engine = AlertEngine(bus, store, alert_quotes, sio.private_message, interval=settings.alert_interval)
        tasks = [
            asyncio.create_task(bot.run(stop), name="bot"),
            asyncio.create_task(engine.run(stop), name="alert engine"),
            asyncio.create_task(Archiver(bus, store).run(stop), name="archiver"),
            asyncio.create_task(Notifier(bus, store).run(stop), name="notifier"),
            asyncio.create_task(Retention(bus, store, settings.retention_days).run(stop), name="retention"),
        ]
        yield
        stop.set()
        # the archiver drains what was acknowledged; the bot finishes the reply in hand, the engine its round
        await asyncio.wait(tasks, timeout=15)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
