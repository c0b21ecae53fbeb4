"""chatkit for mentions, notifications, read marks and search (#22), against the live standalone app:
`investor-chat tail --notifications` printing a line per notification from any channel, live and after a
reconnect, and chatkit.api's search, inbox, preferences and read-state calls with chatkit.mark_read."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

import chatkit
from chatkit.api import Api
from server.standalone import create_standalone_app
from tests import apps
from tests.apps import PASSWORD, ChatClient, ClientFactory
from tests.scripts import Running, example, ok, post, script_env


async def following(script: Running) -> None:
    """Until the script (run with -v) says it follows the notifications: its socket is connected, so every
    notification from now on reaches it live."""
    assert script.proc.stderr is not None
    async with asyncio.timeout(10):
        while b"following notifications" not in await script.proc.stderr.readline():
            pass


async def noted(client: ChatClient, message: dict[str, Any]) -> dict[str, Any]:
    """The notification of `message` that reached the user's own connection in the test."""
    note: dict[str, Any] = await client.wait_for("notification", lambda n: n["message"]["id"] == message["id"])
    return note


async def test_tail_notifications_prints_one_line_per_notification_from_any_channel(
    chat_url: str, make_client: ClientFactory
) -> None:
    """bob follows his notifications without joining anything: a mention in #desk, a DM, a keyword of his in
    #general each print one line (time, kind, channel, text); his own message, a mention in a private
    channel he cannot read and a message matching nothing print none."""
    alice, bob, carol = await make_client("alice"), await make_client("bob"), await make_client("carol")
    await ok(bob.request("PUT", "/api/me/notify", {"keywords": ["guidance"], "cashtags": [], "channels": {}}))
    await ok(alice.request("POST", "/api/channels", {"name": "desk"}))
    await ok(carol.request("POST", "/api/channels", {"name": "vault", "visibility": "private"}))
    dm = (await ok(alice.request("POST", "/api/dms", {"username": "bob"})))["name"]
    env = script_env(chat_url, "bob", PASSWORD)
    tail = await Running.start("-m", "server", "tail", "--notifications", "-v", env=env)
    raw = await Running.start(example("tail.py"), "--notifications", "--json", "-v", env=env)
    try:
        await following(tail)
        await following(raw)
        await asyncio.sleep(2.2)  # the notifier reads changed preferences every 2 s
        (desk,) = await post(alice, "desk", "@bob have a look at $TSLA")
        await post(carol, "vault", "@bob cannot read this")
        await post(bob, "general", "my own guidance, @bob")
        await post(alice, "general", "nothing for anyone")
        (direct,) = await post(alice, dm, "are you in?")
        (keyword,) = await post(alice, "general", "NVDA raised its Guidance")
        notes = [await noted(bob, m) for m in (desk, direct, keyword)]
        at = [note["ts"][11:19] for note in notes]
        assert [await tail.line() for _ in range(3)] == [
            f"{at[0]} mention #desk: alice mentioned you in #desk: @bob have a look at $TSLA",
            f"{at[1]} dm: alice: are you in?",
            f"{at[2]} keyword #general: “guidance” in #general, alice: NVDA raised its Guidance",
        ]
        assert [json.loads(await raw.line()) for _ in range(3)] == notes
        assert bob.received("notification") == notes  # and nothing else came
    finally:
        await tail.stop()
        await raw.stop()


async def test_tail_notifications_beside_a_channel_prints_those_missed_while_away_once_in_order(
    tmp_path: Path, fake_stooq: Any, make_client: ClientFactory
) -> None:
    """The server goes away and comes back on the same port: the tail of #general with --notifications
    prints the channel's missed message, then the notifications that came meanwhile from the inbox, oldest
    first, each once, then the live ones."""
    (tmp_path / "restarting").mkdir()
    settings = apps.settings_for(tmp_path / "restarting", stooq_url=fake_stooq.url)
    first = TestServer(create_standalone_app(settings), host="127.0.0.1")
    await first.start_server(shutdown_timeout=0.5)
    url = str(first.make_url("")).rstrip("/")
    alice = await make_client("alice", url=url)
    await make_client("bob", url=url, connect=False)
    await ok(alice.request("POST", "/api/channels", {"name": "desk"}))
    await post(alice, "general", "morning")
    env = script_env(url, "bob", PASSWORD)
    tail = await Running.start(
        "-m", "server", "tail", "general", "--notifications", "--reconnect-delay", "3", env=env
    )  # fmt: skip
    second: TestServer | None = None
    try:
        assert (await tail.line()).endswith("#general [1] alice: morning")
        await post(alice, "desk", "@bob before the restart")
        assert (await tail.line()).endswith("mention #desk: alice mentioned you in #desk: @bob before the restart")
        await alice.sio.disconnect()
        port = first.port
        await first.close()
        second = TestServer(create_standalone_app(settings), host="127.0.0.1", port=port)
        await second.start_server()
        await alice.connect()
        await post(alice, "desk", "@bob first while away")
        await post(alice, "general", "@bob second while away")
        lines = [(await tail.line(timeout=20)).split(" ", 1)[1] for _ in range(3)]
        assert lines == [
            "#general [2] alice: @bob second while away",
            "mention #desk: alice mentioned you in #desk: @bob first while away",
            "mention #general: alice mentioned you in #general: @bob second while away",
        ]
        await post(alice, "desk", "@bob back live")
        assert (await tail.line()).endswith("mention #desk: alice mentioned you in #desk: @bob back live")
    finally:
        await tail.stop()
        if second is not None:
            await second.close()
        else:
            await first.close()


