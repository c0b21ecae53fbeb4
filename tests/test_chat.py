"""Two users chatting in real time over real Socket.IO against the running standalone app."""

from __future__ import annotations

from typing import Any

from tests.apps import ClientFactory


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages]


async def test_two_users_chat_live_and_see_presence(make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    bob = await make_client("bob")
    joined = await alice.call("join", {"channel": "general"})
    assert joined["ok"] and joined["channel"] == "general" and joined["members"] == ["alice"]

    joined = await bob.call("join", {"channel": "general"})
    assert joined["members"] == ["alice", "bob"]
    assert await alice.wait_for("presence", lambda p: p["user"] == "bob") == {
        "channel": "general",
        "user": "bob",
        "online": True,
    }

    ack = await alice.call("send", {"channel": "general", "text": "AAPL looks strong"})
    assert ack["ok"] and ack["message"]["user"] == "alice" and ack["message"]["seq"] == 1
    seen_by_bob = await bob.wait_for("message")
    seen_by_alice = await alice.wait_for("message")
    assert seen_by_bob == seen_by_alice == ack["message"]
    assert seen_by_bob["bot"] is False and seen_by_bob["ts"].endswith("Z")

    reply = await bob.call("send", {"channel": "general", "text": "agreed"})
    assert reply["message"]["seq"] == 2
    assert (await alice.wait_for("message", lambda m: m["seq"] == 2))["text"] == "agreed"

    await bob.sio.disconnect()
    gone = await alice.wait_for("presence", lambda p: p["user"] == "bob" and not p["online"])
    assert gone["channel"] == "general"
