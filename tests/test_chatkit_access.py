"""chatkit and `investor-chat tail` with channels that have members and moderators: channel events printed
live and on a catch-up at their place in the seq, a tail removed, banned or suspended, and chatkit.api's
REST calls of members and moderation, against the live standalone app."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

import chatkit
from chatkit.api import Api
from server.app_keys import STORE
from tests.apps import PASSWORD, ClientFactory
from tests.scripts import Running, example, ok, post, script_env


def until_shown(event: dict[str, Any]) -> str:
    """How a mute's end reads in a tail line: its UTC hour and minute, with the date when another day."""
    until = event["until"]
    return until[11:16] if until[:10] == event["ts"][:10] else f"{until[:10]} {until[11:16]}"


def body(line: str) -> str:
    """A tail line without its time and channel."""
    return line.split(" ", 2)[2]


async def ended(script: Running, timeout: float = 10) -> tuple[int, str]:
    """The exit status and stderr of a script that ends by itself."""
    code = await asyncio.wait_for(script.proc.wait(), timeout)
    return code, await script.stop()


async def test_tail_prints_channel_events_live_in_the_seq_of_messages(
    chat_url: str, make_client: ClientFactory
) -> None:
    owner, dave = await make_client("deskowner"), await make_client("dave")
    for name in ("carol", "erin"):
        await make_client(name, connect=False)
    erin = await make_client("erin2")
    await ok(owner.request("POST", "/api/channels", {"name": "desk"}))
    await post(owner, "desk", "opening bell")
    env = script_env(chat_url, "watcher", PASSWORD)
    tail = await Running.start("-m", "server", "tail", "--register", "desk", env=env)
    raw = await Running.start(example("tail.py"), "--register", "--json", "desk", env=env)
    try:
        assert body(await tail.line()) == "[1] deskowner: opening bell"
        assert json.loads(await raw.line())["text"] == "opening bell"
        members = "/api/channels/desk/members"
        await ok(owner.request("PUT", f"{members}/dave", {"role": "member"}))
        await ok(
            owner.request("POST", "/api/channels/desk/mutes", {"username": "carol", "minutes": 5, "reason": "spam"})
        )
        await ok(owner.request("PATCH", "/api/channels/desk", {"slow_mode_s": 30}))
        await ok(owner.request("PUT", f"{members}/dave", {"role": "moderator"}))
        await post(dave, "desk", "hi all")
        await ok(owner.request("PATCH", "/api/channels/desk", {"topic": "Earnings week", "slow_mode_s": 0}))
        await ok(owner.request("DELETE", "/api/channels/desk/mutes/carol"))
        await ok(owner.request("POST", "/api/channels/desk/bans", {"username": "carol", "reason": "pump and dump"}))
        await ok(owner.request("DELETE", "/api/channels/desk/bans/carol"))
        await ok(owner.request("DELETE", f"{members}/dave"))
        await ok(owner.request("PUT", f"{members}/erin2", {"role": "member"}))
        await ok(erin.request("DELETE", f"{members}/erin2"))
        await post(owner, "desk", "closing bell")
        muted = await owner.wait_for("channel_event", lambda e: e["kind"] == "muted")
        assert [body(await tail.line()) for _ in range(13)] == [
            "[2] deskowner added dave as member",
            f"[3] deskowner muted carol until {until_shown(muted)} (spam)",
            "[4] deskowner set slow mode 30 s",
            "[5] deskowner made dave moderator",
            "[6] dave: hi all",
            "[7] deskowner set the topic: Earnings week and turned slow mode off",
            "[8] deskowner unmuted carol",
            "[9] deskowner banned carol (pump and dump)",
            "[10] deskowner unbanned carol",
            "[11] deskowner removed dave",
            "[12] deskowner added erin2 as member",
            "[13] erin2 left",
            "[14] deskowner: closing bell",
        ]
        printed = [json.loads(await raw.line()) for _ in range(13)]
        events = [e for e in printed if "kind" in e]
        assert events == [e for e in owner.received("channel_event") if e["channel"] == "desk"]
        assert [e["seq"] for e in printed] == list(range(2, 15)) and printed[-1]["text"] == "closing bell"
        assert events[1] == {
            "seq": 3, "channel": "desk", "kind": "muted", "by": "deskowner", "ts": muted["ts"], "target": "carol",
            "until": muted["until"], "reason": "spam",
        }  # fmt: skip
        assert events[4]["changes"] == {"topic": "Earnings week", "slow_mode_s": 0}
    finally:
        await tail.stop()
        await raw.stop()


