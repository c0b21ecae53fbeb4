"""History on join and over REST, catch-up after a disconnect, and an archive that survives restarts."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from core.bus.memory import MemoryBus
from core.errors import ChatError
from core.posting import publish, read_history
from core.store import Store
from tests.apps import ChatClient, ClientFactory
from tests.bus_helpers import draft


def seqs(messages: list[dict[str, Any]]) -> list[int]:
    return [m["seq"] for m in messages]


async def post_many(client: ChatClient, count: int, channel: str = "general") -> None:
    for i in range(count):
        ack = await client.call("send", {"channel": channel, "text": f"msg {i + 1}"})
        assert ack["ok"], ack


@pytest.fixture
async def busy_server(make_server, fake_stooq) -> TestServer:  # type: ignore[no-untyped-def]
    server: TestServer = await make_server(send_rate=1000, send_burst=1000)
    return server


async def connected(server: TestServer, http: aiohttp.ClientSession, name: str) -> ChatClient:
    client = await ChatClient(str(server.make_url("")).rstrip("/"), http).register(name)
    return await client.connect()


async def test_history_pages_by_seq(busy_server: TestServer) -> None:
    async with aiohttp.ClientSession() as http:
        alice = await connected(busy_server, http, "alice")
        await alice.call("join", {"channel": "general"})
        await post_many(alice, 60)
        late = await connected(busy_server, http, "bob")
        joined = await late.call("join", {"channel": "general"})
        assert seqs(joined["messages"]) == list(range(11, 61)) and joined["last_seq"] == 60

        status, page = await alice.request("GET", "/api/channels/general/messages")
        assert status == 200 and seqs(page["messages"]) == list(range(11, 61)) and page["has_more"]
        _, page = await alice.request("GET", "/api/channels/general/messages?before=11&limit=200")
        assert seqs(page["messages"]) == list(range(1, 11)) and not page["has_more"]
        _, page = await alice.request("GET", "/api/channels/general/messages?after=55")
        assert seqs(page["messages"]) == [56, 57, 58, 59, 60] and not page["has_more"]
        _, page = await alice.request("GET", "/api/channels/general/messages?after=10&limit=5")
        assert seqs(page["messages"]) == [11, 12, 13, 14, 15] and page["has_more"]
        caught_up = await late.call("join", {"channel": "general", "after": 58})
        assert seqs(caught_up["messages"]) == [59, 60]
        for client in (alice, late):
            await client.sio.disconnect()


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("limit=0", 400, "invalid_parameter"),
        ("limit=201", 400, "invalid_parameter"),
        ("limit=ten", 400, "invalid_parameter"),
        ("before=-1", 400, "invalid_parameter"),
        ("after=1e3", 400, "invalid_parameter"),
    ],
)
async def test_bad_history_parameters(make_client: ClientFactory, query: str, status: int, code: str) -> None:
    alice = await make_client("alice", connect=False)
    got, body = await alice.request("GET", f"/api/channels/general/messages?{query}")
    assert (got, body["error"]["code"]) == (status, code)


async def test_history_of_an_unknown_channel(make_client: ClientFactory) -> None:
    alice = await make_client("alice", connect=False)
    status, body = await alice.request("GET", "/api/channels/nowhere/messages")
    assert status == 404 and body["error"]["code"] == "channel_not_found"


async def test_a_client_that_was_away_catches_up_in_order(make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    bob = await make_client("bob")
    for client in (alice, bob):
        await client.call("join", {"channel": "general"})
    await post_many(alice, 3)
    await bob.wait_for("message", lambda m: m["seq"] == 3)
    last_seen = max(m["seq"] for m in bob.received("message"))
    await bob.sio.disconnect()
    await post_many(alice, 4)
    await bob.connect()
    back = await bob.call("join", {"channel": "general", "after": last_seen})
    assert [m["text"] for m in back["messages"]] == ["msg 1", "msg 2", "msg 3", "msg 4"]
    assert seqs(back["messages"]) == [4, 5, 6, 7] and back["last_seq"] == 7


async def test_every_message_is_archived_and_survives_a_restart(make_server, fake_stooq, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server: TestServer = await make_server(send_rate=1000, send_burst=1000, stooq_url=fake_stooq.url)
    async with aiohttp.ClientSession() as http:
        alice = await connected(server, http, "alice")
        await alice.call("join", {"channel": "general"})
        await post_many(alice, 25)
        await alice.call("send", {"channel": "general", "text": "/stock=aapl.us"})
        await alice.wait_for("message", lambda m: m["bot"])
        await alice.sio.disconnect()
        await server.close()  # graceful: the archiver drains before the store closes

        rows = sqlite3.connect(tmp_path / "chat.sqlite3").execute("SELECT seq FROM messages ORDER BY seq").fetchall()
        assert [r[0] for r in rows] == list(range(1, 27))

        again: TestServer = await make_server(stooq_url=fake_stooq.url)
        url = str(again.make_url("")).rstrip("/")
        alice.base_url = url
        status, body = await alice.request("GET", "/api/channels/general/messages?limit=200")
        assert status == 200 and seqs(body["messages"]) == list(range(1, 27))
        assert body["messages"][-1]["user"] == "StockBot"
        await alice.connect()  # the signing key and the session survive the restart too
        await alice.call("join", {"channel": "general"})
        ack = await alice.call("send", {"channel": "general", "text": "after the restart"})
        assert ack["message"]["seq"] == 27
        await alice.sio.disconnect()


async def test_the_archive_completes_history_while_the_archiver_lags(make_client: ClientFactory) -> None:
    # History is read from the store and from the bus, so a reader never misses a fresh message.
    alice = await make_client("alice")
    await alice.call("join", {"channel": "general"})
    results = await asyncio.gather(*(alice.call("send", {"channel": "general", "text": f"n{i}"}) for i in range(10)))
    _, page = await alice.request("GET", "/api/channels/general/messages")
    assert seqs(page["messages"]) == list(range(1, 11))
    assert sorted(r["message"]["seq"] for r in results) == list(range(1, 11))


async def _lagging_archive(store: Store, archived: int) -> MemoryBus:
    """300 messages posted to #general, the bus keeping the last 200, the archive holding the first `archived`."""
    bus = MemoryBus()
    posted = [(await publish(bus, store, draft(text=f"n{i}")))[0] for i in range(1, 301)]
    await store.save_messages(posted[:archived])
    return bus


