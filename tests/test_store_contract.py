"""The Store contract, run against every implementation (SQLite and MongoDB) through the `store` fixture."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.collection import AsyncCollection

from core.changes import fold
from core.errors import ChatError
from core.models import (
    AuditEntry,
    Change,
    ChangeKind,
    Channel,
    ChannelEvent,
    ChannelRole,
    Invite,
    Member,
    Message,
    Moderation,
    User,
    new_id,
    now_iso,
)
from core.store import REVOKED_CHUNK, Store


def user(name: str) -> User:
    return User(username=name, password_hash="$2b$12$hash", created_at=now_iso())


def channel(name: str, by: str = "alice") -> Channel:
    return Channel(name=name, created_by=by, created_at=now_iso())


def message(seq: int, channel: str = "general", text: str | None = None, reply_to: str | None = None) -> Message:
    """A message as the bus posts it: its rev is its seq."""
    text = text or f"m{seq}"
    return Message(
        id=new_id(), channel=channel, seq=seq, rev=seq, user="alice", text=text, ts=now_iso(), reply_to=reply_to
    )


def change(seq: int, kind: ChangeKind, of: Message, by: str = "alice", text: str = "", emoji: str = "") -> Change:
    """The change the bus would post at `seq`: `of` folded with it, its rev the change's seq."""
    folded = fold(of, kind, by, now_iso(), text=text, emoji=emoji)
    assert folded is not None, f"{kind} changes nothing"
    return Change(
        seq=seq, kind=kind, channel=of.channel, by=by, ts=now_iso(), emoji=emoji or None,
        message=folded.model_copy(update={"rev": seq}),
    )  # fmt: skip


def seqs(messages: list[Message]) -> list[int | None]:
    return [m.seq for m in messages]


async def test_ping(store: Store) -> None:
    await store.ping()


async def test_user_round_trip_ignores_letter_case(store: Store) -> None:
    created = user("Alice_1")
    await store.create_user(created)
    assert await store.get_user("alice_1") == created
    assert await store.get_user("ALICE_1") == created
    assert await store.get_user("bob") is None


async def test_username_is_unique_regardless_of_case(store: Store) -> None:
    await store.create_user(user("Alice"))
    with pytest.raises(ChatError) as caught:
        await store.create_user(user("aLICE"))
    assert (caught.value.code, caught.value.status) == ("username_taken", 409)
    found = await store.get_user("alice")
    assert found is not None and found.username == "Alice"


async def test_channels_are_created_once_and_listed_by_name(store: Store) -> None:
    assert await store.create_channel(channel("zeta", by="bob"))
    assert await store.create_channel(channel("alpha"))
    assert not await store.create_channel(channel("zeta", by="carol"))
    assert [c.name for c in await store.list_channels()] == ["alpha", "zeta"]
    zeta = await store.get_channel("zeta")
    assert zeta is not None and zeta.created_by == "bob"
    assert await store.get_channel("nope") is None


async def test_a_deleted_channel_leaves_the_list_and_keeps_its_archive(store: Store) -> None:
    await store.create_channel(channel("alpha"))
    await store.create_channel(channel("spam"))
    await store.save_messages([message(1, "spam"), message(2, "spam")])
    assert await store.count_channels() == 2
    assert await store.delete_channel("spam")
    assert not await store.delete_channel("spam")
    assert [c.name for c in await store.list_channels()] == ["alpha"] and await store.count_channels() == 1
    assert await store.get_channel("spam") is None
    kept, _ = await store.history("spam", limit=10)
    assert [m.seq for m in kept] == [1, 2]


async def test_saving_is_idempotent_and_counts_new_messages(store: Store) -> None:
    first = [message(1), message(2)]
    assert await store.save_messages(first) == 2
    assert await store.save_messages(first + [message(3)]) == 1
    assert await store.save_messages([]) == 0
    page, more = await store.history("general", limit=10)
    assert seqs(page) == [1, 2, 3] and not more
    assert page[:2] == first


