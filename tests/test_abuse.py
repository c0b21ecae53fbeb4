"""Abuse and loss on a live node: event floods are cut off; ended sessions lose their sockets; a dead\nnode's users are announced gone."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
import redis.asyncio
import socketio
from aiohttp.test_utils import TestServer

from core.bus.redis import PRESENCE_TTL, RedisBus
from server.realtime import MAX_REFUSALS, REALTIME
from tests.apps import ChatClient


async def test_a_flooding_client_is_limited_then_disconnected_while_others_chat(make_server, fake_stooq) -> None:  # type: ignore[no-untyped-def]
    server: TestServer = await make_server(event_rate=5, event_burst=10)
    url = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        alice = await (await ChatClient(url, http).register("alice")).connect()
        bob = await (await ChatClient(url, http).register("bob")).connect()
        flood = await (await ChatClient(url, http).register("mallory")).connect()
        for client in (alice, bob, flood):
            await client.call("join", {"channel": "general"})
        acks = []
        with contextlib.suppress(socketio.exceptions.SocketIOError):
            for _ in range(500):
                acks.append(await flood.sio.call("typing", {"channel": "general"}, timeout=1))
        await asyncio.wait_for(flood.sio.wait(), 5)  # the server closed the connection
        refused = [a for a in acks if not a["ok"]]
        assert {a["error"]["code"] for a in refused} == {"rate_limited"}
        assert MAX_REFUSALS <= len(refused) <= MAX_REFUSALS + 1 and len(acks) - len(refused) < 20
        ack = await alice.call("send", {"channel": "general", "text": "quiet again"})
        assert ack["ok"] and (await bob.wait_for("message"))["text"] == "quiet again"
        for client in (alice, bob):
            await client.sio.disconnect()


async def test_logging_out_closes_the_sessions_open_sockets(make_server, fake_stooq) -> None:  # type: ignore[no-untyped-def]
    server: TestServer = await make_server()
    url = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        alice = await (await ChatClient(url, http).register("alice")).connect()
        bob = await (await ChatClient(url, http).register("bob")).connect()
        assert (await alice.request("POST", "/api/logout"))[0] == 204
        await server.app[REALTIME].sweep_sessions()  # runs every few seconds in the node
        await asyncio.wait_for(alice.sio.wait(), 5)
        assert not alice.sio.connected and bob.sio.connected
        await bob.sio.disconnect()


async def test_users_of_a_crashed_node_are_announced_offline(make_server, fake_stooq, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    """A node that dies cannot say its users left: the surviving nodes find them unrefreshed past the
    presence TTL and announce them offline, once."""
    server: TestServer = await make_server(bus_url=redis_url)
    url = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http, redis.asyncio.from_url(redis_url) as admin:
        alice = await (await ChatClient(url, http).register("alice")).connect()
        await alice.call("join", {"channel": "general"})
        # "ghost" was online through another node, which died 31 s ago: its last refresh is that old
        crashed_node = RedisBus(redis_url)
        await crashed_node.presence_add("general", "ghost", "sid-on-the-dead-node")
        await crashed_node.close()
        seconds, micros = await admin.time()
        await admin.zadd(
            "chat:presence:general", {"ghost": seconds * 1000 + micros // 1000 - PRESENCE_TTL * 1000 - 1000}
        )
        await server.app[REALTIME].sweep_presence()  # runs every few seconds in the node
        gone = await alice.wait_for("presence", lambda p: p["user"] == "ghost")
        assert gone == {"channel": "general", "user": "ghost", "online": False}
        await server.app[REALTIME].sweep_presence()
        await asyncio.sleep(0.2)
        assert [e for e in alice.events if e[0] == "presence" and e[1]["user"] == "ghost"] == [("presence", gone)]
        assert (await alice.call("join", {"channel": "general"}))["members"] == ["alice"]
        await alice.sio.disconnect()
