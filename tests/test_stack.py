"""End to end on the local stack: clients on different nodes, through nginx and direct, chat together."""

from __future__ import annotations

import re

import aiohttp
import pytest

from scripts.stack import Stack
from tests.stack_fixtures import MakeBoundClient

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]


async def connections(node_url: str) -> float:
    async with aiohttp.ClientSession() as http, http.get(node_url + "/metrics") as resp:
        text = await resp.text()
    found = re.search(r"^chat_socket_connections (\S+)$", text, re.MULTILINE)
    assert found, text
    return float(found.group(1))


async def test_clients_on_different_nodes_see_each_others_messages_and_presence(
    stack: Stack, make_bound_client: MakeBoundClient
) -> None:
    node1, node2 = stack.node_urls()
    alice = await make_bound_client(stack.url, "127.0.1.1")
    bob = await make_bound_client(stack.url, "127.0.2.1")
    carol = await make_bound_client(node1)
    dave = await make_bound_client(node2)
    # ip_hash put the two nginx clients on different nodes: one nginx client plus one direct on each
    assert [await connections(node1), await connections(node2)] == [2, 2]

    joined = await alice.call("join", {"channel": "general"})
    assert joined["ok"] is True
    for other in (bob, carol, dave):
        ack = await other.call("join", {"channel": "general"})
        assert ack["ok"] is True and alice.username in ack["members"]
    for other in (bob, carol, dave):
        online = {"channel": "general", "user": other.username, "online": True}
        await alice.wait_for("presence", online.__eq__)

    sent = await alice.call("send", {"channel": "general", "text": "AAPL looks strong"})
    assert sent["ok"] is True
    for client in (alice, bob, carol, dave):
        message = await client.wait_for("message", lambda m: m["id"] == sent["message"]["id"])
        assert (message["user"], message["text"]) == (alice.username, "AAPL looks strong")

    reply = await dave.call("send", {"channel": "general", "text": "agreed"})
    assert reply["message"]["seq"] == sent["message"]["seq"] + 1  # one sequence across nodes
    for client in (alice, bob, carol):
        await client.wait_for("message", lambda m: m["id"] == reply["message"]["id"])

    await bob.sio.disconnect()
    offline = {"channel": "general", "user": bob.username, "online": False}
    await carol.wait_for("presence", offline.__eq__)


async def test_nginx_serves_the_client_and_hides_metrics(stack: Stack) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(stack.url + "/some/spa/route") as resp:
            assert resp.status == 200 and resp.headers["Cache-Control"] == "no-cache"
            assert "<div id=" in await resp.text()
        async with http.get(stack.url + "/readyz") as resp:
            assert resp.status == 200
        async with http.get(stack.url + "/metrics") as resp:
            assert resp.status == 404
        async with http.get(stack.url + "/api/me") as resp:
            assert resp.status == 401
            assert (await resp.json())["error"]["code"] == "unauthorized"


async def test_a_dns_rebinding_page_is_refused_through_nginx(stack: Stack) -> None:
    """A foreign name pointed at 127.0.0.1 reaches nginx, which forwards it; the nodes refuse it."""
    port = stack.url.rsplit(":", 1)[1]
    async with aiohttp.ClientSession() as http:
        async with http.get(stack.url + "/api/me", headers={"Host": f"evil.example:{port}"}) as resp:
            assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_host"
        async with http.get(stack.url + "/api/me", headers={"Host": f"localhost:{port}"}) as resp:
            assert resp.status == 401  # our own names still reach the API


async def test_the_bot_answers_on_any_node_in_the_room_or_privately(
    stack: Stack, make_bound_client: MakeBoundClient
) -> None:
    """The bot process reaches rooms through the bus's live feed and one user through python-socketio's
    Redis channel: both must arrive on the nodes, whichever node the user is on."""
    node1, node2 = stack.node_urls()
    asker, neighbour = await make_bound_client(node2), await make_bound_client(node1)
    for client in (asker, neighbour):
        assert (await client.call("join", {"channel": "general"}))["ok"] is True
    ack = await asker.call("send", {"channel": "general", "text": "/help"})
    assert ack["ok"] is True and ack["command"]["name"] == "help"
    private = await asker.wait_for("message", lambda m: m.get("ephemeral") is True)
    assert private["user"] == "StockBot" and "/stock" in private["text"]
    said = await neighbour.call("send", {"channel": "general", "text": "after the help"})
    await neighbour.wait_for("message", lambda m: m["id"] == said["message"]["id"])
    assert not [m for m in neighbour.received("message") if m.get("ephemeral")]  # private stays private
