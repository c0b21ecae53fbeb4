"""Message changes on the local stack (DESIGN §7): a change made through one node reaches the other's
clients folded alike, concurrent changes from both nodes converge, a client of a dead node catches up
through the other, and the archiver killed in a burst of changes loses and doubles none of them."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from core.store import open_store
from scripts.stack import Stack
from tests.faults import MakeStack, backlog, kill_holding_entries, report, until
from tests.stack_fixtures import BoundClient, MakeBoundClient
from tests.test_faults import connect_on_node, reconnect

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]
KINDS = ("edit", "delete", "react", "unreact", "pin", "unpin")


async def open_channel(owner: BoundClient, *others: BoundClient) -> str:
    """A new channel `owner` created (so owns: pins are theirs), joined by everyone."""
    name = f"c{uuid.uuid4().hex[:10]}"
    status, body = await owner.request("POST", "/api/channels", {"name": name})
    assert status == 201, body
    for client in (owner, *others):
        assert (await client.call("join", {"channel": name}))["ok"] is True
    return name


async def say(client: BoundClient, channel: str, text: str, **extra: Any) -> dict[str, Any]:
    ack = await client.call("send", {"channel": channel, "text": text, **extra})
    assert ack["ok"] is True, ack
    return dict(ack["message"])


async def changed(client: BoundClient, kind: str, channel: str, message_id: str, **extra: Any) -> dict[str, Any]:
    ack = await client.call(kind, {"channel": channel, "id": message_id, **extra})
    assert ack["ok"] is True, (kind, ack)
    return dict(ack["message"])


async def test_a_change_through_one_node_reaches_the_other_folded_alike(
    stack: Stack, make_bound_client: MakeBoundClient
) -> None:
    node1, node2 = stack.node_urls()
    alice, bob = await make_bound_client(node1), await make_bound_client(node2)
    channel = await open_channel(alice, bob)
    sent = await say(alice, channel, "$TSLA to the moon")
    steps = [
        (alice, "edit", {"text": "$TSLA to 300"}),
        (alice, "react", {"emoji": "🚀"}),
        (bob, "react", {"emoji": "🐻"}),  # and the other way: node 2 to node 1
        (alice, "pin", {}),
        (alice, "delete", {}),
    ]
    for who, kind, extra in steps:
        after = await changed(who, kind, channel, sent["id"], **extra)
        other = bob if who is alice else alice
        update = await other.wait_for("message_updated", lambda u, rev=after["rev"]: u["seq"] == rev)
        assert (update["kind"], update["by"], update["channel"]) == (kind, who.username, channel)
        assert update["message"] == after  # the same folded message on both nodes
    assert after["deleted"] is True and after["text"] == "" and after["rev"] == sent["seq"] + len(steps)
    _, page = await bob.request("GET", f"/api/channels/{channel}/messages")
    assert [(m["id"], m["deleted"], m["rev"]) for m in page["messages"]] == [(sent["id"], True, after["rev"])]


async def test_concurrent_reactions_through_both_nodes_all_count(
    stack: Stack, make_bound_client: MakeBoundClient
) -> None:
    node1, node2 = stack.node_urls()
    users = [await make_bound_client(node1 if i % 2 else node2, f"127.0.{10 + i}.1") for i in range(10)]
    channel = await open_channel(users[0], *users[1:])
    sent = await say(users[0], channel, "$NVDA earnings tonight")
    acks = await asyncio.gather(
        *(u.call("react", {"channel": channel, "id": sent["id"], "emoji": "🐂"}) for u in users)
    )
    assert all(ack["ok"] for ack in acks), [ack for ack in acks if not ack["ok"]]
    revs = sorted(ack["message"]["rev"] for ack in acks)
    assert revs == list(range(sent["seq"] + 1, sent["seq"] + 1 + len(users)))  # each took its own seq
    everyone = sorted(u.username for u in users)
    for reader in (users[0], users[1]):  # through node 2, then node 1
        status, page = await reader.request("GET", f"/api/channels/{channel}/messages")
        assert status == 200
        (bull,) = page["messages"][0]["reactions"]
        assert (bull["emoji"], bull["count"], sorted(bull["users"])) == ("🐂", len(users), everyone)
    for user in (users[0], users[1]):  # one client on each node: the last event holds all of them
        last = await user.wait_for("message_updated", lambda u: u["seq"] == revs[-1])
        assert sorted(last["message"]["reactions"][0]["users"]) == everyone


async def test_a_client_of_a_dead_node_catches_up_on_changes_through_the_other(
    make_stack: MakeStack, make_bound_client: MakeBoundClient
) -> None:
    stack = await make_stack()
    reader, doomed = await connect_on_node(stack, make_bound_client, "127.0.1.1")
    writer = await make_bound_client(stack.node_urls()[1 - doomed])
    channel = await open_channel(writer, reader)
    edited, reacted, deleted, pinned = [await say(writer, channel, f"m{n}") for n in range(4)]
    seen = max(m["seq"] for m in (edited, reacted, deleted, pinned))
    await reader.wait_for("message", lambda m: m["seq"] == seen)

    stack.kill(f"server{doomed + 1}")
    await until(lambda: not reader.sio.connected, 10, "the dead node's socket to close")
    expected = {
        edited["id"]: await changed(writer, "edit", channel, edited["id"], text="m0, fixed"),
        reacted["id"]: await changed(writer, "react", channel, reacted["id"], emoji="📈"),
        deleted["id"]: await changed(writer, "delete", channel, deleted["id"]),
        pinned["id"]: await changed(writer, "pin", channel, pinned["id"]),
    }
    new = await say(writer, channel, "meanwhile", reply_to=edited["id"])
    expected[new["id"]] = new

    reader.events.clear()
    await reconnect(reader)
    ack = await reader.call("join", {"channel": channel, "after": seen})
    assert ack["ok"] is True and ack["has_more"] is False
    got = {m["id"]: m for m in ack["messages"]}
    assert set(got) == set(expected)
    for message_id, message in expected.items():
        assert {k: v for k, v in got[message_id].items() if k != "reply_count"} == message
    assert got[edited["id"]]["reply_count"] == 1
    assert ack["last_seq"] == new["seq"] == seen + 5


# ---- the archiver killed in a burst of changes ----------------------------------------------


class Burst:
    """What the clients did and saw: every change's ack, and the folded messages by rev."""

    def __init__(self) -> None:
        self.acked: dict[int, dict[str, Any]] = {}  # the rev a change took -> the message its ack returned
        self.refused: Counter[str] = Counter()


