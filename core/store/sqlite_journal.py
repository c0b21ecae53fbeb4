"""The compliance journal of the SQLite store (#24, docs/compliance.md): a part of SqliteStore, on its connection."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from typing import Any

import aiosqlite
import orjson

from core.journal import GENESIS, JournalEntry

logger = logging.getLogger(__name__)

# Every archived record of a channel under its seq, `record` the canonical JSON that `content_hash` is the
# sha256 of (NULL once redacted), `chain` NULL until the records before it are in. Kept in (channel, seq)
# order, so verify reads a channel front to back along the key; `journal_by_time` finds the seqs of an
# export's dates. `journal_heads` holds each channel's last chained seq and chain: the published head, and
# where the archiver extends from. `journal_starts` holds the seq where the journal of a channel whose
# records were archived before the journal existed begins (start_journal); a channel not in it begins at 1.
JOURNAL_TABLES = (
    """CREATE TABLE IF NOT EXISTS journal (
    channel TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    ts TEXT NOT NULL,
    username TEXT NOT NULL,
    record BLOB,
    content_hash TEXT NOT NULL,
    chain TEXT,
    redacted_at TEXT,
    PRIMARY KEY (channel, seq)
) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS journal_by_time ON journal (channel, ts)",
    """CREATE TABLE IF NOT EXISTS journal_heads (
    channel TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    chain TEXT NOT NULL
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS journal_starts (
    channel TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
) WITHOUT ROWID""",
)
RECORD_TABLES = ("messages", "changes", "channel_events")  # what takes a channel's seqs
COLUMNS = "channel, seq, kind, ts, username, record, content_hash, chain, redacted_at"
JOINED = ", ".join(f"j.{column}" for column in COLUMNS.split(", "))  # COLUMNS of the journal as `j`
APPEND_CHUNK = 50_000  # rows per executemany and commit: a bulk load is not held in one transaction
PAGE = 5000


def record_of(seq: int, stored: bytes | None) -> dict[str, Any] | None:
    """The record as stored (its canonical JSON); a record no longer JSON at all reads as one that cannot
    match its hash, so that verify reports it edited rather than stopping at it."""
    if stored is None:
        return None
    try:
        found = orjson.loads(stored)
    except orjson.JSONDecodeError:
        return {"seq": seq, "unreadable": bytes(stored).decode(errors="replace")}
    return found if isinstance(found, dict) else {"seq": seq, "unreadable": found}


def entry_of_row(row: Sequence[Any]) -> JournalEntry:
    # built without validation: the row is the store's own, and verify reads a million of them
    return JournalEntry.model_construct(
        channel=row[0], seq=row[1], kind=row[2], ts=row[3], user=row[4], record=record_of(row[1], row[5]),
        content_hash=row[6], chain=row[7], redacted_at=row[8],
    )  # fmt: skip


def stored_record(entry: JournalEntry) -> bytes | None:
    """What the journal keeps of a record: exactly the bytes its content_hash is the hash of."""
    return None if entry.record is None else orjson.dumps(entry.record, option=orjson.OPT_SORT_KEYS)


async def last_archived_seq(db: aiosqlite.Connection, channel: str, tables: Sequence[str] = RECORD_TABLES) -> int:
    """The channel's last archived seq: of a message, a change or a channel event (0 when none)."""
    last = 0
    for table in tables:
        async with db.execute(f"SELECT MAX(seq) FROM {table} WHERE channel = ?", (channel,)) as cur:
            row = await cur.fetchone()
        last = max(last, int(row[0]) if row and row[0] is not None else 0)
    return last


async def _channels(db: aiosqlite.Connection, table: str) -> list[str]:
    """The channels with a row in `table`, one seek along its (channel, seq) key each rather than a scan."""
    found: list[str] = []
    while True:
        after = "WHERE channel > ?" if found else ""
        rows = list(await db.execute_fetchall(f"SELECT MIN(channel) FROM {table} {after}", found[-1:]))
        if not rows or rows[0][0] is None:
            return found
        found.append(rows[0][0])


