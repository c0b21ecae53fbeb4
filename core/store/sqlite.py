"""SQLite store for standalone mode: one file, WAL journal, history served from the (channel, seq) key."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from pathlib import Path

import aiosqlite

from core.errors import ChatError
from core.models import Channel, Message, User, utcnow
from core.store import REVOKED_CHUNK

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS channels (
    name TEXT PRIMARY KEY,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    channel TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL UNIQUE,
    data BLOB NOT NULL,
    PRIMARY KEY (channel, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL
);
"""


class SqliteStore:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: str) -> SqliteStore:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.executescript(SCHEMA)
        await db.commit()
        return cls(db)

    async def ping(self) -> None:
        await self._db.execute("SELECT 1")

    async def close(self) -> None:
        await self._db.close()

    async def create_user(self, user: User) -> None:
        try:
            await self._db.execute(
                "INSERT INTO users VALUES (?, ?, ?)", (user.username, user.password_hash, user.created_at)
            )
            await self._db.commit()
        except aiosqlite.IntegrityError:
            raise ChatError("username_taken", "That username is taken", 409) from None

    async def get_user(self, username: str) -> User | None:
        async with self._db.execute("SELECT * FROM users WHERE username = ?", (username,)) as cur:
            row = await cur.fetchone()
        return None if row is None else User(username=row[0], password_hash=row[1], created_at=row[2])

    async def create_channel(self, channel: Channel) -> bool:
        cur = await self._db.execute(
            "INSERT OR IGNORE INTO channels VALUES (?, ?, ?)",
            (channel.name, channel.created_by, channel.created_at),
        )
        await self._db.commit()
        return cur.rowcount == 1

    async def get_channel(self, name: str) -> Channel | None:
        async with self._db.execute("SELECT * FROM channels WHERE name = ?", (name,)) as cur:
            row = await cur.fetchone()
        return None if row is None else Channel(name=row[0], created_by=row[1], created_at=row[2])

    async def list_channels(self) -> list[Channel]:
        async with self._db.execute("SELECT * FROM channels ORDER BY name") as cur:
            rows = await cur.fetchall()
        return [Channel(name=r[0], created_by=r[1], created_at=r[2]) for r in rows]

    async def count_channels(self) -> int:
        async with self._db.execute("SELECT COUNT(*) FROM channels") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def delete_channel(self, name: str) -> bool:
        cur = await self._db.execute("DELETE FROM channels WHERE name = ?", (name,))
        await self._db.commit()
        return cur.rowcount == 1

    async def save_messages(self, messages: Sequence[Message]) -> int:
        before = self._db.total_changes
        await self._db.executemany(
            "INSERT OR IGNORE INTO messages VALUES (?, ?, ?, ?)",
            [(m.channel, m.seq, m.id, m.model_dump_json(exclude_none=True)) for m in messages],
        )
        await self._db.commit()
        return self._db.total_changes - before

    async def history(
        self, channel: str, *, limit: int, before: int | None = None, after: int | None = None
    ) -> tuple[list[Message], bool]:
        low = after if after is not None else 0
        high = before if before is not None else 2**62
        order = "ASC" if after is not None else "DESC"
        async with self._db.execute(
            f"SELECT data FROM messages WHERE channel = ? AND seq > ? AND seq < ? ORDER BY seq {order} LIMIT ?",
            (channel, low, high, limit + 1),
        ) as cur:
            rows = list(await cur.fetchall())
        more = len(rows) > limit
        messages = [Message.model_validate_json(r[0]) for r in rows[:limit]]
        if order == "DESC":
            messages.reverse()
        return messages, more

    async def last_seq(self, channel: str) -> int:
        async with self._db.execute("SELECT MAX(seq) FROM messages WHERE channel = ?", (channel,)) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    async def revoke_token(self, jti: str, expires_at: datetime) -> None:
        now = utcnow().isoformat()
        await self._db.execute("DELETE FROM revoked_tokens WHERE expires_at < ?", (now,))
        await self._db.execute("INSERT OR REPLACE INTO revoked_tokens VALUES (?, ?)", (jti, expires_at.isoformat()))
        await self._db.commit()

    async def revoked(self, jtis: Collection[str]) -> set[str]:
        asked, found = list(jtis), set[str]()
        for i in range(0, len(asked), REVOKED_CHUNK):
            chunk = asked[i : i + REVOKED_CHUNK]
            marks = ",".join("?" * len(chunk))
            async with self._db.execute(f"SELECT jti FROM revoked_tokens WHERE jti IN ({marks})", chunk) as cur:
                found.update(row[0] for row in await cur.fetchall())
        return found
