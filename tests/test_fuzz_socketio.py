"""Hypothesis throws junk at every Socket.IO event: each call is acked with a known error or a valid
result, and two other users keep chatting through it all."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.changes import EMOJIS
from core.models import Message
from tests.apps import ChatClient, http_session

KNOWN_ERRORS = {
    "invalid_payload",
    "not_joined",
    "channel_not_found",
    "empty_message",
    "message_too_long",
    "rate_limited",
    "unknown_command",
    "unknown_event",
    "message_not_found",
    "forbidden",
    "edit_window_closed",
    "invalid_emoji",
}
CHANGES = ("edit", "delete", "react", "unreact", "pin", "unpin")
EVENTS = ("join", "leave", "send", "typing", *CHANGES)
EDGE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "😀" * 2000,
        "😀" * 2001,
        "e\u0301" * 1001,
        "\u202eRTL",
        "\ufeff",
        "a" * 2000,
        "a" * 2001,
        "a" * 9000,
        "/stock=aapl.us",
        "/stock",
        "/nope",
        "<script>x</script>",
        "general",
    ]
)
# The server's orjson codec is process-wide in python-socketio (Packet.json), so this in-process
# client can only send what orjson encodes: 64-bit ints, no lone surrogates.
INTS = st.integers(-(2**63), 2**63 - 1)
SCALARS = st.none() | st.booleans() | INTS | st.floats(allow_nan=False) | st.text(max_size=50) | EDGE_TEXT
JUNK = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
CHANNELS = st.sampled_from(["general", "desk", "fuzz-room", "nosuchchannel", "GENERAL", "x" * 101]) | st.text(
    max_size=60
)
EMOJI = st.sampled_from(["🐂", "🐻", "❤️", "❤", "🦄", "🐂🐂", "", " 🐂", "x" * 17]) | st.text(max_size=20)


def shaped(ids: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Payloads close to the real ones: the events' fields, some of them right, the rest anything.
    `ids` are messages the test made (in #general and #desk): ids used in the wrong channel too."""
    message_ids = st.sampled_from([*ids, "nope", "0" * 24, "x" * 65]) | st.text(max_size=70)
    return st.fixed_dictionaries(
        {"channel": CHANNELS | JUNK},
        optional={
            "text": st.text(max_size=300) | EDGE_TEXT | JUNK,
            "after": st.integers(-5, 2**63 - 1) | JUNK,
            "client_id": st.text(max_size=70) | JUNK,
            "id": message_ids | JUNK,
            "reply_to": message_ids | JUNK,
            "emoji": EMOJI | JUNK,
            "extra": JUNK,
        },
    )