async def test_tail_catch_up_prints_channel_events_in_seq_order_with_messages_past_a_full_join(
    chat_server: TestServer, chat_url: str, make_client: ClientFactory
) -> None:
    """A join {after} answers at most 200 channel events: the tail pages on from the last of them, so 211
    events among messages all come, each once, in seq order with the messages (an edited one folded)."""
    owner = await make_client("deskowner")
    await make_client("carol", connect=False)
    await ok(owner.request("POST", "/api/channels", {"name": "desk"}))
    first, _ = await post(owner, "desk", "one", "two")
    for _ in range(105):
        await ok(owner.request("POST", "/api/channels/desk/mutes", {"username": "carol"}))
        await ok(owner.request("DELETE", "/api/channels/desk/mutes/carol"))
    assert (await owner.call("edit", {"channel": "desk", "id": first["id"], "text": "one, edited"}))["ok"]  # 213
    await ok(owner.request("PATCH", "/api/channels/desk", {"topic": "after the storm"}))  # 214
    (last,) = await post(owner, "desk", "three")
    assert last["seq"] == 215
    store = chat_server.app[STORE]
    async with asyncio.timeout(10):  # the bus keeps the newest 200 records; the older ones are read archived
        while len(await store.events("desk", after=0, limit=1000)) < 211:
            await asyncio.sleep(0.05)
    env = script_env(chat_url, "watcher", PASSWORD)
    raw = await Running.start(example("tail.py"), "--register", "--json", "--after", "0", "desk", env=env)
    tail = await Running.start(example("tail.py"), "--register", "--after", "0", "desk", env=env)
    try:
        printed = [json.loads(await raw.line()) for _ in range(214)]
        assert [e["seq"] for e in printed] == [1, 2, *range(3, 213), 214, 215]
        assert printed[0]["text"] == "one, edited" and printed[0]["rev"] == 213
        assert [e["kind"] for e in printed[2:212]] == ["muted", "unmuted"] * 105
        lines = [body(await tail.line()) for _ in range(214)]
        assert lines[:4] == [
            "[1] deskowner: one, edited (edited)",
            "[2] deskowner: two",
            f"[3] deskowner muted carol until {until_shown(printed[2])}",
            "[4] deskowner unmuted carol",
        ]
        assert lines[-3:] == [
            "[212] deskowner unmuted carol",
            "[214] deskowner set the topic: after the storm",
            "[215] deskowner: three",
        ]
        (live,) = await post(owner, "desk", "live again")  # nothing printed twice before it
        assert json.loads(await raw.line()) == live and body(await tail.line()) == "[216] deskowner: live again"
    finally:
        await raw.stop()
        await tail.stop()


async def test_a_removed_tail_joins_a_public_channel_again_and_ends_on_a_private_one_or_a_ban(
    chat_url: str, make_client: ClientFactory
) -> None:
    owner = await make_client("deskowner")
    await make_client("watcher", connect=False)
    await ok(owner.request("POST", "/api/channels", {"name": "desk"}))
    await ok(owner.request("POST", "/api/channels", {"name": "vault", "visibility": "private"}))
    for channel in ("desk", "vault"):
        await ok(owner.request("PUT", f"/api/channels/{channel}/members/watcher", {"role": "member"}))
        await post(owner, channel, f"welcome to #{channel}")
    env = script_env(chat_url, "watcher", PASSWORD)
    public = await Running.start("-m", "server", "tail", "desk", env=env)
    private = await Running.start("-m", "server", "tail", "vault", env=env)
    try:
        assert body(await public.line()) == "[2] deskowner: welcome to #desk"
        assert body(await private.line()) == "[2] deskowner: welcome to #vault"
        await ok(owner.request("DELETE", "/api/channels/vault/members/watcher"))
        assert body(await private.line()) == "[3] deskowner removed watcher"
        code, err = await ended(private)
        assert code == 1 and "investor-chat tail: channel_not_found: No channel #vault" in err

        await ok(owner.request("DELETE", "/api/channels/desk/members/watcher"))  # a public channel takes it back
        assert body(await public.line()) == "[3] deskowner removed watcher"
        await post(owner, "desk", "still reading?")
        assert body(await public.line()) == "[4] deskowner: still reading?"
        await ok(owner.request("POST", "/api/channels/desk/bans", {"username": "watcher", "reason": "leaks"}))
        assert body(await public.line()) == "[5] deskowner banned watcher (leaks)"
        code, err = await ended(public)
        assert code == 1 and "investor-chat tail: banned: You are banned from #desk" in err
    finally:
        await public.stop()
        await private.stop()


