"""The Bus contract over both implementations (memory, Redis) via `bus`, then Redis-only behaviour."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import orjson
import pytest
import redis.asyncio

from core.bus import (
    ARCHIVE_STREAM,
    DEAD_LETTER_SUFFIX,
    RECENT_PER_CHANNEL,
    Bus,
    Entry,
    Limit,
    RateLimited,
    SeqUnseeded,
    open_bus,
)
from core.bus.redis import RedisBus
from core.models import Message, iso, new_id, utcnow

STREAM = "test:jobs"


def draft(channel: str = "general", text: str = "hello") -> Message:
    return Message(id=new_id(), channel=channel, user="alice", text=text, ts=iso(utcnow()))


async def archived(bus: Bus) -> list[Message]:
    entries = await bus.read(ARCHIVE_STREAM, "check", "c", count=1000, block_ms=0, claim_idle_ms=60_000)
    return [Message.model_validate_json(e.data) for e in entries]


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
    assert posted == sent.model_copy(update={"seq": 1})
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


async def read(
    bus: Bus, consumer: str, *, group: str = "workers", idle_ms: int = 60_000, block_ms: int = 0
) -> list[Entry]:
    return await bus.read(STREAM, group, consumer, count=10, block_ms=block_ms, claim_idle_ms=idle_ms)


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


# Redis only: several nodes, crashes, lost data


@pytest.fixture
async def nodes(redis_url: str) -> AsyncIterator[tuple[RedisBus, RedisBus]]:
    one = RedisBus(redis_url, presence_ttl=1.0, heartbeat_every=0.2)
    two = RedisBus(redis_url, presence_ttl=1.0, heartbeat_every=0.2)
    try:
        yield one, two
    finally:
        await one.close()
        await two.close()


async def test_members_are_shared_across_nodes(nodes: tuple[RedisBus, RedisBus]) -> None:
    one, two = nodes
    assert await one.presence_add("general", "alice", "s1")
    assert await two.members("general") == ["alice"]
    assert not await two.presence_add("general", "alice", "s2")  # she is already online via node one
    assert await two.presence_add("general", "bob", "s3")
    assert await one.members("general") == ["alice", "bob"]
    assert not await one.presence_remove("general", "alice", "s1")
    assert await two.presence_remove("general", "alice", "s2")
    assert await one.members("general") == ["bob"]


async def test_a_crashed_nodes_users_drop_out_within_the_ttl(nodes: tuple[RedisBus, RedisBus]) -> None:
    one, two = nodes
    await one.presence_add("general", "alice", "s1")
    await asyncio.sleep(1.5)  # longer than the TTL: the heartbeat keeps a live node's users listed
    assert await two.members("general") == ["alice"]
    await one.close()  # dies without removing anyone
    crashed = time.monotonic()
    while await two.members("general"):
        assert time.monotonic() - crashed < 1.5, "stale presence outlived its TTL"
        await asyncio.sleep(0.05)
    assert await two.presence_add("general", "alice", "s2")  # coming back is a fresh arrival


async def test_a_crashed_nodes_users_are_swept_offline_once(nodes: tuple[RedisBus, RedisBus]) -> None:
    """Users of a node that died are reported offline by one sweep, on one node, and only once."""
    one, two = nodes
    await one.presence_add("general", "alice", "s1")
    await two.presence_add("general", "bob", "s2")
    await asyncio.sleep(1.5)  # longer than the TTL: the heartbeats keep both listed, nothing to sweep
    assert await two.presence_sweep() == [] and await one.presence_sweep() == []
    await one.close()  # dies without removing anyone
    await asyncio.sleep(1.2)
    assert await two.members("general") == ["bob"]  # stale entries are not members, swept or not
    assert await two.presence_sweep() == [("general", "alice", False)]
    assert await two.presence_sweep() == []
    assert await two.members("general") == ["bob"]


async def test_users_swept_while_their_node_missed_its_heartbeats_come_back_online(
    nodes: tuple[RedisBus, RedisBus],
) -> None:
    one, two = nodes
    await one.presence_add("general", "alice", "s1")
    await two.presence_add("general", "bob", "s2")  # a node sweeps the channels it has users in
    assert one._heartbeat is not None
    one._heartbeat.cancel()  # a node that cannot reach Redis for longer than the TTL, yet keeps alice
    await asyncio.sleep(1.2)
    assert await two.presence_sweep() == [("general", "alice", False)]
    one._start_heartbeat()
    async with asyncio.timeout(5):
        while (changes := await one.presence_sweep()) == []:
            await asyncio.sleep(0.05)
    assert changes == [("general", "alice", True)]
    assert await two.members("general") == ["alice", "bob"]


@contextlib.asynccontextmanager
async def reply_losing_proxy(redis_url: str) -> AsyncIterator[tuple[str, asyncio.Event]]:
    """A TCP proxy to Redis; while the event is set, the next script call reaches Redis but its reply
    is lost to a broken connection (the event is then cleared)."""
    target = redis.asyncio.connection.parse_url(redis_url)
    lose_next = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, dropping: list[bool]) -> None:
        while data := await src.read(65536):
            if dropping[0]:
                dst.close()
                return
            dst.write(data)

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(target.get("host", "127.0.0.1"), target.get("port", 6379))
        writers.extend((client_w, server_w))
        dropping = [False]

        async def upstream() -> None:
            while data := await client_r.read(65536):
                if lose_next.is_set() and b"EVALSHA" in data:
                    lose_next.clear()
                    dropping[0] = True
                server_w.write(data)

        with contextlib.suppress(ConnectionError):
            await asyncio.gather(upstream(), pipe(server_r, client_w, dropping))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"redis://127.0.0.1:{port}/{target.get('db', 0)}", lose_next
    finally:
        server.close()
        for writer in writers:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        await server.wait_closed()


async def test_a_post_whose_reply_is_lost_is_retried_and_posted_once(redis_url: str) -> None:
    """redis-py repeats a script call whose reply was lost to a broken connection: the batch's retry
    marker answers the repeat, so the message keeps its one seq and is archived and fed once."""
    async with reply_losing_proxy(redis_url) as (proxied, lose_next):
        bus = RedisBus(proxied)
        fed: list[bytes] = []
        try:
            await bus.subscribe_live(lambda channel, wire: fed.append(wire))
            await bus.seed_seq("general", 0)
            before, _ = await bus.post(draft())  # Redis has the script from here on
            lose_next.set()
            sent = draft()
            posted, repeated = await bus.post(sent)
            assert not lose_next.is_set()  # the reply was lost indeed
            assert (posted, repeated) == (sent.model_copy(update={"seq": 2}), False)
            after, _ = await bus.post(draft())
            assert after.seq == 3
            assert [m.id for m in await archived(bus)] == [before.id, sent.id, after.id]
            async with asyncio.timeout(5):
                while len(fed) < 3:
                    await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)
            assert [orjson.loads(w)["seq"] for w in fed] == [1, 2, 3]
        finally:
            await bus.close()


async def test_a_killed_connection_is_reconnected(redis_url: str) -> None:
    bus = RedisBus(redis_url)
    admin = redis.asyncio.Redis.from_url(redis_url)
    try:
        await bus.seed_seq("general", 0)
        await bus.post(draft())
        db = redis_url.rsplit("/", 1)[1]
        own_id = await admin.client_id()
        for client in await admin.client_list():
            if client["db"] == db and int(client["id"]) != own_id:
                await admin.client_kill_filter(_id=client["id"])
        posted, _ = await bus.post(draft())
        assert posted.seq == 2
    finally:
        await admin.aclose()
        await bus.close()


async def test_after_redis_loses_its_data_posts_need_a_seed_and_reads_recover(redis_url: str) -> None:
    bus = RedisBus(redis_url)
    admin = redis.asyncio.Redis.from_url(redis_url)
    try:
        await bus.seed_seq("general", 0)
        await bus.append(STREAM, b"before")
        assert len(await read(bus, "a")) == 1
        await admin.flushdb()  # what a restart without persistence leaves behind
        with pytest.raises(SeqUnseeded):
            await bus.post(draft())
        await bus.seed_seq("general", 7)
        assert (await bus.post(draft()))[0].seq == 8
        await bus.append(STREAM, b"after")
        assert [e.data for e in await read(bus, "a")] == [b"after"]
    finally:
        await admin.aclose()
        await bus.close()


async def test_the_live_feed_stays_within_its_redis_database(redis_url: str) -> None:
    """Pub/sub ignores Redis databases; two deployments sharing one Redis on different dbs must not mix."""
    ours, neighbour = RedisBus(redis_url), RedisBus(redis_url.rsplit("/", 1)[0] + "/15")
    seen_by_neighbour: list[bytes] = []
    seen_by_us: list[bytes] = []
    try:
        await neighbour.subscribe_live(lambda channel, wire: seen_by_neighbour.append(wire))
        await ours.subscribe_live(lambda channel, wire: seen_by_us.append(wire))
        await ours.seed_seq("general", 0)
        await ours.post(draft())
        async with asyncio.timeout(5):
            while not seen_by_us:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        assert seen_by_neighbour == []
    finally:
        await ours.close()
        await neighbour.close()


async def test_concurrent_posts_survive_redis_losing_its_scripts(redis_url: str) -> None:
    """A Redis that forgot the post script (a restart, SCRIPT FLUSH) answers NOSCRIPT: each post is
    made again, once, with the script loaded anew."""
    bus = RedisBus(redis_url)
    try:
        await bus.seed_seq("general", 0)
        await bus.post(draft())
        async with redis.asyncio.from_url(redis_url) as admin:
            await admin.script_flush()
        results = await asyncio.gather(*(bus.post(draft(text=str(i))) for i in range(20)))
        assert sorted(m.seq for m, repeated in results if not repeated) == list(range(2, 22))
        assert [m.seq for m in await bus.recent("general")] == list(range(1, 22))
    finally:
        await bus.close()


async def test_posts_made_together_are_one_script_call_and_one_live_message_yet_answered_each(redis_url: str) -> None:
    """Posts of one event-loop turn go to Redis as one batch: each keeps its own outcome (new, repeat,
    rate-limited, unseeded) and the new ones reach the live feed as one pub/sub message, in seq order."""
    bus = RedisBus(redis_url)
    raw: list[bytes] = []
    async with redis.asyncio.from_url(redis_url) as admin, admin.pubsub() as feed:
        await feed.subscribe(bus._live_channel)
        await feed.get_message(timeout=1)  # the subscription's confirmation
        try:
            await bus.seed_seq("general", 0)
            await bus.seed_seq("random", 10)
            first, _ = await bus.post(draft(text="first"), "alice\x00c1")
            one_token = Limit("send:bob", 0.001, 1)
            results = await asyncio.gather(
                bus.post(draft(text="a")),
                bus.post(draft("random", "b"), limit=one_token),
                bus.post(draft("random", "c"), limit=one_token),
                bus.post(draft(text="first again"), "alice\x00c1"),
                bus.post(draft("unseeded", "d")),
                bus.post(draft(text="e")),
                return_exceptions=True,
            )
            async with asyncio.timeout(5):
                while len(raw) < 2:
                    message = await feed.get_message(timeout=1)
                    if message and message["type"] == "message":
                        raw.append(message["data"])
        finally:
            await bus.close()
    a, b, c, again, unseeded, e = results
    assert isinstance(a, tuple) and isinstance(b, tuple) and isinstance(e, tuple)
    assert [a[0].seq, b[0].seq, e[0].seq] == [2, 11, 3]
    assert isinstance(c, RateLimited) and isinstance(unseeded, SeqUnseeded)
    assert again == (first, True)
    records = raw[1].split(b"\n")  # raw[0] is the first post, alone
    assert [
        (channel, orjson.loads(wire)["text"]) for channel, wire in zip(records[::2], records[1::2], strict=True)
    ] == [
        (b"general", "a"),
        (b"random", "b"),
        (b"general", "e"),
    ]
