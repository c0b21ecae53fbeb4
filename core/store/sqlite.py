"""SQLite store for standalone mode: one file, WAL journal, history served from the (channel, seq) key."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from pathlib import Path

import aiosqlite

from core.errors import ChatError
from core.models import Change, Channel, Message, User, utcnow
from core.store import PINS_MAX, REVOKED_CHUNK, replaced_texts, with_counts

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
    rev INTEGER,
    reply_to TEXT,
    pinned INTEGER NOT NULL DEFAULT 0,
    original TEXT,
    PRIMARY KEY (channel, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes (
    channel TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    by TEXT NOT NULL,
    ts TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (channel, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL
);
"""


# Made after _migrate: a file from before changes has no rev, reply_to or pinned column to index. Only
# changed messages have a rev (NULL: the message's own seq) and only they are in its index, so writing
# a new message costs no index more than before messages could change.
INDEXES = """
CREATE INDEX IF NOT EXISTS messages_changed ON messages (channel, rev) WHERE rev IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_by_thread ON messages (channel, reply_to, seq) WHERE reply_to IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_pinned ON messages (channel, seq) WHERE pinned = 1;
"""


async def _migrate(db: aiosqlite.Connection) -> None:
    """A file written before messages could change: its messages get the columns (none was ever changed:
    a NULL rev and original say so)."""
    async with db.execute("PRAGMA table_info(messages)") as cur:
        columns = {row[1] for row in await cur.fetchall()}
    if "rev" in columns:
        return
    # One transaction: a process stopped halfway must not leave rev without its values or its sibling columns.
    await db.execute("BEGIN")
    await db.execute("ALTER TABLE messages ADD COLUMN rev INTEGER")
    await db.execute("ALTER TABLE messages ADD COLUMN reply_to TEXT")
    await db.execute("ALTER TABLE messages ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0")
    await db.execute("ALTER TABLE messages ADD COLUMN original TEXT")


