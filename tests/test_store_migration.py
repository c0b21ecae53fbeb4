"""Stores written by older versions open with today's code: from before messages could change (commit
4e919ca) their messages get rev = seq; from before channels had members and settings (63a151c) their
channels are public and owned by their creators, their users have no site role; from before search (#22)
their messages are indexed and know their author; from before investor tools (#23) they take watchlists,
alerts and ideas. The old stores are tests/old_stores.py's fixtures."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from core.changes import fold
from core.models import Change, Channel, ChannelEvent, Member, Message
from core.store import Store, open_store, sqlite_schema
from core.store.sqlite import SqliteStore
from core.store.sqlite_schema import prepare
from core.store.sqlite_search import index_archive
from tests.old_stores import AAPL_ID, BOT_ID, HASH, HELLO_ID, TSLA_ID
from tests.test_store_trading_contract import alert, idea

BEFORE_ACCESS_TEXT = ("6c000000bbbbbbbbbb000001", "AAPL looks strong", "AAPL looks weak")  # id, as posted, edited


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


async def test_old_channels_read_as_public_channels_owned_by_their_creators(older: Store) -> None:
    desk = await older.get_channel("desk")
    assert desk == Channel(name="desk", created_by="alice", created_at="2026-11-28T09:00:00.000Z")
    assert (desk.visibility, desk.kind, desk.topic, desk.slow_mode_s, desk.members) == (
        "public", "channel", "", 0, None,
    )  # fmt: skip
    for made in await older.list_channels():
        # the server made #general: it has no owner
        owners = [] if made.created_by == "system" else [Member(username=made.created_by, role="owner")]
        assert await older.members(made.name) == owners
    assert await older.member_role("desk", "ALICE") == "owner"
    assert await older.channels_of("alice") == {"desk"}


async def test_old_users_have_no_site_role_and_are_not_suspended(with_users: Store) -> None:
    for name in ("alice", "BOB"):
        found = await with_users.get_user(name)
        assert found is not None and (found.roles, found.suspended, found.password_hash) == ([], False, HASH)
    assert [u.username for u in await with_users.list_users(prefix="")] == ["alice", "Bob"]
    assert await with_users.set_user_roles("bob", ["admin"])
    assert await with_users.set_suspended("alice", True)
    bob, alice = await with_users.get_user("bob"), await with_users.get_user("alice")
    assert bob is not None and bob.roles == ["admin"] and not bob.suspended
    assert alice is not None and alice.roles == [] and alice.suspended


async def test_old_channels_take_settings_and_events_after_their_messages(older: Store) -> None:
    assert await older.last_seq("desk") == 3
    added = ChannelEvent(seq=4, channel="desk", kind="member_added", by="alice", ts="2026-11-28T10:00:00.000Z",
                         target="bob", role="member")  # fmt: skip
    assert await older.save_events([added]) == 1
    assert await older.last_seq("desk") == 4
    assert await older.events("desk", after=3, limit=10) == [added]
    assert await older.update_channel("desk", topic="Tech longs", slow_mode_s=30)
    desk = await older.get_channel("desk")
    assert desk is not None and (desk.topic, desk.slow_mode_s, desk.visibility) == ("Tech longs", 30, "public")


async def test_a_file_from_before_access_keeps_its_messages_and_their_changes(sqlite_before_access: Store) -> None:
    message_id, posted, edited = BEFORE_ACCESS_TEXT
    page, _ = await sqlite_before_access.history("desk", limit=10)
    assert [(m.seq, m.rev, m.text) for m in page] == [(1, 3, edited), (2, 2, "$TSLA too")]
    assert await sqlite_before_access.originals("desk", message_id) == [posted]
    assert [m.text for m in (await sqlite_before_access.history("general", limit=10))[0]] == ["hello"]


async def test_the_migration_runs_once(older_url: str) -> None:
    """An owner who handed the channel over, or left, is not made its owner again when the server restarts."""
    store = await open_store(older_url)
    try:
        assert await store.remove_member("desk", "alice")
        await store.set_member("desk", "Bob", "owner")
    finally:
        await store.close()
    store = await open_store(older_url)
    try:
        assert await store.members("desk") == [Member(username="Bob", role="owner")]
        assert await store.channels_of("alice") == set()
    finally:
        await store.close()


async def found(store: Store, *words: str, cashtags: tuple[str, ...] = (), user: str | None = None) -> list[str]:
    """The ids of what a reader of desk and general finds."""
    hits, _ = await store.search(
        words=words, cashtags=cashtags, channels=["desk", "general"], user=user, before=None, limit=10
    )
    return [m.id for m in hits]


async def test_old_messages_are_found_by_search_and_counted_unread(before: Store) -> None:
    assert await found(before, "aapl") == [BOT_ID, AAPL_ID]  # newest first: in the order they were sent
    assert await found(before, "aapl", "strong") == [AAPL_ID]
    assert await found(before, cashtags=("TSLA",)) == [TSLA_ID]
    assert await found(before, user="BOB") == [TSLA_ID]
    assert await found(before, "hello") == [HELLO_ID]
    assert await before.unread_counts("ALICE", {"desk": 0, "general": 0}, cap=10) == {"desk": 2, "general": 1}
    # new messages come after them, and their edits are followed
    new = Message(id="6b000000aaaaaaaaaa000005", channel="desk", seq=4, rev=4, user="bob", text="AAPL again",
                  ts="2026-11-28T09:11:00.000Z")  # fmt: skip
    await before.save_messages([new])
    old = await before.get_message("desk", AAPL_ID)
    assert old is not None
    folded = fold(old, "edit", "alice", "2026-11-28T09:12:00.000Z", text="AAPL looks weak")
    assert folded is not None
    await before.apply_changes([Change(seq=5, kind="edit", channel="desk", by="alice", ts="2026-11-28T09:12:00.000Z",
                                       message=folded.model_copy(update={"rev": 5}))])  # fmt: skip
    assert await found(before, "aapl") == [new.id, BOT_ID, AAPL_ID]
    assert await found(before, "strong") == []
    assert await found(before, "weak") == [AAPL_ID]


async def test_a_file_from_before_access_is_searched_by_the_latest_text(sqlite_before_access: Store) -> None:
    message_id, _, _ = BEFORE_ACCESS_TEXT
    assert await found(sqlite_before_access, "weak") == [message_id]
    assert await found(sqlite_before_access, "strong") == []
    tsla, hello = (f"6c000000bbbbbbbbbb00000{n}" for n in (2, 3))
    assert await found(sqlite_before_access, cashtags=("tsla",)) == [tsla]
    assert sorted(await found(sqlite_before_access, user="bob")) == [tsla, hello]
    assert await sqlite_before_access.unread_counts("alice", {"desk": 0}, cap=10) == {"desk": 1}


async def test_a_migration_stopped_halfway_leaves_the_file_as_it_was(
    before_access_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new columns, the owners and the search index are written in one transaction: a process killed
    while indexing leaves the old file, which the next start migrates whole."""

    async def killed_after_indexing(db: aiosqlite.Connection) -> None:
        await index_archive(db)
        raise RuntimeError("killed")

    with monkeypatch.context() as patch:
        patch.setattr(sqlite_schema, "index_archive", killed_after_indexing)
        db = await aiosqlite.connect(before_access_file)
        with pytest.raises(RuntimeError):
            await prepare(db)
        await db.close()
    with sqlite3.connect(before_access_file) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(messages)")}
        assert "search_rowid" not in columns and "rev" in columns
        assert db.execute("SELECT COUNT(*) FROM members").fetchone() == (0,)
        assert db.execute("SELECT COUNT(*) FROM search").fetchone() == (0,)
    store = await SqliteStore.open(str(before_access_file))
    try:
        assert await found(store, "weak") == [BEFORE_ACCESS_TEXT[0]]
        assert await store.member_role("desk", "alice") == "owner"
    finally:
        await store.close()


