"""The compliance journal of the SQLite store (#24, docs/compliance.md): a part of SqliteStore, on its connection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any

import aiosqlite
import orjson

from core.journal import GENESIS, JournalEntry

COLUMNS = "channel, seq, kind, ts, username, record, content_hash, chain, redacted_at"
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


class SqliteJournal:
    _db: aiosqlite.Connection

    async def journal_append(self, entries: Sequence[JournalEntry]) -> int:
        before = self._db.total_changes
        heads = {e.channel for e in entries}
        for start in range(0, len(entries), APPEND_CHUNK):
            await self._db.executemany(
                f"INSERT OR IGNORE INTO journal ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (e.channel, e.seq, e.kind, e.ts, e.user, stored_record(e), e.content_hash, e.chain, e.redacted_at)
                    for e in entries[start : start + APPEND_CHUNK]
                ],
            )
            await self._db.commit()
        added = self._db.total_changes - before
        # a channel is listed from its first entry, chained or not; its head moves as its chain grows
        await self._db.executemany(
            "INSERT OR IGNORE INTO journal_heads (channel, seq, chain) VALUES (?, 0, ?)",
            [(channel, GENESIS) for channel in heads],
        )
        await self._db.commit()
        return added

    async def journal_head(self, channel: str) -> tuple[int, str]:
        rows = list(
            await self._db.execute_fetchall("SELECT seq, chain FROM journal_heads WHERE channel = ?", (channel,))
        )
        return (int(rows[0][0]), rows[0][1]) if rows else (0, GENESIS)

    async def journal_after(self, channel: str, after: int, limit: int) -> list[JournalEntry]:
        rows = await self._db.execute_fetchall(
            f"SELECT {COLUMNS} FROM journal WHERE channel = ? AND seq > ? ORDER BY seq LIMIT ?", (channel, after, limit)
        )
        return [entry_of_row(row) for row in rows]

    async def journal_set_chains(self, channel: str, chains: Sequence[tuple[int, str]]) -> None:
        if not chains:
            return
        await self._db.executemany(
            "UPDATE journal SET chain = ? WHERE channel = ? AND seq = ?", [(c, channel, s) for s, c in chains]
        )
        last_seq, last_chain = max(chains)
        # two replicas extending the same channel: the head only moves forward
        await self._db.execute(
            "INSERT INTO journal_heads (channel, seq, chain) VALUES (?, ?, ?) ON CONFLICT (channel) "
            "DO UPDATE SET seq = excluded.seq, chain = excluded.chain WHERE excluded.seq > journal_heads.seq",
            (channel, last_seq, last_chain),
        )
        await self._db.commit()

    async def journal_heads(self) -> list[tuple[str, int, str]]:
        rows = await self._db.execute_fetchall("SELECT channel, seq, chain FROM journal_heads ORDER BY channel")
        return [(row[0], int(row[1]), row[2]) for row in rows]

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