def _row(data: bytes | str, seq: int) -> Message:
    message = Message.model_validate_json(data)
    return message if message.rev is not None else message.model_copy(update={"rev": seq})


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
        await _migrate(db)
        await db.executescript(INDEXES)
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
            "INSERT OR IGNORE INTO messages (channel, seq, id, data, rev, reply_to, pinned, original) "
            "VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
            [
                (
                    m.channel,
                    m.seq,
                    m.id,
                    m.model_dump_json(exclude_none=True, exclude={"reply_count"}),
                    None if (m.rev or m.seq) == m.seq else m.rev,
                    m.reply_to,
                    None,
                )
                for m in messages
            ],
        )
        inserted = self._db.total_changes - before
        if inserted < len(messages):  # a message a change of it reached first was stored folded: its text as posted
            await self._db.executemany(
                "UPDATE messages SET original = ? "
                "WHERE channel = ? AND seq = ? AND original IS NULL AND rev IS NOT NULL",
                [(m.text, m.channel, m.seq) for m in messages],
            )
        await self._db.commit()
        return inserted

    async def history(
        self, channel: str, *, limit: int, before: int | None = None, after: int | None = None
    ) -> tuple[list[Message], bool]:
        low = after if after is not None else 0
        high = before if before is not None else 2**62
        order = "ASC" if after is not None else "DESC"
        async with self._db.execute(
            f"SELECT data, seq FROM messages WHERE channel = ? AND seq > ? AND seq < ? ORDER BY seq {order} LIMIT ?",
            (channel, low, high, limit + 1),
        ) as cur:
            rows = list(await cur.fetchall())
        more = len(rows) > limit
        messages = [_row(r[0], r[1]) for r in rows[:limit]]
        if order == "DESC":
            messages.reverse()
        return await self._with_reply_counts(channel, messages), more

    async def last_seq(self, channel: str) -> int:
        last = 0
        for table in ("messages", "changes"):
            async with self._db.execute(f"SELECT MAX(seq) FROM {table} WHERE channel = ?", (channel,)) as cur:
                row = await cur.fetchone()
            last = max(last, int(row[0]) if row and row[0] is not None else 0)
        return last

    async def apply_changes(self, changes: Sequence[Change]) -> int:
        applied = 0
        for change in changes:
            applied += await self._apply(change)
        await self._db.commit()
        return applied

    async def _apply(self, change: Change) -> int:
        message = change.message
        async with self._db.execute(
            "SELECT data, seq, rev FROM messages WHERE channel = ? AND id = ?", (change.channel, message.id)
        ) as cur:
            row = await cur.fetchone()
        cur = await self._db.execute(
            "INSERT OR IGNORE INTO changes (channel, seq, id, kind, by, ts, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (change.channel, change.seq, message.id, change.kind, change.by, change.ts,
             change.model_dump_json(exclude_none=True)),
        )  # fmt: skip
        if cur.rowcount != 1:
            return 0  # applied before: a redelivery
        data = message.model_dump_json(exclude_none=True, exclude={"reply_count"})
        if row is None:
            await self._db.execute(
                "INSERT OR IGNORE INTO messages (channel, seq, id, data, rev, reply_to, pinned) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    change.channel,
                    message.seq,
                    message.id,
                    data,
                    message.rev,
                    message.reply_to,
                    int(bool(message.pinned)),
                ),
            )
        elif (row[2] or row[1]) < (message.rev or 0):
            # its first change keeps the text as posted (an unchanged row holds it) for the compliance record
            original = _row(row[0], row[1]).text if row[2] is None else None
            await self._db.execute(
                "UPDATE messages SET data = ?, rev = ?, pinned = ?, original = COALESCE(original, ?) "
                "WHERE channel = ? AND id = ?",
                (data, message.rev, int(bool(message.pinned)), original, change.channel, message.id),
            )
        return 1

    async def get_message(self, channel: str, message_id: str) -> Message | None:
        async with self._db.execute(
            "SELECT data, seq FROM messages WHERE channel = ? AND id = ?", (channel, message_id)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return (await self._with_reply_counts(channel, [_row(row[0], row[1])]))[0]

    async def changed(self, channel: str, *, after: int, limit: int) -> tuple[list[Message], bool]:
        # the messages never changed since (their rev is their seq) by the key, the changed ones by their
        # own index; each side's oldest limit + 1 merged hold the oldest limit of all
        found: list[tuple[int, bytes, int]] = []
        for query in (
            "SELECT seq, data, seq FROM messages WHERE channel = ? AND seq > ? AND rev IS NULL ORDER BY seq LIMIT ?",
            "SELECT rev, data, seq FROM messages WHERE channel = ? AND rev > ? ORDER BY rev LIMIT ?",
        ):
            async with self._db.execute(query, (channel, after, limit + 1)) as cur:
                found += [(r[0], r[1], r[2]) for r in await cur.fetchall()]
        found.sort(key=lambda r: r[0])
        page = [_row(r[1], r[2]) for r in found[:limit]]
        return await self._with_reply_counts(channel, page), len(found) > limit

    async def replies(self, channel: str, root: str, *, after: int, limit: int) -> tuple[list[Message], bool]:
        async with self._db.execute(
            "SELECT data, seq FROM messages WHERE channel = ? AND reply_to = ? AND seq > ? ORDER BY seq LIMIT ?",
            (channel, root, after, limit + 1),
        ) as cur:
            rows = list(await cur.fetchall())
        return [_row(r[0], r[1]) for r in rows[:limit]], len(rows) > limit

    async def pins(self, channel: str) -> list[Message]:
        async with self._db.execute(
            "SELECT data, seq FROM messages WHERE channel = ? AND pinned = 1 ORDER BY seq LIMIT ?", (channel, PINS_MAX)
        ) as cur:
            rows = list(await cur.fetchall())
        return await self._with_reply_counts(channel, [_row(r[0], r[1]) for r in rows])

    async def originals(self, channel: str, message_id: str) -> list[str]:
        async with self._db.execute(
            "SELECT data, seq, original, rev FROM messages WHERE channel = ? AND id = ?", (channel, message_id)
        ) as cur:
            row = await cur.fetchone()
        if row is None or row[3] is None:
            return []  # never changed
        async with self._db.execute(
            "SELECT data FROM changes WHERE channel = ? AND id = ? AND kind = 'edit' ORDER BY seq",
            (channel, message_id),
        ) as cur:
            edits = [Change.model_validate_json(r[0]).message.text for r in await cur.fetchall()]
        return replaced_texts(row[2], edits, deleted=bool(_row(row[0], row[1]).deleted))

    async def reply_counts(self, channel: str, roots: Collection[str]) -> dict[str, int]:
        if not roots:
            return {}
        marks = ",".join("?" * len(roots))
        async with self._db.execute(
            f"SELECT reply_to, COUNT(*) FROM messages WHERE channel = ? AND reply_to IN ({marks}) GROUP BY reply_to",
            (channel, *roots),
        ) as cur:
            return {r[0]: int(r[1]) for r in await cur.fetchall()}

    async def _with_reply_counts(self, channel: str, messages: list[Message]) -> list[Message]:
        return with_counts(messages, await self.reply_counts(channel, [m.id for m in messages if m.reply_to is None]))

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
