"""An export run: a date range of the journal, channel by channel in seq order, into one format's files and
a manifest.json, read page by page and written as read, with progress along the way."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import orjson

from core.exports.files import FileList, HashedFile
from core.exports.formats import FORMATS, WRITERS, ExportFormat, Writer
from core.journal import GENESIS, JournalEntry
from core.models import iso, utcnow

MANIFEST = "manifest.json"
PROGRESS_EVERY = 5000  # entries between two progress reports within a channel
# entries read from the store at a time: what an export holds of the journal at once (a few hundred KB)
PAGE = 1000
DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class JournalSource(Protocol):
    """What an export reads of the store (core.store.Store has it)."""

    def journal_between(
        self, since: str, until: str, channels: Collection[str] | None, *, page: int = ...
    ) -> AsyncIterator[JournalEntry]: ...

    async def journal_after(self, channel: str, after: int, limit: int) -> list[JournalEntry]: ...

    async def journal_heads(self) -> list[tuple[str, int, str]]: ...

    async def journal_starts(self, channels: Collection[str] | None = None) -> dict[str, int]: ...

    async def journal_channels(self) -> list[str]: ...


@dataclass(frozen=True)
class ExportSpec:
    """What to export: `first_day` to `last_day`, both included, whole days in UTC; `channels` None for
    every channel in the journal."""

    format: ExportFormat
    first_day: date
    last_day: date
    channels: tuple[str, ...] | None = None

    @property
    def since(self) -> str:
        return f"{self.first_day.isoformat()}T00:00:00.000Z"

    @property
    def until(self) -> str:
        """The first instant after the range (ISO times compare as text)."""
        return f"{(self.last_day + timedelta(days=1)).isoformat()}T00:00:00.000Z"


def parse_day(text: str) -> date:
    """A day written YYYY-MM-DD; ValueError saying so otherwise."""
    try:
        if DAY.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ValueError(f"{text!r} is not a day written YYYY-MM-DD")


def spec_of(fmt: str, first: str, last: str, channels: Collection[str] | None) -> ExportSpec:
    """An ExportSpec from what a person typed; ValueError saying what is wrong."""
    if fmt not in FORMATS:
        raise ValueError(f"the format is one of {', '.join(FORMATS)}, not {fmt!r}")
    first_day, last_day = parse_day(first), parse_day(last)
    if last_day < first_day:
        raise ValueError(f"the range ends ({last}) before it begins ({first})")
    return ExportSpec(fmt, first_day, last_day, None if channels is None else tuple(sorted(set(channels))))


@dataclass
class ExportProgress:
    events: int = 0  # entries written so far
    channels_done: int = 0
    channels: int = 0


@dataclass
class ChannelSpan:
    """One channel's part of an export: how many entries, the first and last seq, and the stored chain just
    before the first (the genesis for seq 1), so its chain can be recomputed from the export alone."""

    entries: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    chain_before: str | None = None


@dataclass
class ExportResult:
    files: int  # manifest.json included
    size: int  # bytes of every file
    manifest: str  # manifest.json's sha256: what to note down elsewhere to prove the export unchanged later
    progress: ExportProgress
    channels: dict[str, ChannelSpan] = field(default_factory=dict)


Progress = Callable[[ExportProgress], Awaitable[None]]


async def export(
    store: JournalSource, spec: ExportSpec, out: Path, *, progress: Progress | None = None, now: datetime | None = None
) -> ExportResult:
    """Write the export into `out` (made if missing; files already there are never overwritten). On any
    failure or cancellation the files written so far stay, unlisted: the caller removes the directory."""
    names = sorted(set(spec.channels)) if spec.channels is not None else sorted(await store.journal_channels())
    starts = await store.journal_starts(spec.channels)
    done = ExportProgress(channels=len(names))
    spans: dict[str, ChannelSpan] = {}
    # nothing awaited between opening the file list and the try that closes it: a job cancelled there
    # would leave the list's file open
    files = FileList(out)
    writer = WRITERS[spec.format](files)
    try:
        for channel in names:
            spans[channel] = await _channel(store, writer, channel, spec, done, progress, starts.get(channel, 1))
            done.channels_done += 1
            if progress is not None:
                await progress(done)
        heads = {name: (seq, chain) for name, seq, chain in await store.journal_heads() if name in spans}
        head = _manifest_head(spec, now or utcnow(), spans, heads)
        size, digest = _write_manifest(files, head)
    finally:
        writer.close()
        files.discard()
    return ExportResult(files.count + 1, files.size + size, digest, done, spans)


async def _channel(
    store: JournalSource, writer: Writer, channel: str, spec: ExportSpec, done: ExportProgress,
    progress: Progress | None, start: int,
) -> ChannelSpan:  # fmt: skip
    span = ChannelSpan()
    writer.begin(channel)
    async for entry in store.journal_between(spec.since, spec.until, [channel], page=PAGE):
        writer.write(entry)
        if span.first_seq is None:
            span.first_seq = entry.seq
        span.entries, span.last_seq = span.entries + 1, entry.seq
        done.events += 1
        if progress is not None and done.events % PROGRESS_EVERY == 0:
            await progress(done)
    writer.end()
    if span.first_seq is not None:
        span.chain_before = await _chain_before(store, channel, span.first_seq, start)
    return span


async def _chain_before(store: JournalSource, channel: str, seq: int, start: int) -> str | None:
    if seq == start:  # where the channel's journal begins: 1, or after records archived before the journal
        return GENESIS
    before = await store.journal_after(channel, seq - 2, 1)
    return before[0].chain if before and before[0].seq == seq - 1 else None


def _manifest_head(
    spec: ExportSpec, now: datetime, spans: dict[str, ChannelSpan], heads: dict[str, tuple[int, str]]
) -> dict[str, Any]:
    return {
        "format": spec.format,
        "from": spec.first_day.isoformat(),
        "to": spec.last_day.isoformat(),
        "generated_at": iso(now),
        "channels": {name: asdict(span) for name, span in spans.items()},
        "heads": {
            name: {"last_seq": heads.get(name, (0, GENESIS))[0], "chain": heads.get(name, (0, GENESIS))[1]}
            for name in spans
        },
    }


def _write_manifest(files: FileList, head: dict[str, Any]) -> tuple[int, str]:
    """manifest.json: `head`'s keys, then `files` {name: sha256} one a line, streamed from the file list;
    its size and sha256."""
    manifest = HashedFile(files.out / MANIFEST)
    opening = orjson.dumps(head, option=orjson.OPT_INDENT_2)
    manifest.write(opening.removesuffix(b"\n}") + b',\n  "files": {')
    for number, (name, digest) in enumerate(files.entries()):
        manifest.write(b"," if number else b"")
        manifest.write(b"\n    " + orjson.dumps(name) + b": " + orjson.dumps(digest))
    manifest.write(b"\n  }\n}\n")
    return manifest.size, manifest.close()
