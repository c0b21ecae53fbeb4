"""The small holes a hostile client found (issue 27, point 6), each closed on a live node: huge seqs,
invisible messages, look-alike bot names, login lock-outs from afar, spam echoed by the bot."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from tests.apps import PASSWORD, ChatClient, ClientFactory


@pytest.mark.parametrize("after", [2**63, 2**64 - 1, 2**62 + 1])
async def test_a_join_after_a_huge_seq_is_a_clear_payload_error(
    make_client: ClientFactory, after: int, caplog: pytest.LogCaptureFixture
) -> None:
    alice = await make_client("alice")
    ack = await alice.call("join", {"channel": "general", "after": after})
    assert ack["ok"] is False and ack["error"]["code"] == "invalid_payload"
    assert "after" in ack["error"]["message"]
    assert not [r for r in caplog.records if r.exc_info]  # no traceback logged
    assert (await alice.call("join", {"channel": "general", "after": 2**62}))["ok"]  # the largest allowed


@pytest.mark.parametrize(
    "text",
    ["\x00", "\x00\x00\x00", "\u200b", "\u200b\u200c\u200d\ufeff", " \u2060 \u00ad ", "\u3164\u115f", "\u202e\u2066"],
)
async def test_a_message_that_shows_nothing_is_empty(make_client: ClientFactory, text: str) -> None:
    alice = await make_client("alice")
    await alice.call("join", {"channel": "general"})
    ack = await alice.call("send", {"channel": "general", "text": text})
    assert ack["ok"] is False and ack["error"]["code"] == "empty_message"
    _, page = await alice.request("GET", "/api/channels/general/messages")
    assert page["messages"] == []


async def test_nul_inside_a_message_is_dropped(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    for client in (alice, bob):
        await client.call("join", {"channel": "general"})
    ack = await alice.call("send", {"channel": "general", "text": "AAPL\x00 looks\x00 strong"})
    assert ack["ok"] and ack["message"]["text"] == "AAPL looks strong"
    assert (await bob.wait_for("message"))["text"] == "AAPL looks strong"
    ok = await alice.call("send", {"channel": "general", "text": "caf\u00e9 \U0001f4c8 \u05e9\u05dc\u05d5\u05dd"})
    assert ok["ok"]  # accents, emoji and right-to-left text are visible, of course
    for visible in ("\U0001fae8", "\ue000", "\u2764\ufe0f"):  # an emoji newer than Python 3.11's tables, an icon font's
        assert (await alice.call("send", {"channel": "general", "text": visible}))["ok"], ascii(visible)


@pytest.mark.parametrize(
    "name", ["Stock-Bot", "stockbot", "St0ckBot", "STOCK_B0T", "5tock.bot", "the_stockbot", "StockBot2", "Adm1n"]
)
async def test_names_that_read_as_the_bot_or_a_reserved_name_are_refused(make_client: ClientFactory, name: str) -> None:
    client = await make_client("alice", connect=False)
    status, body = await client.request("POST", "/api/register", {"username": name, "password": PASSWORD})
    assert status == 400 and body["error"]["code"] == "invalid_username"


async def test_ordinary_names_near_the_bot_are_fine(make_client: ClientFactory) -> None:
    for name in ("stockholder", "bottom_fisher", "robot-trader"):
        assert (await make_client(name, connect=False)).username == name


async def _login(http: aiohttp.ClientSession, url: str, username: str, password: str, address: str) -> int:
    headers = {"X-Forwarded-For": address}
    body = {"username": username, "password": password}
    async with http.post(f"{url}/api/login", json=body, headers=headers) as response:
        return response.status


async def test_bad_logins_from_one_address_cannot_lock_the_owner_out(make_server: Any, fake_stooq: Any) -> None:
    server: TestServer = await make_server(trusted_proxies="127.0.0.1", login_account_burst=25)
    url = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        await ChatClient(url, http).register("alice")
        attempts = [await _login(http, url, "alice", "wrong password", "198.51.100.7") for _ in range(12)]
        assert attempts[:10] == [401] * 10 and attempts[10:] == [429, 429]
        assert await _login(http, url, "alice", PASSWORD, "203.0.113.9") == 200  # the owner, elsewhere
        # the guessing address is throttled as a whole, whichever account it tries next
        assert await _login(http, url, "bob", "whatever pass", "198.51.100.7") == 429
        # many addresses against one account meet the slower limit of the account as a whole
        spread = [
            await _login(http, url, "alice", "wrong password", f"192.0.2.{i}") for i in range(1, 4) for _ in range(10)
        ]
        assert 401 in spread and spread[-5:] == [429] * 5


async def test_the_bot_does_not_repeat_spam_into_the_public_reply(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    for client in (alice, bob):
        await client.call("join", {"channel": "general"})
    await alice.call("send", {"channel": "general", "text": "/stock AAPL, SEND BTC TO 1FREE, aapl.us"})
    public = await bob.wait_for("message", lambda m: m["bot"])
    assert public["text"].split("\n") == ["AAPL.US quote is $93.42 per share"] * 2
    private = await alice.wait_for("message", lambda m: m.get("ephemeral", False))
    assert "SEND BTC TO 1FREE" in private["text"] and "not a valid stock code" in private["text"]
    assert not [m for m in bob.received("message") if m.get("ephemeral")]
    _, page = await bob.request("GET", "/api/channels/general/messages")
    assert all("BTC" not in m["text"] for m in page["messages"])


async def _status(http: aiohttp.ClientSession, url: str, path: str, headers: dict[str, str]) -> int:
    async with http.get(url + path, headers=headers) as response:
        return response.status


async def test_a_node_on_loopback_refuses_a_foreign_host_name(make_server: Any, fake_stooq: Any) -> None:
    """DNS rebinding: evil.example resolved to 127.0.0.1 reaches the node with Host: evil.example."""
    server: TestServer = await make_server()  # bound to 127.0.0.1 (CHAT_HOST's default)
    url = str(server.make_url("")).rstrip("/")
    port = server.port
    polling = "/socket.io/?EIO=4&transport=polling"
    async with aiohttp.ClientSession() as http:
        for path in ("/healthz", "/api/openapi.json", polling):
            assert await _status(http, url, path, {"Host": f"evil.example:{port}"}) == 400
        async with http.post(
            f"{url}/api/register", json={"username": "rebound", "password": PASSWORD}, headers={"Host": "evil.example"}
        ) as response:
            assert response.status == 400 and (await response.json())["error"]["code"] == "invalid_host"
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", "[::1]", "chat.localhost"):
            assert await _status(http, url, polling, {"Host": host}) == 200, host


async def test_allowed_hosts_are_answered_and_checked_behind_a_proxy(make_server: Any, fake_stooq: Any) -> None:
    server: TestServer = await make_server(allowed_hosts="chat.example.com", trusted_proxies="127.0.0.1")
    url = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        assert await _status(http, url, "/healthz", {"X-Forwarded-Host": "chat.example.com"}) == 200
        assert await _status(http, url, "/healthz", {"Host": "chat.example.com:443"}) == 200
        assert await _status(http, url, "/healthz", {"X-Forwarded-Host": "evil.example"}) == 400


async def test_a_node_on_every_address_answers_any_name_unless_told(make_server: Any, fake_stooq: Any) -> None:
    server: TestServer = await make_server(host="0.0.0.0")  # as in the image; a proxy's server_name checks
    url = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        assert await _status(http, url, "/healthz", {"Host": "chat.example.com"}) == 200
