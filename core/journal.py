"""The compliance journal (docs/compliance.md): every record of a channel in seq order, each with the hash of
its canonical JSON and a chain over those hashes, so that a removed, edited or reordered record shows."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict

from core.models import Change, ChannelEvent, Record

GENESIS = "0" * 64  # the chain before a channel's first record
EntryKind = Literal["message", "change", "event"]
ProblemKind = Literal["gap", "edited", "reordered", "chain"]


class JournalEntry(BaseModel):
    """One record of a channel as archived. `record` is its wire form (None once redacted under retention,
    `redacted_at` saying when); `content_hash` = sha256 of canonical(record) as written, kept through
    redaction; `chain` = sha256(previous chain + content_hash), None until the records before it are in
    (an archiver replica may write seq 7 before another writes seq 6). `user` is who made it (a message's
    author, a change's or event's `by`), for holds and exports."""

    model_config = ConfigDict(extra="forbid")

    channel: str
    seq: int
    kind: EntryKind
    ts: str
    user: str
    record: dict[str, Any] | None
    content_hash: str
    chain: str | None = None
    redacted_at: str | None = None


def canonical(record: dict[str, Any]) -> bytes:
    """The canonical JSON of a record: UTF-8, keys sorted at every level, no spaces, strings as JSON escapes
    them minimally (non-ASCII as itself). Python's json.dumps(record, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False).encode() gives the same bytes: records hold only strings, integers, booleans, lists
    and objects."""
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)


def content_hash(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


def chained(previous: str, content: str) -> str:
    """sha256 of the previous chain's 64 hex digits followed by the content hash's, as ASCII."""
    return hashlib.sha256((previous + content).encode()).hexdigest()


def entry_of(record: Record) -> JournalEntry:
    """A record of the archive stream as a journal entry, not chained yet."""
    wire = record.wire()
    if isinstance(record, Change):
        kind: EntryKind = "change"
        user = record.by
    elif isinstance(record, ChannelEvent):
        kind, user = "event", record.by
    else:
        kind, user = "message", record.user
    assert record.seq is not None, "only records with a seq are journaled"
    return JournalEntry(
        channel=record.channel, seq=record.seq, kind=kind, ts=record.ts, user=user, record=wire,
        content_hash=content_hash(wire),
    )  # fmt: skip


def extend(head_seq: int, head_chain: str, entries: Iterable[JournalEntry]) -> list[tuple[int, str]]:
    """The (seq, chain) of each entry that continues the chain from (head_seq, head_chain) without a gap,
    entries in seq order; stops at the first gap."""
    out: list[tuple[int, str]] = []
    for entry in entries:
        if entry.seq <= head_seq:
            continue
        if entry.seq != head_seq + 1:
            break
        head_seq, head_chain = entry.seq, chained(head_chain, entry.content_hash)
        out.append((head_seq, head_chain))
    return out


@dataclass
class Problem:
    seq: int
    kind: ProblemKind
    detail: str


@dataclass
class ChannelReport:
    """What verify found in one channel: its head (the last seq and chain recomputed) and the problems, first
    first. `pending` counts the newest entries not chained yet (the archiver is still writing before them)."""

    channel: str
    last_seq: int = 0
    chain: str = GENESIS
    pending: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


async def verify(
    channel: str, entries: AsyncIterable[JournalEntry], *, start: int = 1, limit: int = 20
) -> ChannelReport:
    """Recompute a channel's chain from its stored entries (in seq order) and report every gap (a removed
    record), edit (a record no longer matching its hash, or a hash no longer matching the chain), and
    reordering (a record stored under another seq than its own), each with its seq; at most `limit`
    problems. Redacted entries are checked by their kept hash alone. `start`: the seq the channel's journal
    begins at, on GENESIS (after seq 1 for records archived before the journal existed)."""
    report = ChannelReport(channel, last_seq=start - 1)
    expected, chain = start, GENESIS
    async for entry in entries:
        if len(report.problems) >= limit:
            break
        if entry.chain is None:
            report.pending += 1
            continue
        if entry.seq != expected:
            found = "missing" if entry.seq > expected else "repeated"
            report.problems.append(Problem(expected, "gap", f"seq {expected} is {found}; next stored is {entry.seq}"))
        own = entry.record.get("seq") if entry.record is not None else entry.seq
        if own != entry.seq:
            report.problems.append(Problem(entry.seq, "reordered", f"holds the record of seq {own}"))
        elif entry.record is not None and content_hash(entry.record) != entry.content_hash:
            report.problems.append(Problem(entry.seq, "edited", "the record does not match its content_hash"))
        chain = chained(chain, entry.content_hash)
        if chain != entry.chain:
            report.problems.append(Problem(entry.seq, "chain", "the chain does not follow from the one before"))
            chain = entry.chain  # go on from what is stored, so one break is reported once
        report.last_seq, expected = entry.seq, entry.seq + 1
    report.chain = chain
    return report
