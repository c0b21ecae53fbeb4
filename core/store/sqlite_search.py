"""Message search on SQLite: an FTS5 table holding each message's folded words, and its cashtags, author and
channel as tokens no word can be, kept in step with edits and deletes and read newest first."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Collection, Iterable, Sequence

import aiosqlite

from core.errors import ChatError
from core.models import Message
from core.store import search_cashtags, search_words
from core.textscan import cashtags, words

logger = logging.getLogger(__name__)

# One row per message that is not deleted, its rowid the message's place in archive order (never reused:
# the `counters` row hands them out), so `ORDER BY rowid DESC LIMIT n` reads newest first and stops.
# The ascii tokenizer keeps every non-ASCII character inside a token, so a folded word in any script is
# one token, and splits on ASCII punctuation, which folded words hold only where NFKD made it (see
# PIECE); "_" joins tokens, which no word holds, so "_c<hex>" can only be a cashtag. detail=none: no
# positions are kept, since a search only ANDs tokens, which makes the index half the size.
SEARCH_TABLE = """
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(
    tokens, channel UNINDEXED, seq UNINDEXED, tokenize = "ascii tokenchars '_'", detail = none, columnsize = 0
);
"""
ROWIDS = "search_rowid"  # the counters row holding the last rowid handed out
# What the ascii tokenizer keeps of a folded word as one token: ASCII letters and digits, anything
# non-ASCII. Index and query split words alike, so "_" (which would make a word look like a tag) and
# NFKD's punctuation ("⑴" folds to "(1)") never reach the index.
PIECE = re.compile(r"[0-9A-Za-z\u0080-\U0010ffff]+")
# Up to this many readable channels, the query names their tokens and the index finds only their rows;
# past it they are most of the archive, and testing each row found is cheaper than merging their lists.
CHANNEL_TERMS_MAX = 24
CURSOR = re.compile(r"[1-9][0-9]{0,17}")  # a rowid, as next_before gives it out
BACKFILL_CHUNK = 2000


def _tag(kind: str, value: str) -> str:
    """A token for a cashtag (c), author (u) or channel (h): "_", the kind, the value in hex."""
    return f"_{kind}{value.encode().hex()}"


def _pieces(folded: Iterable[str]) -> list[str]:
    return PIECE.findall(" ".join(folded))


def search_tokens(text: str, user: str, channel: str) -> str:
    """The search row's `tokens` of a message: its words, cashtags, author (lower-cased) and channel."""
    tags = [_tag("c", code) for code in cashtags(text)] + [_tag("u", user.lower()), _tag("h", channel)]
    return " ".join(_pieces(words(text)) + tags)


async def allocate_rowids(db: aiosqlite.Connection, count: int) -> int:
    """Hand out `count` search rowids, in one statement so that two batches never share one: the first."""
    rows = await db.execute_fetchall(
        "INSERT INTO counters (name, value) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value RETURNING value",
        (ROWIDS, count),
    )
    return int(next(iter(rows))[0]) - count + 1


async def index_messages(db: aiosqlite.Connection, placed: Iterable[tuple[int, Message]]) -> None:
    """Index messages just archived at the rowids given them (deleted ones never are). A plain VALUES
    insert: the same rows through INSERT ... SELECT took 4x the time (SQLite 3.40, 2,000-row batches)."""
    await db.executemany(
        "INSERT INTO search (rowid, tokens, channel, seq) VALUES (?, ?, ?, ?)",
        [(rowid, search_tokens(m.text, m.user, m.channel), m.channel, m.seq) for rowid, m in placed if not m.deleted],
    )


async def follow_change(db: aiosqlite.Connection, rowid: int | None, old: Message, new: Message) -> None:
    """Bring a message's search row from its old state to its new: a deleted message leaves the index, an
    edited one is found by its new words only."""
    if rowid is None or old.deleted or (old.text, old.deleted) == (new.text, new.deleted):
        return  # a deleted message has no row left; a reaction or a pin changes no token
    if new.deleted:
        await db.execute("DELETE FROM search WHERE rowid = ?", (rowid,))
    else:
        tokens = search_tokens(new.text, new.user, new.channel)
        await db.execute("UPDATE search SET tokens = ? WHERE rowid = ?", (tokens, rowid))


async def index_archive(db: aiosqlite.Connection) -> None:
    """Give every message of a file written before search its author, deleted state and search row, in
    the order they were sent (their ts) as archive order. Within the caller's transaction."""
    rowid = 0
    async with db.execute("SELECT channel, seq, data FROM messages ORDER BY json_extract(data, '$.ts'), id") as cur:
        while chunk := list(await cur.fetchmany(BACKFILL_CHUNK)):
            rows, found = [], []
            for channel, seq, data in chunk:
                message = json.loads(data)
                rowid += 1
                deleted = bool(message.get("deleted"))
                rows.append((rowid, message["user"], int(deleted), channel, seq))
                if not deleted:
                    found.append((rowid, search_tokens(message["text"], message["user"], channel), channel, seq))
            await db.executemany(
                "UPDATE messages SET search_rowid = ?, author = ?, deleted = ? WHERE channel = ? AND seq = ?", rows
            )
            await db.executemany("INSERT INTO search (rowid, tokens, channel, seq) VALUES (?, ?, ?, ?)", found)
    if rowid:
        await allocate_rowids(db, rowid)
        logger.info("indexed %d archived messages for search", rowid)


def _quoted(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _rowid(before: str) -> int:
    if CURSOR.fullmatch(before) is None:
        raise ChatError("invalid_parameter", "before is not a cursor this search gave out")
    return int(before)


async def find(
    db: aiosqlite.Connection,
    *,
    words: Sequence[str],
    cashtags: Sequence[str],
    channels: Collection[str],
    user: str | None,
    before: str | None,
    limit: int,
) -> tuple[list[tuple[bytes | str, int]], str | None]:
    """The (data, seq) of the message rows of Store.search's hits, newest first, and the cursor of the next page."""
    wanted = search_words(words)
    if wanted is None or not channels:
        return [], None
    terms = [_quoted(piece) for piece in _pieces(wanted)]
    terms += [_quoted(_tag("c", code)) for code in search_cashtags(cashtags)]
    if user is not None:
        terms.append(_quoted(_tag("u", user.lower())))
    conditions, args = [], list[object]()
    if len(channels) <= CHANNEL_TERMS_MAX:
        terms.append("(" + " OR ".join(_quoted(_tag("h", name)) for name in sorted(channels)) + ")")
    else:
        conditions.append("channel IN (SELECT value FROM json_each(?))")
        args.append(json.dumps(sorted(channels)))
    if before is not None:
        conditions.append("rowid < ?")
        args.append(_rowid(before))
    if terms:
        conditions.insert(0, "search MATCH ?")
        args.insert(0, " AND ".join(terms))
    # the page of the index first, then its messages by their key
    rows = await db.execute_fetchall(
        "SELECT hit.place, message.data, message.seq FROM (SELECT rowid AS place, channel, seq FROM search "
        f"WHERE {' AND '.join(conditions)} ORDER BY rowid DESC LIMIT ?) AS hit "
        "JOIN messages AS message ON message.channel = hit.channel AND message.seq = hit.seq ORDER BY hit.place DESC",
        (*args, limit + 1),
    )
    found = list(rows)
    more = len(found) > limit
    return [(row[1], int(row[2])) for row in found[:limit]], str(found[limit - 1][0]) if more else None
