"""Issue 7 §3: floods are limited and cut off without slowing others, malformed packets cost no memory,
half-open connections are reaped, and nobody reads, posts or speaks where they may not. Figures with -s."""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import sys
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp.test_utils import TestServer

from tests.apps import ChatClient, ClientFactory
from tests.rawio import ROOT, LiveNode, drain_until_closed, flood, live_node, open_socket, register, ws_url


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def _round_trips(users: list[socketio.AsyncClient], seconds: float, rate: float) -> tuple[list[float], int]:
    """Each user sends `rate` messages a second; send -> own `message` event times, and acks refused."""
    pending: dict[str, float] = {}
    rtts: list[float] = []
    refused = 0

    def on_message(data: dict[str, Any]) -> None:
        started = pending.pop(data.get("text", ""), None)
        if started is not None:
            rtts.append((time.perf_counter() - started) * 1000)

    for user in users:
        user.on("message", on_message)

    async def speak(index: int, user: socketio.AsyncClient) -> None:
        nonlocal refused
        await asyncio.sleep(random.random() / rate)
        end = time.monotonic() + seconds
        n = 0
        while time.monotonic() < end:
            n += 1
            text = f"rtt {index}-{n}-{random.random()}"
            pending[text] = time.perf_counter()
            ack = await user.call("send", {"channel": "general", "text": text}, timeout=10)
            refused += not ack["ok"]
            await asyncio.sleep(1 / rate)

    await asyncio.gather(*(speak(i, u) for i, u in enumerate(users)))
    await asyncio.sleep(1)
    return rtts, refused + len(pending)


@pytest.mark.serial  # a latency comparison (p99 with flooders against without): alone on the box
@pytest.mark.timeout(120)
async def test_send_flooders_are_cut_off_without_slowing_the_others(tmp_path: Path) -> None:
    seconds = float(os.environ.get("FLOOD_SECONDS", "6"))
    async with live_node(tmp_path) as node, aiohttp.ClientSession() as http:
        users = []
        for i in range(8):
            token = await register(http, node.url, f"trader{i}")
            sio = socketio.AsyncClient(reconnection=False)
            await sio.connect(node.url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
            assert (await sio.call("join", {"channel": "general"}))["ok"]
            users.append(sio)
        flooders = [await register(http, node.url, f"mallory{i}") for i in range(2)]
        quiet, quiet_lost = await _round_trips(users, seconds, rate=2)
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.rawio",
                "flood",
                node.url,
                token,
                event,
                str(seconds),
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
            )
            for token, event in zip(flooders, ("send", "send"), strict=True)
        ]
        noisy, noisy_lost = await _round_trips(users, seconds, rate=2)
        reports = [json.loads((await p.communicate())[0]) for p in procs]
        for sio in users:
            await sio.disconnect()
    print(
        f"\n[abuse] others' send->message round trip, 8 users x 2 msg/s, {seconds:.0f} s each: "
        f"quiet p50 {statistics.median(quiet):.1f} ms p99 {p99(quiet):.1f} ms (n={len(quiet)}); "
        f"under flood p50 {statistics.median(noisy):.1f} ms p99 {p99(noisy):.1f} ms (n={len(noisy)})"
    )
    for report in reports:
        print(
            f"[abuse] flooder: {report['cycles']} connections, {report['frames']} frames, "
            f"{report['closed_by_server']} closed by the server, acks {report['acks']}"
        )
    assert quiet_lost == 0 and noisy_lost == 0
    for report in reports:
        assert report["closed_by_server"] == report["cycles"]  # every flooding connection was cut off
        # the user's one event budget also refuses the join of a new connection: its sends are not_joined
        assert set(report["acks"]) <= {"ok", "rate_limited", "not_joined", "connect:rate_limited"}
        assert report["acks"]["rate_limited"] >= 50
        # the per-user send limit holds across reconnects: burst 20 + 5/s
        assert report["acks"].get("ok", 0) <= report["cycles"] + 20 + 5 * (seconds + 6)  # one join ack each
    assert p99(noisy) <= max(3 * p99(quiet), p99(quiet) + 100)


