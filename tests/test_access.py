"""Private channels, direct messages, roles and moderation on the standalone app (DESIGN §8), on the memory
bus and on Redis. The walk calls every REST route of the OpenAPI document that names a channel and every
Socket.IO event the server registers, as an outsider, a site admin who is no member, a banned ex-member and
a suspended member: a private channel must not exist for any of them, word for word as a channel that does
not exist, whatever route or event is added later (an unknown one fails the walk until it is taught here)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestServer

from core.store import Store
from server.app_keys import SIO, STORE
from tests.apps import ChatClient, ClientFactory, code

StartServer = Callable[..., Awaitable[TestServer]]
Body = Callable[[str], dict[str, Any]] | None
Payload = Callable[[str, str], dict[str, Any]]

# the walk registers a dozen users and sends a few hundred events from one address
ROOMY = {"login_burst": 1000, "login_rate": 100.0, "event_burst": 1000, "send_burst": 200}
PRIVATE = "vault"
NOWHERE = "nosuchroom"  # never created: what a private channel must look like to those who may not see it
TOPIC = "Project Nightingale: the Acme buyout"
TEXTS = ("the vault code is 31-41-59", "wire it after the close", "pinned: the client list is in the drive")
MEMBER_NAMES = ("vaultowner", "vaultmod", "vaultmember", "sleeper")

# Every REST route naming a channel, with a body it accepts given the user it names (the caller itself, or
# a member: joining by adding oneself, muting or kicking someone else). A route missing here fails the walk.
CALLS: dict[tuple[str, str], Body] = {
    ("PATCH", "/api/channels/{name}"): lambda who: {"topic": "taken over", "slow_mode_s": 60},
    ("DELETE", "/api/channels/{name}"): None,
    ("GET", "/api/channels/{name}/messages"): None,
    ("GET", "/api/channels/{name}/messages/{id}/replies"): None,
    ("GET", "/api/channels/{name}/pins"): None,
    ("GET", "/api/channels/{name}/members"): None,
    ("PUT", "/api/channels/{name}/members/{username}"): lambda who: {"role": "moderator"},
    ("DELETE", "/api/channels/{name}/members/{username}"): None,
    ("GET", "/api/channels/{name}/moderation"): None,
    ("POST", "/api/channels/{name}/mutes"): lambda who: {"username": who, "minutes": 60, "reason": "walk"},
    ("DELETE", "/api/channels/{name}/mutes/{username}"): None,
    ("POST", "/api/channels/{name}/bans"): lambda who: {"username": who, "reason": "walk"},
    ("DELETE", "/api/channels/{name}/bans/{username}"): None,
    ("PATCH", "/api/admin/channels/{name}/retention"): lambda who: {"retention_days": 1},
}

# Every Socket.IO event a client may send, with a payload naming the channel and a message of it.
# A registered event missing here fails the walk.
PAYLOADS: dict[str, Payload] = {
    "join": lambda channel, _: {"channel": channel, "after": 0},
    "leave": lambda channel, _: {"channel": channel},
    "typing": lambda channel, _: {"channel": channel},
    "send": lambda channel, _: {"channel": channel, "text": "let me in"},
    "edit": lambda channel, mid: {"channel": channel, "id": mid, "text": "defaced"},
    "delete": lambda channel, mid: {"channel": channel, "id": mid},
    "react": lambda channel, mid: {"channel": channel, "id": mid, "emoji": "🐂"},
    "unreact": lambda channel, mid: {"channel": channel, "id": mid, "emoji": "🐂"},
    "pin": lambda channel, mid: {"channel": channel, "id": mid},
    "unpin": lambda channel, mid: {"channel": channel, "id": mid},
    "delete_channel": lambda channel, _: {"channel": channel},
    "read": lambda channel, _: {"channel": channel, "seq": 1},
}
SERVER_SIDE = ("connect", "disconnect", "*")  # handlers a client cannot fire by name


@pytest.fixture
async def chat_server(make_server: StartServer, fake_stooq: Any, bus_url: str) -> TestServer:
    """Every test here on both buses: the rules a node holds follow channel events on either."""
    return await make_server(stooq_url=fake_stooq.url, bus_url=bus_url, **ROOMY)


@pytest.fixture
def store(chat_server: TestServer) -> Store:
    return chat_server.app[STORE]


def error_code(ack: dict[str, Any]) -> str:
    assert ack["ok"] is False, ack
    return str(ack["error"]["code"])


async def say(client: ChatClient, text: str, channel: str, **extra: Any) -> dict[str, Any]:
    ack = await client.call("send", {"channel": channel, "text": text, **extra})
    assert ack["ok"], ack
    return dict(ack["message"])


async def joined(client: ChatClient, channel: str, **extra: Any) -> dict[str, Any]:
    ack = await client.call("join", {"channel": channel, **extra})
    assert ack["ok"], ack
    return dict(ack)


async def create(client: ChatClient, name: str, **extra: Any) -> dict[str, Any]:
    status, body = await client.request("POST", "/api/channels", {"name": name, **extra})
    assert status == 201, body
    return dict(body)


async def add(owner: ChatClient, channel: str, user: str, role: str = "member") -> None:
    reply = await owner.request("PUT", f"/api/channels/{channel}/members/{user}", {"role": role})
    assert reply == (200, {"username": user, "role": role}), reply


def listed(reply: tuple[int, Any]) -> list[str]:
    status, body = reply
    assert status == 200, body
    return [c["name"] for c in body["channels"]]


def event_of(kind: str, target: str) -> Callable[[Any], bool]:
    return lambda e: e["kind"] == kind and e.get("target") == target


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def disconnected(client: ChatClient, within: float) -> None:
    async with asyncio.timeout(within):
        while client.sio.connected:
            await asyncio.sleep(0.02)


async def all_clear(herald: ChatClient, *listeners: ChatClient) -> None:
    """A message to #general that each listener receives: whatever the live feed carried before it, they
    have been sent too (one feed, delivered in order)."""
    for client in (herald, *listeners):
        await joined(client, "general")
    sent = await say(herald, "all clear", "general")
    for listener in listeners:
        await listener.wait_for("message", lambda m: m["id"] == sent["id"])


def secrets_in(data: Any, secrets: tuple[str, ...]) -> list[str]:
    text = json.dumps(data, ensure_ascii=False)
    return [s for s in secrets if s in text]


# ---- the walk -------------------------------------------------------------------------------------------


def channel_routes(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """The routes of the OpenAPI document naming a channel; the walk knows how to call each."""
    found = sorted((method.upper(), path) for path, ops in doc["paths"].items() if "{name}" in path for method in ops)
    unknown = [route for route in found if route not in CALLS]
    assert not unknown, f"routes naming a channel that tests/test_access.py does not call yet (add to CALLS): {unknown}"
    assert found == sorted(CALLS), "CALLS names routes the API no longer has"
    return found


async def rest_walk(
    client: ChatClient, routes: list[tuple[str, str]], message_id: str, someone: str
) -> list[tuple[str, tuple[int, Any], tuple[int, Any]]]:
    """Each route as `client`, naming the caller and `someone`: on the private channel, and on one that
    does not exist."""
    replies = []
    for method, path in routes:
        assert set(re.findall(r"{(\w+)}", path)) <= {"name", "id", "username"}, f"a new parameter in {path}"
        body = CALLS[(method, path)]
        for who in (client.username, someone):
            there, nowhere = [
                await client.request(
                    method, path.format(name=channel, id=message_id, username=who), body(who) if body else None
                )
                for channel in (PRIVATE, NOWHERE)
            ]
            replies.append((f"{method} {path} naming {who}", there, nowhere))
    return replies


async def socket_walk(
    client: ChatClient, events: list[str], message_id: str
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    acks = []
    for event in events:
        payload = PAYLOADS[event]
        there = await client.call(event, payload(PRIVATE, message_id))
        nowhere = await client.call(event, payload(NOWHERE, message_id))
        acks.append((event, there, nowhere))
    return acks


def as_nowhere(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False).replace(PRIVATE, NOWHERE)


async def test_a_private_channel_does_not_exist_for_outsiders_banned_or_suspended_users_anywhere(
    chat_server: TestServer, store: Store, make_client: ClientFactory
) -> None:
    # those who must see nothing, listening from before the channel is made
    herald = await make_client("herald")
    outsider = await make_client("outsider")
    admin = await make_client("siteadmin", connect=False)
    assert await store.set_user_roles("siteadmin", ["admin"])
    await admin.connect()  # a site admin who is no member: no exception for privacy
    exmember = await make_client("exmember")
    for client in (herald, outsider, admin, exmember):
        await joined(client, "general")
    owner, mod, member, sleeper = [await make_client(name) for name in MEMBER_NAMES]

    # the channel: members, messages, a thread, a pin, a reaction, typing; then a ban and a suspension
    made = await create(owner, PRIVATE, visibility="private", topic=TOPIC)
    assert (made["visibility"], made["kind"], made["created_by"]) == ("private", "channel", "vaultowner")
    for client, role in ((mod, "moderator"), (member, "member"), (sleeper, "member"), (exmember, "member")):
        await add(owner, PRIVATE, client.username, role)
        await client.wait_for("channel_event", event_of("member_added", client.username))
    for client in (owner, mod, member, sleeper, exmember):
        await joined(client, PRIVATE)
    root = await say(owner, TEXTS[0], PRIVATE)
    await say(member, TEXTS[1], PRIVATE, reply_to=root["id"])
    rule = await say(mod, TEXTS[2], PRIVATE)
    assert (await mod.call("pin", {"channel": PRIVATE, "id": rule["id"]}))["ok"]
    assert (await member.call("react", {"channel": PRIVATE, "id": root["id"], "emoji": "🚀"}))["ok"]
    assert (await owner.call("typing", {"channel": PRIVATE}))["ok"]
    await member.wait_for("typing", lambda t: t["channel"] == PRIVATE)
    assert await mod.request("POST", f"/api/channels/{PRIVATE}/bans", {"username": "exmember"}) == (
        200,
        {"username": "exmember"},
    )
    await exmember.wait_for("channel_event", event_of("banned", "exmember"))  # told, once, then nothing more
    exmember.events.clear()
    assert (await admin.request("POST", "/api/admin/users/sleeper/suspend"))[0] == 200
    await disconnected(sleeper, within=1)
    before = await joined(owner, PRIVATE)

    secrets = (*TEXTS, TOPIC, *MEMBER_NAMES)
    doc = (await herald.request("GET", "/api/openapi.json"))[1]
    routes = channel_routes(doc)
    events = sorted(name for name in chat_server.app[SIO].handlers["/"] if name not in SERVER_SIDE)
    unknown = [event for event in events if event not in PAYLOADS]
    assert not unknown, f"events that tests/test_access.py does not send yet (add to PAYLOADS): {unknown}"
    assert sorted(PAYLOADS) == events, "PAYLOADS names events the server no longer has"

    for client in (outsider, admin, exmember):
        for label, there, nowhere in await rest_walk(client, routes, root["id"], "vaultmember"):
            assert code(there) == (404, "channel_not_found"), (client.username, label, there)
            assert as_nowhere(there) == as_nowhere(nowhere), (client.username, label)  # word for word
            assert secrets_in(there, secrets) == [], (client.username, label, there)
        reply = await client.request("GET", "/api/channels")
        assert PRIVATE not in listed(reply) and secrets_in(reply, secrets) == []
        for event, ack, ack_nowhere in await socket_walk(client, events, root["id"]):
            if event == "leave":
                assert ack == ack_nowhere == {"ok": True}, (client.username, ack)
                continue
            assert error_code(ack) == "channel_not_found", (client.username, event, ack)
            assert as_nowhere(ack) == as_nowhere(ack_nowhere), (client.username, event)
    for label, there, nowhere in await rest_walk(sleeper, routes, root["id"], "vaultmember"):
        assert code(there) == code(nowhere) == (401, "unauthorized"), (label, there)
        assert secrets_in(there, secrets) == []
    assert code(await sleeper.request("GET", "/api/channels")) == (401, "unauthorized")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sleeper.connect()

    # nothing the walk did changed the channel
    after = await joined(owner, PRIVATE)
    assert after["last_seq"] == before["last_seq"]
    _, members = await owner.request("GET", f"/api/channels/{PRIVATE}/members")
    assert members["members"] == [
        {"username": "vaultowner", "role": "owner"},
        {"username": "vaultmod", "role": "moderator"},
        {"username": "sleeper", "role": "member"},
        {"username": "vaultmember", "role": "member"},
    ]
    assert await owner.request("GET", f"/api/channels/{PRIVATE}/moderation") == (
        200,
        {"muted": [], "banned": ["exmember"]},
    )
    _, page = await owner.request("GET", f"/api/channels/{PRIVATE}/messages")
    assert [m["text"] for m in page["messages"]] == list(TEXTS)
    _, mine = await owner.request("GET", "/api/channels")
    assert [(c["topic"], c["slow_mode_s"]) for c in mine["channels"] if c["name"] == PRIVATE] == [(TOPIC, 0)]

    # the members carry on, moderate and finally delete it; the listeners hear none of it
    assert (await owner.call("edit", {"channel": PRIVATE, "id": root["id"], "text": TEXTS[0] + "!"}))["ok"]
    assert (await member.call("unreact", {"channel": PRIVATE, "id": root["id"], "emoji": "🚀"}))["ok"]
    assert (await mod.call("unpin", {"channel": PRIVATE, "id": rule["id"]}))["ok"]
    assert (await mod.request("POST", f"/api/channels/{PRIVATE}/mutes", {"username": "vaultmember"}))[0] == 200
    assert (await mod.request("DELETE", f"/api/channels/{PRIVATE}/mutes/vaultmember"))[0] == 204
    assert (await owner.request("PATCH", f"/api/channels/{PRIVATE}", {"topic": TOPIC + ", closing"}))[0] == 200
    assert (await member.call("typing", {"channel": PRIVATE}))["ok"]
    await owner.wait_for("typing", lambda t: t["user"] == "vaultmember")
    assert (await owner.request("DELETE", f"/api/channels/{PRIVATE}/members/vaultmod"))[0] == 204
    await mod.wait_for("channel_event", event_of("member_removed", "vaultmod"))
    assert (await owner.request("DELETE", f"/api/channels/{PRIVATE}"))[0] == 200
    await member.wait_for("channel_deleted", lambda d: d["name"] == PRIVATE)
    await all_clear(herald, outsider, admin, exmember)
    for listener in (outsider, admin, exmember):
        heard = [(name, data) for name, data in listener.events if PRIVATE in json.dumps(data)]
        assert heard == [], (listener.username, heard)
        assert secrets_in(listener.events, secrets) == [], listener.username


# ---- members, DMs -------------------------------------------------------------------------------------


async def test_a_private_channel_is_its_members_only(make_client: ClientFactory) -> None:
    alice, bob, carol = [await make_client(name) for name in ("alice", "bob", "carol")]
    made = await create(alice, "desk", visibility="private")
    await alice.wait_for("channel_created", lambda c: c["name"] == "desk")
    assert made["visibility"] == "private"
    assert "desk" in listed(await alice.request("GET", "/api/channels"))
    assert "desk" not in listed(await bob.request("GET", "/api/channels"))
    await joined(alice, "desk")
    await say(alice, "before bob came", "desk")

    await add(alice, "desk", "bob")
    added = await bob.wait_for("channel_event", event_of("member_added", "bob"))  # before bob joined it
    assert (added["channel"], added["by"], added["role"], added["seq"]) == ("desk", "alice", "member", 2)
    assert "desk" in listed(await bob.request("GET", "/api/channels"))
    ack = await joined(bob, "desk")
    assert [m["text"] for m in ack["messages"]] == ["before bob came"]
    assert (ack["role"], ack["muted_until"], ack["events"]) == ("member", None, [])
    assert (await joined(alice, "desk"))["role"] == "owner"
    _, page = await bob.request("GET", "/api/channels/desk/messages")
    assert [m["text"] for m in page["messages"]] == ["before bob came"]
    await say(bob, "hello", "desk")

    # carol: nowhere
    assert "desk" not in listed(await carol.request("GET", "/api/channels"))
    assert error_code(await carol.call("join", {"channel": "desk"})) == "channel_not_found"
    for path in ("/api/channels/desk/messages", "/api/channels/desk/members", "/api/channels/desk/pins"):
        assert code(await carol.request("GET", path)) == (404, "channel_not_found")
    await all_clear(alice, carol, bob)
    assert [name for name, data in carol.events if "desk" in json.dumps(data)] == []
    assert [c["name"] for c in bob.received("channel_created")] == []  # an added member learns by member_added


async def test_direct_messages_are_idempotent_listed_for_both_and_closed(make_client: ClientFactory) -> None:
    alice, bob, carol = [await make_client(name) for name in ("alice", "bob", "carol")]
    status, dm = await alice.request("POST", "/api/dms", {"username": "bob"})
    assert status == 201, dm
    name = dm["name"]
    assert re.fullmatch(r"dm-[0-9a-f]{20}", name)
    assert (dm["kind"], dm["visibility"], dm["members"]) == ("dm", "private", ["alice", "bob"])
    assert await alice.request("POST", "/api/dms", {"username": "bob"}) == (200, dm)
    assert await bob.request("POST", "/api/dms", {"username": "ALICE"}) == (200, dm)  # either of them, any case
    for client in (alice, bob):
        await client.wait_for("channel_created", lambda c: c["name"] == name)
        _, body = await client.request("GET", "/api/channels")
        assert [c for c in body["channels"] if c["name"] == name] == [dm]
    assert name not in listed(await carol.request("GET", "/api/channels"))
    assert code(await alice.request("POST", "/api/dms", {"username": "alice"})) == (400, "invalid_parameter")
    assert code(await alice.request("POST", "/api/dms", {"username": "nobody"})) == (404, "user_not_found")

    for client in (alice, bob):
        await joined(client, name)
    await say(alice, "just between us", name)
    await bob.wait_for("message", lambda m: m["text"] == "just between us")
    # nobody joins, leaves, is moderated in, or deletes a DM
    assert code(await alice.request("PUT", f"/api/channels/{name}/members/carol", {})) == (403, "forbidden")
    assert code(await bob.request("DELETE", f"/api/channels/{name}/members/bob")) == (403, "forbidden")
    assert code(await alice.request("POST", f"/api/channels/{name}/mutes", {"username": "bob"})) == (403, "forbidden")
    assert code(await alice.request("POST", f"/api/channels/{name}/bans", {"username": "bob"})) == (403, "forbidden")
    assert code(await alice.request("DELETE", f"/api/channels/{name}")) == (403, "forbidden")
    assert error_code(await bob.call("delete_channel", {"channel": name})) == "forbidden"
    assert code(await carol.request("PUT", f"/api/channels/{name}/members/carol", {})) == (404, "channel_not_found")
    assert error_code(await carol.call("join", {"channel": name})) == "channel_not_found"
    _, members = await alice.request("GET", f"/api/channels/{name}/members")
    assert members["members"] == [{"username": "alice", "role": "member"}, {"username": "bob", "role": "member"}]
    await all_clear(alice, carol)
    assert [e for e, data in carol.events if name in json.dumps(data)] == []


# ---- roles and moderation -----------------------------------------------------------------------------


async def test_moderators_moderate_members_do_not_and_owners_are_untouchable(make_client: ClientFactory) -> None:
    alice, bob, carol, dave = [await make_client(name) for name in ("alice", "bob", "carol", "dave")]
    await create(alice, "pit")
    await add(alice, "pit", "bob", "moderator")
    await add(alice, "pit", "carol")
    for client in (alice, bob, carol, dave):
        await joined(client, "pit")
    spam = await say(dave, "pump $XYZ now", "pit")
    fine = await say(carol, "rules are in the pins", "pit")

    # a member moderates nothing
    assert code(await carol.request("POST", "/api/channels/pit/mutes", {"username": "dave"})) == (403, "forbidden")
    assert code(await carol.request("POST", "/api/channels/pit/bans", {"username": "dave"})) == (403, "forbidden")
    assert code(await carol.request("DELETE", "/api/channels/pit/members/bob")) == (403, "forbidden")
    assert code(await carol.request("PUT", "/api/channels/pit/members/dave", {})) == (403, "forbidden")
    assert code(await carol.request("PATCH", "/api/channels/pit", {"topic": "mine"})) == (403, "forbidden")
    assert code(await carol.request("GET", "/api/channels/pit/moderation")) == (403, "forbidden")
    assert error_code(await carol.call("delete", {"channel": "pit", "id": spam["id"]})) == "forbidden"
    assert error_code(await carol.call("pin", {"channel": "pit", "id": fine["id"]})) == "forbidden"

    # a moderator does, but makes no moderators
    assert code(await bob.request("PUT", "/api/channels/pit/members/dave", {"role": "moderator"})) == (403, "forbidden")
    await add(bob, "pit", "dave")
    assert (await bob.request("POST", "/api/channels/pit/mutes", {"username": "dave"}))[0] == 200
    deleted = await bob.call("delete", {"channel": "pit", "id": spam["id"]})
    assert deleted["ok"] and deleted["message"]["deleted"] is True
    assert (await bob.call("pin", {"channel": "pit", "id": fine["id"]}))["message"]["pinned"] is True
    assert await bob.request("DELETE", "/api/channels/pit/members/carol") == (204, "")
    kicked = await carol.wait_for("channel_event", event_of("member_removed", "carol"))
    assert kicked["by"] == "bob"

    # nobody acts on the owner; only the owner acts on a moderator
    assert code(await bob.request("DELETE", "/api/channels/pit/members/alice")) == (403, "forbidden")
    assert code(await bob.request("POST", "/api/channels/pit/mutes", {"username": "alice"})) == (403, "forbidden")
    assert code(await bob.request("POST", "/api/channels/pit/bans", {"username": "alice"})) == (403, "forbidden")
    assert code(await alice.request("DELETE", "/api/channels/pit/members/alice")) == (403, "forbidden")  # no leaving
    assert code(await alice.request("PUT", "/api/channels/pit/members/bob", {"role": "owner"})) == (400, "invalid_role")
    await add(alice, "pit", "dave", "moderator")
    assert code(await bob.request("DELETE", "/api/channels/pit/members/dave")) == (403, "forbidden")
    assert code(await bob.request("POST", "/api/channels/pit/bans", {"username": "dave"})) == (403, "forbidden")
    await add(alice, "pit", "dave", "member")
    changed = await dave.wait_for("channel_event", lambda e: e["kind"] == "role_changed" and e["role"] == "member")
    assert (changed["target"], changed["by"]) == ("dave", "alice")
    assert await dave.request("DELETE", "/api/channels/pit/members/dave") == (204, "")  # a member leaves
    _, members = await alice.request("GET", "/api/channels/pit/members")
    assert members["members"] == [{"username": "alice", "role": "owner"}, {"username": "bob", "role": "moderator"}]


async def test_a_mute_refuses_sends_edits_and_reactions_until_lifted(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    await create(alice, "floor")
    for client in (alice, bob):
        await joined(client, "floor")
    mine = await say(bob, "$AAPL at 190", "floor")
    hers = await say(alice, "noted", "floor")

    asked = datetime.now(UTC)
    mute = {"username": "bob", "minutes": 5, "reason": "spam"}
    status, body = await alice.request("POST", "/api/channels/floor/mutes", mute)
    assert status == 200 and body["username"] == "bob"
    refused = await bob.call("send", {"channel": "floor", "text": "one more"})  # at once
    until = body["until"]  # milliseconds, cut
    assert error_code(refused) == "muted" and refused["error"]["until"] == until
    assert asked + timedelta(minutes=5, seconds=-1) <= moment(until) <= datetime.now(UTC) + timedelta(minutes=5)
    told = await bob.wait_for("channel_event", event_of("muted", "bob"))
    assert (told["until"], told["reason"], told["by"]) == (until, "spam", "alice")
    edit = await bob.call("edit", {"channel": "floor", "id": mine["id"], "text": "$AAPL at 191"})
    assert error_code(edit) == "muted" and edit["error"]["until"] == until
    assert error_code(await bob.call("react", {"channel": "floor", "id": hers["id"], "emoji": "🐂"})) == "muted"
    ack = await joined(bob, "floor")
    assert (ack["muted_until"], ack["role"]) == (until, None)
    assert await alice.request("GET", "/api/channels/floor/moderation") == (
        200,
        {"muted": [{"username": "bob", "until": until}], "banned": []},
    )

    assert await alice.request("DELETE", "/api/channels/floor/mutes/bob") == (204, "")
    await bob.wait_for("channel_event", event_of("unmuted", "bob"))
    await say(bob, "thanks", "floor")
    assert (await joined(bob, "floor"))["muted_until"] is None
    _, body = await alice.request("POST", "/api/channels/floor/mutes", {"username": "bob"})
    assert timedelta(minutes=9) < moment(body["until"]) - datetime.now(UTC) <= timedelta(minutes=10)  # by default


async def test_a_ban_stops_the_channel_at_once_and_holds_until_lifted(make_client: ClientFactory) -> None:
    alice, bob, carol = [await make_client(name) for name in ("alice", "bob", "carol")]
    await create(alice, "pit")
    for client in (alice, bob, carol):
        await joined(client, "pit")
    await joined(bob, "general")
    await say(bob, "buy my course", "pit")

    assert await alice.request("POST", "/api/channels/pit/bans", {"username": "bob", "reason": "spam"}) == (
        200,
        {"username": "bob"},
    )
    right_after = await say(alice, "he is gone", "pit")
    await carol.wait_for("message", lambda m: m["id"] == right_after["id"])
    banned = await bob.wait_for("channel_event", event_of("banned", "bob"))
    assert (banned["reason"], banned["by"]) == ("spam", "alice")
    await all_clear(alice, bob)
    assert [m["text"] for m in bob.received("message") if m["channel"] == "pit"] == ["buy my course"]

    assert error_code(await bob.call("send", {"channel": "pit", "text": "let me back"})) == "banned"
    assert error_code(await bob.call("join", {"channel": "pit"})) == "banned"
    assert code(await bob.request("GET", "/api/channels/pit/messages")) == (403, "banned")
    assert code(await alice.request("PUT", "/api/channels/pit/members/bob", {})) == (403, "banned")
    assert (await alice.request("GET", "/api/channels/pit/moderation"))[1]["banned"] == ["bob"]

    assert await alice.request("DELETE", "/api/channels/pit/bans/bob") == (204, "")
    await bob.wait_for("channel_event", event_of("unbanned", "bob"))
    await joined(bob, "pit")
    await say(bob, "sorry", "pit")
    await add(alice, "pit", "bob")

    # from a private channel: banned, it does not exist for bob any more
    await create(alice, "den", visibility="private")
    await add(alice, "den", "bob")
    await joined(bob, "den")
    assert (await alice.request("POST", "/api/channels/den/bans", {"username": "bob"}))[0] == 200
    assert error_code(await bob.call("join", {"channel": "den"})) == "channel_not_found"
    assert code(await bob.request("GET", "/api/channels/den/messages")) == (404, "channel_not_found")
    assert "den" not in listed(await bob.request("GET", "/api/channels"))


async def test_slow_mode_spaces_a_members_sends_but_not_the_staffs(make_client: ClientFactory) -> None:
    alice, bob, carol = [await make_client(name) for name in ("alice", "bob", "carol")]
    await create(alice, "calm")
    await add(alice, "calm", "carol", "moderator")
    for client in (alice, bob, carol):
        await joined(client, "calm")
    status, body = await alice.request("PATCH", "/api/channels/calm", {"slow_mode_s": 2})
    assert status == 200 and body["slow_mode_s"] == 2

    await say(bob, "first", "calm")  # at once: no waiting for the channel event
    refused = await bob.call("send", {"channel": "calm", "text": "second"})
    assert error_code(refused) == "slow_mode"
    wait = refused["error"]["retry_after"]
    assert 0 < wait <= 2
    for staff in (alice, carol):  # the owner and a moderator are exempt
        await say(staff, "one", "calm")
        await say(staff, "two", "calm")
    await asyncio.sleep(wait + 0.1)  # slow mode is a time: nothing to wait for but the clock
    await say(bob, "second, later", "calm")


async def test_a_topic_change_reaches_members_as_settings_changed(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    await create(alice, "macro", topic="rates")
    await joined(bob, "macro")
    status, body = await alice.request("PATCH", "/api/channels/macro", {"topic": "  rates and the Fed  "})
    assert status == 200 and body["topic"] == "rates and the Fed"
    changed = await bob.wait_for("channel_event", lambda e: e["kind"] == "settings_changed")
    assert (changed["changes"], changed["by"], changed["channel"]) == ({"topic": "rates and the Fed"}, "alice", "macro")
    _, listing = await bob.request("GET", "/api/channels")
    assert [c["topic"] for c in listing["channels"] if c["name"] == "macro"] == ["rates and the Fed"]
    assert code(await alice.request("PATCH", "/api/channels/macro", {"topic": "x" * 251})) == (400, "invalid_payload")
    assert code(await alice.request("PATCH", "/api/channels/macro", {"slow_mode_s": 3601})) == (400, "invalid_payload")


# ---- one seq, catching up, the audit log --------------------------------------------------------------


async def test_every_action_takes_the_next_seq_is_caught_up_by_join_after_and_audited(
    make_client: ClientFactory, store: Store
) -> None:
    alice, bob, dave = [await make_client(name) for name in ("alice", "bob", "dave")]
    await make_client("carol", connect=False)
    await create(alice, "ledger")
    for client in (alice, bob, dave):
        await joined(client, "ledger")
    first = await say(alice, "opening", "ledger")
    away = await joined(dave, "ledger")
    assert away["events"] == []  # without `after`
    await dave.sio.disconnect()

    ledger = "/api/channels/ledger"
    steps: list[tuple[str, str, Any]] = [
        ("PUT", f"{ledger}/members/bob", {}),
        ("PUT", f"{ledger}/members/bob", {"role": "moderator"}),
        ("POST", f"{ledger}/mutes", {"username": "carol", "minutes": 1}),
        ("DELETE", f"{ledger}/mutes/carol", None),
        ("PATCH", ledger, {"topic": "the books"}),
        ("PATCH", ledger, {"slow_mode_s": 30}),
        ("PATCH", ledger, {"slow_mode_s": 0}),
        ("POST", f"{ledger}/bans", {"username": "carol", "reason": "leaks"}),
        ("DELETE", f"{ledger}/bans/carol", None),
        ("PUT", f"{ledger}/members/carol", {}),
        ("DELETE", f"{ledger}/members/carol", None),
    ]
    assert (await alice.call("edit", {"channel": "ledger", "id": first["id"], "text": "opened"}))["ok"]
    for method, path, body in steps:
        status, reply = await alice.request(method, path, body)
        assert status in (200, 204), (method, path, reply)
    assert (await bob.call("react", {"channel": "ledger", "id": first["id"], "emoji": "📈"}))["ok"]
    assert await bob.request("DELETE", f"{ledger}/members/bob") == (204, "")  # leaving: no moderation
    last = await say(alice, "closing", "ledger")
    await alice.wait_for("message", lambda m: m["seq"] == last["seq"])

    feed = [
        (name, data) for name, data in alice.events
        if name in ("message", "message_updated", "channel_event") and data.get("channel") == "ledger"
    ]  # fmt: skip
    seqs = [data["seq"] for _, data in feed]
    assert seqs == list(range(first["seq"], last["seq"] + 1))  # strictly one after another, no gaps
    kinds = [data["kind"] for name, data in feed if name == "channel_event"]
    assert kinds == [
        "member_added", "role_changed", "muted", "unmuted", "settings_changed", "settings_changed",
        "settings_changed", "banned", "unbanned", "member_added", "member_removed", "member_removed",
    ]  # fmt: skip
    assert [d["changes"] for n, d in feed if n == "channel_event" and d["kind"] == "settings_changed"] == [
        {"topic": "the books"},
        {"slow_mode_s": 30},
        {"slow_mode_s": 0},
    ]

    back = await dave.connect()
    ack = await joined(back, "ledger", after=away["last_seq"])
    assert ack["events"] == [data for name, data in feed if name == "channel_event"]
    assert ack["last_seq"] == last["seq"]
    assert {m["text"] for m in ack["messages"]} == {"opened", "closing"}

    entries = [e for e in await store.audit(before=None, limit=100) if e.channel == "ledger"]
    assert [(e.actor, e.action, e.target) for e in reversed(entries)] == [
        ("alice", "channel.member_added", "bob"),
        ("alice", "channel.role_changed", "bob"),
        ("alice", "channel.muted", "carol"),
        ("alice", "channel.unmuted", "carol"),
        ("alice", "channel.settings_changed", None),
        ("alice", "channel.settings_changed", None),
        ("alice", "channel.settings_changed", None),
        ("alice", "channel.banned", "carol"),
        ("alice", "channel.unbanned", "carol"),
        ("alice", "channel.member_added", "carol"),
        ("alice", "channel.member_removed", "carol"),
    ]
    assert entries[3].details.get("reason") == "leaks"  # the ban, newest first


# ---- compliance ---------------------------------------------------------------------------------------


async def test_compliance_reads_private_channels_and_posts_nothing(make_client: ClientFactory, store: Store) -> None:
    alice = await make_client("alice")
    auditor = await make_client("auditor", connect=False)
    assert await store.set_user_roles("auditor", ["compliance"])
    await auditor.connect()
    await create(alice, "desk", visibility="private")
    await joined(alice, "desk")
    said = await say(alice, "the client wants out by Friday", "desk")

    assert "desk" in listed(await auditor.request("GET", "/api/channels"))
    _, page = await auditor.request("GET", "/api/channels/desk/messages")
    assert [m["text"] for m in page["messages"]] == ["the client wants out by Friday"]
    assert (await auditor.request("GET", "/api/channels/desk/members"))[0] == 200
    ack = await joined(auditor, "desk")
    assert [m["text"] for m in ack["messages"]] == ["the client wants out by Friday"] and ack["role"] is None
    ref = {"channel": "desk", "id": said["id"]}
    assert error_code(await auditor.call("send", {"channel": "desk", "text": "noted"})) == "forbidden"
    assert error_code(await auditor.call("react", {**ref, "emoji": "🐂"})) == "forbidden"
    assert error_code(await auditor.call("delete", ref)) == "forbidden"
    assert error_code(await auditor.call("pin", ref)) == "forbidden"
    assert code(await auditor.request("POST", "/api/channels/desk/mutes", {"username": "alice"})) == (403, "forbidden")
    assert code(await auditor.request("POST", "/api/channels", {"name": "mine"})) == (403, "forbidden")
    _, after = await alice.request("GET", "/api/channels/desk/messages")
    assert [(m["text"], m.get("reactions")) for m in after["messages"]] == [("the client wants out by Friday", None)]
