"""server/lean.py: engine.io's websocket sockets trimmed for memory, still speaking the same protocol."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestServer

from server.keys import SIO
from server.lean import LeanQueue, LeanSocket


async def test_the_lean_queue_behaves_as_engine_io_uses_asyncio_queue() -> None:
    queue = LeanQueue()
    assert queue.empty() and queue.qsize() == 0 and queue._getters == ()
    consumer = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    assert len(queue._getters) == 1  # the consumer is parked: server/fanout.py may write directly
    queue.put_nowait("a")
    await queue.put("b")
    assert await consumer == "a" and queue._getters == ()
    assert queue.get_nowait() == "b" and queue.empty()
    joined = asyncio.create_task(queue.join())
    await asyncio.sleep(0)
    assert not joined.done()  # two items taken, none marked done yet
    queue.task_done()
    await asyncio.sleep(0)
    assert not joined.done()
    queue.task_done()
    await asyncio.wait_for(joined, 1)


async def test_websocket_clients_get_lean_sockets_and_keep_chatting(chat_server: TestServer, make_client: Any) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    sockets = list(chat_server.app[SIO].eio.sockets.values())
    assert len(sockets) == 2 and all(isinstance(s, LeanSocket) for s in sockets)
    assert all(isinstance(s.queue, LeanQueue) for s in sockets)
    for client in (alice, bob):
        assert (await client.call("join", {"channel": "general"}))["ok"]
    for i in range(20):
        ack = await alice.call("send", {"channel": "general", "text": f"hello {i}"})
        await bob.wait_for("message", lambda m, ack=ack: m["id"] == ack["message"]["id"])
    await bob.sio.disconnect()
    async with asyncio.timeout(5):
        while len(chat_server.app[SIO].eio.sockets) != 1:  # the disconnect ran engine.io's close
            await asyncio.sleep(0.05)
