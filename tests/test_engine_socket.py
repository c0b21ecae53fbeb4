"""socketio_edge/engine_socket.py: engine.io's websocket sockets trimmed for memory, still speaking the same protocol."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from server.app_keys import SIO
from socketio_edge.engine_socket import InlineQueue, LeanSocket
from socketio_edge.outbox import Outbox
from tests.apps import PASSWORD
from tests.rawio import open_socket


async def test_the_outbox_behaves_as_engine_io_uses_asyncio_queue() -> None:
    queue = Outbox(1024 * 1024)
    assert queue.empty() and queue.qsize() == 0 and not queue.consumer_waiting
    consumer = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    assert queue.consumer_waiting  # the consumer is parked: socketio_edge/broadcast.py may write directly
    queue.put_nowait("a")
    await queue.put("b")
    assert await consumer == "a" and not queue.consumer_waiting
    assert queue.get_nowait() == "b" and queue.empty()
    joined = asyncio.create_task(queue.join())
    await asyncio.sleep(0)
    assert not joined.done()  # two items taken, none marked done yet
    queue.task_done()
    await asyncio.sleep(0)
    assert not joined.done()
    queue.task_done()
    await asyncio.wait_for(joined, 1)


class _Protocol:
    _reading_paused = False


def _text(data: str) -> aiohttp.WSMessage:
    return aiohttp.WSMessage(aiohttp.WSMsgType.TEXT, data, None)


async def test_a_frame_is_taken_inline_only_when_nothing_can_be_ahead_of_it() -> None:
    """socketio_edge/engine_socket.py InlineQueue: a frame skips the queue only while the reader waits on an empty
    one; otherwise it queues behind what is there, so the reader sees every frame it gets in the order sent."""
    queue = InlineQueue(_Protocol(), 2**16, loop=asyncio.get_running_loop())
    taken: list[str] = []
    queue.take = lambda text: text.startswith("42") and not taken.append(text)
    queue.feed_data(_text('42["send",1]'), 12)  # the reader is busy elsewhere: queued
    queue.waiting = True
    queue.feed_data(_text('42["send",2]'), 12)  # waiting, but 1 is still queued: behind it
    assert taken == [] and [(await queue.read()).data for _ in range(2)] == ['42["send",1]', '42["send",2]']
    queue.feed_data(_text('42["send",3]'), 12)  # waiting on an empty queue: taken
    queue.feed_data(_text("3"), 1)  # declined (not an event): queued
    queue.feed_data(_text('42["send",4]'), 12)  # behind the declined one
    assert taken == ['42["send",3]'] and [(await queue.read()).data for _ in range(2)] == ["3", '42["send",4]']


async def test_a_burst_of_sends_is_answered_and_delivered_in_order(
    chat_server: TestServer, chat_url: str, make_client: Any
) -> None:
    """Frames arriving together (one read of the socket holds many) are handled as they are parsed: every send
    is acknowledged, in order, and the other member gets them in the order sent."""
    bob = await make_client("bob")
    await bob.call("join", {"channel": "general"})
    alice = await make_client("alice", connect=False)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        ws = await open_socket(http, chat_url, alice.token)
        await ws.send_str('420["join",{"channel":"general"}]')
        async with asyncio.timeout(5):
            while not (await ws.receive()).data.startswith("430"):
                pass
        for i in range(1, 16):  # written back to back, before the server (on this loop) reads any; within the burst
            await ws.send_str(f'42{i}["send",{{"channel":"general","text":"burst {i}"}}]')
        seqs = []
        async with asyncio.timeout(10):
            while len(seqs) < 15:
                msg = await ws.receive()
                if msg.data == "2":
                    await ws.send_str("3")
                elif msg.data.startswith("43"):
                    head = msg.data.index("[")
                    ack = json.loads(msg.data[head:])[0]
                    assert ack["ok"] and ack["message"]["text"] == f"burst {msg.data[2:head]}"
                    seqs.append(ack["message"]["seq"])
        assert seqs == list(range(seqs[0], seqs[0] + 15))  # answered in the order sent, seq without a gap
        for i in range(1, 16):
            await bob.wait_for("message", lambda m, i=i: m["text"] == f"burst {i}")
        await ws.close()
    texts = [m["text"] for m in bob.received("message") if m["text"].startswith("burst")]
    assert texts == [f"burst {i}" for i in range(1, 16)]


@pytest.mark.fastpath
async def test_websocket_clients_get_lean_sockets_and_keep_chatting(chat_server: TestServer, make_client: Any) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    sockets = list(chat_server.app[SIO].eio.sockets.values())
    assert len(sockets) == 2 and all(isinstance(s, LeanSocket) for s in sockets)
    assert all(isinstance(s.queue, Outbox) for s in sockets)
    for client in (alice, bob):
        assert (await client.call("join", {"channel": "general"}))["ok"]
    for i in range(20):
        ack = await alice.call("send", {"channel": "general", "text": f"hello {i}"})
        await bob.wait_for("message", lambda m, ack=ack: m["id"] == ack["message"]["id"])
    await bob.sio.disconnect()
    async with asyncio.timeout(5):
        while len(chat_server.app[SIO].eio.sockets) != 1:  # the disconnect ran engine.io's close
            await asyncio.sleep(0.05)


async def test_events_straight_from_the_frame_answer_as_python_socketio_would(
    chat_server: TestServer, chat_url: str, make_client: Any
) -> None:
    """Event frames of the default namespace skip engine.io's and python-socketio's dispatch
    (socketio_edge/server.py ChatSocketServer.fast_event); the acks and broadcasts a raw client sees are the protocol's."""
    bob = await make_client("bob")
    await bob.call("join", {"channel": "general"})
    alice = await make_client("alice", connect=False)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        ws = await open_socket(http, chat_url, alice.token)
        await ws.send_str('42["join",{"channel":"general"}]')  # no ack id: handled, nothing answered
        await ws.send_str('421["join",{"channel":"general"}]')  # joined once this one is answered
        async with asyncio.timeout(5):
            while not (msg := await ws.receive()).data.startswith("431"):
                assert msg.type == aiohttp.WSMsgType.TEXT, msg
        long_id, longer_id = "9" * 20, "7" * 21  # the second is past the fast path: python-socketio's own
        for ack_id, text in ((long_id, "straight"), (longer_id, "the long way"), ("0", "   ")):
            await ws.send_str(f"42{ack_id}" + json.dumps(["send", {"channel": "general", "text": text}]))
        acks = {}
        async with asyncio.timeout(5):
            while len(acks) < 3:
                msg = await ws.receive()
                assert msg.type == aiohttp.WSMsgType.TEXT, msg
                if msg.data == "2":
                    await ws.send_str("3")
                elif msg.data.startswith("43"):
                    head = msg.data.index("[")
                    acks[msg.data[2:head]] = json.loads(msg.data[head:])
        assert acks[long_id][0]["ok"] and acks[long_id][0]["message"]["text"] == "straight"
        assert acks[longer_id][0]["ok"] and acks[longer_id][0]["message"]["text"] == "the long way"
        assert acks["0"] == [{"ok": False, "error": {"code": "empty_message", "message": "The message is empty"}}]
        for text in ("straight", "the long way"):
            await bob.wait_for("message", lambda m, text=text: m["text"] == text and m["user"] == "alice")
        await ws.close()