def aimed(ids: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Change payloads that mostly pass validation, so they reach the permission checks and the messages:
    the test's messages in their own channel or the other one, valid emoji and edge texts."""
    message_ids = st.sampled_from([*ids, "nope"]) | st.text(max_size=70) | JUNK
    return st.fixed_dictionaries(
        {"channel": st.sampled_from(["general", "desk"]) | CHANNELS | JUNK, "id": message_ids},
        optional={
            "text": EDGE_TEXT | st.text(max_size=300) | JUNK,
            "emoji": st.sampled_from(EMOJIS) | EMOJI | JUNK,
            "reply_to": message_ids,
            "extra": JUNK,
        },
    )


RESERVED = ("connect", "disconnect")  # refused by name: tested on their own below
EVENT_NAMES = (
    st.sampled_from(EVENTS)
    | st.sampled_from(["message", "presence", "connect_error", "x" * 500])
    | st.text(min_size=1, max_size=30).filter(lambda name: name not in RESERVED)
)


def check_ack(event: str, ack: Any) -> None:
    """Either {ok: false, error: {code, message}} with a known code, or the event's valid result."""
    assert isinstance(ack, dict), (event, ack)
    if not ack.get("ok"):
        assert ack["ok"] is False and set(ack["error"]) == {"code", "message"}, ack
        assert ack["error"]["code"] in KNOWN_ERRORS, (event, ack)
        return
    assert event in EVENTS, (event, ack)
    if event == "join":
        assert isinstance(ack["messages"], list) and isinstance(ack["last_seq"], int), ack
        assert isinstance(ack["members"], list) and isinstance(ack["has_more"], bool), ack
        for message in ack["messages"]:
            Message.model_validate(message)
    elif event in CHANGES:
        Message.model_validate(ack["message"])
    elif event == "send":
        if "command" in ack:
            assert ack["command"]["name"] in ("stock", "help"), ack
        else:
            Message.model_validate(ack["message"])
    else:
        assert ack == {"ok": True}, ack


def fuzz(url: str, token: str, ids: list[str]) -> int:
    """Runs in a thread with a blocking client, so the test's loop keeps serving; the calls made."""
    client = socketio.Client(reconnection=False)
    client.connect(url, auth={"token": token}, wait_timeout=5)
    for channel in ("general", "desk"):  # joined, so changes get past not_joined to the messages
        check_ack("join", client.call("join", {"channel": channel}, timeout=5))
    calls = 0

    @given(event=EVENT_NAMES, payload=shaped(ids) | JUNK)
    @settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def one(event: str, payload: Any) -> None:
        nonlocal calls
        calls += 1
        check_ack(event, client.call(event, payload, timeout=5))

    @given(event=st.sampled_from((*CHANGES, "send")), payload=aimed(ids))
    @settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def change(event: str, payload: Any) -> None:
        nonlocal calls
        calls += 1
        check_ack(event, client.call(event, payload, timeout=5))

    try:
        one()
        change()
        for event in EVENTS:  # no payload at all, and more than one argument
            check_ack(event, client.call(event, timeout=5))
            check_ack(event, client.call(event, ({"channel": "general"}, "second"), timeout=5))
    finally:
        client.disconnect()
    return calls


async def test_junk_payloads_get_error_acks_and_chat_goes_on(
    make_server: Callable[..., Awaitable[TestServer]],
) -> None:
    server = await make_server(send_rate=10_000, send_burst=10_000, event_rate=10_000, event_burst=10_000)
    url = str(server.make_url("")).rstrip("/")
    async with http_session() as http:
        alice, bob, fuzzer = [await ChatClient(url, http).register(n) for n in ("alice", "bob", "fuzzer")]
        await alice.connect()
        await bob.connect()
        status, _ = await alice.request("POST", "/api/channels", {"name": "desk"})
        assert status == 201
        for user in (alice, bob):
            for channel in ("general", "desk"):
                assert (await user.call("join", {"channel": channel}))["ok"]
        mine = await alice.call("send", {"channel": "general", "text": "alice's own words"})
        desk = await alice.call("send", {"channel": "desk", "text": "desk rules"})
        targets = {"general": mine["message"], "desk": desk["message"]}
        ids = [m["id"] for m in targets.values()]
        fuzzing = asyncio.create_task(asyncio.to_thread(fuzz, url, fuzzer.token, ids))
        said = 0
        while not fuzzing.done() or said < 5:
            said += 1
            ack = await alice.call("send", {"channel": "general", "text": f"still here {said}"})
            assert ack["ok"], ack
            await bob.wait_for("message", lambda m, n=said: m["text"] == f"still here {n}")
            await asyncio.sleep(0.05)
        assert await fuzzing >= 400
        seen = [m["text"] for m in bob.received("message") if m["text"].startswith("still here")]
        assert seen == [f"still here {n}" for n in range(1, said + 1)]
        # the fuzzer is neither their author nor the channels' owner: it may only have reacted
        for channel, before in targets.items():
            # the oldest page: the fuzzer's own sends cannot push the targets off it
            _, page = await bob.request("GET", f"/api/channels/{channel}/messages?after=0&limit=5")
            (after,) = [m for m in page["messages"] if m["id"] == before["id"]]
            assert (after["text"], after.get("deleted"), after.get("pinned")) == (before["text"], None, None)
            assert all(r["users"] == ["fuzzer"] for r in after.get("reactions") or []), after
        for user in (alice, bob):
            await user.sio.disconnect()


async def test_reserved_event_names_from_a_client_get_an_error_ack(make_client: Any) -> None:
    alice = await make_client("alice")
    await alice.call("join", {"channel": "general"})
    for name in RESERVED:
        ack = await alice.call(name, {"channel": "general"})
        assert ack["ok"] is False and ack["error"]["code"] in KNOWN_ERRORS
    assert (await alice.call("send", {"channel": "general", "text": "still joined"}))["ok"]
