"""Retention and legal holds of the SQLite store (#24, docs/protocol.md#retention-and-legal-hold): a part of
SqliteStore, on its connection."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import aiosqlite

from core.changes import redacted
from core.models import Change, Hold, Message
from core.store import REDACT_CHUNK, RETENTION_SPAN, message_ids


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


class SqliteRetention:
    _db: aiosqlite.Connection

    async def set_retention(self, channel: str, days: int | None) -> bool:
        cur = await self._db.execute("UPDATE channels SET retention_days = ? WHERE name = ?", (days, channel))
        await self._db.commit()
        return cur.rowcount == 1

    async def add_hold(self, hold: Hold) -> bool:
        cur = await self._db.execute(
            "INSERT OR IGNORE INTO holds (name, created_at, data) VALUES (?, ?, ?)",
            (hold.name, hold.created_at, hold.model_dump_json(exclude_none=True)),
        )
        await self._db.commit()
        return cur.rowcount == 1

    async def remove_hold(self, name: str) -> bool:
        cur = await self._db.execute("DELETE FROM holds WHERE name = ?", (name,))
        await self._db.commit()
        return cur.rowcount == 1

    async def holds(self) -> list[Hold]:
        rows = await self._db.execute_fetchall("SELECT data FROM holds ORDER BY created_at, name")
        return [Hold.model_validate_json(row[0]) for row in rows]

    async def journal_expired(
        self, channel: str, before: str, *, after: int = 0, limit: int = REDACT_CHUNK
    ) -> list[tuple[int, str]]:
        # the last seq before `before` from the time index, then the key in spans of RETENTION_SPAN seqs: no
        # query reads more than a span of the channel, however much of it is redacted already
        rows = list(
            await self._db.execute_fetchall(
                "SELECT seq FROM journal WHERE channel = ? AND ts < ? ORDER BY ts DESC, seq DESC LIMIT 1",
                (channel, before),
            )
        )
        high = int(rows[0][0]) if rows else 0
        found: list[tuple[int, str]] = []
        while after < high and len(found) < limit:
            upto = min(after + RETENTION_SPAN, high)
            found += [
                (int(row[0]), row[1])
                for row in await self._db.execute_fetchall(
                    "SELECT seq, username FROM journal WHERE channel = ? AND seq > ? AND seq <= ? "
                    "AND redacted_at IS NULL AND ts < ? ORDER BY seq LIMIT ?",
                    (channel, after, upto, before, limit - len(found)),
                )
            ]
            after = found[-1][0] if len(found) == limit else upto
        return found

    async def journal_redact(self, channel: str, seqs: Collection[int], at: str) -> int:
        count = 0
        asked = sorted(set(seqs))
        for start in range(0, len(asked), REDACT_CHUNK):
            chunk = asked[start : start + REDACT_CHUNK]
            where = f"channel = ? AND seq IN ({_marks(chunk)}) AND redacted_at IS NULL"
            rows = await self._db.execute_fetchall(f"SELECT kind, record FROM journal WHERE {where}", (channel, *chunk))
            # the messages before their entries: the connection is shared, and another writer's commit may
            # come between; a run stopped there leaves the entries unredacted, for the next run to finish
            ids = message_ids((row[0], row[1]) for row in rows)
            if ids:
                await self._redact_messages(channel, ids)
            cur = await self._db.execute(
                f"UPDATE journal SET record = NULL, redacted_at = ? WHERE {where}", (at, channel, *chunk)
            )
            count += cur.rowcount
            await self._db.commit()
        return count

    async def _redact_messages(self, channel: str, ids: Sequence[str]) -> None:
        """The archived messages of `ids` keep their place but not their content: text "" and redacted, the
        texts they replaced (`original`, the change log's copies) blanked, out of the search index and of
        everyone's notifications."""
        marks = _marks(ids)
        rows = await self._db.execute_fetchall(
            f"SELECT id, data, search_rowid FROM messages WHERE channel = ? AND id IN ({marks})", (channel, *ids)
        )
        await self._db.executemany(
            "UPDATE messages SET data = ?, pinned = 0, original = CASE WHEN original IS NULL THEN NULL ELSE '' END "
            "WHERE channel = ? AND id = ?",
            [(_blanked(row[1]), channel, row[0]) for row in rows],
        )
        await self._db.executemany("DELETE FROM search WHERE rowid = ?", [(row[2],) for row in rows if row[2]])
        changes = await self._db.execute_fetchall(
            f"SELECT seq, data FROM changes WHERE channel = ? AND id IN ({marks})", (channel, *ids)
        )
        await self._db.executemany(
            "UPDATE changes SET data = ? WHERE channel = ? AND seq = ?",
            [(_blanked_change(row[1]), channel, row[0]) for row in changes],
        )
        await self._db.execute(f"DELETE FROM notifications WHERE key IN ({marks})", ids)


def _blanked(data: bytes | str) -> str:
    return redacted(Message.model_validate_json(data)).model_dump_json(exclude_none=True)


def _blanked_change(data: bytes | str) -> str:
    change = Change.model_validate_json(data)
    return change.model_copy(update={"message": redacted(change.message)}).model_dump_json(exclude_none=True)
