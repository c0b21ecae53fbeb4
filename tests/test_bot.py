"""The stock bot end to end: a command in, one reply to the room, failures to the asker alone."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestServer

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


async def test_the_yahoo_provider_end_to_end(make_server, fake_yahoo: FakeYahoo, fake_stooq: FakeStooq) -> None:  # type: ignore[no-untyped-def]
    server: TestServer = await make_server(quote_providers="yahoo,stooq", yahoo_url=fake_yahoo.url, stooq_url=fake_stooq.url)
    import aiohttp

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
