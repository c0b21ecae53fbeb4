"""Abuse of message changes: reaction and edit floods spend the send budget, another channel's message
ids are not found, huge texts are refused; none of them changes a message or reaches other members."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestServer

from core.changes import EMOJIS
from core.models import MAX_TEXT
from tests.apps import ChatClient, ClientFactory

MakeServer = Callable[..., Awaitable[TestServer]]
# a send budget a test spends in a second, refilled too slowly to matter; every event let through
FLOODABLE = {"send_rate": 0.001, "event_rate": 10_000, "event_burst": 10_000}


async def users(make_client: ClientFactory, server: TestServer, *names: str) -> list[ChatClient]:
    url = str(server.make_url("")).rstrip("/")
    clients = [await make_client(name, url=url) for name in names]
    for client in clients:
        assert (await client.call("join", {"channel": "general"}))["ok"] is True
    return clients


async def say(client: ChatClient, text: str, channel: str = "general") -> dict[str, Any]:
    ack = await client.call("send", {"channel": channel, "text": text})
    assert ack["ok"] is True, ack
    return dict(ack["message"])


async def stored(client: ChatClient, message_id: str, channel: str = "general") -> dict[str, Any]:
    status, page = await client.request("GET", f"/api/channels/{channel}/messages")
    assert status == 200, page
    (message,) = [m for m in page["messages"] if m["id"] == message_id]
    return dict(message)


def codes(acks: list[dict[str, Any]]) -> list[str]:
    return ["ok" if ack["ok"] else ack["error"]["code"] for ack in acks]


async def test_reaction_and_edit_floods_spend_the_send_budget(
    make_client: ClientFactory, make_server: MakeServer
) -> None:
    server = await make_server(send_burst=10, **FLOODABLE)
    alice, bob, carol = await users(make_client, server, "alice", "bob", "carol")
    sent = await say(alice, "$GME squeeze")  # alice has 9 left
    ref = {"channel": "general", "id": sent["id"]}
    flips = [await bob.call("react" if n % 2 == 0 else "unreact", {**ref, "emoji": "🚀"}) for n in range(10)]
    more = [await bob.call("react", {**ref, "emoji": emoji}) for emoji in ("🚀", "🐂", "🐻")]
    assert codes(flips + more) == ["ok"] * 10 + ["rate_limited"] * 3
    edits = [await alice.call("edit", {**ref, "text": f"$GME squeeze {n}"}) for n in range(12)]
    assert codes(edits) == ["ok"] * 9 + ["rate_limited"] * 3
    # the budget is the sending one: spent on changes, no message gets through either
    assert codes([await bob.call("send", {"channel": "general", "text": "and now?"})]) == ["rate_limited"]
    after = await stored(carol, sent["id"])
    assert after["text"] == "$GME squeeze 8" and after["rev"] == sent["seq"] + 10 + 9
    assert "reactions" not in after  # ten flips: on, off, … off
    last = await carol.wait_for("message_updated", lambda u: u["seq"] == after["rev"])
    assert last["message"] == after
    assert len(carol.received("message_updated")) == 19  # nothing for the refused ones


async def test_reacting_with_every_emoji_on_many_messages_stops_at_the_budget(
    make_client: ClientFactory, make_server: MakeServer
) -> None:
    server = await make_server(send_burst=30, **FLOODABLE)
    alice, bob = await users(make_client, server, "alice", "bob")
    sent = [await say(alice, f"idea {n}") for n in range(5)]
    acks = [
        await bob.call("react", {"channel": "general", "id": message["id"], "emoji": emoji})
        for message in sent
        for emoji in EMOJIS
    ]
    assert len(acks) == 100 and codes(acks) == ["ok"] * 30 + ["rate_limited"] * 70
    counts = [sum(r["count"] for r in (await stored(alice, m["id"])).get("reactions", [])) for m in sent]
    assert counts == [20, 10, 0, 0, 0]
    assert bob.sio.connected  # refused changes are not a flood of events: the connection stays


async def test_another_channels_message_is_not_found(make_client: ClientFactory, make_server: MakeServer) -> None:
    server = await make_server()
    alice, bob = await users(make_client, server, "alice", "bob")
    status, _ = await alice.request("POST", "/api/channels", {"name": "desk"})
    assert status == 201
    for client in (alice, bob):
        assert (await client.call("join", {"channel": "desk"}))["ok"] is True
    desk = await say(alice, "desk only", channel="desk")
    wrong = {"channel": "general", "id": desk["id"]}
    attempts = [
        ("edit", {**wrong, "text": "moved"}),
        ("delete", wrong),
        ("react", {**wrong, "emoji": "🐂"}),
        ("unreact", {**wrong, "emoji": "🐂"}),
        ("pin", wrong),
        ("unpin", wrong),
        ("send", {"channel": "general", "text": "a reply across channels", "reply_to": desk["id"]}),
    ]
    for client in (alice, bob):  # its author and the owner of #desk, too
        for event, payload in attempts:
            ack = await client.call(event, payload)
            assert ack["ok"] is False and ack["error"]["code"] == "message_not_found", (event, ack)
    assert await stored(bob, desk["id"], channel="desk") == desk
    assert (await say(bob, "still counting"))["seq"] == 1  # #general took no seq for any of them
    assert not bob.received("message_updated")


async def test_huge_texts_are_refused_and_change_nothing(make_client: ClientFactory, make_server: MakeServer) -> None:
    server = await make_server()
    alice, bob = await users(make_client, server, "alice", "bob")
    sent = await say(alice, "short and sweet")
    ref = {"channel": "general", "id": sent["id"]}
    for text in ("a" * (MAX_TEXT + 1), "😀" * (MAX_TEXT + 1), "x" * (4 * MAX_TEXT)):
        ack = await alice.call("edit", {**ref, "text": text})
        assert ack["ok"] is False and ack["error"]["code"] == "message_too_long", ack
        reply = await bob.call("send", {"channel": "general", "text": text, "reply_to": sent["id"]})
        assert reply["ok"] is False and reply["error"]["code"] == "message_too_long", reply
    # past four times the limit the payload itself is refused, before anything reads it
    ack = await alice.call("edit", {**ref, "text": "x" * (4 * MAX_TEXT + 1)})
    assert ack["ok"] is False and ack["error"]["code"] == "invalid_payload"
    assert await stored(bob, sent["id"]) == sent
    assert (await say(bob, "next"))["seq"] == sent["seq"] + 1
    assert not bob.received("message_updated")
