"""The `send` event's rules: membership, size, emptiness, rate limit, idempotency, several connections."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestServer

from tests.apps import ChatClient, ClientFactory


def error_code(ack: dict[str, Any]) -> str:
    assert ack["ok"] is False, ack
    return str(ack["error"]["code"])


async def test_send_errors(make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    assert error_code(await alice.call("send", {"channel": "general", "text": "hi"})) == "not_joined"
    assert error_code(await alice.call("send", {"channel": "nowhere", "text": "hi"})) == "channel_not_found"
    assert error_code(await alice.call("join", {"channel": "nowhere"})) == "channel_not_found"
    await alice.call("join", {"channel": "general"})
    assert error_code(await alice.call("send", {"channel": "general", "text": " \n\t "})) == "empty_message"
    assert error_code(await alice.call("send", {"channel": "general", "text": "x" * 2001})) == "message_too_long"
    assert error_code(await alice.call("send", {"channel": "general", "text": "/dance"})) == "unknown_command"
    ok = await alice.call("send", {"channel": "general", "text": "é" * 2000})
    assert ok["ok"] and ok["message"]["seq"] == 1  # the failed sends used no seq


async def test_one_clients_sends_in_flight_together_are_numbered_in_the_order_sent(make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    await alice.call("join", {"channel": "general"})
    acks = await asyncio.gather(*(alice.call("send", {"channel": "general", "text": f"m{i}"}) for i in range(20)))
    assert [(a["message"]["text"], a["message"]["seq"]) for a in acks] == [(f"m{i}", i + 1) for i in range(20)]
    await alice.wait_for("message", lambda m: m["seq"] == 20)
    assert [m["text"] for m in alice.received("message")] == [f"m{i}" for i in range(20)]


async def test_a_send_that_asks_for_no_ack_is_posted_all_the_same(make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    bob = await make_client("bob")
    for client in (alice, bob):
        await client.call("join", {"channel": "general"})
    await alice.sio.emit("send", {"channel": "general", "text": "no ack wanted"})
    seen = await bob.wait_for("message", lambda m: m["text"] == "no ack wanted")
    ack = await alice.call("send", {"channel": "general", "text": "with an ack"})
    assert (seen["user"], ack["message"]["seq"]) == ("alice", seen["seq"] + 1)


async def test_text_is_kept_verbatim(make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    await alice.call("join", {"channel": "general"})
    text = '  <img src=x onerror="alert(1)"> & 📈 \n second line  '
    ack = await alice.call("send", {"channel": "general", "text": text})
    assert ack["message"]["text"] == text
    _, page = await alice.request("GET", "/api/channels/general/messages")
    assert page["messages"][0]["text"] == text


async def test_a_repeated_client_id_posts_once(make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    bob = await make_client("bob")
    for client in (alice, bob):
        await client.call("join", {"channel": "general"})
    first = await alice.call("send", {"channel": "general", "text": "buy", "client_id": "c-1"})
    again = await alice.call("send", {"channel": "general", "text": "buy", "client_id": "c-1"})
    other = await bob.call("send", {"channel": "general", "text": "sell", "client_id": "c-1"})
    assert again["message"] == first["message"]
    assert other["message"]["id"] != first["message"]["id"]  # client ids are per user
    await alice.wait_for("message", lambda m: m["text"] == "sell")
    assert [m["text"] for m in alice.received("message")] == ["buy", "sell"]


async def test_every_connection_of_a_user_receives_every_message(make_client: ClientFactory, chat_url: str) -> None:
    phone = await make_client("alice")
    laptop = ChatClient(chat_url, phone.http)
    laptop.username, laptop.token = phone.username, phone.token
    await laptop.connect()
    try:
        for client in (phone, laptop):
            await client.call("join", {"channel": "general"})
        ack = await phone.call("send", {"channel": "general", "text": "from my phone"})
        assert await laptop.wait_for("message") == ack["message"]
        assert await phone.wait_for("message") == ack["message"]
        await laptop.sio.disconnect()
        # alice is still online through her phone: nobody is told she left
        ack = await phone.call("send", {"channel": "general", "text": "still here"})
        await phone.wait_for("message", lambda m: m["id"] == ack["message"]["id"])
        assert not [p for p in phone.received("presence") if not p["online"]]
    finally:
        await laptop.sio.disconnect()


async def test_sending_is_rate_limited_per_user(make_server, fake_stooq) -> None:  # type: ignore[no-untyped-def]
    server: TestServer = await make_server(send_rate=0.5, send_burst=3)
    url = str(server.make_url("")).rstrip("/")
    import aiohttp

    async with aiohttp.ClientSession() as http:
        alice = await ChatClient(url, http).register("alice")
        await alice.connect()
        await alice.call("join", {"channel": "general"})
        acks = [await alice.call("send", {"channel": "general", "text": f"m{i}"}) for i in range(5)]
        await alice.sio.disconnect()
    assert [a["ok"] for a in acks] == [True, True, True, False, False]
    assert acks[3]["error"]["code"] == "rate_limited"


async def test_a_bare_stock_command_says_what_is_missing(make_client: Any) -> None:
    alice = await make_client("alice")
    assert (await alice.call("join", {"channel": "general"}))["ok"]
    for bare in ("/stock", "/stock=", "/STOCK  "):
        ack = await alice.call("send", {"channel": "general", "text": bare})
        assert ack["error"]["code"] == "unknown_command" and "Say which code" in ack["error"]["message"], ack
