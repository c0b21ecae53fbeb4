"""Mentions, notifications and read marks on a standalone server, on both buses (DESIGN §9): who a message
mentions, who is notified of it and why (once, never the author, never outside the channels they read),
and read marks that only move forward, reach the user's other connections and survive a restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from tests.apps import ChatClient, ClientFactory

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def chat_server(make_server: Any, fake_stooq: Any, bus_url: str) -> TestServer:
    server: TestServer = await make_server(stooq_url=fake_stooq.url, bus_url=bus_url)
    return server


def error_code(ack: dict[str, Any]) -> str:
    assert ack["ok"] is False, ack
    return str(ack["error"]["code"])


async def joined(client: ChatClient, channel: str = "general") -> dict[str, Any]:
    ack = await client.call("join", {"channel": channel})
    assert ack["ok"], ack
    return dict(ack)


async def say(client: ChatClient, text: str, channel: str = "general") -> dict[str, Any]:
    ack = await client.call("send", {"channel": channel, "text": text})
    assert ack["ok"], ack
    return dict(ack["message"])


async def create(client: ChatClient, name: str, **extra: Any) -> None:
    status, body = await client.request("POST", "/api/channels", {"name": name, **extra})
    assert status == 201, body


async def add(owner: ChatClient, channel: str, user: str) -> None:
    status, body = await owner.request("PUT", f"/api/channels/{channel}/members/{user}", {"role": "member"})
    assert status == 200, body


async def quiet(client: ChatClient, seconds: float = 0.6) -> list[Any]:
    """The notifications that reached `client` by the time the notifier has surely handled what came before."""
    await asyncio.sleep(seconds)
    return client.received("notification")


async def settle(sender: ChatClient, *listeners: ChatClient) -> None:
    """A mention of every listener in #general, each waited for: the notifier has handled whatever was
    posted before it, so anything else they were to get has arrived too."""
    marker = await say(sender, "marker " + " ".join(f"@{c.username}" for c in listeners))
    for listener in listeners:
        await listener.wait_for("notification", lambda n: n.get("message", {}).get("id") == marker["id"])


async def channel_when(client: ChatClient, name: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The channel's entry of GET /api/me/channels once `done` holds of it, or the last one read after 5 s: its
    unread counts read the archive, which a notification (the notifier's, beside the archiver) may come before."""
    deadline = time.monotonic() + 5
    while not done(mine := (await my_channels(client))[name]) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return mine


async def another_connection(user: ChatClient, url: str) -> ChatClient:
    """A second device of the same user: its own socket, the same session."""
    other = ChatClient(url, user.http)
    other.username, other.token = user.username, user.token
    return await other.connect()


async def my_channels(client: ChatClient) -> dict[str, dict[str, Any]]:
    status, body = await client.request("GET", "/api/me/channels")
    assert status == 200, body
    return {c["name"]: c for c in body["channels"]}


async def test_a_message_names_whom_it_mentions_as_registered_and_only_those(make_client: ClientFactory) -> None:
    alice, _bob = await make_client("alice"), await make_client("BobTrader")
    await joined(alice)
    sent = await say(alice, "@bobtrader @nobody-here mail me@bobtrader.com, @here @channel thanks @BobTrader.")
    # the registered spelling, once; an unknown name and an e-mail address are text; @channel is for moderators
    assert sent["mentions"] == ["BobTrader", "@here"]
    assert "mentions" not in await say(alice, "no one at all")
    _, page = await alice.request("GET", "/api/channels/general/messages")
    assert page["messages"][0]["mentions"] == ["BobTrader", "@here"]


async def test_an_edit_brings_the_mentions_of_its_text(make_client: ClientFactory) -> None:
    alice, bob, carol = await make_client("alice"), await make_client("bob"), await make_client("carol")
    await joined(alice)
    sent = await say(alice, "thoughts, @bob?")
    ack = await alice.call("edit", {"channel": "general", "id": sent["id"], "text": "thoughts, @carol?"})
    assert ack["message"]["mentions"] == ["carol"]
    await carol.wait_for("notification", lambda n: n["message"]["id"] == sent["id"])
    ack = await alice.call("edit", {"channel": "general", "id": sent["id"], "text": "thoughts, @carol and @bob?"})
    assert ack["message"]["mentions"] == ["carol", "bob"]
    await settle(alice, bob, carol)
    # bob was notified of the first text; neither hears of the message again
    assert [n["message"]["id"] for n in bob.received("notification")].count(sent["id"]) == 1
    assert [n["message"]["id"] for n in carol.received("notification")].count(sent["id"]) == 1


