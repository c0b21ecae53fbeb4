"""Bad input gets a clear error, never takes the server down, and everyone else keeps chatting."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
import socketio

from tests.apps import ChatClient, ClientFactory


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("join", "general"),
        ("join", ["general"]),
        ("join", None),
        ("join", {}),
        ("join", {"channel": 42}),
        ("join", {"channel": "general", "after": "ten"}),
        ("join", {"channel": "general", "after": -1}),
        ("join", {"channel": {"$ne": None}}),
        ("send", {"channel": "general"}),
        ("send", {"channel": "general", "text": 7}),
        ("send", {"channel": "general", "text": ["a"]}),
        ("send", {"channel": "general", "text": "ok", "client_id": 5}),
        ("send", {"channel": "general", "text": "x" * 10_000}),
        ("typing", 3.5),
        ("leave", {"channel": None}),
    ],
)
async def test_malformed_payloads_get_invalid_payload(make_client: ClientFactory, event: str, payload: Any) -> None:
    alice = await make_client("alice")
    ack = await alice.call(event, payload)
    assert ack["ok"] is False and ack["error"]["code"] == "invalid_payload" and ack["error"]["message"]


async def test_unknown_events_are_answered(make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    ack = await alice.call("shutdown", {"now": True})
    assert ack == {"ok": False, "error": {"code": "unknown_event", "message": "Unknown event 'shutdown'"}}


async def test_hostile_clients_do_not_disturb_the_others(make_client: ClientFactory, chat_url: str) -> None:
    alice = await make_client("alice")
    bob = await make_client("bob")
    mallory = await make_client("mallory")
    for client in (alice, bob, mallory):
        await client.call("join", {"channel": "general"})
    junk = [
        mallory.call("send", {"channel": "general", "text": {"nested": [[[]]] * 50}}),
        mallory.call("join", {"channel": "\x00" * 90}),
        mallory.call("typing", {"channel": "general" * 50}),
        mallory.call("no-such-event", [1, 2, 3]),
    ]
    answers = await asyncio.gather(*junk)
    assert all(a["ok"] is False for a in answers)
    # a frame over the size limit costs the sender its connection, nobody else anything
    await mallory.sio.emit("send", {"channel": "general", "text": "y" * 200_000})
    ack = await alice.call("send", {"channel": "general", "text": "still trading?"})
    assert ack["ok"]
    assert (await bob.wait_for("message", lambda m: m["text"] == "still trading?"))["user"] == "alice"
    await asyncio.wait_for(mallory.sio.wait(), 5)  # returns once mallory was disconnected
    assert not mallory.sio.connected


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (b"", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_payload"),
        (b'{"username": 5, "password": "x"}', 400, "invalid_payload"),
        (b'{"username": "zed"}', 400, "invalid_payload"),
        (b'{"username": "zed", "password": "' + b"p" * 70_000 + b'"}', 413, "payload_too_large"),
    ],
)
async def test_bad_rest_bodies(chat_url: str, body: bytes, status: int, code: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{chat_url}/api/register", data=body, headers={"Content-Type": "application/json"}
        ) as resp:
            assert resp.status == status
            assert (await resp.json())["error"]["code"] == code
        async with http.get(f"{chat_url}/healthz") as resp:
            assert await resp.json() == {"status": "ok"}


async def test_unknown_api_paths_answer_json_404(chat_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{chat_url}/api/nothing-here") as resp:
            assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"


async def test_a_socket_without_a_session_is_refused(chat_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        stranger = ChatClient(chat_url, http)
        errors: list[Any] = []
        stranger.sio.on("connect_error", errors.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await stranger.connect()
    assert errors == [{"code": "unauthorized", "message": "Log in first"}]
