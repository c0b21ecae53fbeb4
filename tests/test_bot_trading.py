"""/alert and /idea through a standalone server over Socket.IO, the fake stooq's prices moved by the test: the
asker's private answers, the idea card in the room, refusals to the asker alone, and the engine inside the
server firing the alert and turning the card to "target hit" in place."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.worker import USER_LIMITED, Bot
from core.bus.memory import MemoryBus
from core.models import Command, new_id, now_iso
from core.store import Store
from quotes import QuoteService
from tests.apps import ChatClient, ClientFactory
from tests.fakes.stooq import FakeStooq

CHANNEL = "general"


@pytest.fixture
async def chat_server(make_server: Any, fake_stooq: FakeStooq) -> TestServer:
    # rounds every 0.3 s and no cached quotes: a moved price is seen by the next round
    server: TestServer = await make_server(stooq_url=fake_stooq.url, alert_interval=0.3, quote_cache_ttl=0)
    return server


async def in_general(make_client: ClientFactory, *names: str) -> list[ChatClient]:
    clients = [await make_client(name) for name in names]
    for client in clients:
        assert (await client.call("join", {"channel": CHANNEL}))["ok"]
    return clients


async def command(client: ChatClient, text: str) -> None:
    ack = await client.call("send", {"channel": CHANNEL, "text": text})
    assert ack["ok"] is True and ack["command"]["name"] == text.split()[0][1:], ack


def from_bot(message: dict[str, Any]) -> bool:
    return bool(message["bot"])


async def nothing_public(speaker: ChatClient, listener: ChatClient) -> None:
    """The listener got no bot message by the time it hears the speaker's next words."""
    await speaker.call("send", {"channel": CHANNEL, "text": "over"})
    await listener.wait_for("message", lambda m: m["text"] == "over")
    assert not [m for m in listener.received("message") if m["bot"]]


async def test_an_alert_is_set_privately_and_kept(make_client: ClientFactory) -> None:
    alice, bob = await in_general(make_client, "alice", "bob")
    await command(alice, "/alert AAPL above 95 days 10")
    reply = await alice.wait_for("message", from_bot)
    until = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    assert reply["ephemeral"] is True
    assert reply["text"] == f"Alert set: AAPL.US above $95.00 (now $93.42), until {until}"
    status, body = await alice.request("GET", "/api/me/alerts")
    [alert] = body["alerts"]
    assert status == 200 and (alert["symbol"], alert["op"], alert["value"], alert["status"]) == (
        "AAPL.US", "above", "95", "active",
    )  # fmt: skip
    assert alert["created_price"] == "93.42" and alert["channel"] == CHANNEL
    await nothing_public(alice, bob)


async def test_an_idea_posts_its_card_with_the_entry(make_client: ClientFactory) -> None:
    alice, bob = await in_general(make_client, "alice", "bob")
    await command(alice, "/idea long AAPL target 100 stop 90")
    card = await bob.wait_for("message", from_bot)
    idea = card["idea"]
    assert card["user"] == "StockBot" and "ephemeral" not in card and card["seq"] >= 1
    assert (idea["author"], idea["side"], idea["symbol"], idea["entry"], idea["currency"]) == (
        "alice", "long", "AAPL.US", "93.42", "USD",
    )  # fmt: skip
    assert (idea["target"], idea["stop"], idea["status"], idea["id"]) == ("100", "90", "open", card["id"])
    assert card["text"].startswith("alice: long AAPL.US at $93.42, target $100.00, stop $90.00, until ")
    _, page = await bob.request("GET", "/api/channels/general/messages")
    assert [m["idea"]["entry"] for m in page["messages"]] == ["93.42"]
    status, body = await bob.request("GET", "/api/users/alice/ideas")
    assert status == 200 and [i["id"] for i in body["ideas"]] == [card["id"]]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("/idea long AAPL target 90", "A long idea's target must be above the entry, $93.42"),
        ("/idea short AAPL stop 90", "A short idea's stop must be above the entry, $93.42"),
        ("/idea long OLD.US", "OLD.US has not traded since "),
        ("/alert NOSUCH above 5", "Unknown stock code NOSUCH.US"),
        ("/alert AAPL below 95", "AAPL.US is already below $95.00 (at $93.42)"),
    ],
)
async def test_a_refusal_is_told_to_the_asker_alone(
    make_client: ClientFactory, fake_stooq: FakeStooq, text: str, said: str
) -> None:
    fake_stooq.set_symbol("old.us", "12.50", as_of=datetime.now(UTC) - timedelta(days=10))
    alice, bob = await in_general(make_client, "alice", "bob")
    await command(alice, text)
    reply = await alice.wait_for("message", from_bot)
    assert reply["ephemeral"] is True and reply["text"].startswith(said), reply["text"]
    await nothing_public(alice, bob)
    _, alerts = await alice.request("GET", "/api/me/alerts")
    _, ideas = await alice.request("GET", "/api/users/alice/ideas")
    assert alerts["alerts"] == [] and ideas["ideas"] == []