async def churn(
    client: BoundClient,
    channel: str,
    targets: list[dict[str, Any]],
    burst: Burst,
    *,
    owner: bool,
    count: int,
    rng: random.Random,
) -> None:
    """`count` changes one after another on a few shared messages: reactions from everyone, edits
    of its own, pins by the channel's owner; deletes at the end."""
    mine = [m for m in targets if m["user"] == client.username]
    for n in range(count):
        roll = rng.random()
        if roll < 0.3 and mine:
            kind, target, extra = "edit", rng.choice(mine), {"text": f"{client.username} edit {n}"}
        elif roll < 0.4 and owner:
            kind, target, extra = rng.choice(("pin", "unpin")), rng.choice(targets), {}
        else:
            kind, target, extra = (
                rng.choice(("react", "unreact")),
                rng.choice(targets[:3]),
                {"emoji": rng.choice("🐂🐻🚀")},
            )
        if n == count - 1 and mine:
            kind, target, extra = "delete", mine[-1], {}
        ack = await client.call(kind, {"channel": channel, "id": target["id"], **extra})
        if not ack["ok"]:
            burst.refused[ack["error"]["code"]] += 1
            continue
        message = ack["message"]
        if message["rev"] == message["seq"]:  # unchanged since it was sent: a change that changed nothing
            continue
        if message["rev"] in burst.acked:  # a change that changed nothing: the message as it was
            assert burst.acked[message["rev"]] == message
        burst.acked.setdefault(message["rev"], message)


