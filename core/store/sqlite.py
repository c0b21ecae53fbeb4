"""SQLite store for standalone mode: one file, WAL journal, history served from the (channel, seq) key."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from pathlib import Path

import aiosqlite

from core.changes import redacted
from core.errors import ChatError
from core.models import (
    AuditEntry,
    Change,
    Channel,
    ChannelEvent,
    ChannelRole,
    Invite,
    Member,
    Message,
    Moderation,
    User,
    utcnow,
)
from core.store import PINS_MAX, REVOKED_CHUNK, replaced_texts, with_counts
from core.store.sqlite_exports import SqliteExports
from core.store.sqlite_journal import SqliteJournal, last_archived_seq
from core.store.sqlite_notify import SqliteNotify
from core.store.sqlite_retention import SqliteRetention
from core.store.sqlite_schema import prepare
from core.store.sqlite_search import allocate_rowids, find, follow_change, index_messages
from core.store.sqlite_trading import SqliteTrading

USER_COLUMNS = "username, password_hash, created_at, roles, suspended"
CHANNEL_COLUMNS = "name, created_by, created_at, visibility, kind, topic, slow_mode_s, members, retention_days"
ROLE_RANK = "CASE role WHEN 'owner' THEN 0 WHEN 'moderator' THEN 1 ELSE 2 END"
INSERT_CHUNK = 1000  # messages per INSERT statement: 9 parameters each, below SQLite's 32,766


def _user(row: aiosqlite.Row) -> User:
    return User(
        username=row[0], password_hash=row[1], created_at=row[2], roles=json.loads(row[3]), suspended=bool(row[4])
    )


def _channel(row: aiosqlite.Row) -> Channel:
    return Channel(
        name=row[0], created_by=row[1], created_at=row[2], visibility=row[3], kind=row[4], topic=row[5],
        slow_mode_s=row[6], members=None if row[7] is None else json.loads(row[7]), retention_days=row[8],
    )  # fmt: skip


def _row(data: bytes | str, seq: int) -> Message:
    message = Message.model_validate_json(data)
    return message if message.rev is not None else message.model_copy(update={"rev": seq})


class SqliteStore(SqliteNotify, SqliteTrading, SqliteJournal, SqliteRetention, SqliteExports):
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: str) -> SqliteStore:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await prepare(db)
        return cls(db)

    async def ping(self) -> None:
        await self._db.execute("SELECT 1")

    async def close(self) -> None:
        await self._db.close()

    async def create_user(self, user: User) -> None:
        try:
            await self._db.execute(
                f"INSERT INTO users ({USER_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (user.username, user.password_hash, user.created_at, json.dumps(user.roles), int(user.suspended)),
            )
            await self._db.commit()
        except aiosqlite.IntegrityError:
            raise ChatError("username_taken", "That username is taken", 409) from None

    async def get_user(self, username: str) -> User | None:
        async with self._db.execute(f"SELECT {USER_COLUMNS} FROM users WHERE username = ?", (username,)) as cur:
            row = await cur.fetchone()
        return None if row is None else _user(row)

    async def create_channel(self, channel: Channel) -> bool:
        cur = await self._db.execute(
            f"INSERT OR IGNORE INTO channels ({CHANNEL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (channel.name, channel.created_by, channel.created_at, channel.visibility, channel.kind, channel.topic,
             channel.slow_mode_s, None if channel.members is None else json.dumps(channel.members),
             channel.retention_days),
        )  # fmt: skip
        await self._db.commit()
        return cur.rowcount == 1

    async def get_channel(self, name: str) -> Channel | None:
        async with self._db.execute(f"SELECT {CHANNEL_COLUMNS} FROM channels WHERE name = ?", (name,)) as cur:
            row = await cur.fetchone()
        return None if row is None else _channel(row)

    async def list_channels(self) -> list[Channel]:
        async with self._db.execute(f"SELECT {CHANNEL_COLUMNS} FROM channels ORDER BY name") as cur:
            return [_channel(row) for row in await cur.fetchall()]

    async def count_channels(self) -> int:
        async with self._db.execute("SELECT COUNT(*) FROM channels") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def delete_channel(self, name: str) -> bool:
        cur = await self._db.execute("DELETE FROM channels WHERE name = ?", (name,))
        # a channel made later under the name starts with nobody in it, muted or banned
        for table in ("members", "mutes", "bans"):
            await self._db.execute(f"DELETE FROM {table} WHERE channel = ?", (name,))
        await self._db.commit()
        return cur.rowcount == 1

    async def save_messages(self, messages: Sequence[Message]) -> int:
        if not messages:
            return 0
        first = await allocate_rowids(self._db, len(messages))
        rows = [
            (m.channel, m.seq, m.id, m.model_dump_json(exclude_none=True, exclude={"reply_count"}),
             None if (m.rev or m.seq) == m.seq else m.rev, m.reply_to, first + i, m.user, int(bool(m.deleted)))
            for i, m in enumerate(messages)
        ]  # fmt: skip
        new = set[int]()
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            # RETURNING names the rows inserted, not those already archived (a redelivery): only they are indexed
            found = await self._db.execute_fetchall(
                "INSERT OR IGNORE INTO messages (channel, seq, id, data, rev, reply_to, search_rowid, author, deleted) "
                f"VALUES {', '.join(['(?, ?, ?, ?, ?, ?, ?, ?, ?)'] * len(chunk))} RETURNING search_rowid",
                [value for row in chunk for value in row],
            )
            new.update(row[0] for row in found)
        await index_messages(self._db, [(first + i, m) for i, m in enumerate(messages) if first + i in new])
        inserted = len(new)
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
        return await last_archived_seq(self._db, channel)

    async def apply_changes(self, changes: Sequence[Change]) -> int:
        applied = 0
        for change in changes:
            applied += await self._apply(change)
        await self._db.commit()
        return applied

    async def _apply(self, change: Change) -> int:
        message = change.message
        async with self._db.execute(
            "SELECT data, seq, rev, search_rowid FROM messages WHERE channel = ? AND id = ?",
            (change.channel, message.id),
        ) as cur:
            row = await cur.fetchone()
        cur = await self._db.execute(
            "INSERT OR IGNORE INTO changes (channel, seq, id, kind, by, ts, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (change.channel, change.seq, message.id, change.kind, change.by, change.ts,
             change.model_dump_json(exclude_none=True)),
        )  # fmt: skip
        if cur.rowcount != 1:
            return 0  # applied before: a redelivery
        if row is not None and _row(row[0], row[1]).redacted:
            message = redacted(message)  # a change of a message redacted under retention brings no text back
        data = message.model_dump_json(exclude_none=True, exclude={"reply_count"})
        if row is None:
            rowid = await allocate_rowids(self._db, 1)
            cur = await self._db.execute(
                "INSERT OR IGNORE INTO messages (channel, seq, id, data, rev, reply_to, pinned, search_rowid, author, "
                "deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (change.channel, message.seq, message.id, data, message.rev, message.reply_to,
                 int(bool(message.pinned)), rowid, message.user, int(bool(message.deleted))),
            )  # fmt: skip
            if cur.rowcount == 1:
                await index_messages(self._db, [(rowid, message)])
        elif (row[2] or row[1]) < (message.rev or 0):
            old = _row(row[0], row[1])
            # its first change keeps the text as posted (an unchanged row holds it) for the compliance record
            original = old.text if row[2] is None else None
            await self._db.execute(
                "UPDATE messages SET data = ?, rev = ?, pinned = ?, original = COALESCE(original, ?), deleted = ? "
                "WHERE channel = ? AND id = ?",
                (data, message.rev, int(bool(message.pinned)), original, int(bool(message.deleted)), change.channel,
                 message.id),
            )  # fmt: skip
            await follow_change(self._db, row[3], old, message)
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

    async def search(self, *, words: Sequence[str], cashtags: Sequence[str], channels: Collection[str],
                     user: str | None, before: str | None, limit: int) -> tuple[list[Message], str | None]:  # fmt: skip
        rows, next_before = await find(
            self._db, words=words, cashtags=cashtags, channels=channels, user=user, before=before, limit=limit
        )
        hits, counts = [_row(data, seq) for data, seq in rows], dict[str, int]()
        for channel in {m.channel for m in hits}:
            counts |= await self.reply_counts(channel, [m.id for m in hits if m.channel == channel and not m.reply_to])
        return with_counts(hits, counts), next_before

    async def set_user_roles(self, username: str, roles: Collection[str]) -> bool:
        return await self._update(
            "UPDATE users SET roles = ? WHERE username = ?", json.dumps(sorted(set(roles))), username
        )

    async def set_suspended(self, username: str, suspended: bool) -> bool:
        return await self._update("UPDATE users SET suspended = ? WHERE username = ?", int(suspended), username)

    async def list_users(self, *, prefix: str = "", limit: int = 50) -> list[User]:
        # LIKE ignores letter case and, on the NOCASE key, reads the prefix's range of it
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        async with self._db.execute(
            f"SELECT {USER_COLUMNS} FROM users WHERE username LIKE ? ESCAPE '\\' ORDER BY username LIMIT ?",
            (pattern, limit),
        ) as cur:
            return [_user(row) for row in await cur.fetchall()]

    async def create_invite(self, invite: Invite) -> None:
        await self._db.execute(
            "INSERT INTO invites (code, created_by, created_at, expires_at, uses_left) VALUES (?, ?, ?, ?, ?)",
            (invite.code, invite.created_by, invite.created_at, invite.expires_at, invite.uses_left),
        )
        await self._db.commit()

    async def list_invites(self) -> list[Invite]:
        async with self._db.execute(
            "SELECT code, created_by, created_at, expires_at, uses_left FROM invites WHERE uses_left > 0 "
            "ORDER BY created_at DESC, code DESC"
        ) as cur:
            return [
                Invite(code=r[0], created_by=r[1], created_at=r[2], expires_at=r[3], uses_left=r[4])
                for r in await cur.fetchall()
            ]

    async def use_invite(self, code: str, now: str) -> bool:
        return await self._update(
            "UPDATE invites SET uses_left = uses_left - 1 WHERE code = ? AND uses_left > 0 AND expires_at > ?",
            code,
            now,
        )

    async def add_audit(self, entry: AuditEntry) -> None:
        await self._db.execute(
            "INSERT INTO audit (id, ts, actor, action, target, channel, details) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (entry.id, entry.ts, entry.actor, entry.action, entry.target, entry.channel, json.dumps(entry.details)),
        )
        await self._db.commit()

    async def audit(self, *, before: str | None, limit: int) -> list[AuditEntry]:
        where, args = ("WHERE id < ?", (before,)) if before is not None else ("", ())
        async with self._db.execute(
            f"SELECT id, ts, actor, action, target, channel, details FROM audit {where} ORDER BY id DESC LIMIT ?",
            (*args, limit),
        ) as cur:
            return [
                AuditEntry(
                    id=r[0], ts=r[1], actor=r[2], action=r[3], target=r[4], channel=r[5], details=json.loads(r[6])
                )
                for r in await cur.fetchall()
            ]

    async def update_channel(self, name: str, *, topic: str | None = None, slow_mode_s: int | None = None) -> bool:
        settings = {
            column: value for column, value in (("topic", topic), ("slow_mode_s", slow_mode_s)) if value is not None
        }
        if not settings:
            return await self.get_channel(name) is not None
        assignments = ", ".join(f"{column} = ?" for column in settings)
        return await self._update(f"UPDATE channels SET {assignments} WHERE name = ?", *settings.values(), name)

    async def channels_of(self, username: str) -> set[str]:
        async with self._db.execute("SELECT channel FROM members WHERE username = ?", (username,)) as cur:
            return {row[0] for row in await cur.fetchall()}

    async def set_member(self, channel: str, username: str, role: ChannelRole) -> None:
        await self._db.execute(
            "INSERT INTO members (channel, username, role) VALUES (?, ?, ?) "
            "ON CONFLICT (channel, username) DO UPDATE SET role = excluded.role",
            (channel, username, role),
        )
        await self._db.commit()

    async def remove_member(self, channel: str, username: str) -> bool:
        return await self._update("DELETE FROM members WHERE channel = ? AND username = ?", channel, username)

    async def member_role(self, channel: str, username: str) -> ChannelRole | None:
        async with self._db.execute(
            "SELECT role FROM members WHERE channel = ? AND username = ?", (channel, username)
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else row[0]

    async def members(self, channel: str) -> list[Member]:
        async with self._db.execute(
            f"SELECT username, role FROM members WHERE channel = ? ORDER BY {ROLE_RANK}, lower(username)", (channel,)
        ) as cur:
            return [Member(username=r[0], role=r[1]) for r in await cur.fetchall()]

    async def set_mute(self, channel: str, username: str, until: str) -> None:
        await self._db.execute(
            "INSERT INTO mutes (channel, username, until) VALUES (?, ?, ?) "
            "ON CONFLICT (channel, username) DO UPDATE SET until = excluded.until",
            (channel, username, until),
        )
        await self._db.commit()

    async def remove_mute(self, channel: str, username: str) -> bool:
        return await self._update("DELETE FROM mutes WHERE channel = ? AND username = ?", channel, username)

    async def set_ban(self, channel: str, username: str, banned: bool) -> bool:
        if banned:
            return await self._update("INSERT OR IGNORE INTO bans (channel, username) VALUES (?, ?)", channel, username)
        return await self._update("DELETE FROM bans WHERE channel = ? AND username = ?", channel, username)

    async def moderation(self, channel: str) -> Moderation:
        async with self._db.execute("SELECT username, until FROM mutes WHERE channel = ?", (channel,)) as cur:
            muted = {r[0].lower(): r[1] for r in await cur.fetchall()}
        async with self._db.execute("SELECT username FROM bans WHERE channel = ?", (channel,)) as cur:
            banned = {r[0].lower() for r in await cur.fetchall()}
        return Moderation(muted=muted, banned=banned)

    async def save_events(self, events: Sequence[ChannelEvent]) -> int:
        before = self._db.total_changes
        await self._db.executemany(
            "INSERT OR IGNORE INTO channel_events (channel, seq, data) VALUES (?, ?, ?)",
            [(e.channel, e.seq, e.model_dump_json(exclude_none=True)) for e in events],
        )
        await self._db.commit()
        return self._db.total_changes - before

    async def events(self, channel: str, *, after: int, limit: int) -> list[ChannelEvent]:
        async with self._db.execute(
            "SELECT data FROM channel_events WHERE channel = ? AND seq > ? ORDER BY seq LIMIT ?",
            (channel, after, limit),
        ) as cur:
            return [ChannelEvent.model_validate_json(r[0]) for r in await cur.fetchall()]

    async def _update(self, sql: str, *args: object) -> bool:
        """Run one write and commit it: whether it touched a row."""
        cur = await self._db.execute(sql, args)
        await self._db.commit()
        return cur.rowcount == 1

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
