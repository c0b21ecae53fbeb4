"""A node survives hostile clients: each attack runs against a live node in its own process (loopback
only, bounded loops) while a normal user keeps chatting on it, and the node's memory is measured."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from tests.apps import ChatClient
from tests.rawio import DeafSocket, LiveNode, live_node, register, ws_url

pytestmark = pytest.mark.timeout(180)
LONG = "\U0001d11e" * 1990  # four bytes each in UTF-8: ~8 kB a message on the wire
JOIN_FROM_START = "42" + json.dumps(["join", {"channel": "general", "after": 0}])


class Bystander:
    """A normal user chatting on the node throughout an attack: every send must come back to them."""

    def __init__(self, client: ChatClient) -> None:
        self.client = client
        self.sent = 0
        self.slowest = 0.0
        self.failures: list[str] = []

    async def chat(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sent += 1
            started = time.monotonic()
            try:
                ack = await self.client.call("send", {"channel": "general", "text": f"still here {self.sent}"})
                assert ack["ok"], ack
                await self.client.wait_for("message", lambda m, n=self.sent: m["text"] == f"still here {n}")
            except (AssertionError, TimeoutError, socketio.exceptions.SocketIOError) as exc:
                self.failures.append(repr(exc)[:200])
            self.slowest = max(self.slowest, time.monotonic() - started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)


@contextlib.asynccontextmanager
async def bystander(node: LiveNode, http: aiohttp.ClientSession) -> AsyncIterator[Bystander]:
    client = await (await ChatClient(node.url, http).register("bystander")).connect()
    assert (await client.call("join", {"channel": "general"}))["ok"]
    watcher, stop = Bystander(client), asyncio.Event()
    task = asyncio.create_task(watcher.chat(stop))
    try:
        yield watcher
    finally:
        stop.set()
        await task
        await client.sio.disconnect()
    assert watcher.sent >= 1 and watcher.failures == [], watcher.failures


class RssPeak:
    """The node's resident memory, sampled until stopped: the peak over a baseline."""

    def __init__(self, node: LiveNode) -> None:
        self.node, self.before, self.peak = node, node.rss_kb(), node.rss_kb()
        self.cpu, self.started = node.cpu_seconds(), time.monotonic()
        self.cpu_percent_at_stop = 0.0
        self._task = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, self.node.rss_kb())
            await asyncio.sleep(0.05)

    def cpu_percent(self) -> float:
        """The node's CPU use since sampling began, in % of one core."""
        return 100 * (self.node.cpu_seconds() - self.cpu) / (time.monotonic() - self.started)

    async def stop(self) -> int:
        self.cpu_percent_at_stop = self.cpu_percent()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return self.peak - self.before


async def _seed_long_history(url: str, http: aiohttp.ClientSession, count: int) -> None:
    writer = await (await ChatClient(url, http).register("historian")).connect()
    assert (await writer.call("join", {"channel": "general"}))["ok"]
    for _ in range(count):
        assert (await writer.call("send", {"channel": "general", "text": LONG}))["ok"]
    await writer.sio.disconnect()


async def test_sockets_that_never_read_cannot_exhaust_a_nodes_memory(tmp_path: Path) -> None:
    """20 sockets (4 accounts) ask for 200 long messages again and again and never read, answering
    pings blindly: each is cut off once its queue passes its cap or a write waits too long for it."""
    env = {
        "CHAT_SEND_RATE": "1000",
        "CHAT_SEND_BURST": "1000",
        "CHAT_EVENT_RATE": "1000",
        "CHAT_EVENT_BURST": "1000",
        "CHAT_WRITE_TIMEOUT": "5",
        "CHAT_PING_INTERVAL": "2",
        "CHAT_PING_TIMEOUT": "2",
    }
    async with live_node(tmp_path, **env) as node, aiohttp.ClientSession() as http:
        await _seed_long_history(node.url, http, 200)
        tokens = [await register(http, node.url, f"deaf{i}") for i in range(4)]
        async with bystander(node, http) as watcher:
            rss = RssPeak(node)
            deaf = [await DeafSocket.open(node.url, tokens[i % 4]) for i in range(20)]
            started = time.monotonic()
            for _ in range(40):  # 20 sockets x 40 joins of ~1.6 MB acks: 1.3 GB asked for
                for sock in deaf:
                    if not sock.closed_by_server():
                        sock.send(JOIN_FROM_START)
                        sock.send("3")  # an unsolicited pong: no reading needed to look alive
                await asyncio.sleep(0.25)
            cut = sum(await asyncio.gather(*(sock.wait_closed_by_server(20) for sock in deaf)))
            took = time.monotonic() - started
            growth_kb = await rss.stop()
            for sock in deaf:
                sock.close()
        alive = node.proc.returncode is None
    print(
        f"\n[hostile] 20 never-reading sockets x 40 joins of 200 x 8 kB messages: {cut}/20 cut off within "
        f"{took:.1f} s; node RSS {rss.before // 1024} MB, peak +{growth_kb / 1024:.1f} MB, CPU "
        f"{rss.cpu_percent_at_stop:.0f} % of a core; bystander "
        f"{watcher.sent} sends, slowest round trip {watcher.slowest * 1000:.0f} ms"
    )
    assert alive and cut == 20
    assert growth_kb < 50 * 1024  # without the caps: +568 MB from 4 such sockets in 4 s


