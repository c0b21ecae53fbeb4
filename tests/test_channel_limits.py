"""Channels against spam: creation limited per user and in all, deletion by the creator, and a client
joining many channels at once is slowed down, never disconnected as a flooder."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from core.models import Channel, now_iso
from server.app_keys import STORE
from server.realtime import MAX_REFUSALS, REALTIME
from tests.apps import ChatClient

Users = Callable[..., Awaitable[ChatClient]]


@pytest.fixture
async def start(make_server: Any, fake_stooq: Any) -> AsyncIterator[Callable[..., Awaitable[tuple[TestServer, Users]]]]:
    """A node with the given settings and a factory of its registered, connected users."""
    http = aiohttp.ClientSession()
    clients: list[ChatClient] = []

    async def run(**settings: Any) -> tuple[TestServer, Users]:
        server: TestServer = await make_server(stooq_url=fake_stooq.url, **settings)
        url = str(server.make_url("")).rstrip("/")

        async def user(name: str, *, connect: bool = True) -> ChatClient:
            client = await ChatClient(url, http).register(name)
            clients.append(client)
            return await client.connect() if connect else client

        return server, user

    yield run
    for client in clients:
        await client.sio.disconnect()
    await http.close()


async def test_one_user_creates_channels_only_so_fast_and_others_still_can(start: Any) -> None:
    _, user = await start(channel_create_burst=3, channel_create_rate=0.01)
    spammer, alice = await user("spammer", connect=False), await user("alice", connect=False)
    statuses = [(await spammer.request("POST", "/api/channels", {"name": f"spam-{i}"}))[0] for i in range(6)]
    assert statuses == [201, 201, 201, 429, 429, 429]
    _, body = await spammer.request("POST", "/api/channels", {"name": "spam-9"})
    assert body["error"]["code"] == "rate_limited"
    assert (await alice.request("POST", "/api/channels", {"name": "earnings"}))[0] == 201
    _, listed = await alice.request("GET", "/api/channels")
    assert [c["name"] for c in listed["channels"]] == ["earnings", "general", "spam-0", "spam-1", "spam-2"]


async def test_the_number_of_channels_is_capped(start: Any) -> None:
    _, user = await start(max_channels=3)
    alice, bob = await user("alice", connect=False), await user("bob", connect=False)
    assert (await alice.request("POST", "/api/channels", {"name": "one"}))[0] == 201
    assert (await bob.request("POST", "/api/channels", {"name": "two"}))[0] == 201
    status, body = await bob.request("POST", "/api/channels", {"name": "three"})
    assert status == 403 and body["error"]["code"] == "too_many_channels"
    assert (await alice.request("DELETE", "/api/channels/one"))[0] == 200  # room again once one goes
    assert (await bob.request("POST", "/api/channels", {"name": "three"}))[0] == 201


@pytest.mark.parametrize("name", ["__proto__", "constructor", "Prototype"])
async def test_names_every_javascript_object_has_are_refused(start: Any, name: str) -> None:
    _, user = await start()
    alice = await user("alice", connect=False)
    status, body = await alice.request("POST", "/api/channels", {"name": name})
    assert status == 400 and body["error"]["code"] == "invalid_channel_name"


async def test_the_creator_deletes_a_channel_and_every_client_lets_it_go(start: Any) -> None:
    server, user = await start()
    alice, bob, carol = await user("alice"), await user("bob"), await user("carol")
    assert (await alice.request("POST", "/api/channels", {"name": "pump-and-dump"}))[0] == 201
    for client in (alice, bob):
        assert (await client.call("join", {"channel": "pump-and-dump"}))["ok"]
    assert (await bob.call("send", {"channel": "pump-and-dump", "text": "buy now!!!"}))["ok"]

    status, body = await bob.request("DELETE", "/api/channels/pump-and-dump")  # not his
    assert status == 403 and body["error"]["code"] == "not_channel_owner"
    refused = await bob.call("delete_channel", {"channel": "pump-and-dump"})  # nor over Socket.IO
    assert refused["error"]["code"] == "not_channel_owner"

    status, body = await alice.request("DELETE", "/api/channels/pump-and-dump")
    assert status == 200 and body["name"] == "pump-and-dump"
    for client in (alice, bob, carol):  # carol never joined it: her list must lose it too
        assert await client.wait_for("channel_deleted") == {"name": "pump-and-dump", "deleted_by": "alice"}
    _, listed = await carol.request("GET", "/api/channels")
    assert [c["name"] for c in listed["channels"]] == ["general"]
    ack = await bob.call("send", {"channel": "pump-and-dump", "text": "still here?"})
    assert ack["error"]["code"] == "channel_not_found"
    assert (await carol.call("join", {"channel": "pump-and-dump"}))["error"]["code"] == "channel_not_found"
    status, body = await bob.request("GET", "/api/channels/pump-and-dump/messages")
    assert status == 404
    assert await _archived(server, "buy now!!!")  # the archive keeps what was said
    status, body = await alice.request("DELETE", "/api/channels/pump-and-dump")
    assert status == 404 and body["error"]["code"] == "channel_not_found"


async def _archived(server: TestServer, text: str) -> bool:
    """Whether the archiver has written `text` within a few seconds (it runs beside the node)."""
    for _ in range(50):
        kept, _ = await server.app[STORE].history("pump-and-dump", limit=10)
        if [m.text for m in kept] == [text]:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_general_cannot_be_deleted(start: Any) -> None:
    _, user = await start()
    alice = await user("alice")
    status, body = await alice.request("DELETE", "/api/channels/general")
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert (await alice.call("delete_channel", {"channel": "general"}))["error"]["code"] == "forbidden"
    assert (await alice.call("join", {"channel": "general"}))["ok"]


async def test_a_channel_deleted_through_another_node_is_forgotten_by_this_one(start: Any) -> None:
    """The node that did not delete it hears only close_room: its sweep drops the channel from its
    connections, so a send there is refused rather than archived into a deleted channel."""
    server, user = await start()
    alice = await user("alice")
    assert (await alice.request("POST", "/api/channels", {"name": "elsewhere"}))[0] == 201
    assert (await alice.call("join", {"channel": "elsewhere"}))["ok"]
    assert await server.app[STORE].delete_channel("elsewhere")  # as another node's store write would
    await server.app[REALTIME].sweep_channels()  # runs every few seconds in the node
    assert (await alice.call("send", {"channel": "elsewhere", "text": "hello?"}))["error"]["code"] == (
        "channel_not_found"
    )


async def test_joining_many_channels_at_once_is_slowed_down_not_disconnected(start: Any) -> None:
    server, user = await start(event_rate=20, event_burst=30)
    store = server.app[STORE]
    names = [f"room-{i:03d}" for i in range(150)]
    for name in names:
        await store.create_channel(Channel(name=name, created_by="someone", created_at=now_iso()))
    alice, bob = await user("alice"), await user("bob")
    acks = await asyncio.gather(*(alice.call("join", {"channel": name}) for name in names))
    refused = [name for name, ack in zip(names, acks, strict=True) if not ack["ok"]]
    assert {ack["error"]["code"] for ack in acks if not ack["ok"]} == {"rate_limited"}
    assert len(refused) > MAX_REFUSALS  # enough refusals to have cut off a flooder...
    await asyncio.sleep(1.5)
    assert alice.sio.connected  # ...yet the client is still here, and retrying later works
    retried = await asyncio.gather(*(alice.call("join", {"channel": name}) for name in refused[:20]))
    assert all(ack["ok"] for ack in retried)
    assert (await bob.call("join", {"channel": refused[0]}))["ok"]
    assert (await alice.call("send", {"channel": refused[0], "text": "made it"}))["ok"]
    assert (await bob.wait_for("message", lambda m: m["text"] == "made it"))["user"] == "alice"


async def test_a_deletion_reaches_the_clients_of_every_node(make_server: Any, fake_stooq: Any, redis_url: str) -> None:
    """Two nodes on one Redis and one store: a deletion through node A is heard by node B's clients at
    once (channel_deleted, the room closed), and node B stops taking sends to it on its next sweep."""
    node_a = await make_server(bus_url=redis_url, stooq_url=fake_stooq.url)
    node_b = await make_server(bus_url=redis_url, stooq_url=fake_stooq.url)
    async with aiohttp.ClientSession() as http:
        alice = await (await ChatClient(str(node_a.make_url("")).rstrip("/"), http).register("alice")).connect()
        bob = await (await ChatClient(str(node_b.make_url("")).rstrip("/"), http).register("bob")).connect()
        try:
            assert (await alice.request("POST", "/api/channels", {"name": "two-nodes"}))[0] == 201
            for client in (alice, bob):
                assert (await client.call("join", {"channel": "two-nodes"}))["ok"]
            assert (await bob.call("send", {"channel": "two-nodes", "text": "before"}))["ok"]
            await alice.wait_for("message", lambda m: m["text"] == "before")

            assert (await alice.request("DELETE", "/api/channels/two-nodes"))[0] == 200
            assert await bob.wait_for("channel_deleted") == {"name": "two-nodes", "deleted_by": "alice"}
            await node_b.app[REALTIME].sweep_channels()  # runs every 15 s in the node
            ack = await bob.call("send", {"channel": "two-nodes", "text": "after"})
            assert ack["error"]["code"] == "channel_not_found"
            assert (await alice.call("join", {"channel": "two-nodes"}))["error"]["code"] == "channel_not_found"
            assert not [m for m in alice.received("message") if m["text"] == "after"]
        finally:
            for client in (alice, bob):
                await client.sio.disconnect()
