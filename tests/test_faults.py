"""Fault tests on the local stack (the README's distributed stack): processes die, hang and restart under traffic, and
every acknowledged message still reaches its readers and the archive exactly once.

Each test runs its own stack with a private redis-server (never the machine's shared one) and
prints its figures: messages sent, acknowledged, archived in MongoDB, duplicates.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import socketio

from core.bus import BOT_STREAM
from scripts.stack import Stack
from tests.fakes.stooq import FakeStooq
from tests.faults import (
    CHANNEL,
    REDIS_DOWN,
    MakeStack,
    Traffic,
    archived,
    archived_exactly_once,
    backlog,
    chat_messages,
    join,
    kill_holding_entries,
    metric,
    report,
    send_messages,
    until,
)
from tests.stack_fixtures import BoundClient, MakeBoundClient

pytestmark = [pytest.mark.stack]


@pytest.mark.timeout(150)
async def test_archiver_killed_mid_burst_loses_and_doubles_nothing(
    make_stack: MakeStack, make_bound_client: MakeBoundClient
) -> None:
    stack = await make_stack()
    senders = [await make_bound_client(stack.url, ip) for ip in ("127.0.1.1", "127.0.1.2", "127.0.2.1", "127.0.2.2")]
    for sender in senders:
        await join(sender)
    traffic = Traffic()
    burst = [
        asyncio.create_task(send_messages(sender, 250, traffic, tag=f"burst{i}")) for i, sender in enumerate(senders)
    ]
    await until(lambda: traffic.progress() >= 300, 30, "300 acknowledged sends")
    at_kill = await kill_holding_entries(stack)
    at_kill.update(acked=traffic.progress(), archived=len(await archived(stack)))
    await asyncio.gather(*burst)
    at_end = await backlog(stack)
    assert traffic.unacked == 0 and traffic.progress() == 1000, traffic
    await asyncio.sleep(1)
    await asyncio.to_thread(stack.restart, "archiver")
    restarted = time.monotonic()

    check = await archived_exactly_once(stack, traffic.acked)
    # redelivered entries that the dead archiver had written but not acked are skipped by _id
    skipped = sum(int(n) for n in re.findall(r"skipped (\d+) already archived", stack.log_tail("archiver", 10**7)))
    report(
        "archiver kill -9",
        sent=traffic.sent,
        acknowledged=traffic.progress(),
        archived=check.archived,
        duplicates=check.duplicate_ids + check.duplicate_seqs,
        at_kill=at_kill,
        backlog_while_down=at_end["pending"] + at_end["lag"],
        redelivered_already_archived=skipped,
        caught_up_in=f"{time.monotonic() - restarted:.1f}s",
    )
    assert at_kill["pending"] > 0, "the kill never caught the archiver holding unacked entries"
    assert check.archived == 1000
    # the backlog held while the archiver was down
    assert at_end["pending"] + at_end["lag"] >= 1000 - at_kill["archived"] - at_kill["pending"]


# ---- 2. a server node dies under its clients ------------------------------------------------


async def connect_on_node(stack: Stack, make_bound_client: MakeBoundClient, local_ip: str) -> tuple[BoundClient, int]:
    """A client through nginx from `local_ip`, and the index of the node ip_hash gave it."""
    urls = stack.node_urls()
    before = [await metric(url, "chat_socket_connections") for url in urls]
    client = await make_bound_client(stack.url, local_ip)
    after = [await metric(url, "chat_socket_connections") for url in urls]
    grew = [i for i, (b, a) in enumerate(zip(before, after, strict=True)) if a > b]
    assert len(grew) == 1, (before, after)
    return client, grew[0]


async def reconnect(client: BoundClient, timeout: float = 15) -> float:
    """Connect again through nginx as a client would after losing its node; returns the seconds taken."""
    started = time.monotonic()
    while True:
        client.sio = socketio.AsyncClient(reconnection=False, http_session=client.http)
        client.sio.on("*", client._record)
        try:
            await client.connect()
            return time.monotonic() - started
        except socketio.exceptions.ConnectionError:
            if time.monotonic() - started > timeout:
                raise
            await asyncio.sleep(0.25)


@pytest.mark.timeout(150)
async def test_clients_of_a_killed_node_reconnect_through_nginx_and_miss_nothing(
    make_stack: MakeStack, make_bound_client: MakeBoundClient
) -> None:
    stack = await make_stack()
    first, doomed = await connect_on_node(stack, make_bound_client, "127.0.1.1")
    listeners = [first] + [
        (await connect_on_node(stack, make_bound_client, ip))[0] for ip in ("127.0.1.2", "127.0.1.3")
    ]
    # senders on the other node: the first /24 that ip_hash maps there
    for block in range(2, 20):
        sender, node = await connect_on_node(stack, make_bound_client, f"127.0.{block}.1")
        if node != doomed:
            break
    else:
        pytest.fail("ip_hash put every address block on one node")
    senders = [sender, (await connect_on_node(stack, make_bound_client, f"127.0.{block}.2"))[0]]
    for client in listeners + senders:
        await join(client)

    traffic = Traffic()
    sending = [
        asyncio.create_task(send_messages(s, 150, traffic, tag=f"s{i}", pause=0.01)) for i, s in enumerate(senders)
    ]
    await until(lambda: traffic.progress() >= 60, 30, "60 acknowledged sends")
    stack.kill(f"server{doomed + 1}")
    killed_at = time.monotonic()
    # what each listener had when its node died: its own live events, nothing else
    seen_before: list[list[dict[str, Any]]] = []
    caught_up: list[list[dict[str, Any]]] = []
    took: list[float] = []
    for listener in listeners:
        await until(lambda listener=listener: not listener.sio.connected, 10, "the dead node's sockets to close")
        seen_before.append(chat_messages(listener))
        listener.events.clear()
        took.append(await reconnect(listener))
        last_seen = max((m["seq"] for m in seen_before[-1]), default=0)
        caught_up.append(await join(listener, after=last_seen))
    reconnected_in = time.monotonic() - killed_at
    await asyncio.gather(*sending)
    assert traffic.unacked == 0, traffic  # the senders' node never failed

    everything = set(traffic.acked)
    live_dupes = overlaps = inversions = 0
    for before, catch_up, listener in zip(seen_before, caught_up, listeners, strict=True):
        await until(
            lambda b=before, c=catch_up, listener=listener: (
                everything <= {m["id"] for m in b + c + chat_messages(listener)}
            ),
            10,
            "every acknowledged message at a reconnected listener",
        )
        after = chat_messages(listener)
        live = before + after
        live_dupes += sum(n - 1 for n in Counter(m["id"] for m in live).values())
        overlaps += len({m["id"] for m in catch_up} & {m["id"] for m in after})
        # the client's timeline: live until the node died, the catch-up, then live past it
        tail = catch_up[-1]["seq"] if catch_up else max(m["seq"] for m in before)
        timeline = before + catch_up + [m for m in after if m["seq"] > tail]
        seqs = [m["seq"] for m in timeline]
        inversions += sum(1 for a, b in itertools.pairwise(seqs) if b < a)
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), "a listener's timeline has gaps or repeats"
        assert {m["id"] for m in timeline} == everything
        for i in range(len(senders)):  # each sender's messages arrive in the order they were sent
            mine = [int(m["text"].split()[1]) for m in timeline if m["text"].startswith(f"s{i} ")]
            assert mine == list(range(150)), f"sender {i}'s messages out of order or missing"
    assert live_dupes == 0, f"{live_dupes} messages delivered twice live"

    # and they carry on: a reconnected listener's message reaches the senders
    ack = await listeners[0].call("send", {"channel": CHANNEL, "text": "back online"})
    assert ack["ok"] is True, ack
    for sender in senders:
        await sender.wait_for("message", lambda m: m["id"] == ack["message"]["id"])
    traffic.acked[ack["message"]["id"]] = ack["message"]["seq"]
    check = await archived_exactly_once(stack, traffic.acked)
    report(
        "server node kill -9",
        sent=traffic.sent + 1,
        acknowledged=traffic.progress(),
        archived=check.archived,
        duplicates=check.duplicate_ids + check.duplicate_seqs,
        listeners=len(listeners),
        reconnect_s=[f"{t:.2f}" for t in took],
        all_reconnected_and_caught_up_in=f"{reconnected_in:.2f}s",
        caught_up_per_listener=[len(c) for c in caught_up],
        live_duplicates=live_dupes,
        catch_up_live_overlap=overlaps,
        seq_inversions_live=inversions,
    )


# ---- 3. Redis restarts under traffic --------------------------------------------------------


@pytest.mark.timeout(150)
@pytest.mark.parametrize("stop", ["terminate", "kill"])
async def test_redis_restart_nodes_recover_and_the_archive_misses_nothing(
    make_stack: MakeStack, make_bound_client: MakeBoundClient, stop: str
) -> None:
    """terminate: an orderly restart; kill: a crash (SIGKILL). Either way the AOF keeps what Redis
    acknowledged, since Redis writes it to the file before it replies."""
    stack = await make_stack()
    alice, node_a = await connect_on_node(stack, make_bound_client, "127.0.1.1")
    for block in range(2, 20):
        bob, node_b = await connect_on_node(stack, make_bound_client, f"127.0.{block}.1")
        if node_b != node_a:
            break
    for client in (alice, bob):
        await join(client)

    traffic = Traffic()
    sending = [
        asyncio.create_task(send_messages(c, 200, traffic, tag=f"r{i}", pause=0.02, retry_for=30))
        for i, c in enumerate((alice, bob))
    ]
    await until(lambda: traffic.progress() >= 80, 30, "80 acknowledged sends")
    # down for REDIS_DOWN seconds, as a container restart is
    await asyncio.to_thread(getattr(stack, stop), "redis")
    await asyncio.sleep(REDIS_DOWN)
    await asyncio.to_thread(stack.restart, "redis")
    restarted_at = time.monotonic()
    await asyncio.gather(*sending)
    assert traffic.unacked == 0, f"sends did not recover within 30 s: {traffic}"
    assert traffic.longest_outage < REDIS_DOWN + 15, traffic
    assert traffic.slowest_ack < REDIS_DOWN + 15, traffic

    # fan-out across nodes works again: each one's new message reaches the other, live
    fanout_ok = []
    for sender, reader in ((alice, bob), (bob, alice)):
        ack = await sender.call("send", {"channel": CHANNEL, "text": "after the restart"})
        assert ack["ok"] is True, ack
        traffic.sent += 1
        traffic.acked[ack["message"]["id"]] = ack["message"]["seq"]
        # the sender's own copy comes through the live feed too, possibly after its ack
        for client in (reader, sender):
            await client.wait_for("message", lambda m, mid=ack["message"]["id"]: m["id"] == mid, timeout=15)
        fanout_ok.append(time.monotonic() - restarted_at)
    # Live delivery is the bus's Redis pub/sub feed: what is published while a node is not subscribed
    # is gone. A client notices the seq jump and asks for the gap with join {after}, as docs/protocol.md says ("Never missing a message").
    dropped_live: dict[str, list[int]] = {}
    dropped_span: dict[str, str] = {}
    for name, client in (("a", alice), ("b", bob)):
        live = chat_messages(client)
        seqs = sorted({m["seq"] for m in live})
        gaps = [(low, high) for low, high in itertools.pairwise(seqs) if high > low + 1]
        dropped_live[name] = [seq for low, high in gaps for seq in range(low + 1, high)]
        recovered = [m for low, _ in gaps for m in await join(client, after=low)]
        stamps = sorted(m["ts"] for m in recovered if m["seq"] in set(dropped_live[name]))
        if stamps:
            span = datetime.fromisoformat(stamps[-1]) - datetime.fromisoformat(stamps[0])
            dropped_span[name] = f"{span.total_seconds():.1f}s"
        have = {m["id"] for m in live + recovered}
        assert set(traffic.acked) <= have, f"client {name} misses messages even after catching up"

    check = await archived_exactly_once(stack, traffic.acked)
    report(
        f"redis {stop}",
        sent=traffic.sent,
        acknowledged=traffic.progress(),
        archived=check.archived,
        duplicates=check.duplicate_ids + check.duplicate_seqs,
        unacked=traffic.unacked,
        failed_attempts=dict(traffic.errors),
        retries=traffic.retries,
        longest_send_outage=f"{traffic.longest_outage:.2f}s",
        slowest_ack=f"{traffic.slowest_ack:.2f}s",
        redis_down=f"{REDIS_DOWN}s",
        dropped_live_over=dropped_span,
        fanout_back_after=[f"{t:.1f}s" for t in fanout_ok],
        dropped_live={
            name: f"{len(seqs)} (seq {seqs[0]}..{seqs[-1]})" if seqs else 0 for name, seqs in dropped_live.items()
        },
        unacked_but_archived=check.unacked_archived,
    )


# ---- 4. MongoDB goes away -------------------------------------------------------------------


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("outage", "down_for"), [("stopped", 35.0), ("hung", 8.0)])
async def test_mongodb_outage_the_stream_holds_and_nothing_is_lost(
    make_stack: MakeStack, make_bound_client: MakeBoundClient, tmp_path: Path, outage: str, down_for: float
) -> None:
    """stopped: SIGTERM and a restart on the same storage (connections refused meanwhile), for
    longer than pymongo's 30 s server selection, so the archiver's write fails and is retried;
    hung: SIGSTOP then SIGCONT (connections open, nothing answers, the write waits)."""
    storage = str(tmp_path / "mongo") if outage == "stopped" else ":memory:"
    stack = await make_stack(mongo_storage=storage)
    senders = [await make_bound_client(stack.url, ip) for ip in ("127.0.1.1", "127.0.2.1")]
    for sender in senders:
        await join(sender)
    traffic = Traffic()
    await asyncio.gather(*(send_messages(s, 50, traffic, tag=f"warm{i}") for i, s in enumerate(senders)))
    await archived_exactly_once(stack, traffic.acked)
    failures_before = await metric(stack.services["archiver"].url, "chat_worker_failures_total")

    if outage == "stopped":
        await asyncio.to_thread(stack.terminate, "mongo")
    else:
        stack.pause("mongo")
    down_at = time.monotonic()
    await asyncio.gather(*(send_messages(s, 150, traffic, tag=f"down{i}", pause=0.01) for i, s in enumerate(senders)))
    assert traffic.unacked == 0, f"sends failed with MongoDB down: {traffic}"
    await asyncio.sleep(max(0.0, down_for - (time.monotonic() - down_at)))
    held = await backlog(stack)
    held_metric = await metric(stack.services["archiver"].url, "chat_stream_backlog")
    if outage == "stopped":
        await asyncio.to_thread(stack.restart, "mongo")
    else:
        stack.resume("mongo")
    was_down = time.monotonic() - down_at
    failures = await metric(stack.services["archiver"].url, "chat_worker_failures_total") - failures_before

    check = await archived_exactly_once(stack, traffic.acked)
    report(
        f"mongodb {outage}",
        sent=traffic.sent,
        acknowledged=traffic.progress(),
        archived=check.archived,
        duplicates=check.duplicate_ids + check.duplicate_seqs,
        down_for=f"{was_down:.1f}s",
        backlog_while_down=held["pending"] + held["lag"],
        backlog_metric=held_metric,
        failed_archiver_steps=failures,
    )
    assert held["pending"] + held["lag"] >= 300, f"the stream did not hold the outage's messages: {held}"
    assert held_metric >= 300
    assert check.archived == 400
    if outage == "stopped":
        assert failures >= 1, "the archiver's write never failed: the outage did not test its retry"


# ---- 5. one bot reply per command, two nodes and two bots -----------------------------------


@pytest.mark.timeout(120)
async def test_two_bot_replicas_answer_each_command_exactly_once(
    make_stack: MakeStack, make_bound_client: MakeBoundClient, fake_stooq: FakeStooq
) -> None:
    stack = await make_stack(
        bots=2,
        env={
            "CHAT_STOOQ_URL": fake_stooq.url,
            "CHAT_BOT_USER_RATE": "100",
            "CHAT_BOT_USER_BURST": "100",
            "CHAT_BOT_CHANNEL_RATE": "100",
            "CHAT_BOT_CHANNEL_BURST": "100",
        },
    )
    alice, node_a = await connect_on_node(stack, make_bound_client, "127.0.1.1")
    for block in range(2, 20):
        bob, node_b = await connect_on_node(stack, make_bound_client, f"127.0.{block}.1")
        if node_b != node_a:
            break
    carol = await make_bound_client(stack.node_urls()[node_a])  # straight to a node, not through nginx
    for client in (alice, bob, carol):
        await join(client)

    codes = ["aapl.us", "vod.uk", "^spx"]
    commands = [f"/stock={codes[n % len(codes)]}" for n in range(30)]
    asked = Counter()
    for n, text in enumerate(commands):
        asker = (alice, bob)[n % 2]
        ack = await asker.call("send", {"channel": CHANNEL, "text": text})
        assert ack["ok"] is True and "command" in ack, ack
        asked[text.removeprefix("/stock=").upper()] += 1

    def replies(client: BoundClient) -> list[dict[str, Any]]:
        return [m for m in chat_messages(client) if m.get("bot")]

    for client in (alice, bob, carol):
        await until(lambda c=client: len(replies(c)) >= len(commands), 30, "a reply to every command")
    await asyncio.sleep(3)  # time for a second reply to any command to show up
    bot_left = await backlog(stack, BOT_STREAM, "bot")
    processed = [await metric(stack.services[b].url, "chat_worker_processed_total") for b in ("bot", "bot2")]
    ephemeral = [m for c in (alice, bob) for m in c.received("message") if m.get("ephemeral")]
    docs = [d for d in await archived(stack) if d.get("bot")]
    per_client = {name: len(replies(c)) for name, c in (("alice", alice), ("bob", bob), ("carol", carol))}
    report(
        "two bots",
        commands=len(commands),
        replies_per_client=per_client,
        archived_replies=len(docs),
        duplicates=len(docs) - len({d["seq"] for d in docs}),
        per_bot_processed=processed,
        ephemeral=len(ephemeral),
        bot_backlog=bot_left,
        stooq_requests=len(fake_stooq.requests),
    )
    assert not ephemeral, ephemeral[:3]
    for client in (alice, bob, carol):
        got = replies(client)
        assert len(got) == len(commands) and len({m["id"] for m in got}) == len(commands), per_client
        said = Counter(m["quote"]["symbol"] for m in got)
        assert said == asked, (said, asked)
    assert bot_left["pending"] == 0 and bot_left["lag"] == 0 and bot_left["dead"] == 0, bot_left
    assert sum(processed) == len(commands)
    check = await archived_exactly_once(stack, {})
    assert len(docs) == len(commands) and check.duplicate_ids == 0