@pytest.mark.parametrize("event", ["send", "typing", "join", "leave", "no-such-event", "connect", "disconnect"])
async def test_flooding_any_event_is_limited_then_disconnected(make_server, fake_stooq, event: str) -> None:  # type: ignore[no-untyped-def]
    server: TestServer = await make_server()
    url = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        token = await register(http, url, "mallory")
    report = await flood(url, token, event, seconds=0)
    print(
        f"\n[abuse] flooding {event!r}: {report['frames']} frames -> acks {report['acks']}, "
        f"closed by server: {bool(report['closed_by_server'])}"
    )
    if event in ("join", "leave"):
        # a client opening many channels joins in bursts and retries what is refused: not cut off for it
        assert report["closed_by_server"] == 0 and report["acks"].get("rate_limited", 0) >= 200
        return
    assert report["closed_by_server"] == 1
    # past the connection's budget, 50 refusals and the socket is closed (sends also meet the per-user limit)
    assert 50 <= report["acks"].get("rate_limited", 0) <= (300 if event == "send" else 51)


BAD_FRAMES: list[str | bytes] = [
    "hello",
    "",
    "4",
    "42",
    "42[",
    '42["send"',
    "42{}",
    '42"send"',
    "42[]",
    "42[null]",
    "42[1,2]",
    "4{}",
    "9999",
    "7",
    "6",
    "5",
    "40",
    "40/admin,",
    "41/other,",
    "44",
    "43",
    "43999[]",
    '43abc["x"]',
    '451-["send",{"_placeholder":true,"num":0}]',
    '4599999999-["send",{"_placeholder":true,"num":99}]',
    '42["send",{"channel":"general","text":"x","client_id":1e999999}]',
    '42["send",{"channel":"general","text":' + "9" * 20000 + "}]",
    "42" + "[" * 50000,
    "42" + "[" * 5000 + "]" * 5000,
    '42["join",' + '{"a":' * 3000 + "1" + "}" * 3000 + "]",
    '42["send",{"channel":"general","text":"\\ud800"}]',
    '42["send","\x00\xff"]',
    b"\x00\x01\x02\xff",
    b"4" + os.urandom(100),
    b"\xff" * 1000,
]


async def _attack_with_bad_frames(node: LiveNode, token: str, rounds: int) -> tuple[int, int, int]:
    """Send every bad frame `rounds` times over raw websockets, reconnecting when cut off."""
    sent = connections = closed = 0
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        ws = None
        for _ in range(rounds):
            for frame in BAD_FRAMES:
                if ws is None or ws.closed:
                    if ws is not None:
                        closed += 1
                    ws = await open_socket(http, node.url, token)
                    connections += 1
                try:
                    await (ws.send_bytes(frame) if isinstance(frame, bytes) else ws.send_str(frame))
                    sent += 1
                except (ConnectionResetError, aiohttp.ClientConnectionError):
                    ws = None
                    continue
                # read what came back without blocking the attack: the server may close here
                try:
                    msg = await ws.receive(timeout=0.002)
                    if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                        await ws.close()
                    elif msg.type == aiohttp.WSMsgType.TEXT and msg.data == "2":
                        await ws.send_str("3")
                except TimeoutError:
                    pass
            # an oversized frame: over max_http_buffer_size, always closes the socket
            if ws is None or ws.closed:
                ws = await open_socket(http, node.url, token)
                connections += 1
            with suppress(ConnectionResetError, aiohttp.ClientConnectionError):
                await ws.send_str('42["send",{"channel":"general","text":"' + "y" * 100_000 + '"}]')
                sent += 1
            await drain_until_closed(ws, 3)
            closed += ws.closed or 1
            ws = None
    return sent, connections, closed


