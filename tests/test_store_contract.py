"""The Store contract, run against every implementation (SQLite and MongoDB) through the `store` fixture."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import ChatError
from core.models import Channel, Message, User, new_id, now_iso
from core.store import REVOKED_CHUNK, Store


def user(name: str) -> User:
    return User(username=name, password_hash="$2b$12$hash", created_at=now_iso())


def channel(name: str, by: str = "alice") -> Channel:
    return Channel(name=name, created_by=by, created_at=now_iso())


def message(seq: int, channel: str = "general", text: str | None = None) -> Message:
    return Message(id=new_id(), channel=channel, seq=seq, user="alice", text=text or f"m{seq}", ts=now_iso())


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
            "id": new_id(), "channel": "general", "seq": 1, "user": "StockBot", "bot": True,
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
