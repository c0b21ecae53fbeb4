"""The investor tools' REST API and the node's /watch and /unwatch on a standalone server with a fake stooq
(docs/protocol.md#investor-tools): watchlists normalized, limited and told to every tab, their quotes from the
shared cache, alerts priced from the quote and limited, and a caller's record over what the reader may read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

import chatkit
from chatkit.api import Api
from core.models import BOT_NAME, iso, ordered_id, utcnow
from core.store import Store
from core.trading import Idea, IdeaStatus, closed
from server.app_keys import STORE
from tests.apps import ChatClient, ClientFactory
from tests.fakes.stooq import FakeStooq

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def chat_server(make_server: Any, fake_stooq: FakeStooq, bus_url: str) -> TestServer:
    """On both buses: with Redis, the quote cache and the `watchlist` event go through Redis as between nodes."""
    server: TestServer = await make_server(stooq_url=fake_stooq.url, bus_url=bus_url)
    return server


@pytest.fixture
async def store(chat_server: TestServer) -> Store:
    return chat_server.app[STORE]


@pytest.fixture
async def second_tab(chat_url: str) -> AsyncIterator[Any]:
    """Another connection of a user already made: their second tab."""
    tabs: list[ChatClient] = []
    http = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())

    async def open_tab(first: ChatClient) -> ChatClient:
        tab = ChatClient(chat_url, http)
        tab.username, tab.token = first.username, first.token
        tabs.append(tab)
        return await tab.connect()

    yield open_tab
    for tab in tabs:
        await tab.sio.disconnect()
    await http.close()


def error(reply: tuple[int, Any]) -> tuple[int, str]:
    status, body = reply
    return status, body["error"]["code"]


def upstream(fake: FakeStooq, code: str) -> int:
    """Quote requests the fake provider got for `code` (its stooq form)."""
    return sum(1 for path in fake.requests if path.startswith(f"/q/l/?s={code}&"))


def days_between(alert: dict[str, Any]) -> timedelta:
    return datetime.fromisoformat(alert["expires_at"]) - datetime.fromisoformat(alert["created_at"])


async def test_a_watchlist_is_normalized_replaced_limited_and_reaches_every_tab(
    make_client: ClientFactory, second_tab: Any
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    tab = await second_tab(alice)
    assert await alice.request("GET", "/api/me/watchlist") == (200, {"symbols": []})

    codes = ["aapl", "AAPL.US", "vod.uk", "^spx", "btc-usd"]
    assert await alice.request("PUT", "/api/me/watchlist", {"symbols": codes}) == (
        200,
        {"symbols": ["AAPL.US", "VOD.UK", "^SPX", "BTC-USD"]},
    )
    event = await tab.wait_for("watchlist")
    assert event == {"symbols": ["AAPL.US", "VOD.UK", "^SPX", "BTC-USD"]}
    assert await alice.request("GET", "/api/me/watchlist") == (200, event)
    assert await bob.request("GET", "/api/me/watchlist") == (200, {"symbols": []})  # each user their own

    assert await alice.request("PUT", "/api/me/watchlist", {"symbols": ["msft"]}) == (200, {"symbols": ["MSFT.US"]})
    await tab.wait_for("watchlist", lambda e: e == {"symbols": ["MSFT.US"]})

    fifty = [f"S{n}" for n in range(50)]
    assert (await alice.request("PUT", "/api/me/watchlist", {"symbols": [*fifty, *fifty]}))[0] == 200  # 50 once
    assert error(await alice.request("PUT", "/api/me/watchlist", {"symbols": [*fifty, "S50"]})) == (
        409,
        "watchlist_full",
    )
    assert error(await alice.request("PUT", "/api/me/watchlist", {"symbols": ["AAPL", "AA!PL"]})) == (
        400,
        "invalid_symbol",
    )
    assert error(await alice.request("PUT", "/api/me/watchlist", {"symbols": "AAPL"})) == (400, "invalid_payload")
    assert (await alice.request("GET", "/api/me/watchlist"))[1]["symbols"] == [f"S{n}.US" for n in range(50)]
    assert not bob.received("watchlist")


async def test_the_ticker_strip_is_served_from_the_shared_cache(
    make_client: ClientFactory, fake_stooq: FakeStooq
) -> None:
    """Two users polling the same codes cost one upstream request per code; a code no provider knows is
    an error beside the others' quotes."""
    alice, bob = await make_client("alice"), await make_client("bob")
    for user in (alice, bob):
        assert (await user.request("PUT", "/api/me/watchlist", {"symbols": ["aapl", "vod.uk", "nosuch"]}))[0] == 200
    for user in (alice, bob, alice, bob):
        status, body = await user.request("GET", "/api/me/watchlist?quotes=true")
        assert status == 200, body
        assert body["symbols"] == ["AAPL.US", "VOD.UK", "NOSUCH.US"]
        assert [(q["symbol"], q["price"], q["currency"]) for q in body["quotes"]] == [
            ("AAPL.US", "93.42", "USD"),
            ("VOD.UK", "72.50", "GBX"),
        ]
        assert [(e["symbol"], e["code"]) for e in body["errors"]] == [("NOSUCH.US", "unknown_symbol")]
    assert (upstream(fake_stooq, "aapl.us"), upstream(fake_stooq, "vod.uk"), upstream(fake_stooq, "nosuch.us")) == (
        1,
        1,
        1,
    )
    assert "quotes" not in (await alice.request("GET", "/api/me/watchlist?quotes=false"))[1]