@pytest.mark.timeout(240)
async def test_malformed_packets_and_oversized_frames_cost_no_memory(tmp_path: Path) -> None:
    rounds = int(os.environ.get("BAD_FRAME_ROUNDS", "100"))
    async with live_node(tmp_path, CHAT_CONNECT_BURST="100000") as node, aiohttp.ClientSession() as http:
        token = await register(http, node.url, "mallory")
        await _attack_with_bad_frames(node, token, rounds)  # warm-up: caches, pools, allocator arenas at their plateau
        await asyncio.sleep(1)
        before = node.rss_kb()
        sent, connections, closed = await _attack_with_bad_frames(node, token, rounds)
        await asyncio.sleep(2)
        after = node.rss_kb()
        # still serving: a normal user chats as usual
        alice = await (await ChatClient(node.url, http).register("alice")).connect()
        assert (await alice.call("join", {"channel": "general"}))["ok"]
        ack = await alice.call("send", {"channel": "general", "text": "after the storm"})
        assert ack["ok"] and (await alice.wait_for("message"))["text"] == "after the storm"
        await alice.sio.disconnect()
        sockets = await node.metric("chat_socket_connections")
        alive = node.proc.returncode is None
    log = (tmp_path / "node.log").read_text(errors="replace")
    print(
        f"\n[abuse] {sent} malformed/oversized frames ({len(BAD_FRAMES) + 1} kinds x {rounds}) over {connections} "
        f"connections ({closed} cut off): server RSS {before} kB -> {after} kB ({after - before:+d} kB); "
        f"tracebacks in the node's log: {log.count('Traceback')}"
    )
    assert alive and sockets == 0
    assert after - before < 8 * 1024  # thousands of bad frames leave no trace (allocator noise is ~1-3 MB)
    assert "Traceback" not in log


