"""The SQLite file's tables and indexes, and how a file written by an older version is brought up to date."""

from __future__ import annotations

import aiosqlite

from core.store.sqlite_journal import start_journal
from core.store.sqlite_search import SEARCH_TABLE, index_archive

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    roles TEXT NOT NULL DEFAULT '[]',
    suspended INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS channels (
    name TEXT PRIMARY KEY,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    visibility TEXT NOT NULL DEFAULT 'public',
    kind TEXT NOT NULL DEFAULT 'channel',
    topic TEXT NOT NULL DEFAULT '',
    slow_mode_s INTEGER NOT NULL DEFAULT 0,
    members TEXT,
    retention_days INTEGER
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
    search_rowid INTEGER,
    author TEXT COLLATE NOCASE,
    deleted INTEGER NOT NULL DEFAULT 0,
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
CREATE TABLE IF NOT EXISTS members (
    channel TEXT NOT NULL,
    username TEXT NOT NULL COLLATE NOCASE,
    role TEXT NOT NULL,
    PRIMARY KEY (channel, username)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_by_user ON members (username);
CREATE TABLE IF NOT EXISTS mutes (
    channel TEXT NOT NULL,
    username TEXT NOT NULL COLLATE NOCASE,
    until TEXT NOT NULL,
    PRIMARY KEY (channel, username)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bans (
    channel TEXT NOT NULL,
    username TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (channel, username)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS channel_events (
    channel TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (channel, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS invites (
    code TEXT PRIMARY KEY,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    uses_left INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id TEXT PRIMARY KEY,
    ts TEXT NOT NULL,
    actor TEXT,
    action TEXT NOT NULL,
    target TEXT,
    channel TEXT,
    details TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS read_marks (
    username TEXT NOT NULL COLLATE NOCASE,
    channel TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (username, channel)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS read_marks_by_channel ON read_marks (channel);
CREATE TABLE IF NOT EXISTS notifications (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL COLLATE NOCASE,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT,
    seq INTEGER,
    data TEXT NOT NULL,
    UNIQUE (username, key)
);
CREATE INDEX IF NOT EXISTS notifications_inbox ON notifications (username, id);
CREATE INDEX IF NOT EXISTS notifications_by_key ON notifications (key);
CREATE INDEX IF NOT EXISTS notifications_mentions ON notifications (username, channel, seq) WHERE kind = 'mention';
CREATE TABLE IF NOT EXISTS notify_prefs (
    username TEXT PRIMARY KEY COLLATE NOCASE,
    prefs TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notify_prefs_by_time ON notify_prefs (updated_at);
-- Investor tools (#23, core/store/sqlite_trading.py): new tables, which a file written before gets empty
-- like a new file. Each alert and idea is its model's JSON in `data`, with the columns its queries select
-- by beside it. `delivered` is the store's alone: whether the notification of a triggered alert, or the
-- card update and notification of a closed idea, went out. The partial indexes hold only what an
-- evaluation round reads (active alerts, open ideas, those settled but not delivered), however long the
-- history grows.
CREATE TABLE IF NOT EXISTS watchlists (
    username TEXT PRIMARY KEY COLLATE NOCASE,
    symbols TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL COLLATE NOCASE,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_by_user ON alerts (username, status, created_at);
CREATE INDEX IF NOT EXISTS alerts_active ON alerts (created_at) WHERE status = 'active';
CREATE INDEX IF NOT EXISTS alerts_undelivered ON alerts (created_at) WHERE status = 'triggered' AND delivered = 0;
CREATE TABLE IF NOT EXISTS ideas (
    id TEXT PRIMARY KEY,
    author TEXT NOT NULL COLLATE NOCASE,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ideas_by_author ON ideas (author, opened_at);
CREATE INDEX IF NOT EXISTS ideas_open ON ideas (opened_at) WHERE status = 'open';
CREATE INDEX IF NOT EXISTS ideas_undelivered ON ideas (opened_at) WHERE status != 'open' AND delivered = 0;
-- Legal holds (#24, core/store/sqlite_retention.py): one per name in any letter case, the Hold's JSON in `data`.
CREATE TABLE IF NOT EXISTS holds (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    created_at TEXT NOT NULL,
    data TEXT NOT NULL
);
-- The compliance journal's tables (#24) are core/store/sqlite_journal.py's JOURNAL_TABLES, made by start_journal
-- before this script, together with where the journal of records archived before it begins.
-- Export jobs (#24, core/store/sqlite_exports.py): each ExportJob's JSON in `data`, with what lists select by
-- beside it; lists page by id, which grows with time; the running jobs (a few at most) are indexed alone.
CREATE TABLE IF NOT EXISTS exports (
    id TEXT PRIMARY KEY,
    created_by TEXT NOT NULL COLLATE NOCASE,
    status TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS exports_running ON exports (created_by) WHERE status = 'running';
"""

# The columns a table got after it first shipped, which a file written before lacks: those that let
# messages change, then site roles and channel settings (#21), then search and unread counts (#22).
ADDED_COLUMNS = (
    ("messages", "rev", "INTEGER"),
    ("messages", "reply_to", "TEXT"),
    ("messages", "pinned", "INTEGER NOT NULL DEFAULT 0"),
    ("messages", "original", "TEXT"),
    ("users", "roles", "TEXT NOT NULL DEFAULT '[]'"),
    ("users", "suspended", "INTEGER NOT NULL DEFAULT 0"),
    ("channels", "visibility", "TEXT NOT NULL DEFAULT 'public'"),
    ("channels", "kind", "TEXT NOT NULL DEFAULT 'channel'"),
    ("channels", "topic", "TEXT NOT NULL DEFAULT ''"),
    ("channels", "slow_mode_s", "INTEGER NOT NULL DEFAULT 0"),
    ("channels", "members", "TEXT"),
    ("messages", "search_rowid", "INTEGER"),
    ("messages", "author", "TEXT COLLATE NOCASE"),
    ("messages", "deleted", "INTEGER NOT NULL DEFAULT 0"),
    ("channels", "retention_days", "INTEGER"),
)


# Made after _migrate: a file from before changes has no rev, reply_to or pinned column to index. Only
# changed messages have a rev (NULL: the message's own seq) and only they are in its index, so writing
# a new message costs no index more than before messages could change.
INDEXES = """
CREATE INDEX IF NOT EXISTS messages_changed ON messages (channel, rev) WHERE rev IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_by_thread ON messages (channel, reply_to, seq) WHERE reply_to IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_pinned ON messages (channel, seq) WHERE pinned = 1;
"""


async def _migrate(db: aiosqlite.Connection) -> None:
    """A file written by an older version gets the columns it lacks. Its messages were never changed (a
    NULL rev and original say so); its users have no site role; its channels are public channels without
    a topic, each owned by its creator (#general, made by the server, has no owner); its messages get
    their author, deleted state and search index."""
    missing: list[tuple[str, str, str]] = []
    for table in ("messages", "users", "channels"):
        async with db.execute(f"PRAGMA table_info({table})") as cur:
            present = {row[1] for row in await cur.fetchall()}
        missing += [added for added in ADDED_COLUMNS if added[0] == table and added[1] not in present]
    if not missing:
        return
    # One transaction: a process stopped halfway must leave the file as it was.
    await db.execute("BEGIN")
    for table, column, declaration in missing:
        await db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
    added = {(table, column) for table, column, _ in missing}
    if ("channels", "visibility") in added:
        await db.execute(
            "INSERT OR IGNORE INTO members (channel, username, role) "
            "SELECT name, created_by, 'owner' FROM channels WHERE created_by != 'system'"
        )
    if ("messages", "search_rowid") in added:
        await index_archive(db)


async def prepare(db: aiosqlite.Connection) -> None:
    """Create what a new file lacks and bring an older one up to date, committed."""
    await start_journal(db)  # first: whether the journal existed says whether records were archived without it
    await db.executescript(SCHEMA + SEARCH_TABLE)
    await _migrate(db)
    await db.executescript(INDEXES)
    await db.commit()