async def test_an_alert_is_priced_from_the_quote_listed_and_cancelled_by_its_owner_only(
    make_client: ClientFactory,
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    status, first = await alice.request("POST", "/api/me/alerts", {"symbol": "aapl", "op": "above", "value": "100"})
    assert status == 201, first
    assert {k: first[k] for k in ("symbol", "op", "value", "created_price", "currency", "status")} == {
        "symbol": "AAPL.US", "op": "above", "value": "100", "created_price": "93.42", "currency": "USD",
        "status": "active",
    }  # fmt: skip
    assert "user" not in first and "channel" not in first and "triggered_at" not in first
    assert days_between(first) == timedelta(days=30)
    week = {"symbol": "vod.uk", "op": "below", "value": "70.25", "days": 7}
    status, second = await alice.request("POST", "/api/me/alerts", week)
    assert status == 201 and days_between(second) == timedelta(days=7), second
    assert (second["symbol"], second["value"], second["created_price"], second["currency"]) == (
        "VOD.UK", "70.25", "72.50", "GBX"
    )  # fmt: skip
    status, third = await alice.request("POST", "/api/me/alerts", {"symbol": "^spx", "op": "move_pct", "value": "5%"})
    assert status == 201 and (third["value"], third["created_price"]) == ("5", "5123.40"), third
    status, fourth = await alice.request("POST", "/api/me/alerts", {"symbol": "AAPL", "op": "above", "value": 100.5})
    assert status == 201 and fourth["value"] == "100.5", fourth

    assert await alice.request("GET", "/api/me/alerts") == (200, {"alerts": [fourth, third, second, first]})
    assert await bob.request("GET", "/api/me/alerts") == (200, {"alerts": []})

    assert error(await bob.request("DELETE", f"/api/me/alerts/{second['id']}")) == (404, "alert_not_found")
    status, cancelled = await alice.request("DELETE", f"/api/me/alerts/{second['id']}")
    assert status == 200 and cancelled == {**second, "status": "cancelled"}
    assert error(await alice.request("DELETE", f"/api/me/alerts/{second['id']}")) == (404, "alert_not_found")
    assert error(await alice.request("DELETE", "/api/me/alerts/nosuchalert")) == (404, "alert_not_found")
    assert await alice.request("GET", "/api/me/alerts?status=cancelled") == (200, {"alerts": [cancelled]})
    assert await alice.request("GET", "/api/me/alerts?status=active") == (200, {"alerts": [fourth, third, first]})
    assert await alice.request("GET", "/api/me/alerts?status=triggered") == (200, {"alerts": []})
    assert error(await alice.request("GET", "/api/me/alerts?status=gone")) == (400, "invalid_parameter")


async def test_alerts_that_cannot_be_set_say_why(make_client: ClientFactory) -> None:
    alice = await make_client("alice")

    async def refused(body: dict[str, Any]) -> tuple[int, str]:
        return error(await alice.request("POST", "/api/me/alerts", body))

    aapl = {"symbol": "AAPL", "op": "above"}
    assert await refused({**aapl, "value": "90"}) == (409, "already_crossed")  # at 93.42 already
    assert await refused({"symbol": "AAPL", "op": "below", "value": "93.42"}) == (409, "already_crossed")
    for value in ("abc", "-5", "0", "1.123456789", "1e3"):
        assert await refused({**aapl, "value": value}) == (400, "invalid_amount"), value
    assert await refused({"symbol": "AAPL", "op": "move_pct", "value": "2000"}) == (400, "invalid_amount")
    assert await refused({"symbol": "AAPL", "op": "sideways", "value": "5"}) == (400, "invalid_payload")
    assert await refused({**aapl, "value": "200", "days": 0}) == (400, "invalid_payload")
    assert await refused({**aapl, "value": "200", "days": "7"}) == (400, "invalid_payload")
    assert await refused(aapl) == (400, "invalid_payload")
    assert await refused({**aapl, "symbol": "NOSUCH", "value": "200"}) == (404, "unknown_symbol")
    assert await refused({**aapl, "symbol": "AA!PL", "value": "200"}) == (400, "invalid_symbol")
    status, body = await alice.request("POST", "/api/me/alerts", data=b"{not json")
    assert (status, body["error"]["code"]) == (400, "invalid_json")
    assert await alice.request("GET", "/api/me/alerts") == (200, {"alerts": []})


async def test_a_user_holds_at_most_twenty_active_alerts(make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    made = []
    for n in range(20):
        status, alert = await alice.request(
            "POST", "/api/me/alerts", {"symbol": "AAPL", "op": "above", "value": str(100 + n)}
        )
        assert status == 201, alert
        made.append(alert)
    assert error(await alice.request("POST", "/api/me/alerts", {"symbol": "AAPL", "op": "above", "value": "150"})) == (
        409,
        "too_many_alerts",
    )
    assert (await alice.request("DELETE", f"/api/me/alerts/{made[0]['id']}"))[0] == 200
    assert (await alice.request("POST", "/api/me/alerts", {"symbol": "AAPL", "op": "above", "value": "150"}))[0] == 201
    assert len((await alice.request("GET", "/api/me/alerts?status=active"))[1]["alerts"]) == 20


def an_idea(author: str, channel: str, minute: int, **fields: Any) -> Idea:
    opened = utcnow() - timedelta(hours=1) + timedelta(minutes=minute)
    given: dict[str, Any] = {
        "id": ordered_id(opened.timestamp()), "author": author, "channel": channel, "side": "long",
        "symbol": "AAPL.US", "currency": "USD", "entry": "93.42", "target": "100", "stop": "90",
        "opened_at": iso(opened), "expires_at": iso(opened + timedelta(days=5)),
    }  # fmt: skip
    return Idea.model_validate(given | fields)


async def keep(store: Store, idea: Idea, status: IdeaStatus | None = None, price: str = "") -> Idea:
    """The idea in the store, closed at `price` when a status is given (its delivery done, as the engine's)."""
    assert await store.save_idea(idea)
    if status is None:
        return idea
    done = await store.close_idea(closed(idea, status, Decimal(price), iso(utcnow())))
    assert done is not None
    await store.mark_idea_delivered(done.id)
    return done


async def test_a_callers_record_counts_only_ideas_the_reader_may_read(make_client: ClientFactory, store: Store) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    assert (await alice.request("POST", "/api/channels", {"name": "vault", "visibility": "private"}))[0] == 201
    hit = await keep(store, an_idea("alice", "general", 1), "target_hit", "100.20")
    stopped = await keep(store, an_idea("alice", "general", 2, side="short", stop="95", target="80"), "stopped", "96")
    still = await keep(store, an_idea("alice", "general", 3))
    secret = await keep(store, an_idea("alice", "vault", 4), "target_hit", "140.13")
    await keep(store, an_idea("bob", "general", 5))
    assert (hit.return_pct, stopped.return_pct, secret.return_pct) == ("7.26", "-2.76", "50.00")

    status, seen_by_bob = await bob.request("GET", "/api/users/alice/ideas")
    assert status == 200, seen_by_bob
    assert seen_by_bob == {
        "ideas": [still.wire(), stopped.wire(), hit.wire()],
        "scorecard": {"ideas": 3, "closed": 2, "hit_rate": 0.5, "avg_return_pct": "2.25"},
    }
    assert "vault" not in str(seen_by_bob)
    status, seen_by_alice = await alice.request("GET", "/api/users/ALICE/ideas")
    assert [i["id"] for i in seen_by_alice["ideas"]] == [secret.id, still.id, stopped.id, hit.id]
    assert seen_by_alice["scorecard"] == {"ideas": 4, "closed": 3, "hit_rate": 0.6667, "avg_return_pct": "18.17"}

    status, open_only = await bob.request("GET", "/api/users/alice/ideas?status=open")
    assert status == 200 and open_only["ideas"] == [still.wire()]
    assert open_only["scorecard"] == seen_by_bob["scorecard"]  # the record is the whole record
    status, newest = await bob.request("GET", "/api/users/alice/ideas?limit=1")
    assert newest["ideas"] == [still.wire()]
    assert error(await bob.request("GET", "/api/users/carol/ideas")) == (404, "user_not_found")
    assert error(await bob.request("GET", "/api/users/alice/ideas?status=won")) == (400, "invalid_parameter")
    assert (await bob.request("GET", "/api/users/bob/ideas"))[1]["scorecard"] == {
        "ideas": 1, "closed": 0, "hit_rate": None, "avg_return_pct": None
    }  # fmt: skip


async def test_watch_and_unwatch_change_the_list_tell_every_tab_and_whisper_what_is_watched(
    make_client: ClientFactory, second_tab: Any
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    tab = await second_tab(alice)
    for client in (alice, tab, bob):
        assert (await client.call("join", {"channel": "general"}))["ok"]

    ack = await alice.call("send", {"channel": "general", "text": "/watch aapl, vod.uk ^spx"})
    assert ack["ok"] and ack["watchlist"] == ["AAPL.US", "VOD.UK", "^SPX"], ack
    assert (ack["command"]["name"], ack["command"]["args"]) == ("watch", ["aapl", "vod.uk", "^spx"])
    assert await tab.wait_for("watchlist") == {"symbols": ["AAPL.US", "VOD.UK", "^SPX"]}
    for client in (alice, tab):
        note = await client.wait_for("message", lambda m: m["user"] == BOT_NAME)
        assert note["ephemeral"] and note["bot"] and "seq" not in note and note["channel"] == "general"
        assert note["text"] == "Now watching AAPL.US, VOD.UK, ^SPX. Your watchlist (3): AAPL.US, VOD.UK, ^SPX"
    assert (await alice.request("GET", "/api/me/watchlist"))[1] == {"symbols": ["AAPL.US", "VOD.UK", "^SPX"]}

    ack = await tab.call("send", {"channel": "general", "text": "/unwatch AAPL.US"})
    assert ack["ok"] and ack["watchlist"] == ["VOD.UK", "^SPX"], ack
    await alice.wait_for("watchlist", lambda e: e == {"symbols": ["VOD.UK", "^SPX"]})
    note = await alice.wait_for("message", lambda m: m["user"] == BOT_NAME and "No longer" in m["text"])
    assert note["text"] == "No longer watching AAPL.US. Your watchlist (2): VOD.UK, ^SPX"

    ack = await alice.call("send", {"channel": "general", "text": "/watch MSFT AA!PL"})
    assert not ack["ok"] and ack["error"]["code"] == "invalid_symbol" and "AA!PL" in ack["error"]["message"]
    ack = await alice.call("send", {"channel": "general", "text": "/watch"})
    assert not ack["ok"] and ack["error"]["code"] == "unknown_command"
    assert (await alice.request("GET", "/api/me/watchlist"))[1] == {"symbols": ["VOD.UK", "^SPX"]}

    assert (await alice.request("PUT", "/api/me/watchlist", {"symbols": ["btc-usd"]}))[0] == 200
    await tab.wait_for("watchlist", lambda e: e == {"symbols": ["BTC-USD"]})
    # bob heard none of it, and nothing reached the channel
    assert not bob.received("watchlist")
    assert not [m for m in bob.received("message") if m["user"] in (BOT_NAME, "alice")]


async def test_chatkit_speaks_the_investor_tools(chat_url: str, make_client: ClientFactory, store: Store) -> None:
    alice = await make_client("alice", connect=False)
    await keep(store, an_idea("alice", "general", 1), "target_hit", "100.20")
    async with aiohttp.ClientSession() as http:
        api = Api(http, chat_url, alice.token)
        assert await api.set_watchlist(["aapl", "vod.uk"]) == ["AAPL.US", "VOD.UK"]
        strip = await api.watchlist(quotes=True)
        assert [q["price"] for q in strip["quotes"]] == ["93.42", "72.50"] and strip["errors"] == []
        assert await api.watchlist() == {"symbols": ["AAPL.US", "VOD.UK"]}
        with pytest.raises(chatkit.ChatError) as refused:
            await api.set_watchlist(["AA!PL"])
        assert refused.value.code == "invalid_symbol"

        alert = await api.create_alert("vod.uk", "above", "80.5", days=3)
        assert (alert["symbol"], alert["value"], alert["currency"]) == ("VOD.UK", "80.5", "GBX")
        with pytest.raises(chatkit.ChatError) as refused:
            await api.create_alert("AAPL", "below", "100")
        assert refused.value.code == "already_crossed"
        assert await api.alerts() == [alert] and await api.alerts("expired") == []
        assert (await api.cancel_alert(alert["id"]))["status"] == "cancelled"
        with pytest.raises(chatkit.ChatError) as refused:
            await api.cancel_alert(alert["id"])
        assert refused.value.code == "alert_not_found"
        assert [a["status"] for a in await api.alerts("cancelled")] == ["cancelled"]

        record = await api.ideas("alice")
        assert record["scorecard"] == {"ideas": 1, "closed": 1, "hit_rate": 1.0, "avg_return_pct": "7.26"}
        assert (await api.ideas("alice", status="open"))["ideas"] == []