async def searched(api: Api, q: str, count: int) -> None:
    """Until the archive holds what was posted: search reads the store, a few hundred ms behind."""
    async with asyncio.timeout(10):
        while len((await api.search(q, limit=100))["hits"]) < count:
            await asyncio.sleep(0.2)


async def test_chatkit_api_search_pages_and_waits_out_the_rate_limit(chat_url: str, make_client: ClientFactory) -> None:
    alice, carol = await make_client("alice"), await make_client("carol")
    await ok(carol.request("POST", "/api/channels", {"name": "vault", "visibility": "private"}))
    await post(carol, "vault", "guidance from the vault")
    posted = await post(alice, "general", *(f"note {i}: guidance looks fine" for i in range(1, 13)))
    (tagged,) = await post(alice, "general", "$NVDA into the print, no word of it")
    async with aiohttp.ClientSession() as http:
        api = Api(http, chat_url, alice.token)
        await searched(api, "guidance", 12)
        newest_first = [m["id"] for m in reversed(posted)]
        page = await api.search("GUIDANCE", limit=5)
        assert [m["id"] for m in page["hits"]] == newest_first[:5] and page["next_before"]
        page = await api.search("guidance", before=page["next_before"], limit=5)
        assert [m["id"] for m in page["hits"]] == newest_first[5:10]
        async with asyncio.timeout(10):  # posted after the others: archived a batch later, maybe
            while not (await api.search(cashtag="NVDA"))["hits"]:
                await asyncio.sleep(0.2)
        assert [m["id"] for m in (await api.search(cashtag="NVDA"))["hits"]] == [tagged["id"]]
        assert [m["id"] for m in (await api.search("$nvda", user="@ALICE"))["hits"]] == [tagged["id"]]
        assert [m["id"] async for m in api.search_all("guidance", page_size=5)] == newest_first
        for _ in range(30):  # spend what is left of the server's burst of searches
            with contextlib.suppress(chatkit.ChatError):
                await api.search("guidance", limit=1)
        with pytest.raises(chatkit.ChatError) as refused:
            await api.search("guidance")
        assert refused.value.code == "rate_limited"
        # each page waits until the server takes another search
        assert [m["id"] async for m in api.search_all("guidance", page_size=5)] == newest_first
        with pytest.raises(chatkit.ChatError) as refused:
            await api.search("   ")
        assert refused.value.code == "invalid_parameter"
        with pytest.raises(chatkit.ChatError) as refused:
            await api.search("guidance", channel="vault")  # a private channel alice is not in
        assert refused.value.code == "channel_not_found"


async def general_state(api: Api, unread: int) -> dict[str, Any]:
    """#general in the caller's channel list once it counts `unread` (the counts read the archive, a few
    hundred ms behind the live feed)."""
    async with asyncio.timeout(10):
        while (general := next(c for c in await api.my_channels() if c["name"] == "general"))["unread"] != unread:
            await asyncio.sleep(0.1)
    return general


async def test_chatkit_api_inbox_preferences_read_marks_and_unread_counts(
    chat_url: str, make_client: ClientFactory
) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    (welcome,) = await post(alice, "general", "welcome")
    async with aiohttp.ClientSession() as http:
        api = Api(http, chat_url, bob.token)
        # a public channel first shown to bob counts as read up to then
        assert (await general_state(api, 0))["read_seq"] == welcome["seq"]
        sent = await post(alice, "general", "@bob one", "@bob two", "@bob three", "no mention")
        await bob.wait_for("notification", lambda n: n["message"]["id"] == sent[2]["id"])
        page = await api.notifications(limit=2)
        assert [n["message"]["id"] for n in page["notifications"]] == [sent[2]["id"], sent[1]["id"]]
        rest = await api.notifications(before=page["next_before"])
        assert [n["message"]["id"] for n in rest["notifications"]] == [sent[0]["id"]] and rest["next_before"] is None
        assert page["notifications"][0]["text"] == "alice mentioned you in #general: @bob three"

        general = await general_state(api, 4)
        assert (general["read_seq"], general["mentions"]) == (welcome["seq"], 3)
        assert await chatkit.mark_read(bob.sio, "general", sent[1]["seq"]) == sent[1]["seq"]
        assert await chatkit.mark_read(bob.sio, "general", sent[0]["seq"]) == sent[1]["seq"]  # never back
        general = await general_state(api, 2)
        assert (general["read_seq"], general["mentions"]) == (sent[1]["seq"], 1)
        with pytest.raises(chatkit.ChatError) as refused:
            await chatkit.mark_read(bob.sio, "nosuchchannel", 1)
        assert refused.value.code == "channel_not_found"

        prefs = await api.set_notify_prefs(
            keywords=["  Earnings Call "], cashtags=["$tsla"], channels={"general": "all"}
        )
        assert prefs == {"keywords": ["earnings call"], "cashtags": ["TSLA"], "channels": {"general": "all"}}
        args = argparse.Namespace(url=chat_url, username="bob", password=PASSWORD, register=False)
        assert await Api(http, chat_url, await chatkit.log_in(http, args)).notify_prefs() == prefs
