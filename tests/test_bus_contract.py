"""The Bus contract over both implementations (memory, Redis), via the `bus` fixture."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest

from core.bus import (
    ARCHIVE_STREAM,
    DEAD_LETTER_SUFFIX,
    RECENT_PER_CHANNEL,
    Bus,
    Conflict,
    Limit,
    RateLimited,
    SeqUnseeded,
    open_bus,
)
from core.bus.redis import RedisBus
from core.changes import fold
from core.models import Change, Message, is_change, now_iso, parse_record
from tests.bus_helpers import STREAM, archived, draft, read
from tests.faults import until

# The live feed


async def test_the_live_feed_carries_every_post_once_in_seq_order_and_no_repeat(bus: Bus, bus_url: str) -> None:
    """Two subscribers stand for two nodes; on Redis a second bus stands for another process posting."""
    other = bus if bus_url.startswith("memory") else open_bus(bus_url)
    got: list[tuple[str, dict[str, object]]] = []
    also: list[int] = []
    unsubscribe = await bus.subscribe_live(lambda channel, wire: got.append((channel, orjson.loads(wire))))
    await bus.subscribe_live(lambda channel, wire: also.append(orjson.loads(wire)["seq"]))
    try:
        await bus.seed_seq("general", 0)
        await bus.seed_seq("random", 0)
        posts = await asyncio.gather(*(bus.post(draft(text=str(i)), f"alice\x00{i}") for i in range(50)))
        await bus.post(draft(text="again"), "alice\x003")  # a repeated client_id: not fed again
        if other is not bus:
            await other.post(draft("random", "from another process"))
        expected = len(posts) + (other is not bus)
        async with asyncio.timeout(5):
            while len(got) < expected or len(also) < expected:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # nothing more arrives
        general = [data for channel, data in got if channel == "general"]
        assert [d["seq"] for d in general] == list(range(1, 51))  # seq order, each once
        by_id = {m.id: m.wire() for m, _ in posts}
        assert all(d == by_id[d["id"]] for d in general)  # exactly the wire form the ack carries
        assert len(also) == expected
        unsubscribe()
        await bus.post(draft())
        await asyncio.sleep(0.1)
        assert len(got) == expected and len(also) == expected + 1  # only the unsubscribed one stopped
    finally:
        if other is not bus:
            await other.close()


# Sequencing, dedup and the recent buffer


async def test_seq_continues_after_the_seeded_floor(bus: Bus) -> None:
    await bus.seed_seq("general", 41)
    first, duplicate = await bus.post(draft())
    assert (first.seq, duplicate) == (42, False)
    await bus.seed_seq("general", 10)  # a lower floor never moves the counter back
    assert (await bus.post(draft()))[0].seq == 43
    await bus.seed_seq("general", 100)
    assert (await bus.post(draft()))[0].seq == 101


async def test_a_new_channel_seeded_at_zero_starts_at_one(bus: Bus) -> None:
    await bus.seed_seq("fresh", 0)
    posted, _ = await bus.post(draft("fresh"))
    assert posted.seq == 1


async def test_posting_to_an_unseeded_channel_raises(bus: Bus) -> None:
    with pytest.raises(SeqUnseeded):
        await bus.post(draft("unseeded"))


async def test_post_soon_answers_each_post_by_its_future_in_the_order_posted(bus: Bus) -> None:
    """What the send fast path relies on: posts made from callbacks, outcomes as posted."""
    await bus.seed_seq("general", 0)
    one_token = Limit("send:bob", 0.001, 1)
    futures = [
        bus.post_soon(draft(text="a")),
        bus.post_soon(draft("unseeded")),
        bus.post_soon(draft(text="b"), limit=one_token),
        bus.post_soon(draft(text="c"), limit=one_token),
        bus.post_soon(draft(text="d"), "alice\x00c1"),
        bus.post_soon(draft(text="d again"), "alice\x00c1"),
    ]
    a, unseeded, b, c, d, again = await asyncio.gather(*futures, return_exceptions=True)
    assert [(m.text, m.seq, repeated) for m, repeated in (a, b, d)] == [
        ("a", 1, False),
        ("b", 2, False),
        ("d", 3, False),
    ]
    assert isinstance(unseeded, SeqUnseeded) and isinstance(c, RateLimited)
    assert again == (d[0], True)
    assert [m.text for m in await bus.recent("general")] == ["a", "b", "d"]
    assert await bus.recent("unseeded") == []


async def test_concurrent_posts_get_every_seq_exactly_once(bus: Bus) -> None:
    await bus.seed_seq("general", 0)
    results = await asyncio.gather(*(bus.post(draft(text=str(i))) for i in range(200)))
    assert sorted(m.seq for m, _ in results if m.seq is not None) == list(range(1, 201))
    recent = await bus.recent("general")
    assert [m.seq for m in recent] == list(range(1, 201))
    assert {m.id: m.text for m in recent} == {m.id: m.text for m, _ in results}


async def test_a_posted_message_is_archived_as_returned(bus: Bus) -> None:
    await bus.seed_seq("general", 0)
    sent = draft(text="AAPL looks strong")
    posted, _ = await bus.post(sent)
    assert posted == sent.model_copy(update={"seq": 1, "rev": 1})  # a new message: its rev is its seq
    assert await archived(bus) == [posted]


async def test_a_repeated_dedup_key_returns_the_first_message(bus: Bus) -> None:
    await bus.seed_seq("general", 0)
    first, duplicate = await bus.post(draft(text="once"), dedup_key="alice:c1")
    assert not duplicate
    again, duplicate = await bus.post(draft(text="once"), dedup_key="alice:c1")
    assert duplicate and again == first
    other, duplicate = await bus.post(draft(text="twice"), dedup_key="alice:c2")
    assert not duplicate and other.seq == 2
    assert [m.id for m in await archived(bus)] == [first.id, other.id]


async def test_recent_returns_messages_after_a_seq_in_order(bus: Bus) -> None:
    await bus.seed_seq("general", 0)
    await bus.seed_seq("other", 0)
    for i in range(5):
        await bus.post(draft(text=str(i)))
    await bus.post(draft("other"))
    assert [m.seq for m in await bus.recent("general", after=3)] == [4, 5]
    assert [m.text for m in await bus.recent("general")] == ["0", "1", "2", "3", "4"]
    assert await bus.recent("general", after=5) == []


async def test_recent_keeps_only_the_newest_per_channel(bus: Bus) -> None:
    await bus.seed_seq("general", 0)
    for _ in range(RECENT_PER_CHANNEL + 5):
        await bus.post(draft())
    recent = await bus.recent("general")
    assert [m.seq for m in recent] == list(range(6, RECENT_PER_CHANNEL + 6))


# Streams


async def test_entries_appended_before_the_first_read_are_delivered(bus: Bus) -> None:
    ids = [await bus.append(STREAM, f"job{i}".encode()) for i in range(3)]
    entries = await read(bus, "a")
    assert [(e.id, e.data, e.deliveries) for e in entries] == [(i, f"job{n}".encode(), 1) for n, i in enumerate(ids)]
    assert await read(bus, "a") == []  # delivered once, not again while pending and fresh


async def test_backlog_counts_pending_and_undelivered(bus: Bus) -> None:
    assert await bus.backlog(STREAM, "workers") == 0
    for i in range(3):
        await bus.append(STREAM, f"job{i}".encode())
    assert await bus.backlog(STREAM, "workers") == 3  # no reader yet: everything waits
    entries = await read(bus, "a")
    await bus.ack(STREAM, "workers", [entries[0].id, entries[1].id])
    assert await bus.backlog(STREAM, "workers") == 1
    await bus.append(STREAM, b"job3")
    assert await bus.backlog(STREAM, "workers") == 2
    await bus.ack(STREAM, "workers", [entries[2].id])
    assert [e.data for e in await read(bus, "a")] == [b"job3"]


async def test_every_group_gets_every_entry(bus: Bus) -> None:
    # A group exists from its first read; entries are kept for every group that exists.
    assert await read(bus, "a", group="archivers") == []
    assert await read(bus, "b", group="auditors") == []
    for i in range(3):
        await bus.append(STREAM, f"job{i}".encode())
    first = await read(bus, "a", group="archivers")
    await bus.ack(STREAM, "archivers", [e.id for e in first])
    # Acknowledging in one group must not drop what another has not read yet.
    await bus.append(STREAM, b"job3")
    second = await read(bus, "b", group="auditors")
    assert [e.data for e in second] == [b"job0", b"job1", b"job2", b"job3"]
    assert await bus.backlog(STREAM, "archivers") == 1


async def test_a_dead_consumers_entry_is_claimed_by_another(bus: Bus) -> None:
    await bus.append(STREAM, b"job")
    taken = await read(bus, "dies")
    assert [e.deliveries for e in taken] == [1]
    assert await read(bus, "lives", idle_ms=200) == []  # not idle long enough yet
    await asyncio.sleep(0.3)
    claimed = await read(bus, "lives", idle_ms=200)
    assert [(e.id, e.data, e.deliveries) for e in claimed] == [(taken[0].id, b"job", 2)]
    await bus.ack(STREAM, "workers", [claimed[0].id])
    await asyncio.sleep(0.3)
    assert await read(bus, "third", idle_ms=200) == []
    assert await bus.backlog(STREAM, "workers") == 0


async def test_dead_letter_moves_an_entry_aside(bus: Bus) -> None:
    await bus.append(STREAM, b"poison")
    await bus.append(STREAM, b"fine")
    entries = await read(bus, "a")
    await bus.dead_letter(STREAM, "workers", entries[0], "does not parse")
    assert await bus.backlog(STREAM, "workers") == 1
    dead = await bus.read(STREAM + DEAD_LETTER_SUFFIX, "inspect", "x", count=10, block_ms=0, claim_idle_ms=60_000)
    assert [e.data for e in dead] == [b"poison"]


async def test_a_blocked_read_wakes_on_append(bus: Bus) -> None:
    started = time.monotonic()
    assert await read(bus, "a", block_ms=200) == []
    assert time.monotonic() - started >= 0.15
    waiting = asyncio.create_task(read(bus, "a", block_ms=5000))
    await asyncio.sleep(0.1)
    await bus.append(STREAM, b"wake")
    entries = await asyncio.wait_for(waiting, 2)
    assert [e.data for e in entries] == [b"wake"]
    assert time.monotonic() - started < 2


# Rate limits


async def test_allow_grants_the_burst_then_refuses(bus: Bus) -> None:
    assert [await bus.allow("alice", 0.5, 3) for _ in range(5)] == [True, True, True, False, False]
    assert await bus.allow("bob", 0.5, 3)  # buckets are per key


async def test_a_post_with_a_limit_spends_the_same_bucket_as_allow(bus: Bus) -> None:
    await bus.seed_seq("general", 0)
    limit = Limit("alice", 0.5, 3)
    assert await bus.allow("alice", 0.5, 3)
    first, _ = await bus.post(draft(text="a"), limit=limit)
    again, duplicate = await bus.post(draft(text="a"), dedup_key="alice:c1", limit=limit)
    assert (first.seq, again.seq, duplicate) == (1, 2, False)
    with pytest.raises(RateLimited):  # a refused post takes no seq and reaches no stream
        await bus.post(draft(text="b"), limit=limit)
    with pytest.raises(RateLimited):  # a repeat spends a token too, as a send checked by allow() did
        await bus.post(draft(text="a"), dedup_key="alice:c1", limit=limit)
    assert not await bus.allow("alice", 0.5, 3)
    assert [m.text for m in await archived(bus)] == ["a", "a"]
    other, _ = await bus.post(draft(text="c"), limit=Limit("bob", 0.5, 3))
    assert other.seq == 3


async def test_an_unseeded_post_takes_no_token(bus: Bus) -> None:
    with pytest.raises(SeqUnseeded):
        await bus.post(draft("unseeded"), limit=Limit("alice", 0.5, 1))
    await bus.seed_seq("unseeded", 0)
    posted, _ = await bus.post(draft("unseeded"), limit=Limit("alice", 0.5, 1))
    assert posted.seq == 1


async def test_allow_refills_at_the_rate(bus: Bus) -> None:
    assert await bus.allow("alice", 10, 1)
    assert not await bus.allow("alice", 10, 1)
    await asyncio.sleep(0.15)
    assert await bus.allow("alice", 10, 1)
    assert not await bus.allow("alice", 10, 1)


# The shared cache


async def test_a_cached_value_is_read_back_until_it_expires(bus: Bus) -> None:
    assert await bus.cache_get("quote:AAPL.US") is None
    await bus.cache_set("quote:AAPL.US", b'{"price": "93.42"}', 0.2)
    await bus.cache_set("quote:MSFT.US", b"other", 5)
    assert await bus.cache_get("quote:AAPL.US") == b'{"price": "93.42"}'
    await bus.cache_set("quote:AAPL.US", b"newer", 0.2)  # a set replaces the value
    assert await bus.cache_get("quote:AAPL.US") == b"newer"
    await asyncio.sleep(0.3)
    assert await bus.cache_get("quote:AAPL.US") is None
    assert await bus.cache_get("quote:MSFT.US") == b"other"


async def test_the_cache_is_shared_by_every_client_of_one_redis(redis_url: str) -> None:
    first, second = RedisBus(redis_url), RedisBus(redis_url)
    try:
        await first.cache_set("quote:VOD.UK", b"72.50", 5)
        assert await second.cache_get("quote:VOD.UK") == b"72.50"
    finally:
        await first.close()
        await second.close()


# Presence


async def test_presence_reports_first_and_last_connections(bus: Bus) -> None:
    assert await bus.presence_add("general", "alice", "s1")
    assert not await bus.presence_add("general", "alice", "s2")
    assert not await bus.presence_add("general", "alice", "s1")  # the same connection again
    assert await bus.presence_add("general", "Zed", "s3")
    assert await bus.presence_add("general", "bob", "s4")
    assert await bus.members("general") == ["Zed", "alice", "bob"]
    assert await bus.members("other") == []
    assert not await bus.presence_remove("general", "alice", "s1")
    assert await bus.presence_remove("general", "alice", "s2")
    assert not await bus.presence_remove("general", "alice", "s2")  # already gone
    assert not await bus.presence_remove("general", "carol", "s9")
    assert await bus.members("general") == ["Zed", "bob"]


async def test_presence_is_per_channel(bus: Bus) -> None:
    assert await bus.presence_add("general", "alice", "s1")
    assert await bus.presence_add("stocks", "alice", "s1")
    assert await bus.presence_remove("general", "alice", "s1")
    assert await bus.members("general") == []
    assert await bus.members("stocks") == ["alice"]


def _edit(message: Message, text: str, by: str = "alice") -> Change:
    folded = fold(message, "edit", by, now_iso(), text=text)
    assert folded is not None
    return Change(kind="edit", channel=message.channel, by=by, ts=now_iso(), message=folded)


async def test_a_change_takes_the_next_seq_everywhere_a_post_goes(bus: Bus) -> None:
    await bus.seed_seq("general", 0)
    fed: list[bytes] = []
    await bus.subscribe_live(lambda channel, wire: fed.append(wire))
    posted, _ = await bus.post(draft(text="$APPL"))
    changed = await bus.post_change(_edit(posted, "$AAPL"), expected_rev=1)
    after, _ = await bus.post(draft(text="next"))
    assert (changed.seq, changed.message.rev, changed.message.seq, after.seq) == (2, 2, 1, 3)
    assert changed.message.text == "$AAPL"
    await until(lambda: len(fed) >= 3, 5, "the live feed")  # Redis's feed comes on its own connection
    assert [parse_record(w).seq for w in fed] == [1, 2, 3]
    assert is_change(fed[1]) and not is_change(fed[0]) and not is_change(fed[2])
    assert parse_record(fed[1]) == changed
    assert [type(r).__name__ for r in await bus.recent("general")] == ["Message", "Change", "Message"]
    assert [r.seq for r in await bus.recent("general", after=1)] == [2, 3]
    entries = await bus.read(ARCHIVE_STREAM, "check", "c", count=10, block_ms=0, claim_idle_ms=60_000)
    assert [parse_record(e.data) for e in entries] == [posted, changed, after]
    assert await bus.find("general", posted.id) == changed.message
    assert await bus.find("general", after.id) == after  # never changed: as posted, from the buffer
    assert await bus.find("general", "0" * 24) is None
    assert await bus.find("other", posted.id) is None


async def test_a_change_folded_from_an_old_rev_is_refused_with_the_current_message(bus: Bus) -> None:
    await bus.seed_seq("general", 0)
    posted, _ = await bus.post(draft(text="v1"))
    first = await bus.post_change(_edit(posted, "v2"), expected_rev=1)
    with pytest.raises(Conflict) as conflict:
        await bus.post_change(_edit(posted, "v2 from another node"), expected_rev=1)
    assert conflict.value.current == first.message
    assert [r.seq for r in await bus.recent("general")] == [1, 2]  # the refused change took no seq
    third = await bus.post_change(_edit(first.message, "v3"), expected_rev=2)
    assert third.seq == 3 and (await bus.find("general", posted.id)) == third.message


async def test_a_change_spends_from_its_limit_and_needs_a_seeded_channel(bus: Bus) -> None:
    with pytest.raises(SeqUnseeded):
        await bus.post_change(_edit(draft(channel="fresh").model_copy(update={"seq": 1, "rev": 1}), "x"), 1)
    await bus.seed_seq("general", 0)
    posted, _ = await bus.post(draft(text="v1"))
    limit = Limit("send:test-change", rate=0.001, burst=1)
    done = await bus.post_change(_edit(posted, "v2"), 1, limit)
    with pytest.raises(RateLimited):
        await bus.post_change(_edit(done.message, "v3"), 2, limit)
    assert [r.seq for r in await bus.recent("general")] == [1, 2]
