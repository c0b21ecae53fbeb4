"""Archiver worker: read a batch of messages, changes and channel events, write it idempotently, journal and
chain it (docs/compliance.md), acknowledge only after the writes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Collection, Sequence

from pydantic import ValidationError

from core.bus import ARCHIVE_STREAM, RECENT_PER_CHANNEL, Entry, Streams, consumer_name, unless_stopped
from core.journal import GENESIS, JournalEntry, entry_of, extend
from core.models import Change, ChannelEvent, Message, Record, parse_record
from core.store import Store
from core.worker import SLICE, StepCounter, map_in_slices, run_steps

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
# by it, since history fills from the bus's recent buffer until the archive has a message. Where every
# channel is quiet (rooms of 2: a post or two from each of hundreds of channels) the wait grows up to
# LINGER_MAX, since a SQLite commit rewrites a page per channel however few of its messages it holds
# (docs/performance.md#archiver-and-store); it stays short enough that no channel, at the rate its posts
# came in the last batch, puts more than LAG_QUOTA of them beyond the archive: the bus's recent buffer
# keeps bridging what the archive lacks.
LINGER = 0.1
LINGER_MAX = 0.3
LAG_QUOTA = RECENT_PER_CHANNEL // 4


class Archiver:
    def __init__(self, bus: Streams, store: Store, consumer: str | None = None) -> None:
        self.bus = bus
        self.store = store
        self.consumer = consumer or consumer_name()
        self.busiest = 0  # the most records of one channel in the last batch
        self._read_at: float | None = None  # when the last step began reading (monotonic)

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
        channels = [m.channel for m in messages] + [c.channel for c in changes] + [e.channel for e in events]
        self.busiest = max(Counter(channels).values(), default=0)
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
        await journal(self.store, [*messages, *changes, *events])
        await self.bus.ack(ARCHIVE_STREAM, GROUP, [e.id for e in good])
        return len(messages) + len(changes) + len(events)

    async def _decode(
        self, entries: list[Entry]
    ) -> tuple[list[Message], list[Change], list[ChannelEvent], list[Entry]]:
        messages: list[Message] = []
        changes: list[Change] = []
        events: list[ChannelEvent] = []
        good: list[Entry] = []
        for n, entry in enumerate(entries, 1):
            if n % SLICE == 0:
                await asyncio.sleep(0)  # in standalone the node's sockets share this loop
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
        began, last = time.monotonic(), self._read_at
        self._read_at = began
        stored = await self.process_batch(block_ms=0 if stop.is_set() else BLOCK_MS, stop=stop)
        if 0 < stored < BATCH and not stop.is_set():
            now = time.monotonic()
            wait = linger(self.busiest, None if last is None else began - last, now - began)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)  # a stop ends the lingering at once
        return stored


def linger(busiest: int, span: float | None, work: float) -> float:
    """How long to let the stream fill after a short batch whose busiest channel had `busiest` records, posted
    over about `span` seconds (the time between the last two reads; None on the first), which took `work`
    seconds to store: LINGER, or longer while every channel is slow enough that the next batch still holds
    at most LAG_QUOTA records of any of them."""
    if span is None or span <= 0 or busiest <= 0:
        return LINGER
    return min(LINGER_MAX, max(LINGER, LAG_QUOTA * span / busiest - work))


async def journal(store: Store, records: Sequence[Record]) -> None:
    """Journal every record of a batch and extend each channel's chain as far as its entries run without a
    gap. An entry already there (the batch retried after a crash, or another replica's) is kept as it is.
    A batch may hold a few records of each of many channels (rooms of 2): each step is a query or a write for
    all of them, one transaction where nothing needs chaining past the batch."""
    if not records:
        return
    starts = await store.journal_starts({record.channel for record in records})
    # a record from before the journal began (archived by the previous version, which stopped before acking
    # it) stays out: the journal says it begins after it
    entries = [e for e in await map_in_slices(entry_of, records) if e.seq >= starts.get(e.channel, 1)]
    if not entries:
        return
    by_channel: dict[str, list[JournalEntry]] = {}
    for entry in entries:
        by_channel.setdefault(entry.channel, []).append(entry)
    # The usual case, one archiver in seq order: the batch continues each channel's head, so its entries
    # go in chained and only the heads move.
    runs = await _runs(store, by_channel)
    chained = {(channel, seq): chain for channel, run in runs.items() for seq, chain in run}
    for entry in entries:
        entry.chain = chained.get((entry.channel, entry.seq))
    # an entry that was there already kept its own (unchained) row: then every row of the run is chained
    await store.journal_write(entries, runs)
    await extend_chain(store, by_channel)  # past the batch: what another replica wrote beyond it


async def _runs(store: Store, by_channel: dict[str, list[JournalEntry]]) -> dict[str, list[tuple[int, str]]]:
    """The chains of each channel's entries of the batch that continue its head without a gap."""
    heads = {channel: (seq, chain) for channel, seq, chain in await store.journal_heads(by_channel)}
    runs: dict[str, list[tuple[int, str]]] = {}
    for channel, mine in by_channel.items():
        run = extend(*heads.get(channel, (0, GENESIS)), sorted(mine, key=lambda e: e.seq))
        if run:
            runs[channel] = run
    return runs


async def extend_chain(store: Store, channels: Collection[str], page: int = BATCH) -> int:
    """Chain the channels' stored entries from their heads on until the first gap (a seq another replica has
    not written yet: whoever writes it extends past it); how many were chained. Replicas extending at once
    compute, from the same stored hashes, the same chains."""
    done = 0
    while channels:
        chains = {
            channel: run
            for channel, (head, found) in (await store.journal_past_heads(channels, page)).items()
            if (run := extend(*head, found))
        }
        if chains:
            await store.journal_write([], chains)
            done += sum(map(len, chains.values()))
        channels = [channel for channel, run in chains.items() if len(run) == page]  # a full page: more may follow
    return done
