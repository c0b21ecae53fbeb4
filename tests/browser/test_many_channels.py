"""The web client on a chat with 300 channels (and two named like JavaScript's own object keys): it
joins a few, stays on one connection, and its user can open any channel, send and receive."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiohttp
import pytest
import socketio
from playwright.async_api import WebSocket, expect

from tests.browser.conftest import PASSWORD, ChatServer, UserFactory

pytestmark = pytest.mark.browser

CHANNELS = 300
# What the client joins on its own: the open channel and client/src/lib/joinPlan.ts's background few.
MOST_JOINS = 1 + 20


def _add_channels(server_dir: Path, names: list[str]) -> None:
    """Channels made before the limits existed (or by many users over months): straight into the
    store the running node reads its channel list from."""
    with sqlite3.connect(server_dir / "db.sqlite3") as db:
        db.executemany(
            "INSERT INTO channels (name, created_by, created_at) VALUES (?, 'spammer', '2026-12-01T00:00:00.000Z')",
            [(name,) for name in names],
        )


async def _script_user(server: ChatServer, name: str, channel: str) -> socketio.AsyncClient:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/api/register", json={"username": name, "password": PASSWORD}) as resp:
            assert resp.status == 201, await resp.text()
            token = (await resp.json())["token"]
    sio = socketio.AsyncClient()
    sio.received = []  # type: ignore[attr-defined]
    sio.on("message", lambda m: sio.received.append(m))  # type: ignore[attr-defined]
    await sio.connect(server.url, auth={"token": token}, transports=["websocket"])
    assert (await sio.call("join", {"channel": channel}))["ok"]
    return sio


async def test_a_client_with_300_channels_opens_sends_and_receives(
    signed_up: UserFactory, chat_server: ChatServer
) -> None:
    names = [f"room-{i:03d}" for i in range(CHANNELS - 3)] + ["__proto__", "constructor"]
    _add_channels(chat_server.log.parent, names)
    bob = await _script_user(chat_server, "bob", "room-250")

    sockets: list[WebSocket] = []
    joins: list[str] = []

    def watch(ws: WebSocket) -> None:
        sockets.append(ws)
        ws.on("framesent", lambda frame: joins.append(frame) if '["join"' in str(frame) else None)

    alice = await signed_up("alice")
    alice.page.on("websocket", watch)
    await alice.page.reload()  # a fresh start, watched from its first frame
    channel_list = alice.page.get_by_test_id("channel-list")
    await expect(channel_list.locator("[data-channel]")).to_have_count(CHANNELS - 2)  # the two odd ones left out
    await asyncio.sleep(3)  # long enough for a client joining everything to have been cut off and reconnected
    await expect(alice.page.get_by_test_id("connection-banner")).to_have_attribute("data-state", "connected")
    assert len(sockets) == 1 and 1 <= len(joins) <= MOST_JOINS

    await alice.open_channel("room-250")
    await alice.send("hello from the 250th room")
    async with asyncio.timeout(10):
        while not [m for m in bob.received if m["text"] == "hello from the 250th room"]:  # type: ignore[attr-defined]
            await asyncio.sleep(0.05)
    assert (await bob.call("send", {"channel": "room-250", "text": "heard you, alice"}))["ok"]
    await expect(alice.message("heard you, alice")).to_be_visible()

    await alice.open_channel("general")
    await alice.send("and hello general")
    await expect(alice.message("and hello general")).to_be_visible()
    assert len(sockets) == 1 and alice.errors == []
    assert "flooding" not in chat_server.log.read_text()
    await bob.disconnect()


async def test_a_deleted_channel_leaves_the_open_client(signed_up: UserFactory, chat_server: ChatServer) -> None:
    alice = await signed_up("alice")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{chat_server.url}/api/register", json={"username": "bob", "password": PASSWORD}) as r:
            headers = {"Authorization": f"Bearer {(await r.json())['token']}"}
        async with http.post(f"{chat_server.url}/api/channels", json={"name": "pump"}, headers=headers) as r:
            assert r.status == 201
        channel_list = alice.page.get_by_test_id("channel-list")
        await expect(channel_list.locator("[data-channel='pump']")).to_be_visible()
        await alice.open_channel("pump")
        async with http.delete(f"{chat_server.url}/api/channels/pump", headers=headers) as r:
            assert r.status == 200
    await expect(channel_list.locator("[data-channel='pump']")).to_have_count(0)
    await expect(alice.page.get_by_role("heading", name="general")).to_be_visible()
    await alice.send("still here")
    await expect(alice.message("still here")).to_be_visible()
    assert alice.errors == []
