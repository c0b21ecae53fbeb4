"""Edits, deletes, reactions, pins and replies (DESIGN §7): each change takes the channel's next seq,
reaches every member as message_updated, and a client that was away catches up by rev."""

from __future__ import annotations

from typing import Any

from tests.apps import ChatClient, ClientFactory


def error_code(ack: dict[str, Any]) -> str:
    assert ack["ok"] is False, ack
    return str(ack["error"]["code"])


async def joined(make_client: ClientFactory, *names: str, channel: str = "general") -> list[ChatClient]:
    clients = [await make_client(name) for name in names]
    for client in clients:
        assert (await client.call("join", {"channel": channel}))["ok"]
    return clients


async def say(client: ChatClient, text: str, channel: str = "general", **extra: Any) -> dict[str, Any]:
    ack = await client.call("send", {"channel": channel, "text": text, **extra})
    assert ack["ok"], ack
    return dict(ack["message"])


async def test_an_edit_takes_the_next_seq_and_reaches_everyone_folded(make_client: ClientFactory) -> None:
    alice, bob = await joined(make_client, "alice", "bob")
    sent = await say(alice, "$APPL at 190")
    assert (sent["seq"], sent["rev"]) == (1, 1)
    ack = await alice.call("edit", {"channel": "general", "id": sent["id"], "text": "$AAPL at 190"})
    assert ack["ok"] and ack["message"]["text"] == "$AAPL at 190" and ack["message"]["rev"] == 2
    update = await bob.wait_for("message_updated", lambda u: u["message"]["id"] == sent["id"])
    assert (update["seq"], update["kind"], update["by"], update["channel"]) == (2, "edit", "alice", "general")
    assert update["message"]["text"] == "$AAPL at 190" and update["message"]["edited_at"]
    nxt = await say(bob, "next")
    assert nxt["seq"] == 3  # the edit took seq 2: one counter for messages and changes
    _, page = await bob.request("GET", "/api/channels/general/messages")
    assert [(m["text"], m["rev"]) for m in page["messages"]] == [("$AAPL at 190", 2), ("next", 3)]


async def test_only_the_author_edits_and_bad_edits_change_nothing(make_client: ClientFactory) -> None:
    alice, bob = await joined(make_client, "alice", "bob")
    sent = await say(alice, "mine")
    assert error_code(await bob.call("edit", {"channel": "general", "id": sent["id"], "text": "x"})) == "forbidden"
    edit = {"channel": "general", "id": sent["id"]}
    assert error_code(await alice.call("edit", {**edit, "text": " \u200b "})) == "empty_message"
    assert error_code(await alice.call("edit", {**edit, "text": "x" * 2001})) == "message_too_long"
    assert error_code(await alice.call("edit", {**edit, "id": "nope", "text": "x"})) == "message_not_found"
    assert error_code(await alice.call("edit", {"channel": "general", "id": sent["id"]})) == "invalid_payload"
    assert error_code(await alice.call("edit", {**edit, "text": 5})) == "invalid_payload"
    assert (await say(alice, "after"))["seq"] == 2  # none of them took a seq


async def test_an_edit_after_the_window_is_refused(make_client: ClientFactory, make_server: Any) -> None:
    server = await make_server(edit_window=0)
    alice = await make_client("alice", url=str(server.make_url("")).rstrip("/"))
    await alice.call("join", {"channel": "general"})
    sent = await say(alice, "too late")
    ack = await alice.call("edit", {"channel": "general", "id": sent["id"], "text": "fixed"})
    assert error_code(ack) == "edit_window_closed"
    assert "edited for 0 seconds" in ack["error"]["message"]  # the window the server has, in words


async def test_a_delete_leaves_a_tombstone_and_the_original_only_in_the_archive(make_client: ClientFactory) -> None:
    alice, bob, carol = await joined(make_client, "alice", "bob", "carol")
    sent = await say(alice, "spam spam")
    assert error_code(await bob.call("delete", {"channel": "general", "id": sent["id"]})) == "forbidden"
    await bob.call("react", {"channel": "general", "id": sent["id"], "emoji": "🐻"})
    ack = await alice.call("delete", {"channel": "general", "id": sent["id"]})
    assert ack["ok"] and ack["message"]["deleted"] is True and ack["message"]["text"] == ""
    assert "reactions" not in ack["message"]
    update = await carol.wait_for("message_updated", lambda u: u["kind"] == "delete")
    assert (update["message"]["id"], update["message"]["user"], update["message"]["seq"]) == (sent["id"], "alice", 1)
    assert error_code(await alice.call("edit", {"channel": "general", "id": sent["id"], "text": "back"})) == "forbidden"
    _, page = await carol.request("GET", "/api/channels/general/messages")
    assert "spam" not in str(page)