async def test_a_suspended_users_tail_ends_instead_of_reconnecting_forever(
    chat_server: TestServer, chat_url: str, make_client: ClientFactory
) -> None:
    boss = await make_client("boss")
    assert await chat_server.app[STORE].set_user_roles("boss", ["admin"])
    await post(boss, "general", "morning")
    tail = await Running.start(
        "-m", "server", "tail", "--register", "--reconnect-delay", "0.2", "general",
        env=script_env(chat_url, "watcher", PASSWORD),
    )  # fmt: skip
    try:
        assert body(await tail.line()) == "[1] boss: morning"
        assert await ok(boss.request("POST", "/api/admin/users/watcher/suspend")) == {
            "username": "watcher", "suspended": True
        }  # fmt: skip
        code, err = await ended(tail)
        assert code == 1 and "investor-chat tail: unauthorized: This account is suspended" in err
    finally:
        await tail.stop()


async def test_chatkit_api_calls_members_and_moderation_and_raises_the_servers_errors(
    chat_url: str, make_client: ClientFactory
) -> None:
    carol, dave = await make_client("carol"), await make_client("dave")
    async with aiohttp.ClientSession() as http:
        args = argparse.Namespace(url=chat_url, username="deskowner", password=PASSWORD, register=True)
        api = Api(http, chat_url, await chatkit.log_in(http, args))
        assert await api.me() == {"username": "deskowner", "roles": ["user"]}
        desk = await api.create_channel("desk", private=True, topic="the desk")
        assert (desk["visibility"], desk["topic"], desk["created_by"]) == ("private", "the desk", "deskowner")
        assert await api.set_member("desk", "carol") == {"username": "carol", "role": "member"}
        assert await api.set_member("desk", "dave", "moderator") == {"username": "dave", "role": "moderator"}
        assert await api.members("desk") == [
            {"username": "deskowner", "role": "owner"},
            {"username": "dave", "role": "moderator"},
            {"username": "carol", "role": "member"},
        ]
        assert (await api.update_channel("desk", slow_mode_s=30))["slow_mode_s"] == 30

        muted = await api.mute("desk", "carol", 60, reason="spam")
        assert muted["username"] == "carol"
        assert await api.moderation("desk") == {"muted": [muted], "banned": []}
        assert (await carol.call("join", {"channel": "desk"}))["muted_until"] == muted["until"]
        with pytest.raises(chatkit.ChatError) as refused:
            await chatkit.call(carol.sio, "send", {"channel": "desk", "text": "let me speak"})
        assert refused.value.code == "muted" and refused.value.error["until"] == muted["until"]
        await api.unmute("desk", "carol")
        assert (await chatkit.call(carol.sio, "send", {"channel": "desk", "text": "thanks"}))["message"]["seq"]
        with pytest.raises(chatkit.ChatError) as refused:
            await chatkit.call(carol.sio, "send", {"channel": "desk", "text": "and again"})
        assert refused.value.code == "slow_mode" and 0 < refused.value.error["retry_after"] <= 30

        await api.ban("desk", "carol", reason="leaks")
        assert await api.moderation("desk") == {"muted": [], "banned": ["carol"]}
        assert [m["username"] for m in await api.members("desk")] == ["deskowner", "dave"]
        await api.unban("desk", "carol")
        await api.remove_member("desk", "dave")
        assert [m["username"] for m in await api.members("desk")] == ["deskowner"]
        with pytest.raises(chatkit.ChatError) as refused:
            await api.mute("desk", "deskowner")
        assert refused.value.code == "forbidden"
        with pytest.raises(chatkit.ChatError) as refused:
            await api.mute("desk", "nobody-here")
        assert refused.value.code == "user_not_found"

        dm = await api.open_dm("dave")
        assert dm["kind"] == "dm" and dm["members"] == ["dave", "deskowner"]
        assert (await api.open_dm("DAVE"))["name"] == dm["name"]  # the same one, however it is asked
        dave_api = Api(http, chat_url, dave.token)
        with pytest.raises(chatkit.ChatError) as refused:
            await dave_api.members("desk")  # no longer a member of a private channel: it is not there
        assert refused.value.code == "channel_not_found"
        assert [m["username"] for m in await dave_api.members(dm["name"])] == ["dave", "deskowner"]