async def test_the_bot_limits_hold_for_alerts_too(make_server: Any, fake_stooq: FakeStooq) -> None:
    server = await make_server(stooq_url=fake_stooq.url, bot_user_burst=1, bot_user_rate=0.01)
    url = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        alice = await ChatClient(url, http).register("alice")
        await alice.connect()
        await alice.call("join", {"channel": CHANNEL})
        await command(alice, "/alert AAPL above 95")
        await alice.wait_for("message", lambda m: m["text"].startswith("Alert set"))
        await command(alice, "/alert AAPL above 96")
        refused = await alice.wait_for("message", lambda m: m["text"] == USER_LIMITED)
        _, body = await alice.request("GET", "/api/me/alerts")
        await alice.sio.disconnect()
    assert refused["ephemeral"] is True and [a["value"] for a in body["alerts"]] == ["95"]


async def test_the_engine_fires_the_alert_and_turns_the_card_to_target_hit(
    make_client: ClientFactory, fake_stooq: FakeStooq
) -> None:
    alice, bob = await in_general(make_client, "alice", "bob")
    await command(alice, "/alert AAPL above 95")
    await alice.wait_for("message", lambda m: m["text"].startswith("Alert set"))
    await command(alice, "/idea long AAPL target 95 stop 90")
    card = await bob.wait_for("message", lambda m: m.get("idea") is not None)
    fake_stooq.set_symbol("aapl.us", "95.25")

    update = await bob.wait_for("message_updated", lambda u: u["kind"] == "idea", timeout=10)
    idea = update["message"]["idea"]
    assert update["message"]["id"] == card["id"] and update["message"]["seq"] == card["seq"]
    assert (idea["status"], idea["exit"], idea["return_pct"]) == ("target_hit", "95.25", "1.96")
    assert update["message"]["text"].endswith("· target hit at $95.25 (+1.96%)")
    notes = {kind: await alice.wait_for("notification", lambda n, k=kind: n["kind"] == k) for kind in ("alert", "idea")}
    assert notes["alert"]["text"] == "Alert: AAPL.US above $95.00, now $95.25"
    assert notes["idea"]["text"] == "Your long AAPL.US idea: target hit at $95.25 (+1.96%)"
    assert notes["idea"]["message"]["idea"]["status"] == "target_hit"
    fired = await alice.wait_for("message", lambda m: m["text"].startswith("Alert: "))
    assert fired["ephemeral"] is True and fired["quote"]["price"] == "95.25"
    _, page = await bob.request("GET", "/api/channels/general/messages")
    assert [m["idea"]["status"] for m in page["messages"] if m.get("idea")] == ["target_hit"]
    _, inbox = await alice.request("GET", "/api/me/notifications")
    assert sorted(n["kind"] for n in inbox["notifications"]) == ["alert", "idea"]
    _, alerts = await alice.request("GET", "/api/me/alerts")
    assert [(a["status"], a["triggered_price"]) for a in alerts["alerts"]] == [("triggered", "95.25")]
    await asyncio.sleep(1)  # three more rounds: nothing fires twice
    assert len(alice.received("notification")) == 2 and len(bob.received("message_updated")) == 1
    assert not bob.received("notification")


async def test_watch_reaching_the_bot_is_sent_back_to_the_server(store: Store) -> None:
    said: list[tuple[str, Any]] = []

    async def whisper(user: str, message: Any) -> None:
        said.append((user, message))

    async with QuoteService(["stooq"], yahoo_url="", stooq_url="http://127.0.0.1:9", timeout=1) as quotes:
        bot = Bot(MemoryBus(), store, quotes, whisper, "test")
        await bot.answer(Command(id=new_id(), channel=CHANNEL, user="alice", text="/watch AAPL", ts=now_iso()))
    [(user, message)] = said
    assert user == "alice" and message["ephemeral"] is True
    assert message["text"] == "/watch is handled by the server; send it again in a moment"
    assert await store.get_watchlist("alice") == []