async def test_a_mention_reaches_every_connection_of_the_user_whatever_is_open(
    make_client: ClientFactory, chat_url: str
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    second = await another_connection(bob, chat_url)
    await create(alice, "desk")
    await joined(alice, "desk")
    sent = await say(alice, "@bob have a look at $TSLA", "desk")
    for connection in (bob, second):  # neither joined #desk
        note = await connection.wait_for("notification")
        assert (note["kind"], note["channel"], note["message"]["id"]) == ("mention", "desk", sent["id"])
        assert note["text"] == "alice mentioned you in #desk: @bob have a look at $TSLA"
        assert set(note) == {"id", "kind", "channel", "message", "text", "ts"}
    assert await quiet(alice) == []  # never for one's own message
    await second.sio.disconnect()


async def test_dms_keywords_cashtags_and_levels_each_notify_once_for_the_strongest_reason(
    make_client: ClientFactory,
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    status, prefs = await bob.request(
        "PUT",
        "/api/me/notify",
        {"keywords": ["  Earnings Call ", "guidance"], "cashtags": ["$tsla", "brk.b"], "channels": {"noisy": "all"}},
    )
    assert status == 200
    assert prefs == {
        "keywords": ["earnings call", "guidance"],
        "cashtags": ["TSLA", "BRK.B"],
        "channels": {"noisy": "all"},
    }
    assert (await bob.request("GET", "/api/me/notify")) == (200, prefs)
    await asyncio.sleep(2.2)  # the notifier reads changed preferences every 2 s
    await joined(alice)
    await create(alice, "noisy")
    await joined(alice, "noisy")
    status, dm = await alice.request("POST", "/api/dms", {"username": "bob"})
    assert status in (200, 201), dm
    await joined(alice, dm["name"])

    expected = [
        (await say(alice, "the earnings  call is at 4"), "keyword"),
        (await say(alice, "earnings are out, call me"), None),  # not the phrase
        (await say(alice, "raised GUIDANCE and $TSLA"), "keyword"),  # one notification, the stronger reason
        (await say(alice, "$BRK.B looks cheap"), "cashtag"),
        (await say(alice, "@bob $TSLA guidance"), "mention"),
        (await say(alice, "hello there", "noisy"), "message"),
        (await say(alice, "psst", dm["name"]), "dm"),
    ]
    await settle(alice, bob)
    got = {n["message"]["id"]: n for n in bob.received("notification")}
    for message, kind in expected:
        assert (got[message["id"]]["kind"] if message["id"] in got else None) == kind, message["text"]
    assert got[expected[3][0]["id"]]["text"] == "$BRK.B in #general, alice: $BRK.B looks cheap"
    assert got[expected[6][0]["id"]]["text"] == "alice: psst"

    # a level of none silences a channel, mentions included; `mentions` lets only those through
    await bob.request("PUT", "/api/me/notify", {**prefs, "channels": {"general": "none", "noisy": "mentions"}})
    await asyncio.sleep(2.2)
    silenced = [await say(alice, "@bob guidance"), await say(alice, "guidance again", "noisy")]
    through = await say(alice, "@bob over here", "noisy")
    await bob.wait_for("notification", lambda n: n["message"]["id"] == through["id"])
    await asyncio.sleep(0.5)
    ids = [n["message"]["id"] for n in bob.received("notification")]
    assert not {m["id"] for m in silenced} & set(ids)


async def test_bad_preferences_are_refused_with_what_is_wrong(make_client: ClientFactory) -> None:
    bob = await make_client("bob")
    for body in (
        {"keywords": ["x"]},
        {"keywords": ["k"] * 51},
        {"cashtags": ["not a ticker"]},
        {"channels": {"general": "loud"}},
        {"keywords": "earnings"},
        {"extra": 1},
    ):
        status, reply = await bob.request("PUT", "/api/me/notify", body)
        assert (status, reply["error"]["code"]) == (400, "invalid_payload"), body
    assert await bob.request("GET", "/api/me/notify") == (200, {"keywords": [], "cashtags": [], "channels": {}})


async def test_nobody_is_notified_from_a_channel_they_may_not_read(make_client: ClientFactory) -> None:
    owner, member, outsider = await make_client("owner"), await make_client("member"), await make_client("outsider")
    await outsider.request("PUT", "/api/me/notify", {"keywords": ["merger"], "cashtags": ["ACME"]})
    await member.request("PUT", "/api/me/notify", {"keywords": ["merger"]})
    await asyncio.sleep(2.2)
    await create(owner, "vault", visibility="private")
    await add(owner, "vault", "member")
    await joined(owner, "vault")
    secret = await say(owner, "@outsider @member @channel the merger with $ACME is on", "vault")
    assert secret["mentions"] == ["member", "@channel"]  # the outsider may not read #vault
    note = await member.wait_for("notification", lambda n: n["message"]["id"] == secret["id"])
    assert note["kind"] == "mention"
    await joined(owner)
    await settle(owner, outsider)
    assert [n for n in outsider.received("notification") if "vault" in str(n)] == []
    status, inbox = await outsider.request("GET", "/api/me/notifications")
    assert status == 200 and "vault" not in str(inbox)


async def test_the_inbox_pages_newest_first(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    await joined(alice)
    sent = [await say(alice, f"@bob number {i}") for i in range(5)]
    await bob.wait_for("notification", lambda n: n["message"]["id"] == sent[-1]["id"])
    status, page = await bob.request("GET", "/api/me/notifications?limit=3")
    assert status == 200
    assert [n["message"]["text"] for n in page["notifications"]] == ["@bob number 4", "@bob number 3", "@bob number 2"]
    _, rest = await bob.request("GET", f"/api/me/notifications?limit=3&before={page['next_before']}")
    assert [n["message"]["text"] for n in rest["notifications"]] == ["@bob number 1", "@bob number 0"]
    assert rest["next_before"] is None


async def test_read_marks_only_move_forward_and_reach_the_users_other_connections(
    make_client: ClientFactory, chat_url: str
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    phone = await another_connection(bob, chat_url)
    await joined(alice)
    await joined(bob)
    assert (await my_channels(bob))["general"]["read_seq"] == 0  # public and empty: nothing to have read
    sent = [await say(alice, f"m{i}") for i in range(4)]
    await say(alice, "@bob look")
    await bob.wait_for("notification")
    expected = (5, 0, 5, 1)
    mine = await channel_when(
        bob, "general", lambda c: (c["last_seq"], c["read_seq"], c["unread"], c["mentions"]) == expected
    )
    assert (mine["last_seq"], mine["read_seq"], mine["unread"], mine["mentions"]) == expected

    assert await bob.call("read", {"channel": "general", "seq": sent[1]["seq"]}) == {
        "ok": True,
        "channel": "general",
        "seq": 2,
    }
    assert await phone.wait_for("read_state") == {"channel": "general", "seq": 2}
    assert bob.received("read_state") == []  # not back to the connection that read
    # never backwards, never past the channel's end
    assert (await bob.call("read", {"channel": "general", "seq": 1}))["seq"] == 2
    assert (await phone.call("read", {"channel": "general", "seq": 10**9}))["seq"] == 5
    mine = (await my_channels(bob))["general"]
    assert (mine["read_seq"], mine["unread"], mine["mentions"]) == (5, 0, 0)
    assert error_code(await bob.call("read", {"channel": "general", "seq": -1})) == "invalid_payload"
    assert error_code(await bob.call("read", {"channel": "nowhere", "seq": 1})) == "channel_not_found"

    # one's own message is read; others' after it are not, deleted ones do not count
    await say(bob, "mine")
    gone = await say(alice, "oops")
    await say(alice, "after")
    assert (await alice.call("delete", {"channel": "general", "id": gone["id"]}))["ok"]
    await settle(alice, bob)
    # unread counts read the archive, which the notifier (the marker's notification) may run ahead of
    mine = await channel_when(bob, "general", lambda c: (c["read_seq"], c["unread"], c["mentions"]) == (6, 2, 1))
    assert (mine["read_seq"], mine["unread"], mine["mentions"]) == (6, 2, 1)  # "after" and the marker
    await phone.sio.disconnect()


async def test_read_marks_survive_a_restart(make_server: Any, make_client: ClientFactory, tmp_path: Any) -> None:
    server = await make_server(storage_url=f"sqlite:///{tmp_path}/kept.sqlite3")
    url = str(server.make_url("")).rstrip("/")
    alice, bob = await make_client("alice", url=url), await make_client("bob", url=url)
    await joined(alice)
    for i in range(3):
        await say(alice, f"m{i}")
    assert (await bob.call("read", {"channel": "general", "seq": 2}))["seq"] == 2
    await asyncio.sleep(0.5)  # archived
    await alice.sio.disconnect()
    await bob.sio.disconnect()
    await server.close()
    again = await make_server(storage_url=f"sqlite:///{tmp_path}/kept.sqlite3")
    bob.base_url = str(again.make_url("")).rstrip("/")
    mine = (await my_channels(bob))["general"]
    assert (mine["last_seq"], mine["read_seq"], mine["unread"]) == (3, 2, 1)


async def test_a_channel_made_while_away_that_mentions_the_user_lists_that_mention(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    assert list(await my_channels(bob)) == ["general"]
    await create(alice, "later")
    await joined(alice, "later")
    await say(alice, "history nobody needs", "later")
    sent = await say(alice, "@bob welcome", "later")
    await say(alice, "and more", "later")
    await bob.wait_for("notification", lambda n: n["message"]["id"] == sent["id"])
    expected = (sent["seq"] - 1, 2, 1)
    later = await channel_when(bob, "later", lambda c: (c["read_seq"], c["unread"], c["mentions"]) == expected)
    assert (later["read_seq"], later["unread"], later["mentions"]) == expected  # listed for the first time now
