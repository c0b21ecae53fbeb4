"""Bot worker: one reply per command, posted to the room (or to the asker alone when it failed)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from bot.trading import SERVER_COMMAND, post_idea, set_alert
from core.bus import BOT_STREAM, Entry, Posting, RateLimits, Streams, unless_stopped
from core.commands import HELP_TEXT, ParsedCommand, parse_command
from core.errors import ChatError
from core.models import BOT_NAME, Command, Message, Quote, new_id, now_iso
from core.posting import publish
from core.settings import Settings
from core.store import Store
from core.worker import StepCounter, run_steps
from quotes import QuoteError, QuoteService, format_reply, parse_code

logger = logging.getLogger(__name__)
GROUP = "bot"
BATCH = 16
BLOCK_MS = 1000
CLAIM_IDLE_MS = 60_000  # longer than the slowest provider chain, so a live bot keeps its work
MAX_DELIVERIES = 3

USER_LIMITED = "You are asking for quotes too fast; wait a few seconds and try again."
CHANNEL_LIMITED = "The bot is answering a lot in #{channel} right now; try again in a few seconds."
SORRY = "Sorry, the bot could not answer {text!r}; please try again later."
# The per-code reason on a line of a several-code reply.
REASONS = {
    "invalid_symbol": "not a valid stock code",
    "unknown_symbol": "unknown stock code",
    "provider_error": "quote service unavailable, try again later",
    "timeout": "quote service too slow, try again later",
    "busy": "quote service busy, try again in a minute",
}

# whisper(user, message) delivers a private reply to every connection of `user` (channel replies reach
# rooms through the bus's live feed): the node's Socket.IO server in standalone, the nodes' Redis manager
# channel otherwise (socketio_edge)
Whisper = Callable[[str, Any], Awaitable[None]]


class BotBus(Posting, Streams, RateLimits, Protocol):
    """What the bot uses of the bus: its command stream, the shared /stock buckets, posting replies."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Token buckets for /stock commands, kept on the bus so every bot replica shares them."""

    user_rate: float = 0.2
    user_burst: int = 5
    channel_rate: float = 1.0
    channel_burst: int = 20

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            settings.bot_user_rate,
            settings.bot_user_burst,
            settings.bot_channel_rate,
            settings.bot_channel_burst,
        )


def _is_invalid(outcome: Quote | QuoteError) -> bool:
    return isinstance(outcome, QuoteError) and outcome.code == "invalid_symbol"


