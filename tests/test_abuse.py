"""Abuse on a live node: event floods are limited then cut off; ended sessions lose their sockets."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
import socketio
from aiohttp.test_utils import TestServer

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
