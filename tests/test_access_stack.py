"""Access on the local stack (DESIGN §8): what is decided through one node holds on the other at once. A
member kicked or banned through node 1 gets nothing more of the channel on node 2, a mute set through
node 1 refuses the next send on node 2, a private channel made on node 1 does not exist for a non-member on
node 2, and a suspension through node 1 ends the user's socket on node 2 within a second."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import socketio

from core.store import Store, open_store
from scripts.stack import Stack
from tests.apps import code
from tests.stack_fixtures import BoundClient, MakeBoundClient

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]
# each user from an address of its own: registering many from one address is throttled
_addresses = (f"127.0.{a}.{b}" for a, b in itertools.product(range(40, 250), range(1, 250)))


@pytest.fixture
async def stack_store(stack: Stack) -> AsyncIterator[Store]:
    """The stack's own store, for what the command line does there (granting a site role)."""
    store = await open_store(stack.mongo_url)
    try:
        yield store
    finally:
        await store.close()


async def on_node(stack: Stack, make_bound_client: MakeBoundClient, node: int) -> BoundClient:
    return await make_bound_client(stack.node_urls()[node - 1], next(_addresses))


def error_code(ack: dict[str, Any]) -> str:
    assert ack["ok"] is False, ack
    return str(ack["error"]["code"])


async def joined(client: BoundClient, channel: str) -> dict[str, Any]:
    ack = await client.call("join", {"channel": channel})
    assert ack["ok"] is True, ack
    return dict(ack)


async def say(client: BoundClient, channel: str, text: str) -> dict[str, Any]:
    ack = await client.call("send", {"channel": channel, "text": text})
    assert ack["ok"] is True, ack
    return dict(ack["message"])


async def channel_of(owner: BoundClient, *members: BoundClient, visibility: str = "private") -> str:
    name = f"c{uuid.uuid4().hex[:10]}"
    status, body = await owner.request("POST", "/api/channels", {"name": name, "visibility": visibility})
    assert status == 201, body
    for member in members:
        reply = await owner.request("PUT", f"/api/channels/{name}/members/{member.username}", {})
        assert reply[0] == 200, reply
    return name


def has_id(message_id: str) -> Callable[[Any], bool]:
    return lambda m: bool(m["id"] == message_id)


async def all_clear(herald: BoundClient, *listeners: BoundClient) -> None:
    """A message to #general each listener receives: what the live feed carried before it has reached them
    too (one feed, delivered in order)."""
    for client in (herald, *listeners):
        await joined(client, "general")
    sent = await say(herald, "general", "all clear")
    for listener in listeners:
        await listener.wait_for("message", has_id(sent["id"]))


async def test_a_member_kicked_or_banned_through_node_1_gets_nothing_more_on_node_2(
    stack: Stack, make_bound_client: MakeBoundClient
) -> None:
    owner = await on_node(stack, make_bound_client, 1)
    kicked, banned, watcher = [await on_node(stack, make_bound_client, 2) for _ in range(3)]
    channel = await channel_of(owner, kicked, banned, watcher)
    for client in (owner, kicked, banned, watcher):
        await joined(client, channel)
    for victim, method, path, body in (
        (kicked, "DELETE", f"/api/channels/{channel}/members/{kicked.username}", None),
        (banned, "POST", f"/api/channels/{channel}/bans", {"username": banned.username}),
    ):
        status, reply = await owner.request(method, path, body)
        assert status in (200, 204), reply
        right_after = (await say(owner, channel, f"after {victim.username} went"))["id"]
        await watcher.wait_for("message", has_id(right_after))
        await all_clear(owner, victim)
        assert [m for m in victim.received("message") if m["id"] == right_after] == []
        kind = "member_removed" if victim is kicked else "banned"
        assert [e["kind"] for e in victim.received("channel_event") if e.get("target") == victim.username] == [
            "member_added",
            kind,
        ]
        assert error_code(await victim.call("send", {"channel": channel, "text": "still here?"})) == (
            "channel_not_found"
        )
        assert error_code(await victim.call("join", {"channel": channel})) == "channel_not_found"
    assert code(await owner.request("PUT", f"/api/channels/{channel}/members/{banned.username}", {})) == (
        403,
        "banned",
    )


async def test_a_mute_through_node_1_refuses_the_next_send_on_node_2(
    stack: Stack, make_bound_client: MakeBoundClient
) -> None:
    owner = await on_node(stack, make_bound_client, 1)
    chatty = await on_node(stack, make_bound_client, 2)
    channel = await channel_of(owner, visibility="public")
    for client in (owner, chatty):
        await joined(client, channel)
    await say(chatty, channel, "before")
    for round_ in range(10):  # each way, at once, again and again: no luck of timing
        mute = {"username": chatty.username, "minutes": 1 + round_}
        status, muted = await owner.request("POST", f"/api/channels/{channel}/mutes", mute)
        assert status == 200, muted
        refused = await chatty.call("send", {"channel": channel, "text": "right after"})
        assert error_code(refused) == "muted" and refused["error"]["until"] == muted["until"], round_
        assert (await joined(chatty, channel))["muted_until"] == muted["until"]  # the join through node 2
        assert await owner.request("DELETE", f"/api/channels/{channel}/mutes/{chatty.username}") == (204, "")
        await say(chatty, channel, f"lifted at once {round_}")


async def test_a_private_channel_made_on_node_1_does_not_exist_for_a_non_member_on_node_2(
    stack: Stack, make_bound_client: MakeBoundClient
) -> None:
    owner = await on_node(stack, make_bound_client, 1)
    member, stranger = [await on_node(stack, make_bound_client, 2) for _ in range(2)]
    channel = await channel_of(owner, member)
    await joined(owner, channel)
    sent = await say(owner, channel, "the block trades at four")
    await member.wait_for("channel_event", lambda e: e["kind"] == "member_added" and e["channel"] == channel)
    assert [m["text"] for m in (await joined(member, channel))["messages"]] == ["the block trades at four"]

    _, listing = await stranger.request("GET", "/api/channels")
    assert channel not in [c["name"] for c in listing["channels"]]
    assert error_code(await stranger.call("join", {"channel": channel})) == "channel_not_found"
    for path in (
        f"/api/channels/{channel}/messages",
        f"/api/channels/{channel}/messages/{sent['id']}/replies",
        f"/api/channels/{channel}/members",
        f"/api/channels/{channel}/pins",
    ):
        assert code(await stranger.request("GET", path)) == (404, "channel_not_found"), path
    await say(owner, channel, "one more")
    await all_clear(owner, stranger, member)
    assert [name for name, data in stranger.events if channel in str(data)] == []


async def test_a_suspension_through_node_1_ends_the_users_socket_on_node_2_within_a_second(
    stack: Stack, make_bound_client: MakeBoundClient, stack_store: Store
) -> None:
    admin = await on_node(stack, make_bound_client, 1)
    assert await stack_store.set_user_roles(admin.username, ["admin"])
    suspect, bystander = [await on_node(stack, make_bound_client, 2) for _ in range(2)]
    status, body = await admin.request("POST", f"/api/admin/users/{suspect.username}/suspend")
    assert (status, body) == (200, {"username": suspect.username, "suspended": True})
    async with asyncio.timeout(1):
        while suspect.sio.connected:
            await asyncio.sleep(0.02)
    assert code(await suspect.request("GET", "/api/channels")) == (401, "unauthorized")  # through node 2
    suspect.sio = socketio.AsyncClient(reconnection=False, http_session=suspect.http)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await suspect.connect()
    assert bystander.sio.connected  # nobody else
