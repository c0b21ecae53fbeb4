"""Archiver worker: read a batch of messages, changes and channel events, write it idempotently, acknowledge
only after the write."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from pydantic import ValidationError

from core.bus import ARCHIVE_STREAM, Entry, Streams, consumer_name, unless_stopped
from core.models import Change, ChannelEvent, Message, parse_record
from core.store import Store
from core.worker import StepCounter, run_steps

logger = logging.getLogger(__name__)
GROUP = "archiver"
# entries per read, store transaction and ack at most: a SQLite commit rewrites every page the batch
# touched (about one per channel), so larger batches cost less per message and a backlog drains
# faster (docs/performance.md#archiver-and-store)
BATCH = 2000
BLOCK_MS = 1000
CLAIM_IDLE_MS = 10_000  # a consumer silent this long is taken for dead and its entries claimed
# After a short batch, let the stream fill a little before reading again: at chat rates a batch
# per message costs a Redis round trip, a store transaction and an ack each. Readers lose nothing
# by it, since history fills from the bus's recent buffer until the archive has a message.
LINGER = 0.1


class Archiver:
    def __init__(self, bus: Streams, store: Store, consumer: str | None = None) -> None:
        self.bus = bus
        self.store = store
        self.consumer = consumer or consumer_name()

    async def process_batch(self, block_ms: int = BLOCK_MS, stop: asyncio.Event | None = None) -> int:
        """One step: read up to BATCH entries (waiting up to `block_ms`, or until `stop`), store them, ack
        them; returns how many were stored. A store failure propagates and nothing is acked, so the same
        entries come back."""
        read = self.bus.read(
            ARCHIVE_STREAM, GROUP, self.consumer, count=BATCH, block_ms=block_ms, claim_idle_ms=CLAIM_IDLE_MS
        )
        entries = await unless_stopped(stop, read)
        if not entries:
            return 0
        messages, changes, events, good = await self._decode(entries)
        if messages:
            written = await self.store.save_messages(messages)
            if written < len(messages):
                logger.info("skipped %d already archived messages", len(messages) - written)
        if changes:
            # after the messages they may change; in seq order, which a claimed entry can break
            applied = await self.store.apply_changes(sorted(changes, key=lambda c: (c.channel, c.seq or 0)))
            if applied < len(changes):
                logger.info("skipped %d already archived changes", len(changes) - applied)
        if events:
            await self.store.save_events(events)
        await self.bus.ack(ARCHIVE_STREAM, GROUP, [e.id for e in good])
        return len(messages) + len(changes) + len(events)

    async def _decode(
        self, entries: list[Entry]
    ) -> tuple[list[Message], list[Change], list[ChannelEvent], list[Entry]]:
        messages: list[Message] = []
        changes: list[Change] = []
        events: list[ChannelEvent] = []
        good: list[Entry] = []
        for entry in entries:
            try:
                record = parse_record(entry.data)
            except ValidationError as exc:
                # A bad entry would block nothing but would come back forever: park it.
                logger.error("dead-lettering malformed archive entry %s: %s", entry.id, exc.errors()[:1])
                await self.bus.dead_letter(ARCHIVE_STREAM, GROUP, entry, "malformed")
                continue
            if isinstance(record, Change):
                if record.seq is None or record.message.seq is None:
                    await self.bus.dead_letter(ARCHIVE_STREAM, GROUP, entry, "not archivable")
                    continue
                changes.append(record)
            elif isinstance(record, ChannelEvent):
                if record.seq is None:
                    await self.bus.dead_letter(ARCHIVE_STREAM, GROUP, entry, "not archivable")
                    continue
                events.append(record)
            elif record.seq is None or record.ephemeral:
                await self.bus.dead_letter(ARCHIVE_STREAM, GROUP, entry, "not archivable")
                continue
            else:
                messages.append(record)
            good.append(entry)
        return messages, changes, events, good

    async def run(self, stop: asyncio.Event, counter: StepCounter | None = None) -> None:
        """Loop until `stop`, then drain what is already queued so SIGTERM loses nothing; each step
        counted by `counter` (the process's /metrics)."""
        await run_steps(
            lambda: self._step(stop),
            stop,
            failed="archive write failed",
            log=logger,
            counter=counter,
            drain="store still down at shutdown; entries stay queued on the bus",
        )

    async def _step(self, stop: asyncio.Event) -> int:
        """One batch, then, after a short one, a pause for the stream to fill (not once stopping)."""
        stored = await self.process_batch(block_ms=0 if stop.is_set() else BLOCK_MS, stop=stop)
        if 0 < stored < BATCH and not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), LINGER)  # a stop ends the lingering at once
        return stored
