"""Bot worker: one reply per command, posted to the room (or to the asker alone when it failed)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from bot.quotes import QuoteError, QuoteService, format_reply, parse_code
from core.bus import BOT_STREAM, Bus, Entry
from core.commands import HELP_TEXT, parse_command
from core.errors import ChatError
from core.models import BOT_NAME, Command, Message, iso, new_id, utcnow
from core.posting import publish
from core.store import Store

logger = logging.getLogger(__name__)
GROUP = "bot"
BATCH = 16
BLOCK_MS = 1000
CLAIM_IDLE_MS = 60_000  # longer than the slowest provider chain, so a live bot keeps its work
MAX_DELIVERIES = 3

# emit(event, data, room): the Socket.IO server in standalone, a write-only Redis manager otherwise
Emit = Callable[[str, Any, str], Awaitable[None]]


class Bot:
    def __init__(self, bus: Bus, store: Store, quotes: QuoteService, emit: Emit, consumer: str) -> None:
        self.bus = bus
        self.store = store
        self.quotes = quotes
        self.emit = emit
        self.consumer = consumer

    async def process_batch(self, block_ms: int = BLOCK_MS) -> int:
        """One step: answer up to BATCH commands concurrently; returns how many were handled."""
        entries = await self.bus.read(
            BOT_STREAM, GROUP, self.consumer, count=BATCH, block_ms=block_ms, claim_idle_ms=CLAIM_IDLE_MS
        )
        await asyncio.gather(*(self._handle(e) for e in entries))
        return len(entries)

    async def _handle(self, entry: Entry) -> None:
        if entry.deliveries > MAX_DELIVERIES:
            logger.error("dead-lettering command %s after %d deliveries", entry.id, entry.deliveries - 1)
            await self.bus.dead_letter(BOT_STREAM, GROUP, entry, "too many deliveries")
            return
        try:
            command = Command.model_validate_json(entry.data)
        except ValidationError:
            logger.error("dead-lettering malformed command %s", entry.id)
            await self.bus.dead_letter(BOT_STREAM, GROUP, entry, "malformed")
            return
        await self.answer(command)
        await self.bus.ack(BOT_STREAM, GROUP, [entry.id])

    async def answer(self, command: Command) -> None:
        try:
            parsed = parse_command(command.text)
        except ChatError as exc:
            await self._private(command, exc.message)
            return
        if parsed.name == "help":
            await self._private(command, HELP_TEXT)
            return
        for code in parsed.args:
            await self._quote(command, code)

    async def _quote(self, command: Command, code: str) -> None:
        try:
            instrument = parse_code(code)
            quote = await self.quotes.get(code)
        except QuoteError as exc:
            await self._private(command, exc.message)
            return
        reply = Message(
            id=new_id(), channel=command.channel, user=BOT_NAME, text=format_reply(instrument, quote),
            ts=iso(utcnow()), bot=True, quote=quote,
        )
        # keyed by command and code: a command redelivered after a crash posts no second reply
        posted, _ = await publish(self.bus, self.store, reply, f"{BOT_NAME}\x00{command.id}\x00{code}")
        await self.emit("message", posted.wire(), f"channel:{command.channel}")

    async def _private(self, command: Command, text: str) -> None:
        reply = Message(
            id=new_id(), channel=command.channel, user=BOT_NAME, text=text, ts=iso(utcnow()),
            bot=True, ephemeral=True,
        )
        await self.emit("message", reply.wire(), f"user:{command.user}")

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.1
        while not stop.is_set():
            try:
                await self.process_batch()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("bot step failed, retrying in %.1fs: %r", backoff, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