async def start_journal(db: aiosqlite.Connection) -> None:
    """Make the journal's tables; on a file whose records were archived before the journal existed, begin
    each such channel's journal after its last archived seq (its head there, on 64 zeros): those records
    cannot be journaled as they were posted, since the messages table holds each folded with its changes.
    Decided in the same write transaction that makes the journal, before anything can be journaled, so two
    processes opening the file at once decide once, on the same records."""
    await db.execute("BEGIN IMMEDIATE")
    try:
        tables = {row[0] for row in await db.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for statement in JOURNAL_TABLES:
            await db.execute(statement)
        if "journal" not in tables:
            archived = [table for table in RECORD_TABLES if table in tables]
            channels = sorted({channel for table in archived for channel in await _channels(db, table)})
            heads = [(channel, await last_archived_seq(db, channel, archived)) for channel in channels]
            await db.executemany(
                "INSERT INTO journal_heads (channel, seq, chain) VALUES (?, ?, ?)",
                [(c, seq, GENESIS) for c, seq in heads],
            )
            await db.executemany(
                "INSERT INTO journal_starts (channel, seq) VALUES (?, ?)",
                [(channel, seq + 1) for channel, seq in heads],
            )
            if heads:
                logger.info("the journal of %d channels begins after their records archived before it", len(heads))
        await db.commit()
    except BaseException:
        await db.rollback()
        raise


class SqliteJournal:
    _db: aiosqlite.Connection

    async def journal_append(self, entries: Sequence[JournalEntry]) -> int:
        return await self.journal_write(entries, {})

    async def journal_write(
        self, entries: Sequence[JournalEntry], chains: Mapping[str, Sequence[tuple[int, str]]]
    ) -> int:
        added = 0
        for start in range(0, len(entries), APPEND_CHUNK):
            if start:
                await self._db.commit()  # a bulk load is not held in one transaction
            cursor = await self._db.executemany(
                f"INSERT OR IGNORE INTO journal ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (e.channel, e.seq, e.kind, e.ts, e.user, stored_record(e), e.content_hash, e.chain, e.redacted_at)
                    for e in entries[start : start + APPEND_CHUNK]
                ],
            )
            added += cursor.rowcount  # this statement's own: another task may write on the connection meanwhile
        # when every entry went in, those inserted chained hold their chain already: the others get theirs
        done = {(e.channel, e.seq, e.chain) for e in entries if e.chain is not None} if added == len(entries) else set()
        updates = [(c, channel, s) for channel, run in chains.items() for s, c in run if (channel, s, c) not in done]
        if updates:
            await self._db.executemany("UPDATE journal SET chain = ? WHERE channel = ? AND seq = ?", updates)
        # a channel is listed from its first entry, chained or not; its head only moves forward (two replicas
        # extending the same channel)
        heads = {e.channel: (0, GENESIS) for e in entries} | {c: max(run) for c, run in chains.items() if run}
        await self._db.executemany(
            "INSERT INTO journal_heads (channel, seq, chain) VALUES (?, ?, ?) ON CONFLICT (channel) "
            "DO UPDATE SET seq = excluded.seq, chain = excluded.chain WHERE excluded.seq > journal_heads.seq",
            [(channel, seq, chain) for channel, (seq, chain) in heads.items()],
        )
        await self._db.commit()
        return added

    async def journal_head(self, channel: str) -> tuple[int, str]:
        return next(((seq, chain) for _, seq, chain in await self.journal_heads([channel])), (0, GENESIS))

    async def journal_after(self, channel: str, after: int, limit: int) -> list[JournalEntry]:
        rows = await self._db.execute_fetchall(
            f"SELECT {COLUMNS} FROM journal WHERE channel = ? AND seq > ? ORDER BY seq LIMIT ?", (channel, after, limit)
        )
        return [entry_of_row(row) for row in rows]

    async def journal_past_heads(
        self, channels: Collection[str], limit: int
    ) -> dict[str, tuple[tuple[int, str], list[JournalEntry]]]:
        # one query for all of them; only a channel whose next seq is there (one waiting for a replica's seq
        # is not read again every batch), as far as `limit` seqs past its head
        names = sorted(set(channels))
        rows = await self._db.execute_fetchall(
            f"SELECT h.seq, h.chain, {JOINED} FROM journal_heads h "
            "JOIN journal j ON j.channel = h.channel AND j.seq > h.seq AND j.seq <= h.seq + ? "
            f"WHERE h.channel IN ({', '.join('?' * len(names))}) "
            "AND EXISTS (SELECT 1 FROM journal n WHERE n.channel = h.channel AND n.seq = h.seq + 1) "
            "ORDER BY j.channel, j.seq",
            [limit, *names],
        )
        found: dict[str, tuple[tuple[int, str], list[JournalEntry]]] = {}
        for row in rows:
            found.setdefault(row[2], ((int(row[0]), row[1]), []))[1].append(entry_of_row(row[2:]))
        return found

    async def journal_set_chains(self, channel: str, chains: Sequence[tuple[int, str]]) -> None:
        if chains:
            await self.journal_write([], {channel: chains})

    async def journal_heads(self, channels: Collection[str] | None = None) -> list[tuple[str, int, str]]:
        rows = await self._of_channels("SELECT channel, seq, chain FROM journal_heads", channels, "ORDER BY channel")
        return [(row[0], int(row[1]), row[2]) for row in rows]

    async def journal_starts(self, channels: Collection[str] | None = None) -> dict[str, int]:
        rows = await self._of_channels("SELECT channel, seq FROM journal_starts", channels)
        return {row[0]: int(row[1]) for row in rows}

    async def _of_channels(self, select: str, channels: Collection[str] | None, order: str = "") -> list[Any]:
        """The rows of `select` (over a table keyed by channel) of `channels`, or of every channel."""
        if channels is None:
            return list(await self._db.execute_fetchall(f"{select} {order}"))
        names = sorted(set(channels))
        marks = ", ".join("?" * len(names))
        return list(await self._db.execute_fetchall(f"{select} WHERE channel IN ({marks}) {order}", names))

    async def journal_channels(self) -> list[str]:
        rows = await self._db.execute_fetchall("SELECT channel FROM journal_heads ORDER BY channel")
        return [row[0] for row in rows]

    async def journal_scan(self, channel: str, *, after: int = 0, page: int = PAGE) -> AsyncIterator[JournalEntry]:
        while True:
            rows = list(
                await self._db.execute_fetchall(
                    f"SELECT {COLUMNS} FROM journal WHERE channel = ? AND seq > ? ORDER BY seq LIMIT ?",
                    (channel, after, page),
                )
            )
            for row in rows:
                yield entry_of_row(row)
            if len(rows) < page:
                return
            after = rows[-1][1]

    async def journal_between(
        self, since: str, until: str, channels: Collection[str] | None, *, page: int = PAGE
    ) -> AsyncIterator[JournalEntry]:
        for channel in sorted(await self.journal_channels() if channels is None else set(channels)):
            # the seqs that bound the time range, from the time index; then every entry between them
            rows = list(
                await self._db.execute_fetchall(
                    "SELECT MIN(seq), MAX(seq) FROM journal WHERE channel = ? AND ts >= ? AND ts < ?",
                    (channel, since, until),
                )
            )
            low, high = rows[0] if rows else (None, None)
            if low is None:
                continue
            after = low - 1
            while after < high:
                found = list(
                    await self._db.execute_fetchall(
                        f"SELECT {COLUMNS} FROM journal WHERE channel = ? AND seq > ? AND seq <= ? ORDER BY seq "
                        "LIMIT ?",
                        (channel, after, high, page),
                    )
                )
                for row in found:
                    yield entry_of_row(row)
                if len(found) < page:
                    break
                after = found[-1][1]
