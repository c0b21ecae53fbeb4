"""The stock bot end to end: a command in, one reply to the room, failures to the asker alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp.test_utils import TestServer

from bot.worker import GROUP, MAX_DELIVERIES, Bot
from core.bus import BOT_STREAM, DEAD_LETTER_SUFFIX, Bus, Entry, Limit
from core.bus.memory import MemoryBus
from core.models import Command, Message, new_id, now_iso
from core.store import Store, open_store
from quotes import QuoteService
from tests.apps import ChatClient, ClientFactory
from tests.fakes.stooq import FakeStooq
from tests.fakes.yahoo import FakeYahoo


async def two_in_general(make_client: ClientFactory) -> tuple[ChatClient, ChatClient]:
    alice = await make_client("alice")
    bob = await make_client("bob")
    for client in (alice, bob):
        await client.call("join", {"channel": "general"})
    return alice, bob


def is_bot(message: dict[str, Any]) -> bool:
    return bool(message["bot"])


@pytest.mark.parametrize("command", ["/stock=aapl.us", "/stock AAPL", "/STOCK=AAPL.US"])
async def test_a_quote_reaches_everyone_and_is_archived(make_client: ClientFactory, command: str) -> None:
    alice, bob = await two_in_general(make_client)
    ack = await alice.call("send", {"channel": "general", "text": command})
    assert ack["ok"] and ack["command"]["name"] == "stock"
    reply = await bob.wait_for("message", is_bot)
    assert reply == await alice.wait_for("message", is_bot)
    assert reply["text"] == "AAPL.US quote is $93.42 per share"
    assert reply["user"] == "StockBot" and reply["seq"] == 1 and "ephemeral" not in reply
    quote = reply["quote"]
    assert quote["price"] == "93.42" and quote["currency"] == "USD" and quote["source"] == "stooq"
    assert quote["change"] == "1.32" and quote["change_pct"] == "1.43"
    assert quote["series"][-1] == "93.42" and len(quote["series"]) > 10
    # the command itself is neither broadcast nor archived
    assert not [m for m in bob.received("message") if m["text"].startswith("/")]
    _, page = await bob.request("GET", "/api/channels/general/messages")
    assert [m["text"] for m in page["messages"]] == ["AAPL.US quote is $93.42 per share"]


async def test_the_yahoo_provider_end_to_end(  # type: ignore[no-untyped-def]
    make_server, fake_yahoo: FakeYahoo, fake_stooq: FakeStooq
) -> None:
    server: TestServer = await make_server(
        quote_providers="yahoo,stooq", yahoo_url=fake_yahoo.url, stooq_url=fake_stooq.url
    )

    async with aiohttp.ClientSession() as http:
        alice = await ChatClient(str(server.make_url("")).rstrip("/"), http).register("alice")
        await alice.connect()
        await alice.call("join", {"channel": "general"})
        await alice.call("send", {"channel": "general", "text": "/stock=^spx"})
        reply = await alice.wait_for("message", is_bot)
        await alice.sio.disconnect()
    assert reply["text"] == "^SPX is at 5,123.40 points" and reply["quote"]["source"] == "yahoo"
    assert any("/v8/finance/chart/%5EGSPC" in r or "/v8/finance/chart/^GSPC" in r for r in fake_yahoo.requests)
    assert not fake_stooq.requests


@pytest.mark.parametrize(
    ("failure", "words"),
    [("unknown", "Unknown stock code"), ("html", "unavailable"), ("limit", "unavailable"), ("slow", "too slow")],
)
async def test_failures_are_told_to_the_asker_only(
    make_client: ClientFactory, fake_stooq: FakeStooq, failure: str, words: str
) -> None:
    fake_stooq.fail(failure)  # type: ignore[arg-type]
    alice, bob = await two_in_general(make_client)
    await alice.call("send", {"channel": "general", "text": "/stock=aapl.us"})
    reply = await alice.wait_for("message", is_bot, timeout=10)
    assert reply["ephemeral"] is True and "seq" not in reply and words in reply["text"]
    await bob.call("send", {"channel": "general", "text": "anything from the bot?"})
    await bob.wait_for("message", lambda m: m["user"] == "bob")
    assert not [m for m in bob.received("message") if m["bot"]]
    _, page = await bob.request("GET", "/api/channels/general/messages")
    assert [m["user"] for m in page["messages"]] == ["bob"]


async def test_help_is_private(make_client: ClientFactory) -> None:
    alice, bob = await two_in_general(make_client)
    ack = await alice.call("send", {"channel": "general", "text": "/help"})
    assert ack["command"]["name"] == "help"
    reply = await alice.wait_for("message", is_bot)
    assert reply["ephemeral"] and "/stock" in reply["text"]
    assert not bob.received("message")


async def user_on(server: TestServer, http: aiohttp.ClientSession, name: str) -> ChatClient:
    client = await ChatClient(str(server.make_url("")).rstrip("/"), http).register(name)
    await client.connect()
    await client.call("join", {"channel": "general"})
    return client


async def test_several_codes_make_one_reply_with_a_line_each(make_client: ClientFactory) -> None:
    alice, bob = await two_in_general(make_client)
    await alice.call("send", {"channel": "general", "text": "/stock=aapl.us, nosuch.us ,^spx,VOD.L"})
    reply = await bob.wait_for("message", is_bot)
    assert reply["text"].split("\n") == [
        "AAPL.US quote is $93.42 per share",
        "NOSUCH.US: unknown stock code",
        "^SPX is at 5,123.40 points",
        "VOD.UK quote is 72.50 GBX per share",
    ]
    assert reply["quote"]["symbol"] == "AAPL.US"
    assert [q["symbol"] for q in reply["quotes"]] == ["AAPL.US", "^SPX", "VOD.UK"]
    await bob.call("send", {"channel": "general", "text": "thanks"})
    await alice.wait_for("message", lambda m: m["text"] == "thanks")
    assert len([m for m in alice.received("message") if m["bot"]]) == 1  # one reply, not four
    _, page = await bob.request("GET", "/api/channels/general/messages")
    assert page["messages"][0]["quotes"] == reply["quotes"]


async def test_several_codes_all_failing_are_told_to_the_asker(
    make_client: ClientFactory, fake_stooq: FakeStooq
) -> None:
    fake_stooq.fail("html", symbol="msft.us")
    alice, bob = await two_in_general(make_client)
    await alice.call("send", {"channel": "general", "text": "/stock=nosuch.us,msft.us,<b>"})
    reply = await alice.wait_for("message", is_bot)
    assert reply["ephemeral"] is True and reply["text"].split("\n") == [
        "NOSUCH.US: unknown stock code",
        "MSFT.US: quote service unavailable, try again later",
        "<B>: not a valid stock code",
    ]
    _, page = await bob.request("GET", "/api/channels/general/messages")
    assert page["messages"] == []


async def test_a_stale_quote_is_labelled(make_client: ClientFactory, fake_stooq: FakeStooq) -> None:
    fake_stooq.set_symbol("old.us", "4.20", previous_close="4.00", as_of=datetime.now(UTC) - timedelta(days=10))
    alice, _ = await two_in_general(make_client)
    await alice.call("send", {"channel": "general", "text": "/stock old"})
    reply = await alice.wait_for("message", is_bot)
    assert reply["text"].startswith("OLD.US quote is $4.20 per share (stale: last traded ")
    assert reply["quote"]["stale"] is True and reply["quote"]["exchange_tz"] == "America/New_York"
    assert reply["quote"]["as_of_local"].endswith(("-05:00", "-04:00"))


@pytest.mark.parametrize(
    ("limits", "words", "answered"),
    [
        # per user: bob's first ask is answered, alice's third is refused
        ({"bot_user_rate": 0.01, "bot_user_burst": 2}, "too fast", 3),
        # per channel: the channel's two are spent, so bob and alice are both refused
        ({"bot_channel_rate": 0.01, "bot_channel_burst": 2}, "#general", 2),
    ],
)
async def test_command_floods_are_answered_politely(  # type: ignore[no-untyped-def]
    make_server, fake_stooq: FakeStooq, limits: dict[str, float], words: str, answered: int
) -> None:
    server: TestServer = await make_server(stooq_url=fake_stooq.url, **limits)
    async with aiohttp.ClientSession() as http:
        alice, bob = await user_on(server, http, "alice"), await user_on(server, http, "bob")
        # alice asks twice, then bob once (a new user) and alice once more
        for client in (alice, alice, bob, alice):
            await client.call("send", {"channel": "general", "text": "/stock=aapl.us"})
            await asyncio.sleep(0.2)
        await alice.wait_for("message", lambda m: m.get("ephemeral", False), timeout=5)
        await asyncio.sleep(0.3)
        await alice.sio.disconnect()
        await bob.sio.disconnect()
    public = [m for m in alice.received("message") if m["bot"] and not m.get("ephemeral")]
    refusals = [m for m in alice.received("message") + bob.received("message") if m.get("ephemeral")]
    assert len(public) == answered
    assert len(refusals) == 4 - answered and all(words in m["text"] for m in refusals)


async def test_many_askers_make_one_upstream_call(make_client: ClientFactory, fake_stooq: FakeStooq) -> None:
    alice, bob = await two_in_general(make_client)
    for client in (alice, bob, alice, bob):
        await client.call("send", {"channel": "general", "text": "/stock=aapl.us"})
    await bob.wait_for("message", lambda m: m["bot"] and m["seq"] == 4)  # the fourth reply
    assert len([p for p in fake_stooq.requests if p.startswith("/q/l/")]) == 1


# -- the worker on its own: acknowledged, or dead-lettered after a few tries ---------------------


@pytest.fixture
async def worker_parts(tmp_path: Path, fake_stooq: FakeStooq) -> AsyncIterator[tuple[Bus, Store, QuoteService]]:
    bus, store = MemoryBus(), await open_store(f"sqlite:///{tmp_path}/bot.sqlite3")
    async with QuoteService(["stooq"], yahoo_url="", stooq_url=fake_stooq.url, timeout=1) as quotes:
        yield bus, store, quotes
    await store.close()


def command(text: str) -> bytes:
    return Command(id=new_id(), channel="general", user="alice", text=text, ts=now_iso()).model_dump_json().encode()


async def dead_letters(bus: Bus) -> list[Entry]:
    return await bus.read(BOT_STREAM + DEAD_LETTER_SUFFIX, "check", "c", count=10, block_ms=0, claim_idle_ms=60_000)


async def test_a_command_that_keeps_failing_is_dead_lettered_and_the_asker_told(
    worker_parts: tuple[Bus, Store, QuoteService],
) -> None:
    _, store, quotes = worker_parts
    sent: list[tuple[str, Any]] = []

    class PostingFails(MemoryBus):
        async def post(self, message: Message, dedup_key: str | None = None, limit: Limit | None = None) -> Any:
            raise ConnectionError("the room is unreachable")

    async def whisper(user: str, data: Any) -> None:
        sent.append((user, data))

    bus = PostingFails()
    bot = Bot(bus, store, quotes, whisper, "test")
    bot.claim_idle_ms = 0
    await bus.append(BOT_STREAM, command("/stock=aapl.us"))
    for _ in range(MAX_DELIVERIES):
        assert await bot.process_batch(block_ms=0) == 1  # never raises
    assert [e.data for e in await dead_letters(bus)] != []
    assert await bus.backlog(BOT_STREAM, GROUP) == 0
    assert [(user, data["text"][:40]) for user, data in sent] == [("alice", "Sorry, the bot could not answer '/stock=")]


async def test_a_malformed_entry_is_dead_lettered_and_the_next_answered(
    worker_parts: tuple[Bus, Store, QuoteService],
) -> None:
    bus, store, quotes = worker_parts
    sent: list[Any] = []

    async def whisper(user: str, data: Any) -> None:
        sent.append(data)

    # the reply reaches the room through the bus's live feed
    await bus.subscribe_live(lambda channel, wire: sent.append(orjson.loads(wire)))
    bot = Bot(bus, store, quotes, whisper, "test")
    await bus.append(BOT_STREAM, b'{"not": "a command"')
    await bus.append(BOT_STREAM, command("/stock=aapl.us"))
    assert await bot.process_batch(block_ms=0) == 2
    assert len(await dead_letters(bus)) == 1 and await bus.backlog(BOT_STREAM, GROUP) == 0
    assert [m["text"] for m in sent] == ["AAPL.US quote is $93.42 per share"]


# -- GET /api/quotes, for the web client's cashtag chips -----------------------------------------


async def test_quotes_endpoint_answers_each_symbol(make_client: ClientFactory, fake_stooq: FakeStooq) -> None:
    fake_stooq.fail("limit", symbol="msft.us")
    alice = await make_client("alice", connect=False)
    status, body = await alice.request("GET", "/api/quotes?symbols=AAPL,vod.uk,nosuch,MSFT,<x>,aapl")
    assert status == 200
    assert [(q["symbol"], q["price"], q["currency"]) for q in body["quotes"]] == [
        ("AAPL.US", "93.42", "USD"),
        ("VOD.UK", "72.50", "GBX"),
        ("AAPL.US", "93.42", "USD"),
    ]
    assert body["quotes"][0]["change_pct"] == "1.43" and body["quotes"][0]["exchange_tz"] == "America/New_York"
    assert body["resolved"] == {"AAPL": "AAPL.US", "vod.uk": "VOD.UK", "aapl": "AAPL.US"}
    assert [(e["symbol"], e["code"]) for e in body["errors"]] == [
        ("nosuch", "unknown_symbol"),
        ("MSFT", "provider_error"),
        ("<x>", "invalid_symbol"),
    ]
    # cached: asking again reaches no provider
    asked = len(fake_stooq.requests)
    status, again = await alice.request("GET", "/api/quotes?symbols=AAPL,vod.uk,nosuch")
    assert status == 200 and again["quotes"][:2] == body["quotes"][:2]
    assert len(fake_stooq.requests) == asked


@pytest.mark.parametrize(
    "query",
    ["", "?symbols=", "?symbols=,,", "?symbols=" + ",".join(f"s{i}" for i in range(11)), "?symbols=" + "a" * 401],
)
async def test_quotes_endpoint_wants_one_to_ten_symbols(make_client: ClientFactory, query: str) -> None:
    alice = await make_client("alice", connect=False)
    status, body = await alice.request("GET", "/api/quotes" + query)
    assert status == 400 and body["error"]["code"] == "invalid_parameter"


async def test_quotes_endpoint_needs_a_login(chat_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(chat_url + "/api/quotes?symbols=AAPL") as response:
            assert response.status == 401
            assert (await response.json())["error"]["code"] == "unauthorized"


async def test_codes_separated_by_spaces_are_shown_whole_with_a_hint(
    make_client: ClientFactory, fake_stooq: FakeStooq
) -> None:
    alice, _ = await two_in_general(make_client)
    await alice.call("send", {"channel": "general", "text": "/stock AAPL.US MSFT.US VOD.L"})
    reply = await alice.wait_for("message", is_bot)
    assert reply["ephemeral"] is True
    assert "'AAPL.US MSFT.US VOD.L' is not a valid stock code" in reply["text"]
    assert "separate several codes with commas: /stock AAPL,MSFT" in reply["text"]