async def _half_open_tcp(count: int, partial: bool) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    held = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", PORT_HOLDER[0])
        if partial:  # slowloris: a request line and part of the headers, never finished
            writer.write(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        held.append((reader, writer))
    return held


PORT_HOLDER = [0]


@pytest.mark.timeout(240)
async def test_half_open_connections_are_reaped(tmp_path: Path) -> None:
    count = int(os.environ.get("HALF_OPEN_COUNT", "1000"))
    env = {"CHAT_PING_INTERVAL": "1", "CHAT_PING_TIMEOUT": "1", "CHAT_HTTP_IDLE_TIMEOUT": "3"}
    # one user, one address, thousands of sessions: the caps of tests/test_hostile.py are lifted here
    env |= {
        "CHAT_MAX_SOCKETS_PER_USER": "10000",
        "CHAT_MAX_SOCKETS_PER_ADDRESS": "10000",
        "CHAT_CONNECT_BURST": "10000",
    }
    async with (
        live_node(tmp_path, **env) as node,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar()) as http,
    ):
        PORT_HOLDER[0] = int(node.url.rsplit(":", 1)[1])
        token = await register(http, node.url, "lurker")
        await asyncio.sleep(4)
        base_sockets = node.open_sockets()
        raw = await _half_open_tcp(count, partial=False)
        slow = await _half_open_tcp(count // 4, partial=True)
        # Engine.IO sessions that complete the handshake and the Socket.IO connect, then never answer a ping
        # opened a hundred at a time: one by one, on a busy box, the first would be reaped (ping 1 s + 1 s, idle
        # 3 s) before the last is open, and the peak would not show them all held at once
        mute = []
        for start in range(0, count, 100):
            batch = min(100, count - start)
            mute += await asyncio.gather(*(open_socket(http, node.url, token) for _ in range(batch)))
        polling = []
        for _ in range(count // 4):  # polling handshakes that never poll again
            async with http.get(node.url + "/socket.io/?EIO=4&transport=polling") as resp:
                polling.append(resp.status)
        peak_sockets = node.open_sockets()
        peak_sio = await node.metric("chat_socket_connections")
        # idle timeout 3 s; ping interval + timeout 2 s; then a websocket close waits up to 10 s for its echo
        started = time.monotonic()
        while node.open_sockets() > base_sockets + 5 and time.monotonic() - started < 25:
            await asyncio.sleep(0.5)
        reaped_after = time.monotonic() - started
        end_sockets = node.open_sockets()
        end_sio = await node.metric("chat_socket_connections")
        closed_raw = sum([r.at_eof() or await _is_closed(r) for r, _ in raw + slow])
        closed_mute = sum([ws.closed or await _ws_closed(ws) for ws in mute])
        for _, writer in raw + slow:
            writer.close()
        for ws in mute:
            await ws.close()
        # and the node still serves
        alice = await (await ChatClient(node.url, http).register("alice")).connect()
        assert (await alice.call("join", {"channel": "general"}))["ok"]
        await alice.sio.disconnect()
    print(
        f"\n[abuse] half-open: {count} silent TCP + {count // 4} slowloris + {count} mute Engine.IO websockets + "
        f"{count // 4} abandoned polling sessions; server sockets {base_sockets} before -> {peak_sockets} at peak "
        f"-> {end_sockets} after {reaped_after:.1f} s; Socket.IO connections {peak_sio:.0f} -> {end_sio:.0f}; "
        f"closed by the server: TCP {closed_raw}/{len(raw) + len(slow)}, websockets {closed_mute}/{len(mute)}"
    )
    # the first mute sessions may already be reaped (ping 1 s + 1 s) before the last one is open
    assert set(polling) == {200} and 0 < peak_sio <= count
    assert peak_sockets >= base_sockets + count  # the silent ones start being reaped while the rest connect
    assert end_sio == 0 and end_sockets <= base_sockets + 5
    assert closed_raw == len(raw) + len(slow) and closed_mute == len(mute)


async def _is_closed(reader: asyncio.StreamReader) -> bool:
    try:
        return await asyncio.wait_for(reader.read(65536), 0.05) == b"" or reader.at_eof()
    except TimeoutError:
        return False
    except ConnectionError:
        return True


async def _ws_closed(ws: aiohttp.ClientWebSocketResponse) -> bool:
    try:
        while True:
            msg = await ws.receive(timeout=0.05)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                return True
    except TimeoutError:
        return ws.closed


async def test_no_reading_or_posting_without_join_and_no_speaking_as_someone_else(
    make_client: ClientFactory, chat_url: str
) -> None:
    alice = await make_client("alice")
    outsider = await make_client("outsider")
    assert (await alice.call("join", {"channel": "general"}))["ok"]
    # posting or typing into a channel one never joined
    for event in ("send", "typing"):
        ack = await outsider.call(event, {"channel": "general", "text": "sneaky"})
        assert ack["ok"] is False and ack["error"]["code"] == "not_joined"
    # extra fields claiming another identity, the bot, a sequence number or an id are ignored
    forged = {
        "channel": "general",
        "text": "buy now",
        "user": "bob",
        "bot": True,
        "seq": 1,
        "id": "0" * 24,
        "ts": "2000-01-01T00:00:00Z",
        "ephemeral": True,
        "quote": {"price": 1},
    }
    ack = await alice.call("send", forged)
    message = ack["message"]
    assert ack["ok"] and message["user"] == "alice" and message["bot"] is False and message["id"] != "0" * 24
    assert message["ts"] > "2020" and "quote" not in message and not message.get("ephemeral")
    as_bot = await alice.call(
        "send", {"channel": "general", "text": "AAPL.US quote is $1 per share", "user": "StockBot"}
    )
    assert as_bot["message"]["user"] == "alice" and as_bot["message"]["bot"] is False
    # the outsider, never joined, received none of it, on the socket or as typing
    await alice.wait_for("message", lambda m: m["id"] == as_bot["message"]["id"])
    await asyncio.sleep(0.2)
    assert outsider.received("message") == [] and outsider.received("typing") == []
    # other namespaces do not exist; acks for someone else's calls go nowhere
    async with aiohttp.ClientSession() as http:
        ws = await open_socket(http, chat_url, outsider.token)
        await ws.send_str(f'40/admin,{{"token":"{outsider.token}"}}')
        answer = await ws.receive(timeout=5)
        assert answer.data.startswith("44/admin,"), answer
        await ws.close()
    # history of the ones who posted is exactly what they said, under their own names
    status, body = await alice.request("GET", "/api/channels/general/messages")
    assert status == 200 and [(m["user"], m["bot"]) for m in body["messages"]] == [("alice", False)] * 2
    # nobody logged out reads anything
    async with aiohttp.ClientSession() as http, http.get(f"{chat_url}/api/channels/general/messages") as resp:
        assert resp.status == 401
    async with aiohttp.ClientSession() as http:
        stranger = await http.ws_connect(ws_url(chat_url))
        await stranger.receive(timeout=5)
        await stranger.send_str("40")
        refused = await stranger.receive(timeout=5)
        assert refused.data.startswith("44"), refused.data
        await stranger.send_str('42["join",{"channel":"general"}]')
        await stranger.close()
