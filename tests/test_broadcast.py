"""The frame-once fan-out: websocket and polling clients, on one node or two through Redis, get the
same packets python-socketio would send them, in order, and skip_sid still skips."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.app_keys import SIO
from socketio_edge.broadcast import Coalescer, FrameOnceManager, FrameOnceRedisManager, frame
from tests.apps import ChatClient, settings_for

Start = Callable[..., Awaitable[ChatClient]]


@pytest.fixture
async def nodes(tmp_path: Path, redis_url: str) -> AsyncIterator[list[TestServer]]:
    """Two server nodes sharing a store and rooms through Redis."""
    servers = []
    for _ in range(2):
        settings = settings_for(tmp_path, bus_url=redis_url, send_burst=100, event_burst=200)
        server = TestServer(create_app(settings), host="127.0.0.1")
        await server.start_server()
        servers.append(server)
    yield servers
    for server in reversed(servers):
        await server.close()


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    clients: list[ChatClient] = []
    http = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
    counter = 0

    async def make(server: TestServer, transport: str) -> ChatClient:
        nonlocal counter
        counter += 1
        client = ChatClient(str(server.make_url("")).rstrip("/"), http)
        clients.append(client)
        await client.register(f"fan{counter}-{transport}")
        await client.sio.connect(client.base_url, auth={"token": client.token}, transports=[transport], wait_timeout=5)
        ack = await client.call("join", {"channel": "general"})
        assert ack["ok"], ack
        return client

    yield make
    for client in clients:
        await client.sio.disconnect()
    await http.close()


def managers(servers: list[TestServer]) -> list[Any]:
    return [server.app[SIO].manager for server in servers]


@pytest.mark.fastpath
async def test_websocket_and_polling_clients_on_two_nodes_get_identical_messages(
    nodes: list[TestServer], start: Start
) -> None:
    assert all(isinstance(m, FrameOnceRedisManager) for m in managers(nodes))
    clients = [await start(node, transport) for node in nodes for transport in ("websocket", "polling")]
    sender = clients[0]
    ack = await sender.call("send", {"channel": "general", "text": "AAPL looks strong"})
    assert ack["ok"], ack
    for client in clients:
        got = await client.wait_for("message", lambda m: m["id"] == ack["message"]["id"])
        assert got == ack["message"]
    # websockets took the shared frame, polling clients engine.io's own path, on both nodes
    assert all(m.direct_writes > 0 and m.queued_writes > 0 for m in managers(nodes))


async def test_messages_arrive_in_seq_order(nodes: list[TestServer], start: Start) -> None:
    sender = await start(nodes[0], "websocket")
    readers = [await start(node, transport) for node in nodes for transport in ("websocket", "polling")]
    # one after another (concurrent sends may be numbered and emitted in different orders); the
    # sender's own socket mixes queued acks with broadcasts, so the two write paths interleave
    acks = [await sender.call("send", {"channel": "general", "text": f"m{i}"}) for i in range(60)]
    last = acks[-1]["message"]["seq"]
    for client in [sender, *readers]:
        await client.wait_for("message", lambda m, last=last: m["seq"] == last)
        seqs = [m["seq"] for m in client.received("message")]
        assert seqs == sorted(seqs) and len(seqs) == 60


async def test_skip_sid_is_respected_for_typing(nodes: list[TestServer], start: Start) -> None:
    typist = await start(nodes[0], "websocket")
    others = [await start(nodes[0], "polling"), await start(nodes[0], "websocket"), await start(nodes[1], "websocket")]
    assert (await typist.call("typing", {"channel": "general"}))["ok"]
    for client in others:
        await client.wait_for("typing", lambda t: t["user"] == typist.username)
    # nothing else arrives: a message broadcast after the typing reaches the typist, and the typing
    # event, sent to the same room before it, would have come first
    ack = await others[0].call("send", {"channel": "general", "text": "after the typing"})
    await typist.wait_for("message", lambda m: m["id"] == ack["message"]["id"])
    assert typist.received("typing") == []


@pytest.mark.fastpath
async def test_standalone_uses_the_frame_once_manager(chat_server: TestServer, make_client: Any) -> None:
    manager = chat_server.app[SIO].manager
    assert isinstance(manager, FrameOnceManager)
    alice = await make_client("alice")
    bob = await make_client("bob")
    for client in (alice, bob):
        assert (await client.call("join", {"channel": "general"}))["ok"]
    ack = await alice.call("send", {"channel": "general", "text": "hello"})
    assert await bob.wait_for("message", lambda m: m["id"] == ack["message"]["id"]) == ack["message"]
    assert manager.direct_writes >= 2


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_frame_matches_aiohttps_own_framing(size: int) -> None:
    from aiohttp._websocket.writer import WebSocketWriter
    from aiohttp.http_websocket import WSMsgType

    class Transport:
        def __init__(self) -> None:
            self.data = b""

        def write(self, data: bytes) -> None:
            self.data += data

        def is_closing(self) -> bool:
            return False

    transport = Transport()
    writer = WebSocketWriter(None, transport)  # type: ignore[arg-type]
    payload = b"x" * size
    writer._write_websocket_frame(payload, WSMsgType.TEXT, 0)
    assert frame(payload) == transport.data


def test_manager_kinds() -> None:
    assert isinstance(FrameOnceRedisManager("redis://127.0.0.1:6379/0"), FrameOnceManager)


async def test_concurrent_sends_on_one_node_are_broadcast_in_seq_order(nodes: list[TestServer], start: Start) -> None:
    senders = [await start(nodes[0], "websocket") for _ in range(3)]
    readers = [await start(node, "websocket") for node in nodes]
    # all in flight at once: their posts come back over different Redis connections in any order
    acks = await asyncio.gather(
        *(s.call("send", {"channel": "general", "text": f"c{i}"}) for i in range(30) for s in senders)
    )
    assert all(ack["ok"] for ack in acks), acks
    last = max(ack["message"]["seq"] for ack in acks)
    for client in [*senders, *readers]:
        await client.wait_for("message", lambda m, last=last: m["seq"] == last)
        seqs = [m["seq"] for m in client.received("message")]
        assert len(seqs) == 90 and all(a < b for a, b in itertools.pairwise(seqs)), seqs


class _Transport:
    """What Coalescer needs of an asyncio transport, recording each write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closing


async def test_frames_for_one_socket_within_two_loop_turns_leave_as_one_write_in_order() -> None:
    writes, alice, bob, gone = Coalescer(), _Transport(), _Transport(), _Transport()
    writes.write(alice, b"message 1")
    writes.write(bob, b"message 1")
    writes.write(gone, b"message 1")
    gone.closing = True  # closed before the write: nothing written after its close
    await asyncio.sleep(0)
    assert alice.writes == bob.writes == []  # held for one more turn...
    writes.write(alice, b"ack")  # ...where a sender's ack follows its own message
    await asyncio.sleep(0)
    assert alice.writes == [b"message 1ack"] and bob.writes == [b"message 1"] and gone.writes == []
    writes.write(alice, b"message 2")  # later turns: a write of their own
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert alice.writes == [b"message 1ack", b"message 2"]


async def test_frames_held_for_a_socket_go_first_when_something_else_writes_to_it() -> None:
    """engine.io's writer calls flush_for before writing a queued packet: held frames keep their place."""
    writes, alice, bob = Coalescer(), _Transport(), _Transport()
    writes.write(alice, b"message 1")
    writes.write(bob, b"message 1")
    writes.flush_for(alice)
    alice.write(b"queued packet")
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert alice.writes == [b"message 1", b"queued packet"] and bob.writes == [b"message 1"]