class Bot:
    def __init__(
        self,
        bus: BotBus,
        store: Store,
        quotes: QuoteService,
        whisper: Whisper,
        consumer: str,
        limits: Limits | None = None,
    ) -> None:
        self.bus = bus
        self.store = store
        self.quotes = quotes
        self.whisper = whisper
        self.consumer = consumer
        self.limits = limits or Limits()
        self.claim_idle_ms = CLAIM_IDLE_MS

    async def process_batch(self, block_ms: int = BLOCK_MS, stop: asyncio.Event | None = None) -> int:
        """One step: answer up to BATCH commands concurrently (waiting for them up to `block_ms`, or until
        `stop`); returns how many were handled."""
        read = self.bus.read(
            BOT_STREAM, GROUP, self.consumer, count=BATCH, block_ms=block_ms, claim_idle_ms=self.claim_idle_ms
        )
        entries = await unless_stopped(stop, read)
        await asyncio.gather(*(self._handle(e) for e in entries))
        return len(entries)

    async def _handle(self, entry: Entry) -> None:
        """Ack the entry once answered; leave it pending after a failure (another delivery retries
        it) and dead-letter it after MAX_DELIVERIES, telling the asker. Never raises."""
        try:
            command = Command.model_validate_json(entry.data)
        except ValidationError:
            logger.error("dead-lettering malformed command %s", entry.id)
            await self._dead_letter(entry, "malformed", None)
            return
        if entry.deliveries > MAX_DELIVERIES:
            logger.error("dead-lettering command %s after %d deliveries", entry.id, entry.deliveries - 1)
            await self._dead_letter(entry, "too many deliveries", command)
            return
        try:
            await self.answer(command)
            await self.bus.ack(BOT_STREAM, GROUP, [entry.id])
        except Exception:
            logger.exception(
                "answering command %s failed (delivery %d)",
                entry.id,
                entry.deliveries,
                extra={"command": command.id, "channel": command.channel},
            )
            if entry.deliveries >= MAX_DELIVERIES:
                await self._dead_letter(entry, "answer failed", command)

    async def _dead_letter(self, entry: Entry, reason: str, command: Command | None) -> None:
        with contextlib.suppress(Exception):
            await self.bus.dead_letter(BOT_STREAM, GROUP, entry, reason)
            if command is not None:
                await self._private(command, SORRY.format(text=command.text[:40]))

    async def answer(self, command: Command) -> None:
        try:
            parsed = parse_command(command.text)
        except ChatError as exc:
            await self._private(command, exc.message)
            return
        if parsed.name == "help":
            await self._private(command, HELP_TEXT)
            return
        if parsed.name in ("watch", "unwatch"):
            await self._private(command, SERVER_COMMAND.format(name=parsed.name))
            return
        refusal = await self._over_limit(command)
        if refusal is not None:
            await self._private(command, refusal)
            return
        if parsed.alert is not None or parsed.idea is not None:
            await self._trade(command, parsed)
            return
        codes = list(dict.fromkeys(code.strip().upper() for code in parsed.args))
        results = await asyncio.gather(*(self._lookup(code) for code in codes))
        await self._reply(command, results)

    async def _trade(self, command: Command, parsed: ParsedCommand) -> None:
        """/alert (the answer is the asker's alone) and /idea (the card goes to the room); a refusal is said
        to the asker alone."""
        try:
            if parsed.alert is not None:
                await self._private(command, await set_alert(self.store, self.quotes, command, parsed.alert))
            elif parsed.idea is not None:
                await post_idea(self.bus, self.store, self.quotes, command, parsed.idea)
        except ChatError as exc:
            await self._private(command, exc.message)

    async def _over_limit(self, command: Command) -> str | None:
        """Why this command may not be answered now, or None. The user's bucket goes first so
        one user's flood cannot drain the channel's."""
        limits = self.limits
        if not await self.bus.allow(f"bot:user:{command.user}", limits.user_rate, limits.user_burst):
            return USER_LIMITED
        channel = command.channel
        if not await self.bus.allow(f"bot:channel:{channel}", limits.channel_rate, limits.channel_burst):
            return CHANNEL_LIMITED.format(channel=channel)
        return None

    async def _lookup(self, code: str) -> tuple[str, Quote | QuoteError]:
        """(the reply line or failure line, the quote or the error) for one code."""
        try:
            instrument = parse_code(code)
        except QuoteError as exc:
            return f"{code[:20]}: {REASONS[exc.code]}", exc
        try:
            quote = await self.quotes.get(code)
        except QuoteError as exc:
            return f"{instrument.code}: {REASONS[exc.code]}", exc
        return format_reply(instrument, quote), quote

    async def _reply(self, command: Command, results: list[tuple[str, Quote | QuoteError]]) -> None:
        quotes = [outcome for _, outcome in results if isinstance(outcome, Quote)]
        # what is not a code at all is the asker's raw text: said to them alone, never into the public,
        # archived reply (`/stock AAPL, SEND BTC TO ...` would have the bot repeat the spam)
        invalid = [line for line, outcome in results if _is_invalid(outcome)]
        if quotes and invalid:
            results = [(line, outcome) for line, outcome in results if not _is_invalid(outcome)]
            await self._private(command, "\n".join(invalid))
        if not quotes:
            errors = [outcome for _, outcome in results if isinstance(outcome, QuoteError)]
            # One code: its own message says it best; several: one line each.
            text = errors[0].message if len(results) == 1 else "\n".join(line for line, _ in results)
            await self._private(command, text)
            return
        reply = Message(
            id=new_id(),
            channel=command.channel,
            user=BOT_NAME,
            text="\n".join(line for line, _ in results),
            ts=now_iso(),
            bot=True,
            quote=quotes[0],
            quotes=quotes if len(results) > 1 else None,
        )
        # keyed by command: a command redelivered after a crash posts no second reply; the post itself
        # puts the reply on the live feed, from which every node delivers it to the room
        await publish(self.bus, self.store, reply, f"{BOT_NAME}\x00{command.id}")

    async def _private(self, command: Command, text: str) -> None:
        reply = Message(
            id=new_id(),
            channel=command.channel,
            user=BOT_NAME,
            text=text,
            ts=now_iso(),
            bot=True,
            ephemeral=True,
        )
        await self.whisper(command.user, reply.wire())

    async def run(self, stop: asyncio.Event, counter: StepCounter | None = None) -> None:
        """Answer commands until `stop`, each step counted by `counter` (the process's /metrics)."""
        await run_steps(
            lambda: self.process_batch(stop=stop), stop, failed="bot step failed", log=logger, counter=counter
        )
