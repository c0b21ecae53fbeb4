"""The Redis bus beyond the contract: several nodes, crashes, lost replies and data, batched posts."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import orjson
import pytest
import redis.asyncio

from core.bus import RECENT_PER_CHANNEL, Limit, RateLimited, SeqUnseeded
from core.bus.redis import RedisBus
from core.bus.redis_scripts import RECENT_TRIM_SLACK
from tests.bus_helpers import STREAM, archived, draft, read


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
            assert (posted, repeated) == (sent.model_copy(update={"seq": 2, "rev": 2}), False)
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


async def test_the_recent_list_stays_bounded_though_trimmed_only_now_and_then(redis_url: str) -> None:
    """The post script trims a channel's recent list once it holds RECENT_TRIM_SLACK more than it keeps;
    readers still get exactly the newest RECENT_PER_CHANNEL."""
    bus = RedisBus(redis_url)
    try:
        await bus.seed_seq("general", 0)
        total = RECENT_PER_CHANNEL + 3 * RECENT_TRIM_SLACK
        await asyncio.gather(*(bus.post(draft(text=str(i))) for i in range(total)))
        async with redis.asyncio.from_url(redis_url) as admin:
            held = await admin.llen("chat:recent:general")
        assert RECENT_PER_CHANNEL <= held <= RECENT_PER_CHANNEL + RECENT_TRIM_SLACK
        assert [m.seq for m in await bus.recent("general")] == list(range(total - RECENT_PER_CHANNEL + 1, total + 1))
    finally:
        await bus.close()


async def test_consumers_gone_quiet_with_nothing_pending_are_forgotten(redis_url: str) -> None:
    """Each worker process reads under its own name: restarts must not pile names up in the group."""
    old = RedisBus(redis_url)
    bus = RedisBus(redis_url, forget_consumers_after=0.2)
    admin = redis.asyncio.Redis.from_url(redis_url)
    try:
        await old.append(STREAM, b"done")
        await old.ack(STREAM, "workers", [e.id for e in await read(old, "host-1")])  # a worker that stopped
        await old.append(STREAM, b"held")
        assert len(await read(old, "host-2")) == 1  # one that stopped holding an entry, not yet claimed
        await asyncio.sleep(0.3)
        await bus.append(STREAM, b"new")
        assert [e.data for e in await read(bus, "host-3")] == [b"new"]
        consumers = await admin.xinfo_consumers(STREAM, "workers")
        assert sorted(c["name"] for c in consumers) == [b"host-2", b"host-3"]
    finally:
        await admin.aclose()
        await old.close()
        await bus.close()