def folded_by_id(updates: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for update in sorted(updates, key=lambda u: u["seq"]):
        latest[update["message"]["id"]] = update["message"]
    return latest


def originals_by_id(sent: list[dict[str, Any]], updates: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The texts each message had before each of its edits and its deletion, from the live events."""
    text = {m["id"]: m["text"] for m in sent}
    replaced: dict[str, list[str]] = {m["id"]: [] for m in sent}
    for update in sorted(updates, key=lambda u: u["seq"]):
        message = update["message"]
        if update["kind"] in ("edit", "delete"):
            replaced[message["id"]].append(text[message["id"]])
        text[message["id"]] = message["text"]
    return replaced


async def change_log(stack: Stack, channel: str) -> Counter[int]:
    """How many times each seq is in the store's change log, straight from the collection."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongo_url, serverSelectionTimeoutMS=5000)
    try:
        docs = await client.get_default_database().changes.find({"channel": channel}, {"seq": 1}).to_list()
        return Counter(doc["seq"] for doc in docs)
    finally:
        await client.close()


@pytest.mark.timeout(150)
async def test_archiver_killed_in_a_burst_of_changes_stores_exactly_what_clients_saw(
    make_stack: MakeStack, make_bound_client: MakeBoundClient
) -> None:
    stack = await make_stack()
    users = [
        await make_bound_client(stack.url, ip)
        for ip in ("127.0.1.1", "127.0.1.2", "127.0.2.1", "127.0.2.2", "127.0.3.1")
    ]
    watcher = await make_bound_client(stack.node_urls()[0], "127.0.4.1")
    channel = await open_channel(users[0], *users[1:], watcher)
    sent = [await say(user, channel, f"{user.username} says {n}") for n in range(2) for user in users]
    burst = Burst()
    churning = [
        asyncio.create_task(churn(u, channel, sent, burst, owner=i == 0, count=100, rng=random.Random(i)))
        for i, u in enumerate(users)
    ]
    await until(lambda: len(burst.acked) >= 120, 30, "120 acknowledged changes")
    at_kill = await kill_holding_entries(stack)
    await asyncio.gather(*churning)
    await asyncio.to_thread(stack.restart, "archiver")
    restarted = time.monotonic()

    last = max(burst.acked)
    await watcher.wait_for("message_updated", lambda u: u["seq"] == last, timeout=10)
    updates = [u for u in watcher.received("message_updated") if u["channel"] == channel]
    assert sorted(u["seq"] for u in updates) == sorted(burst.acked)  # every acked change, once, live
    for update in updates:
        assert update["message"] == burst.acked[update["seq"]]
    expected = folded_by_id(updates)
    seqs = set(burst.acked)

    log: Counter[int] = Counter()

    def drained() -> bool:
        return set(log) >= seqs

    deadline = time.monotonic() + 60
    while True:
        log = await change_log(stack, channel)
        left = await backlog(stack)
        if drained() and left["pending"] == 0 and left["lag"] == 0:
            break
        if time.monotonic() > deadline:
            pytest.fail(f"{len(seqs - set(log))} changes not archived (backlog {left}):\n{stack.log_tail('archiver')}")
        await asyncio.sleep(0.5)
    assert left["dead"] == 0
    assert log == Counter(seqs), "a change missing from the change log, doubled, or one nobody made"

    store = await open_store(stack.mongo_url)
    try:
        for message in sent:
            stored = (await store.get_message(channel, message["id"])).wire()  # type: ignore[union-attr]
            stored.pop("reply_count", None)
            assert stored == expected.get(message["id"], message), message["id"]
        replaced = originals_by_id(sent, updates)
        wrong_originals = [m["id"] for m in sent if await store.originals(channel, m["id"]) != replaced[m["id"]]]
    finally:
        await store.close()
    report(
        "archiver kill -9 in a burst of changes",
        changes=len(seqs),
        refused=dict(burst.refused),
        at_kill=at_kill,
        kinds=dict(Counter(u["kind"] for u in updates)),
        caught_up_in=f"{time.monotonic() - restarted:.1f}s",
    )
    assert at_kill["pending"] > 0, "the kill never caught the archiver holding unacked entries"
    assert len(seqs) >= 300
    # the texts each message had before every edit and its deletion, in seq order however the archiver
    # applied them after its restart
    assert wrong_originals == []
