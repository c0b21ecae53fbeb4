"""Read marks, unread and mention counts, notifications and notification preferences of the SQLite store
(#22): a part of SqliteStore, on its connection."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import aiosqlite

from core.models import Notification, NotifyPrefs

NOTIFICATIONS_CHUNK = 100  # rows per INSERT: 7 parameters each, far below SQLite's limit


class SqliteNotify:
    _db: aiosqlite.Connection

    async def mark_read(self, user: str, channel: str, seq: int) -> int:
        rows = await self._db.execute_fetchall(
            "INSERT INTO read_marks (username, channel, seq) VALUES (?, ?, ?) "
            "ON CONFLICT (username, channel) DO UPDATE SET seq = max(seq, excluded.seq) RETURNING seq",
            (user, channel, seq),
        )
        await self._db.commit()
        return int(next(iter(rows))[0])

    async def mark_read_many(self, marks: Sequence[tuple[str, str, int]]) -> None:
        await self._db.executemany(
            "INSERT INTO read_marks (username, channel, seq) VALUES (?, ?, ?) "
            "ON CONFLICT (username, channel) DO UPDATE SET seq = max(seq, excluded.seq)",
            marks,
        )
        await self._db.commit()

    async def read_marks(self, user: str) -> dict[str, int]:
        rows = await self._db.execute_fetchall("SELECT channel, seq FROM read_marks WHERE username = ?", (user,))
        return {row[0]: int(row[1]) for row in rows}

    async def readers(self, channel: str) -> list[str]:
        rows = await self._db.execute_fetchall(
            "SELECT username FROM read_marks WHERE channel = ? ORDER BY username", (channel,)
        )
        return [row[0] for row in rows]

    async def unread_counts(self, user: str, marks: Mapping[str, int], *, cap: int) -> dict[str, int]:
        if not marks:
            return {}
        # one statement for every channel; each count reads at most `cap` rows of its channel's key
        rows = await self._db.execute_fetchall(
            "SELECT marks.key, (SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE channel = marks.key "
            "AND seq > marks.value AND deleted = 0 AND author != ? LIMIT ?)) FROM json_each(?) AS marks",
            (user, cap, json.dumps(dict(marks))),
        )
        return {row[0]: int(row[1]) for row in rows}

    async def mention_counts(self, user: str, marks: Mapping[str, int]) -> dict[str, int]:
        if not marks:
            return {}
        # CROSS JOIN keeps the marks outside: each channel reads its range of the mentions index
        rows = await self._db.execute_fetchall(
            "SELECT n.channel, COUNT(*) FROM json_each(?) AS marks CROSS JOIN notifications AS n "
            "ON n.username = ? AND n.kind = 'mention' AND n.channel = marks.key AND n.seq > marks.value "
            "GROUP BY n.channel",
            (json.dumps(dict(marks)), user),
        )
        return {row[0]: int(row[1]) for row in rows}

    async def save_notifications(self, items: Sequence[Notification]) -> list[Notification]:
        new: set[str] = set()
        for start in range(0, len(items), NOTIFICATIONS_CHUNK):
            chunk = items[start : start + NOTIFICATIONS_CHUNK]
            values = ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
            args = [
                value
                for n in chunk
                for value in (n.id, n.user, n.key, n.kind, n.channel, n.seq, n.model_dump_json(exclude_none=True))
            ]
            # RETURNING names only the rows inserted: those whose (user, key) or id was there are not
            rows = await self._db.execute_fetchall(
                "INSERT OR IGNORE INTO notifications (id, username, key, kind, channel, seq, data) "
                f"VALUES {values} RETURNING id",
                args,
            )
            new.update(row[0] for row in rows)
        await self._db.commit()
        return [n for n in items if n.id in new]

    async def notifications(self, user: str, *, before: str | None, limit: int) -> list[Notification]:
        where, args = ("AND id < ?", (before,)) if before is not None else ("", ())
        rows = await self._db.execute_fetchall(
            f"SELECT data FROM notifications WHERE username = ? {where} ORDER BY id DESC LIMIT ?",
            (user, *args, limit),
        )
        return [Notification.model_validate_json(row[0]) for row in rows]

    async def drop_notifications(self, key: str) -> int:
        cur = await self._db.execute("DELETE FROM notifications WHERE key = ?", (key,))
        await self._db.commit()
        return cur.rowcount

    async def get_notify_prefs(self, user: str) -> NotifyPrefs | None:
        rows = list(await self._db.execute_fetchall("SELECT prefs FROM notify_prefs WHERE username = ?", (user,)))
        return NotifyPrefs.model_validate_json(rows[0][0]) if rows else None

    async def set_notify_prefs(self, user: str, prefs: NotifyPrefs, updated_at: str) -> None:
        await self._db.execute(
            "INSERT INTO notify_prefs (username, prefs, updated_at) VALUES (?, ?, ?) ON CONFLICT (username) "
            "DO UPDATE SET prefs = excluded.prefs, updated_at = excluded.updated_at",
            (user, prefs.model_dump_json(), updated_at),
        )
        await self._db.commit()

    async def notify_prefs_since(self, since: str) -> list[tuple[str, NotifyPrefs, str]]:
        rows = await self._db.execute_fetchall(
            "SELECT username, prefs, updated_at FROM notify_prefs WHERE updated_at > ? ORDER BY updated_at, username",
            (since,),
        )
        return [(row[0], NotifyPrefs.model_validate_json(row[1]), row[2]) for row in rows]