async def test_old_stores_take_watchlists_alerts_and_ideas(older: Store) -> None:
    assert await older.get_watchlist("alice") == []
    await older.set_watchlist("Alice", ["AAPL.US", "VOD.UK"])
    assert await older.alerts("alice") == [] and await older.active_alerts() == []
    assert await older.add_alert(alert(1), max_active=20)
    fired = await older.settle_alert("a001", "triggered", "2026-12-01T15:00:00.000Z", "201")
    assert fired is not None and await older.undelivered_alerts() == [fired]
    assert await older.open_ideas() == [] and await older.ideas_by("alice", channels=["desk"]) == []
    assert await older.save_idea(idea(1))
    assert await older.ideas_by("ALICE", channels=["desk"]) == [idea(1)]
    assert await older.get_watchlist("alice") == ["AAPL.US", "VOD.UK"]


async def test_the_new_tables_of_an_old_store_are_kept_across_restarts(older_url: str) -> None:
    store = await open_store(older_url)
    try:
        await store.set_watchlist("alice", ["AAPL.US"])
        assert await store.add_alert(alert(1), max_active=20)
        assert await store.save_idea(idea(1))
    finally:
        await store.close()
    store = await open_store(older_url)
    try:
        assert await store.get_watchlist("alice") == ["AAPL.US"]
        assert await store.active_alerts() == [alert(1)]
        assert await store.open_ideas() == [idea(1)]
    finally:
        await store.close()