async def page(store: Store, bus: MemoryBus, limit: int = 50, **bounds: int) -> tuple[list[int | None], bool]:
    messages, more = await read_history(store, bus, "general", limit=limit, **bounds)
    return [m.seq for m in messages], more


async def test_history_the_archive_has_yet_to_reach_is_refused_not_skipped(store: Store) -> None:
    # the archiver far behind: the bus holds 101..300, the archive nothing; 1..100 are only in the archive stream
    bus = await _lagging_archive(store, 0)
    assert await page(store, bus) == (list(range(251, 301)), True)
    assert await page(store, bus, after=150) == (list(range(151, 201)), True)
    for bounds in ({"before": 101}, {"before": 150}, {"after": 0}, {"after": 50, "limit": 200}):
        with pytest.raises(ChatError) as refused:
            await page(store, bus, **bounds)
        assert (refused.value.code, refused.value.status) == ("history_catching_up", 503), bounds


async def test_history_around_a_partly_archived_gap(store: Store) -> None:
    bus = await _lagging_archive(store, 40)  # 41..100 are held by neither
    assert await page(store, bus, before=41) == (list(range(1, 41)), False)
    assert await page(store, bus, after=10, limit=20) == (list(range(11, 31)), True)
    with pytest.raises(ChatError):
        await page(store, bus, before=101)
    with pytest.raises(ChatError):
        await page(store, bus, after=30, limit=20)  # would jump from 40 to 101


async def test_history_once_the_archive_has_caught_up(store: Store) -> None:
    bus = await _lagging_archive(store, 100)
    assert await page(store, bus, before=101) == (list(range(51, 101)), True)
    assert await page(store, bus, after=90, limit=20) == (list(range(91, 111)), True)
    assert await page(store, bus, after=0, limit=200) == (list(range(1, 201)), True)
