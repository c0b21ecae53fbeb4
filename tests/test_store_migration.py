"""Stores written before messages could change (commit 4e919ca) open with today's code: rev = seq."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pymongo import ASCENDING, AsyncMongoClient

from core.changes import fold
from core.models import Change, Message
from core.store import Store
from core.store.mongo import MongoStore
from core.store.sqlite import SqliteStore
from tests.services import with_database

FIXTURE = Path(__file__).parent / "fixtures" / "before_changes.sqlite3"
AAPL_ID, TSLA_ID, BOT_ID, HELLO_ID = (f"6b000000aaaaaaaaaa00000{n}" for n in range(1, 5))
QUOTE = {
    "symbol": "AAPL.US", "price": "93.42", "currency": "USD", "as_of": "2026-11-28T09:00:00Z",
    "market_state": "open", "source": "stooq", "series": [], "stale": False,
}  # fmt: skip
# The documents 4e919ca's MongoStore wrote (_message_doc: {"_id": id, **model_dump(exclude={"id"},
# exclude_none=True)}), the same messages the SQLite fixture holds: no rev, reply_to or pinned.
OLD_MONGO_MESSAGES = [
    {"_id": AAPL_ID, "seq": 1, "channel": "desk", "user": "alice", "text": "AAPL looks strong",
     "ts": "2026-11-28T09:00:01.000Z", "bot": False, "ephemeral": False},
    {"_id": TSLA_ID, "seq": 2, "channel": "desk", "user": "bob", "text": "$TSLA too",
     "ts": "2026-11-28T09:00:02.000Z", "bot": False, "ephemeral": False},
    {"_id": BOT_ID, "seq": 3, "channel": "desk", "user": "StockBot", "text": "AAPL.US quote is $93.42 per share",
     "ts": "2026-11-28T09:00:03.000Z", "bot": True, "quote": QUOTE, "ephemeral": False},
    {"_id": HELLO_ID, "seq": 1, "channel": "general", "user": "carol", "text": "hello",
     "ts": "2026-11-28T09:00:04.000Z", "bot": False, "ephemeral": False},
]  # fmt: skip


@pytest.fixture
async def sqlite_before(tmp_path: Path) -> AsyncIterator[Store]:
    """tests/fixtures/before_changes.sqlite3, written by 4e919ca's SqliteStore, opened by today's."""
    path = tmp_path / "chat.sqlite3"
    shutil.copy(FIXTURE, path)
    store = await SqliteStore.open(str(path))
    yield store
    await store.close()


@pytest.fixture
async def mongodb_before(mongo_url: str) -> AsyncIterator[Store]:
    """A database holding what 4e919ca's MongoStore wrote, opened by today's (MongoStore.open migrates)."""
    url = with_database(mongo_url, f"t_{uuid.uuid4().hex[:16]}")
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(url)
    db = client.get_default_database()
    await db.messages.create_index([("channel", ASCENDING), ("seq", ASCENDING)], unique=True)
    await db.messages.insert_many(OLD_MONGO_MESSAGES)
    await db.channels.insert_one({"_id": "desk", "created_by": "alice", "created_at": "2026-11-28T09:00:00.000Z"})
    try:
        store = await MongoStore.open(url)
        yield store
        await store.close()
    finally:
        await client.drop_database(db.name)
        await client.close()


@pytest.fixture(params=["sqlite", "mongodb"])
def before(request: pytest.FixtureRequest) -> Store:
    store: Store = request.getfixturevalue(f"{request.param}_before")
    return store


async def test_old_messages_read_back_with_rev_equal_to_seq(before: Store) -> None:
    page, more = await before.history("desk", limit=10)
    assert [(m.id, m.seq, m.rev) for m in page] == [(AAPL_ID, 1, 1), (TSLA_ID, 2, 2), (BOT_ID, 3, 3)] and not more
    assert page[2].bot and page[2].quote is not None and page[2].quote.price == "93.42"
    assert [m.text for m in page] == ["AAPL looks strong", "$TSLA too", "AAPL.US quote is $93.42 per share"]
    changed, _ = await before.changed("desk", after=1, limit=10)
    assert [m.rev for m in changed] == [2, 3]  # found by rev, which the migration gave them
    assert [(m.id, m.rev) for m in (await before.history("general", limit=10))[0]] == [(HELLO_ID, 1)]
    desk = await before.get_channel("desk")
    assert desk is not None and desk.created_by == "alice"
    assert await before.last_seq("desk") == 3


async def test_old_messages_take_changes_and_new_messages(before: Store) -> None:
    old = await before.get_message("desk", AAPL_ID)
    assert old is not None and old.rev == 1
    folded = fold(old, "edit", "alice", "2026-11-28T09:10:00.000Z", text="AAPL looks weak")
    assert folded is not None
    edit = Change(seq=4, kind="edit", channel="desk", by="alice", ts="2026-11-28T09:10:00.000Z",
                  message=folded.model_copy(update={"rev": 4}))  # fmt: skip
    assert await before.apply_changes([edit]) == 1
    found = await before.get_message("desk", AAPL_ID)
    assert found is not None and (found.text, found.rev, found.edited_at) == ("AAPL looks weak", 4, edit.ts)
    assert await before.originals("desk", AAPL_ID) == ["AAPL looks strong"]
    assert await before.last_seq("desk") == 4
    reply = Message(id="6b000000aaaaaaaaaa000005", channel="desk", seq=5, rev=5, user="bob", text="agreed",
                    ts="2026-11-28T09:11:00.000Z", reply_to=AAPL_ID)  # fmt: skip
    assert await before.save_messages([reply]) == 1
    changed, _ = await before.changed("desk", after=3, limit=10)
    assert [(m.id, m.rev) for m in changed] == [(AAPL_ID, 4), (reply.id, 5)]
    root = await before.get_message("desk", AAPL_ID)
    assert root is not None and root.reply_count == 1
    assert await before.last_seq("desk") == 5