async def test_reactions_toggle_once_per_user_and_emoji(make_client: ClientFactory) -> None:
    alice, bob, carol = await joined(make_client, "alice", "bob", "carol")
    sent = await say(alice, "long $NVDA")
    ref = {"channel": "general", "id": sent["id"]}
    await bob.call("react", {**ref, "emoji": "🐂"})
    again = await bob.call("react", {**ref, "emoji": "🐂"})
    assert again["message"]["reactions"] == [{"emoji": "🐂", "count": 1, "users": ["bob"]}]
    await carol.call("react", {**ref, "emoji": "🐂"})
    last = await carol.call("react", {**ref, "emoji": "🐻"})
    assert last["message"]["reactions"] == [
        {"emoji": "🐂", "count": 2, "users": ["bob", "carol"]},
        {"emoji": "🐻", "count": 1, "users": ["carol"]},
    ]
    gone = await bob.call("unreact", {**ref, "emoji": "🐂"})
    assert gone["message"]["reactions"][0] == {"emoji": "🐂", "count": 1, "users": ["carol"]}
    assert error_code(await bob.call("react", {**ref, "emoji": "🦄"})) == "invalid_emoji"
    seen = await alice.wait_for("message_updated", lambda u: u["seq"] == gone["message"]["rev"])
    assert seen["kind"] == "unreact" and seen["by"] == "bob"
    # the repeated 🐂 was no change: 3 reactions and an unreact took seqs 2..5
    assert gone["message"]["rev"] == 5


async def test_pins_are_the_owners_and_listed(make_client: ClientFactory) -> None:
    alice, bob = await joined(make_client, "alice", "bob")
    status, _ = await alice.request("POST", "/api/channels", {"name": "desk"})
    assert status == 201
    for client in (alice, bob):
        await client.call("join", {"channel": "desk"})
    sent = await say(bob, "rule 1: no spam", channel="desk")
    ref = {"channel": "desk", "id": sent["id"]}
    assert error_code(await bob.call("pin", ref)) == "forbidden"
    assert (await alice.call("pin", ref))["message"]["pinned"] is True
    _, pins = await bob.request("GET", "/api/channels/desk/pins")
    assert [m["text"] for m in pins["messages"]] == ["rule 1: no spam"]
    await alice.call("unpin", ref)
    _, pins = await bob.request("GET", "/api/channels/desk/pins")
    assert pins["messages"] == []


async def test_replies_form_a_thread_with_a_count_on_its_root(make_client: ClientFactory) -> None:
    alice, bob = await joined(make_client, "alice", "bob")
    root = await say(alice, "thoughts on the Fed?")
    first = await say(bob, "hawkish", reply_to=root["id"])
    second = await say(alice, "agreed", reply_to=first["id"])  # a reply to a reply joins the root's thread
    assert first["reply_to"] == second["reply_to"] == root["id"]
    status, thread = await bob.request("GET", f"/api/channels/general/messages/{root['id']}/replies")
    assert status == 200 and [m["text"] for m in thread["messages"]] == ["hawkish", "agreed"]
    _, page = await bob.request("GET", "/api/channels/general/messages")
    assert page["messages"][0]["reply_count"] == 2
    assert error_code(await bob.call("send", {"channel": "general", "text": "x", "reply_to": "nope"})) == (
        "message_not_found"
    )
    status, _ = await bob.request("GET", "/api/channels/general/messages/nope/replies")
    assert status == 404


async def test_a_client_away_during_changes_catches_up_by_rev(make_client: ClientFactory) -> None:
    alice, bob = await joined(make_client, "alice", "bob")
    one = await say(alice, "one")
    two = await say(alice, "two")
    away_at = (await bob.call("join", {"channel": "general"}))["last_seq"]
    await bob.sio.disconnect()
    await alice.call("edit", {"channel": "general", "id": one["id"], "text": "one, fixed"})
    await alice.call("react", {"channel": "general", "id": two["id"], "emoji": "🚀"})
    await alice.call("delete", {"channel": "general", "id": two["id"]})
    three = await say(alice, "three")
    back = await bob.connect()
    ack = await back.call("join", {"channel": "general", "after": away_at})
    got = {m["id"]: m for m in ack["messages"]}
    assert got[one["id"]]["text"] == "one, fixed"
    assert got[two["id"]]["deleted"] is True
    assert got[three["id"]]["text"] == "three"
    assert [m["seq"] for m in ack["messages"]] == sorted(m["seq"] for m in ack["messages"])
    assert ack["last_seq"] == three["seq"] == 6 and not ack["has_more"]
    _, rest = await back.request("GET", f"/api/channels/general/messages?changed_after={away_at}")
    assert {m["id"]: m["rev"] for m in rest["messages"]} == {m["id"]: m["rev"] for m in ack["messages"]}