@pytest.mark.parametrize(
    ("frame", "fast"),
    [
        ('42["typing",{"channel":"general"}]', True),
        ('421["typing",{"channel":"general"}]', True),
        ('42/admin,["typing",{}]', False),  # another namespace
        ('451-["typing",{"_placeholder":true,"num":0}]', False),  # binary event
        ("42[1]", False),
        ("42[]", False),
        ("42[", False),
        ("42{}", False),
        ('42 ["typing",{}]', False),
        ('4212345678901234567890123["typing"]', False),  # ack ids past 20 digits: python-socketio's checks
    ],
)
async def test_only_plain_event_frames_take_the_fast_path(
    chat_server: TestServer, make_client: Any, frame: str, fast: bool
) -> None:
    await make_client("alice")
    (eio_sid,) = chat_server.app[SIO].eio.sockets
    assert chat_server.app[SIO].fast_event(eio_sid, frame) is fast
    assert chat_server.app[SIO].fast_event("no-such-session", frame) is False


async def test_a_client_that_never_answers_pings_is_closed_even_while_it_talks(make_server: Any) -> None:
    """engine.io's rule, kept without a timer per frame: no pong within the ping timeout, no connection."""
    server = await make_server(ping_interval=0.5, ping_timeout=0.5)
    url = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        async with http.post(f"{url}/api/register", json={"username": "deaf", "password": PASSWORD}) as resp:
            token = (await resp.json())["token"]
        polite, deaf = await open_socket(http, url, token), await open_socket(http, url, token)

        async def answer_pings() -> int:
            answered = 0
            async for msg in polite:
                if msg.type == aiohttp.WSMsgType.TEXT and msg.data == "2":
                    await polite.send_str("3")
                    answered += 1
            return answered

        pongs = asyncio.create_task(answer_pings())
        loop = asyncio.get_running_loop()
        started, pings = loop.time(), 0
        async with asyncio.timeout(10):
            while True:
                await deaf.send_str('42["typing",{"channel":"general"}]')  # talks, never pongs
                with contextlib.suppress(TimeoutError):
                    msg = await deaf.receive(timeout=0.1)
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        break
                    pings += msg.data == "2"
        closed_after = loop.time() - started
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), msg
        assert pings == 1 and 0.9 <= closed_after <= 3.0, (pings, closed_after)
        await asyncio.sleep(1.5)  # three more ping rounds for the one that answers
        assert not polite.closed and len(server.app[SIO].eio.sockets) == 1
        await polite.close()
        assert await pongs >= 3