async def test_message_round_trip_keeps_every_field(store: Store) -> None:
    sent = Message.model_validate(
        {
            "id": new_id(), "channel": "general", "seq": 1, "rev": 1, "user": "StockBot", "bot": True,
            "text": "AAPL.US quote is $93.42 per share <b>", "ts": "2026-11-28T09:00:00.123Z",
            "quote": {"symbol": "AAPL.US", "price": "93.42", "currency": "USD",
                      "as_of": "2026-11-28T09:00:00Z",
                      "market_state": "open", "source": "stooq", "series": ["92.1", "93.42"]},
        }
    )  # fmt: skip
    await store.save_messages([sent])
    page, _ = await store.history("general", limit=1)
    assert page == [sent]


@pytest.fixture
async def hundred(store: Store) -> Store:
    await store.save_messages([message(seq) for seq in range(1, 101)])
    await store.save_messages([message(seq, channel="other") for seq in range(1, 6)])
    return store


async def test_history_without_bounds_is_the_newest_page(hundred: Store) -> None:
    page, more = await hundred.history("general", limit=10)
    assert seqs(page) == list(range(91, 101)) and more
    page, more = await hundred.history("general", limit=100)
    assert seqs(page) == list(range(1, 101)) and not more


async def test_history_before_pages_backwards(hundred: Store) -> None:
    page, more = await hundred.history("general", limit=10, before=91)
    assert seqs(page) == list(range(81, 91)) and more
    page, more = await hundred.history("general", limit=10, before=11)
    assert seqs(page) == list(range(1, 11)) and not more


async def test_history_after_pages_forwards(hundred: Store) -> None:
    page, more = await hundred.history("general", limit=10, after=0)
    assert seqs(page) == list(range(1, 11)) and more
    page, more = await hundred.history("general", limit=10, after=90)
    assert seqs(page) == list(range(91, 101)) and not more
    page, more = await hundred.history("general", limit=10, after=100)
    assert page == [] and not more


async def test_history_between_after_and_before(hundred: Store) -> None:
    page, more = await hundred.history("general", limit=3, after=10, before=20)
    assert seqs(page) == [11, 12, 13] and more
    page, more = await hundred.history("general", limit=20, after=10, before=20)
    assert seqs(page) == list(range(11, 20)) and not more


async def test_history_of_an_empty_channel(store: Store) -> None:
    assert await store.history("general", limit=50) == ([], False)


async def test_last_seq_per_channel(hundred: Store) -> None:
    assert await hundred.last_seq("general") == 100
    assert await hundred.last_seq("other") == 5
    assert await hundred.last_seq("empty") == 0


async def test_revoked_tokens(store: Store) -> None:
    expires = datetime.now(UTC) + timedelta(hours=1)
    assert await store.revoked(["jti-1"]) == set()
    await store.revoke_token("jti-1", expires)
    await store.revoke_token("jti-1", expires)  # logging out twice is harmless
    assert await store.revoked(["jti-1"]) == {"jti-1"}
    assert await store.revoked(["jti-2"]) == set()