async def test_rest_history_is_throttled_by_bytes(tmp_path: Path) -> None:
    env = {"CHAT_SEND_RATE": "1000", "CHAT_SEND_BURST": "1000", "CHAT_EVENT_RATE": "1000", "CHAT_EVENT_BURST": "1000"}
    async with live_node(tmp_path, **env) as node, aiohttp.ClientSession() as http:
        await _seed_long_history(node.url, http, 200)
        token = await register(http, node.url, "puller")
        headers = {"Authorization": f"Bearer {token}"}
        pulled, statuses = 0, []
        async with bystander(node, http):
            started = time.monotonic()
            while time.monotonic() - started < 4:
                async with http.get(f"{node.url}/api/channels/general/messages?limit=200", headers=headers) as r:
                    statuses.append(r.status)
                    pulled += len(await r.read())
    seconds = time.monotonic() - started
    print(f"\n[hostile] REST history for {seconds:.1f} s: {pulled / 1e6:.1f} MB served, {statuses.count(429)} refused")
    assert statuses[0] == 200 and 429 in statuses
    assert pulled < 8e6 + 2e6 * seconds + 2e6  # the burst, the rate, and the last page that went into debt


async def test_binary_frames_and_packets_close_the_socket_at_once(tmp_path: Path) -> None:
    async with live_node(tmp_path) as node, aiohttp.ClientSession() as http:
        token = await register(http, node.url, "binary")
        async with bystander(node, http):
            rss = RssPeak(node)
            announcer = await DeafSocket.open(node.url, token)  # a packet announcing 999,999 attachments
            announcer.send("45999999-" + json.dumps(["send", {"_placeholder": True, "num": 0}]))
            for _ in range(50):
                announcer.send(b"\x00" * 60_000)
            raw = await DeafSocket.open(node.url, token)  # a binary frame, with no packet around it
            raw.send(b"\x04" + b"\x00" * 1000)
            closed = [await announcer.wait_closed_by_server(5), await raw.wait_closed_by_server(5)]
            growth_kb = await rss.stop()
            announcer.close()
            raw.close()
    print(
        f"\n[hostile] binary: both sockets closed {closed}; node RSS +{growth_kb / 1024:.1f} MB, "
        f"CPU {rss.cpu_percent_at_stop:.0f} % of a core"
    )
    assert closed == [True, True] and growth_kb < 20 * 1024  # was +182 MB in 1.6 s


async def test_connections_that_never_log_in_are_closed(tmp_path: Path) -> None:
    async with live_node(tmp_path, CHAT_CONNECT_TIMEOUT="1") as node, aiohttp.ClientSession() as http:
        async with bystander(node, http):
            silent = [await DeafSocket.open(node.url, None, connect=False) for _ in range(20)]
            started = time.monotonic()
            closed = await asyncio.gather(*(sock.wait_closed_by_server(10) for sock in silent))
            took = time.monotonic() - started
            for sock in silent:
                sock.close()
    print(f"\n[hostile] 20 sessions that never log in: {sum(closed)} closed after {took:.1f} s")
    assert all(closed) and took < 5


async def test_sockets_per_user_and_per_address_are_capped_and_reconnect_storms_refused(tmp_path: Path) -> None:
    env = {"CHAT_MAX_SOCKETS_PER_USER": "5", "CHAT_MAX_SOCKETS_PER_ADDRESS": "12", "CHAT_CONNECT_BURST": "8"}
    async with live_node(tmp_path, **env) as node, aiohttp.ClientSession() as http:
        token = await register(http, node.url, "hoarder")
        held, refusals = [], []
        for _ in range(7):
            client = await _connect(node.url, token, refusals)
            if client is not None:
                held.append(client)
        assert len(held) == 5 and [r["code"] for r in refusals] == ["too_many_connections"] * 2
        # a reconnect storm: the connect budget (burst 8) is spent by the attempts above
        await held.pop().disconnect()
        for _ in range(5):
            client = await _connect(node.url, token, refusals)
            if client is None:
                break
            await client.disconnect()
        assert refusals[-1]["code"] == "rate_limited"
        # more Engine.IO sessions from this address than it may hold: refused before any login
        extra = []
        for _ in range(12):
            async with http.get(node.url + "/socket.io/?EIO=4&transport=polling") as resp:
                extra.append(resp.status)
        assert 200 in extra and extra[-1] == 401
        for client in held:
            await client.disconnect()


async def test_one_users_sockets_share_one_event_budget(tmp_path: Path) -> None:
    env = {"CHAT_EVENT_RATE": "5", "CHAT_EVENT_BURST": "20", "CHAT_SEND_RATE": "5", "CHAT_SEND_BURST": "20"}
    async with live_node(tmp_path, **env) as node, aiohttp.ClientSession() as http:
        token = await register(http, node.url, "multi")
        sockets = []
        for _ in range(4):
            ws = await http.ws_connect(ws_url(node.url))
            await ws.receive(timeout=5)
            await ws.send_str("40" + json.dumps({"token": token}))
            assert (await ws.receive(timeout=5)).data.startswith("40")
            sockets.append(ws)
        for ws in sockets:
            for n in range(15):
                await ws.send_str(f"42{n}" + json.dumps(["typing", {"channel": "general"}]))
        answered: dict[str, int] = {"not_joined": 0, "rate_limited": 0}
        for ws in sockets:
            for _ in range(15):
                msg = await ws.receive(timeout=5)
                while not msg.data.startswith("43"):
                    msg = await ws.receive(timeout=5)
                code: Any = json.loads(msg.data[msg.data.index("[") :])[0]["error"]["code"]
                answered[code] += 1
            await ws.close()
    # 60 events over 4 sockets: one burst of 20 (and a little refill) between them, not 4 x 20
    assert 20 <= answered["not_joined"] <= 26 and answered["rate_limited"] >= 34, answered


async def _connect(url: str, token: str, refusals: list[Any]) -> socketio.AsyncClient | None:
    """A Socket.IO client logged in with `token`, or None with the server's refusal added to `refusals`."""
    client = socketio.AsyncClient(reconnection=False)
    client.on("connect_error", refusals.append)
    try:
        await client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        return None
    return client
