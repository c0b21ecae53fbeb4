"""The stores older versions wrote, as fixtures: tests/fixtures' SQLite files and a MongoDB database holding the
documents 4e919ca's MongoStore wrote, each opened by today's code (which migrates it) or given by URL."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pymongo import ASCENDING, AsyncMongoClient

from core.store import Store
from core.store.mongo import MongoStore
from core.store.sqlite import SqliteStore
from tests.services import with_database

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE = FIXTURES / "before_changes.sqlite3"
BEFORE_ACCESS = FIXTURES / "before_access.sqlite3"
HASH = "$2b$12$abcdefghijklmnopqrstuuJ1ux8wVK7r1XUn3rlmXN9CzQ4Cn0Ptq"
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
# The users 4e919ca's MongoStore wrote ({**model_dump(), "username_lower": ...}: no roles, no suspended), the
# same as before_access.sqlite3 holds, and #general as the server made it.
OLD_MONGO_USERS: list[dict[str, object]] = [
    {"username": "alice", "password_hash": HASH, "created_at": "2026-11-28T08:00:00.000Z", "username_lower": "alice"},
    {"username": "Bob", "password_hash": HASH, "created_at": "2026-11-28T08:01:00.000Z", "username_lower": "bob"},
]
OLD_MONGO_CHANNELS: list[dict[str, object]] = [
    {"_id": "general", "created_by": "system", "created_at": "2026-11-28T08:00:00.000Z"},
    {"_id": "desk", "created_by": "alice", "created_at": "2026-11-28T09:00:00.000Z"},
]


@pytest.fixture
def before_changes_file(tmp_path: Path) -> Path:
    """A copy of tests/fixtures/before_changes.sqlite3, written by 4e919ca's SqliteStore."""
    path = tmp_path / "chat.sqlite3"
    shutil.copy(FIXTURE, path)
    return path


@pytest.fixture
async def sqlite_before(before_changes_file: Path) -> AsyncIterator[Store]:
    """tests/fixtures/before_changes.sqlite3 opened by today's SqliteStore."""
    store = await SqliteStore.open(str(before_changes_file))
    yield store
    await store.close()


@pytest.fixture
def before_access_file(tmp_path: Path) -> Path:
    """A copy of tests/fixtures/before_access.sqlite3, written by 63a151c's SqliteStore."""
    path = tmp_path / "chat.sqlite3"
    shutil.copy(BEFORE_ACCESS, path)
    return path


@pytest.fixture
async def sqlite_before_access(before_access_file: Path) -> AsyncIterator[Store]:
    store = await SqliteStore.open(str(before_access_file))
    yield store
    await store.close()


@pytest.fixture
async def mongodb_before_url(mongo_url: str) -> AsyncIterator[str]:
    """A database holding what 4e919ca's MongoStore wrote (which 63a151c's still read and wrote alike)."""
    url = with_database(mongo_url, f"t_{uuid.uuid4().hex[:16]}")
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(url)
    db = client.get_default_database()
    await db.messages.create_index([("channel", ASCENDING), ("seq", ASCENDING)], unique=True)
    await db.messages.insert_many(OLD_MONGO_MESSAGES)
    await db.users.create_index("username_lower", unique=True)
    await db.users.insert_many(OLD_MONGO_USERS)
    await db.channels.insert_many(OLD_MONGO_CHANNELS)
    try:
        yield url
    finally:
        await client.drop_database(db.name)
        await client.close()


@pytest.fixture
async def mongodb_before(mongodb_before_url: str) -> AsyncIterator[Store]:
    """The old database opened by today's MongoStore (MongoStore.open migrates)."""
    store = await MongoStore.open(mongodb_before_url)
    yield store
    await store.close()


@pytest.fixture(params=["sqlite", "mongodb"])
def before(request: pytest.FixtureRequest) -> Store:
    store: Store = request.getfixturevalue(f"{request.param}_before")
    return store


@pytest.fixture(params=["sqlite_before", "sqlite_before_access", "mongodb_before"])
def older(request: pytest.FixtureRequest) -> Store:
    """Any store written before channels had members and settings."""
    store: Store = request.getfixturevalue(request.param)
    return store


@pytest.fixture(params=["sqlite_before_access", "mongodb_before"])
def with_users(request: pytest.FixtureRequest) -> Store:
    """An old store with users alice and Bob."""
    store: Store = request.getfixturevalue(request.param)
    return store


@pytest.fixture(params=["sqlite", "mongodb"])
def older_url(request: pytest.FixtureRequest) -> str:
    """The URL of an old store with users and channels, not opened yet."""
    if request.param == "sqlite":
        return f"sqlite:///{request.getfixturevalue('before_access_file')}"
    url: str = request.getfixturevalue("mongodb_before_url")
    return url