async def test_revoked_tokens_among_many_are_found_in_one_call(store: Store) -> None:
    """A node checks all its sessions at once: some revoked among more ids than one query takes."""
    expires = datetime.now(UTC) + timedelta(hours=1)
    asked = [f"jti-{i}" for i in range(2 * REVOKED_CHUNK + 7)]
    for jti in asked[5 :: REVOKED_CHUNK // 2]:
        await store.revoke_token(jti, expires)
    await store.revoke_token("not-asked", expires)
    assert await store.revoked(asked) == set(asked[5 :: REVOKED_CHUNK // 2])
    assert await store.revoked([]) == set()


async def test_a_second_message_with_an_archived_seq_is_not_stored(store: Store) -> None:
    first = message(1, text="first")
    await store.save_messages([first])
    assert await store.save_messages([message(1, text="impostor")]) == 0
    assert await store.history("general", limit=5) == ([first], False)


def ids(messages: list[Message]) -> list[str]:
    return [m.id for m in messages]


async def state(store: Store, channel: str = "general") -> tuple[object, ...]:
    """Everything a reader of the channel can see, to compare before and after."""
    return (
        await store.history(channel, limit=100),
        await store.changed(channel, after=0, limit=100),
        await store.pins(channel),
        await store.last_seq(channel),
    )


async def test_a_saved_message_reads_back_with_rev_equal_to_seq(store: Store) -> None:
    await store.save_messages([message(1).model_copy(update={"rev": None})])
    page, _ = await store.history("general", limit=5)
    assert [(m.seq, m.rev) for m in page] == [(1, 1)]


async def test_applying_a_change_twice_changes_nothing_the_second_time(store: Store) -> None:
    first, second = message(1, text="AAPL looks strong"), message(2)
    await store.save_messages([first, second])
    edit = change(3, "edit", first, text="AAPL looks weak")
    assert await store.apply_changes([edit]) == 1
    after_once = await state(store)
    originals = await store.originals("general", first.id)
    assert await store.apply_changes([edit]) == 0
    assert await state(store) == after_once
    assert await store.originals("general", first.id) == originals == ["AAPL looks strong"]
    react = change(4, "react", edit.message, by="bob", emoji="🐂")
    assert await store.apply_changes([edit, react, react]) == 1  # only the one not seen before counts
    assert await store.apply_changes([]) == 0
    found = await store.get_message("general", first.id)
    assert found == react.message and found.text == "AAPL looks weak" and found.rev == 4
    assert await store.get_message("general", second.id) == second


async def test_an_older_change_arriving_late_does_not_overwrite_a_newer_one(store: Store) -> None:
    first = message(1)
    await store.save_messages([first])
    react = change(2, "react", first, by="bob", emoji="🐂")
    edit = change(3, "edit", react.message, text="edited")
    assert await store.apply_changes([edit]) == 1
    assert await store.apply_changes([react]) == 1  # logged, but the stored message is newer
    found = await store.get_message("general", first.id)
    assert found == edit.message and found.rev == 3 and found.text == "edited"
    assert ids((await store.changed("general", after=2, limit=10))[0]) == [first.id]
    assert await store.last_seq("general") == 3


async def test_a_change_before_its_message_is_archived_stores_the_folded_message(store: Store) -> None:
    first = message(1)
    edit = change(2, "edit", first, text="edited")
    assert await store.apply_changes([edit]) == 1
    assert await store.save_messages([first]) == 0  # the original, archived late, does not undo the edit
    assert await store.history("general", limit=5) == ([edit.message], False)


async def test_originals_keep_each_text_replaced_and_readers_never_see_them(store: Store) -> None:
    first, other = message(1, text="buy AAPL"), message(2, text="other")
    await store.save_messages([first, other])
    one = change(3, "edit", first, text="buy AAPL now")
    react = change(4, "react", one.message, by="bob", emoji="🚀")
    two = change(5, "edit", react.message, text="buy AAPL at 90")
    delete = change(6, "delete", two.message, by="alice")
    await store.apply_changes([one, react, two, delete])
    assert await store.originals("general", first.id) == ["buy AAPL", "buy AAPL now", "buy AAPL at 90"]
    assert await store.originals("general", other.id) == []
    assert await store.originals("other", first.id) == []
    found = await store.get_message("general", first.id)
    assert found is not None and found.deleted and found.text == "" and found.reactions is None and found.rev == 6
    assert (found.id, found.seq, found.user) == (first.id, 1, "alice")
    seen = repr(await state(store)) + repr(found)
    assert "buy AAPL" not in seen


async def test_originals_hold_whatever_order_the_archive_got_the_changes_and_the_message_in(store: Store) -> None:
    # a restarted archiver claims a dead one's entries late: edits, and the message itself, come out of order
    first = message(1, text="v0")
    one = change(2, "edit", first, text="v1")
    two = change(3, "edit", one.message, text="v2")
    three = change(4, "edit", two.message, text="v3")
    await store.apply_changes([three])
    await store.apply_changes([one])
    await store.save_messages([first])
    await store.apply_changes([two])
    assert await store.originals("general", first.id) == ["v0", "v1", "v2"]
    assert await store.get_message("general", first.id) == three.message


async def test_changed_returns_messages_changed_after_n_in_rev_order_and_pages(store: Store) -> None:
    m = [message(seq) for seq in range(1, 6)]
    await store.save_messages(m)
    await store.save_messages([message(1, channel="other")])
    edit2 = change(6, "edit", m[1], text="two")
    await store.apply_changes([edit2, change(7, "react", m[0], by="bob", emoji="👍")])
    await store.apply_changes([change(8, "edit", m[3], text="four"), change(9, "edit", edit2.message, text="2")])
    revs = {m[0].id: 7, m[1].id: 9, m[2].id: 3, m[3].id: 8, m[4].id: 5}
    everything, more = await store.changed("general", after=0, limit=10)
    assert [(x.id, x.rev) for x in everything] == sorted(revs.items(), key=lambda kv: kv[1]) and not more
    assert ids((await store.changed("general", after=7, limit=10))[0]) == [m[3].id, m[1].id]
    pages, after = [], 0
    while True:
        page, more = await store.changed("general", after=after, limit=2)
        pages.append(([x.rev for x in page], more))
        if not more:
            break
        after = page[-1].rev or 0
    assert pages == [([3, 5], True), ([7, 8], True), ([9], False)]
    assert await store.changed("general", after=9, limit=10) == ([], False)


async def test_replies_page_in_seq_order_and_roots_count_them(store: Store) -> None:
    root, lonely = message(1), message(2)
    replies = [message(seq, reply_to=root.id) for seq in range(3, 8)]
    other_root = message(8)
    await store.save_messages([root, lonely, *replies, other_root, message(9, reply_to=other_root.id)])
    page, more = await store.replies("general", root.id, after=0, limit=3)
    assert seqs(page) == [3, 4, 5] and more and page == replies[:3]
    page, more = await store.replies("general", root.id, after=5, limit=3)
    assert seqs(page) == [6, 7] and not more
    assert seqs((await store.replies("general", other_root.id, after=0, limit=10))[0]) == [9]
    assert await store.replies("general", lonely.id, after=0, limit=10) == ([], False)
    assert await store.replies("other", root.id, after=0, limit=10) == ([], False)
    history, _ = await store.history("general", limit=20)
    assert [(m.seq, m.reply_count) for m in history] == [
        (1, 5), (2, None), (3, None), (4, None), (5, None), (6, None), (7, None), (8, 1), (9, None),
    ]  # fmt: skip
    found = await store.get_message("general", root.id)
    assert found is not None and found.reply_count == 5
    assert [m.reply_count for m in (await store.changed("general", after=0, limit=2))[0]] == [5, None]


async def test_pins_list_pinned_messages_in_seq_order(store: Store) -> None:
    m = [message(seq) for seq in range(1, 4)]
    await store.save_messages(m)
    assert await store.pins("general") == []
    pin3, pin1, pin2 = change(4, "pin", m[2]), change(5, "pin", m[0]), change(6, "pin", m[1])
    await store.apply_changes([pin3, pin1, pin2, change(7, "unpin", pin2.message)])
    await store.save_messages([message(8, reply_to=m[0].id)])
    pins = await store.pins("general")
    assert ids(pins) == [m[0].id, m[2].id] and all(p.pinned for p in pins)
    assert [p.reply_count for p in pins] == [1, None]
    await store.apply_changes([change(9, "delete", pin3.message)])
    assert ids(await store.pins("general")) == [m[0].id]
    assert await store.pins("other") == []


async def test_last_seq_covers_changes(store: Store) -> None:
    first = message(1)
    await store.save_messages([first, message(2)])
    await store.save_messages([message(1, channel="other")])
    await store.apply_changes([change(3, "edit", first, text="edited")])
    assert await store.last_seq("general") == 3
    assert await store.last_seq("other") == 1
    await store.save_messages([message(4)])
    assert await store.last_seq("general") == 4


async def test_get_message_only_in_its_channel(store: Store) -> None:
    first = message(1)
    await store.save_messages([first])
    assert await store.get_message("general", first.id) == first
    assert await store.get_message("other", first.id) is None
    assert await store.get_message("general", new_id()) is None


@pytest.mark.parametrize("store_url", ["mongodb"], indirect=True)
async def test_an_archiver_that_died_between_a_message_and_its_change_log_is_finished_on_redelivery(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MongoDB writes the message, then the change log (no transaction): a reader never finds the log, whose
    highest seq counts as archived, ahead of the message, and a kill between the two is finished on redelivery."""
    first = message(1)
    await store.save_messages([first])
    react = change(2, "react", first, by="bob", emoji="🐂")
    insert_one = AsyncCollection.insert_one

    async def dies_at_the_log(self: AsyncCollection[Any], document: Any, *args: Any, **kwargs: Any) -> Any:
        if self.name == "changes":
            raise ConnectionError("killed between the writes")
        return await insert_one(self, document, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(AsyncCollection, "insert_one", dies_at_the_log)
        with pytest.raises(ConnectionError):
            await store.apply_changes([react])
    assert await store.get_message("general", first.id) == react.message  # the message went first
    assert await store.last_seq("general") == 1  # the change is not counted as archived yet
    assert await store.apply_changes([react]) == 1  # the redelivery logs it
    assert await store.last_seq("general") == 2
    assert await store.apply_changes([react]) == 0  # and only once
    assert await store.get_message("general", first.id) == react.message


# --- site roles, invites, audit (#21) ---


async def test_site_roles_and_suspension_are_kept_regardless_of_letter_case(store: Store) -> None:
    await store.create_user(user("Alice"))
    await store.create_user(user("root_admin").model_copy(update={"roles": ["admin"]}))
    found = await store.get_user("alice")
    assert found is not None and found.roles == [] and not found.suspended
    assert await store.set_user_roles("ALICE", ["compliance", "admin", "compliance"])
    assert await store.set_suspended("aLiCe", True)
    found = await store.get_user("Alice")
    assert found is not None and (found.username, found.roles, found.suspended) == (
        "Alice",
        ["admin", "compliance"],
        True,
    )
    assert await store.set_user_roles("alice", [])
    assert await store.set_suspended("alice", False)
    found = await store.get_user("alice")
    assert found is not None and (found.roles, found.suspended) == ([], False)
    admin = await store.get_user("ROOT_ADMIN")
    assert admin is not None and admin.roles == ["admin"]
    assert not await store.set_user_roles("nobody", ["admin"])
    assert not await store.set_suspended("nobody", True)
    assert await store.get_user("nobody") is None


async def test_list_users_by_prefix_in_any_letter_case_sorted_without_regard_to_case(store: Store) -> None:
    for name in ("alice", "Alfred", "al_x", "alxy", "bob", "ALBERT"):
        await store.create_user(user(name))
    everyone = ["al_x", "ALBERT", "Alfred", "alice", "alxy", "bob"]
    assert [u.username for u in await store.list_users()] == everyone
    assert [u.username for u in await store.list_users(prefix="AL")] == everyone[:5]
    assert [u.username for u in await store.list_users(prefix="al", limit=2)] == ["al_x", "ALBERT"]
    assert [u.username for u in await store.list_users(prefix="al_")] == ["al_x"]  # "_" is no wildcard
    assert [u.username for u in await store.list_users(prefix="AL%")] == []
    assert [u.username for u in await store.list_users(prefix="Alic")] == ["alice"]
    assert await store.list_users(prefix="zed") == []
    found = await store.list_users(prefix="bob")
    assert found == [await store.get_user("bob")]


def invite(code: str, *, uses: int = 1, created_at: str = "2026-05-01T00:00:00.000Z",
           expires_at: str = "2026-12-01T00:00:00.000Z") -> Invite:  # fmt: skip
    return Invite(code=code, created_by="root_admin", created_at=created_at, expires_at=expires_at, uses_left=uses)


NOW = "2026-06-01T00:00:00.000Z"


async def test_an_invite_is_spent_down_to_zero_and_then_refused(store: Store) -> None:
    twice = invite("twice", uses=2)
    await store.create_invite(twice)
    assert await store.list_invites() == [twice]
    assert await store.use_invite("twice", NOW)
    assert await store.list_invites() == [twice.model_copy(update={"uses_left": 1})]
    assert await store.use_invite("twice", NOW)
    assert not await store.use_invite("twice", NOW)
    assert await store.list_invites() == []  # spent invites are not listed
    assert not await store.use_invite("never-made", NOW)


async def test_an_expired_invite_is_refused_and_invites_are_listed_newest_first(store: Store) -> None:
    old = invite("old", uses=5, created_at="2026-04-01T00:00:00.000Z", expires_at="2026-05-31T23:59:59.999Z")
    new = invite("new", uses=3, created_at="2026-05-20T00:00:00.000Z")
    await store.create_invite(old)
    await store.create_invite(new)
    assert await store.list_invites() == [new, old]
    assert not await store.use_invite("old", NOW)
    assert not await store.use_invite("new", "2026-12-01T00:00:00.000Z")  # it expires at that instant
    assert await store.use_invite("new", NOW)
    assert await store.list_invites() == [new.model_copy(update={"uses_left": 2}), old]


async def test_the_last_use_of_an_invite_spent_at_once_by_many_goes_to_exactly_one(store: Store) -> None:
    await store.create_invite(invite("last", uses=1))
    spent = await asyncio.gather(*(store.use_invite("last", NOW) for _ in range(8)))
    assert sorted(spent) == [False] * 7 + [True]
    assert await store.list_invites() == []


def entry(n: int, **fields: Any) -> AuditEntry:
    return AuditEntry.model_validate(
        {"id": f"{n:024x}", "ts": now_iso(), "actor": "root_admin", "action": "role_granted", **fields}
    )


async def test_the_audit_log_pages_newest_first(store: Store) -> None:
    entries = [entry(n, target=f"user{n}") for n in range(1, 6)]
    entries[1] = entry(2, actor=None, target="bob", channel="desk", details={"minutes": 10, "reason": "spam"})
    for written in (entries[2], entries[0], entries[4], entries[1], entries[3]):
        await store.add_audit(written)
    assert await store.audit(before=None, limit=3) == entries[:1:-1]
    assert await store.audit(before=entries[2].id, limit=3) == [entries[1], entries[0]]
    assert await store.audit(before=entries[0].id, limit=3) == []
    assert await store.audit(before=None, limit=10) == entries[::-1]


# --- channels: settings, members, moderation, events (#21) ---


async def test_private_channels_and_dms_keep_their_fields(store: Store) -> None:
    desk = channel("desk").model_copy(update={"visibility": "private", "topic": "Rates desk", "slow_mode_s": 30})
    dm = Channel(name="dm-0123456789abcdef0123", created_by="Alice", created_at=now_iso(), visibility="private",
                 kind="dm", members=["Alice", "bob"])  # fmt: skip
    public = channel("public")
    for made in (desk, dm, public):
        assert await store.create_channel(made)
    assert await store.get_channel("desk") == desk
    assert await store.get_channel(dm.name) == dm
    assert await store.list_channels() == [desk, dm, public]
    assert (public.visibility, public.kind, public.topic, public.slow_mode_s, public.members) == (
        "public", "channel", "", 0, None,
    )  # fmt: skip
    assert await store.get_channel("public") == public


async def test_update_channel_changes_only_the_settings_given(store: Store) -> None:
    await store.create_channel(channel("desk"))
    assert await store.update_channel("desk", topic="Rates")
    assert await store.update_channel("desk", slow_mode_s=60)
    found = await store.get_channel("desk")
    assert found is not None and (found.topic, found.slow_mode_s) == ("Rates", 60)
    assert await store.update_channel("desk", topic="", slow_mode_s=0)
    assert await store.update_channel("desk")
    found = await store.get_channel("desk")
    assert found is not None and (found.topic, found.slow_mode_s, found.created_by) == ("", 0, "alice")
    assert not await store.update_channel("nope", topic="x")
    assert not await store.update_channel("nope")
    assert await store.get_channel("nope") is None


async def test_members_are_added_changed_and_removed_regardless_of_letter_case(store: Store) -> None:
    added: list[tuple[str, ChannelRole]] = [
        ("Carol", "member"), ("alice", "owner"), ("Dave", "moderator"), ("adam", "member"), ("bob", "moderator"),
    ]  # fmt: skip
    for name, role in added:
        await store.set_member("desk", name, role)
    await store.set_member("other", "BOB", "member")
    assert await store.members("desk") == [
        Member(username="alice", role="owner"), Member(username="bob", role="moderator"),
        Member(username="Dave", role="moderator"), Member(username="adam", role="member"),
        Member(username="Carol", role="member"),
    ]  # fmt: skip
    assert await store.member_role("desk", "CAROL") == "member"
    await store.set_member("desk", "carol", "moderator")  # the same member, now a moderator
    assert [(m.username.lower(), m.role) for m in await store.members("desk")] == [
        ("alice", "owner"), ("bob", "moderator"), ("carol", "moderator"), ("dave", "moderator"), ("adam", "member"),
    ]  # fmt: skip
    assert await store.channels_of("Bob") == {"desk", "other"}
    assert await store.remove_member("desk", "BOB")
    assert not await store.remove_member("desk", "bob")
    assert await store.member_role("desk", "bob") is None
    assert await store.member_role("other", "bob") == "member"
    assert await store.channels_of("bob") == {"other"}
    assert await store.channels_of("nobody") == set()
    assert await store.members("empty") == []


async def test_mutes_and_bans_round_trip_with_lower_cased_names(store: Store) -> None:
    assert await store.moderation("desk") == Moderation()
    await store.set_mute("desk", "Bob", "2026-06-01T00:10:00.000Z")
    await store.set_mute("desk", "BOB", "2026-06-01T01:00:00.000Z")  # muted again: the new end counts
    await store.set_mute("other", "carol", "2026-06-01T00:10:00.000Z")
    assert await store.set_ban("desk", "Eve", True)
    assert not await store.set_ban("desk", "eve", True)
    assert await store.moderation("desk") == Moderation(muted={"bob": "2026-06-01T01:00:00.000Z"}, banned={"eve"})
    assert await store.remove_mute("desk", "bob")
    assert not await store.remove_mute("desk", "bob")
    assert await store.set_ban("desk", "EVE", False)
    assert not await store.set_ban("desk", "eve", False)
    assert await store.moderation("desk") == Moderation()
    assert await store.moderation("other") == Moderation(muted={"carol": "2026-06-01T00:10:00.000Z"})


def event(seq: int, kind: str = "member_added", channel: str = "desk", **fields: Any) -> ChannelEvent:
    return ChannelEvent.model_validate({"seq": seq, "channel": channel, "kind": kind, "by": "alice", "ts": now_iso(),
                                        **fields})  # fmt: skip


async def test_events_are_saved_once_and_read_in_seq_order(store: Store) -> None:
    added = event(3, target="bob", role="member")
    muted = event(5, "muted", target="bob", until="2026-06-01T00:10:00.000Z", reason="spam")
    settings = event(8, "settings_changed", changes={"topic": "Rates", "slow_mode_s": 30})
    assert await store.save_events([muted, added]) == 2
    assert await store.save_events([added, settings, event(1, channel="other")]) == 2
    assert await store.save_events([]) == 0
    assert await store.events("desk", after=0, limit=10) == [added, muted, settings]
    assert await store.events("desk", after=3, limit=10) == [muted, settings]
    assert await store.events("desk", after=0, limit=2) == [added, muted]
    assert await store.events("desk", after=8, limit=10) == []
    assert await store.events("nowhere", after=0, limit=10) == []


async def test_last_seq_covers_events(store: Store) -> None:
    await store.save_messages([message(1, "desk"), message(2, "desk")])
    await store.save_events([event(4, target="bob")])
    assert await store.last_seq("desk") == 4
    await store.apply_changes([change(5, "pin", (await store.history("desk", limit=1))[0][0])])
    await store.save_events([event(3, "member_removed", target="carol")])  # archived late, lower
    assert await store.last_seq("desk") == 5
    await store.save_events([event(9, "banned", target="eve")])
    assert await store.last_seq("desk") == 9


async def test_a_deleted_channel_forgets_its_members_and_moderation_but_keeps_its_events(store: Store) -> None:
    await store.create_channel(channel("desk"))
    await store.set_member("desk", "alice", "owner")
    await store.set_member("desk", "bob", "member")
    await store.set_mute("desk", "bob", "2026-06-01T00:10:00.000Z")
    await store.set_ban("desk", "eve", True)
    await store.set_member("other", "bob", "member")
    kept = [event(1, target="bob"), event(2, "banned", target="eve")]
    await store.save_events(kept)
    assert await store.delete_channel("desk")
    assert await store.members("desk") == [] and await store.moderation("desk") == Moderation()
    assert await store.channels_of("bob") == {"other"}
    assert await store.events("desk", after=0, limit=10) == kept and await store.last_seq("desk") == 2
    assert await store.create_channel(channel("desk", by="carol"))  # a new channel of the name starts empty
    assert await store.members("desk") == [] and await store.member_role("desk", "alice") is None
    assert await store.moderation("desk") == Moderation()
