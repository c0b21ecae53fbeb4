"""Mentions, read marks and search on the local stack (DESIGN §9): two nodes, the notifier in the archiver's
process, MongoDB behind them. A mention sent through node 1 reaches the user's connection on node 2 as a
notification, a read mark set on node 1 reaches the user's other device on node 2, and a message sent
through one node is found by search through the other."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from scripts.stack import Stack
from tests.stack_fixtures import BoundClient, MakeBoundClient

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]
# each user from an address of its own: registering many from one address is throttled
_addresses = (f"127.0.{a}.{b}" for a, b in itertools.product(range(40, 250), range(120, 250)))


async def on_node(stack: Stack, make_bound_client: MakeBoundClient, node: int) -> BoundClient:
    return await make_bound_client(stack.node_urls()[node - 1], next(_addresses))


async def say(client: BoundClient, channel: str, text: str) -> dict[str, Any]:
    ack = await client.call("send", {"channel": channel, "text": text})
    assert ack["ok"] is True, ack
    return dict(ack["message"])


async def test_a_mention_through_node_1_notifies_the_user_on_node_2_once(
    stack: Stack, make_bound_client: MakeBoundClient
) -> None:
    alice = await on_node(stack, make_bound_client, 1)
    bob = await on_node(stack, make_bound_client, 2)
    assert (await alice.call("join", {"channel": "general"}))["ok"]
    sent = await say(alice, "general", f"@{bob.username} look at $NVDA")
    assert sent["mentions"] == [bob.username]
    note = await bob.wait_for("notification", lambda n: n["message"]["id"] == sent["id"], timeout=10)
    assert (note["kind"], note["channel"]) == ("mention", "general")
    await asyncio.sleep(1)  # one notification, however many nodes the notice reached
    assert [n["message"]["id"] for n in bob.received("notification")].count(sent["id"]) == 1
    status, inbox = await bob.request("GET", "/api/me/notifications")
    assert status == 200 and inbox["notifications"][0]["message"]["id"] == sent["id"]


async def test_a_read_mark_set_on_node_1_reaches_the_users_device_on_node_2(
    stack: Stack, make_bound_client: MakeBoundClient
) -> None:
    laptop = await on_node(stack, make_bound_client, 1)
    phone = await make_bound_client(stack.node_urls()[1], next(_addresses))
    await phone.sio.disconnect()  # and back as the laptop's user: a second device of theirs
    phone.username, phone.token = laptop.username, laptop.token
    await phone.connect()
    alice = await on_node(stack, make_bound_client, 1)
    assert (await alice.call("join", {"channel": "general"}))["ok"]
    sent = await say(alice, "general", "read me")
    ack = await laptop.call("read", {"channel": "general", "seq": sent["seq"]})
    assert ack == {"ok": True, "channel": "general", "seq": sent["seq"]}
    assert await phone.wait_for("read_state", timeout=5) == {"channel": "general", "seq": sent["seq"]}
    status, mine = await phone.request("GET", "/api/me/channels")
    general = next(c for c in mine["channels"] if c["name"] == "general")
    assert status == 200 and general["read_seq"] >= sent["seq"]


async def test_what_is_said_through_one_node_is_found_through_the_other(
    stack: Stack, make_bound_client: MakeBoundClient
) -> None:
    alice = await on_node(stack, make_bound_client, 1)
    bob = await on_node(stack, make_bound_client, 2)
    assert (await alice.call("join", {"channel": "general"}))["ok"]
    word = f"zebra{alice.username[-6:]}"
    sent = await say(alice, "general", f"the {word} trade on $AMD")
    async with asyncio.timeout(10):
        while True:
            status, body = await bob.request("GET", "/api/search", params={"q": word, "cashtag": "AMD"})
            assert status == 200, body
            if body["hits"]:
                break
            await asyncio.sleep(0.1)
    assert [m["id"] for m in body["hits"]] == [sent["id"]]
