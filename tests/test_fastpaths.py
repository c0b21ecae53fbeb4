"""The code reaching into libraries' private parts (core/fastpaths.py): checked against what it was
written for, switched off cleanly when that differs, and the libraries' own code then serves."""

from __future__ import annotations

import asyncio
import gc
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp.test_utils import TestServer
from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket

from core import fastpaths
from core.bus.redis_client import HIREDIS_PACKING
from core.fastpaths import FastPath, fingerprint, is_on, mismatches
from quotes.yahoo import CHART_ONLY
from server.app_keys import SIO
from socketio_edge import broadcast
from socketio_edge.broadcast import FRAME_ONCE, QUICK_RESUBSCRIBE, FrameOnceManager, TrackedWebSocket
from socketio_edge.engine_socket import INLINE_FRAMES, LEAN_SOCKETS
from socketio_edge.server import EVENT_FRAMES, PROTECTIONS
from tests.apps import ChatClient

ROOT = Path(__file__).resolve().parent.parent
ALL = (
    LEAN_SOCKETS,
    INLINE_FRAMES,
    FRAME_ONCE,
    QUICK_RESUBSCRIBE,
    EVENT_FRAMES,
    PROTECTIONS,
    HIREDIS_PACKING,
    CHART_ONLY,
)


@pytest.fixture(autouse=True)
def fresh_verdicts() -> Iterator[None]:
    before = fastpaths._enabled
    fastpaths.configure(True)
    fastpaths._verdicts.clear()
    yield
    fastpaths.configure(before)
    fastpaths._verdicts.clear()


def test_every_override_of_a_library_is_declared_here() -> None:
    """A new FastPath must join ALL, so the canary below watches its upstream code too."""
    found = subprocess.run(
        ["git", "grep", "-c", "= FastPath(", "--", "*.py", ":!tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    declared = sum(int(line.rsplit(":", 1)[1]) for line in found)
    assert declared == len(ALL), found


def test_the_locked_libraries_are_the_ones_each_fast_path_was_written_for() -> None:
    """make install takes requirements-dev.lock: there, every fast path is on."""
    assert {path.name: mismatches(path) for path in ALL} == {path.name: [] for path in ALL}


def test_upstream_code_we_replace_or_imitate_is_unchanged() -> None:
    """The canary: an upstream body that changed since the fast path was written must be re-read
    (and its fingerprint updated here only after that)."""
    changed = [
        f"{path.name}: re-read {where} (fingerprint {fingerprint(where)}, written against {wanted})"
        for path in ALL
        for where, wanted in path.sources.items()
        if fingerprint(where) != wanted
    ]
    assert not changed, "\n".join(changed)


def test_a_mismatch_switches_a_path_off_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    newer = FastPath("test-path", "nothing", {"aiohttp": "99.0"}, ("aiohttp.web:Application.nonexistent",))
    with caplog.at_level(logging.WARNING, logger="core.fastpaths"):
        assert not is_on(newer) and not is_on(newer)
    assert len(caplog.records) == 1
    line = caplog.records[0].getMessage()
    assert "test-path is off" in line and "written for 99.0" in line and "nonexistent is missing" in line


def test_chat_fast_paths_off_switches_every_path_off() -> None:
    assert all(is_on(path) for path in ALL)
    fastpaths.configure(False)
    assert not any(is_on(path) for path in ALL)


def test_protections_are_not_optional() -> None:
    gone = FastPath("test-guard", "this test", {}, ("socketio.async_server:AsyncServer._no_such_method",))
    with pytest.raises(RuntimeError, match="_no_such_method no longer exist"):
        fastpaths.require(gone)


async def test_with_fast_paths_off_the_libraries_own_code_serves_the_chat(make_server: Any, fake_stooq: Any) -> None:
    server: TestServer = await make_server(stooq_url=fake_stooq.url, fast_paths=False)
    url = str(server.make_url("")).rstrip("/")
    sio = server.app[SIO]
    assert isinstance(sio.manager, FrameOnceManager) and not sio.manager.direct
    clients = []
    async with _session() as http:
        for name in ("olga", "pavel"):
            client = ChatClient(url, http)
            await (await client.register(name)).connect()
            assert (await client.call("join", {"channel": "general"}))["ok"]
            clients.append(client)
        olga, pavel = clients
        assert all(type(s) is AsyncSocket for s in sio.eio.sockets.values())  # engine.io's own sockets
        for i in range(10):
            ack = await olga.call("send", {"channel": "general", "text": f"stock path {i}"})
            assert ack["ok"], ack
        got = [m["text"] for m in await _messages(pavel, 10)]
        assert got == [f"stock path {i}" for i in range(10)]
        assert sio.manager.direct_writes == 0 and sio.manager.queued_writes >= 20
        for client in clients:
            await client.sio.disconnect()


@pytest.mark.fastpath
async def test_a_socket_upgraded_from_polling_gets_held_frames_before_queued_packets(chat_server: TestServer) -> None:
    """Browsers start on polling and upgrade. Their websocket then runs engine.io's own writer, and
    fan-out writes around its queue (held a turn or two to share a syscall): a packet put on the
    queue meanwhile must not overtake them."""
    url = str(chat_server.make_url("")).rstrip("/")
    sio = chat_server.app[SIO]
    async with _session() as http:
        client = ChatClient(url, http)
        await client.register("upgrader")
        await client.sio.connect(url, auth={"token": client.token}, transports=["polling", "websocket"])
        try:
            async with asyncio.timeout(5):
                while client.sio.transport() != "websocket" or not _idle_upgraded(sio):
                    await asyncio.sleep(0.02)
            (sock,) = sio.eio.sockets.values()
            assert (
                sock.reader is None
            )  # engine.io's own websocket loop and writer, not socketio_edge/engine_socket.py's
            for i in range(0, 40, 2):
                broadcast.send_one(sock, f'2["order",{i}]', sio.manager.writes)  # held by the Coalescer
                sock.queue.put_nowait(eio_packet.Packet(eio_packet.MESSAGE, f'2["order",{i + 1}]'))
                await asyncio.sleep(0.01)
            async with asyncio.timeout(5):
                while len(client.received("order")) < 40:
                    await asyncio.sleep(0.02)
            assert client.received("order") == list(range(40))
            # Python 3.11's wait_for in engine.io's writer takes longer to wake than the Coalescer holds a
            # frame, so above the order holds even unguarded; from 3.12 it wakes at once. Sending the way
            # that writer does, on any Python: the held frame must leave first.
            # by exact type: isinstance() on a weak proxy among gc's objects raises once its referent is gone
            (websocket,) = [o for o in gc.get_objects() if type(o) is TrackedWebSocket and o._sock is not None]
            broadcast.send_one(sock, '2["order",40]', sio.manager.writes)
            await websocket.send('42["order",41]')
            async with asyncio.timeout(5):
                while len(client.received("order")) < 42:
                    await asyncio.sleep(0.02)
            assert client.received("order") == list(range(42))
        finally:
            await client.sio.disconnect()


def _idle_upgraded(sio: socketio.AsyncServer) -> bool:
    socks = list(sio.eio.sockets.values())
    return len(socks) == 1 and socks[0].upgraded and getattr(socks[0].queue, "consumer_waiting", False)


def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())


async def _messages(client: ChatClient, count: int) -> list[Any]:
    async with asyncio.timeout(5):
        while len(client.received("message")) < count:
            await asyncio.sleep(0.02)
    return client.received("message")
