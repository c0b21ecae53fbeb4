"""GET /api/search on a standalone server (DESIGN §9): words, $TICKER, channel, user and paging, newest
first, over the channels the caller may read, following edits and deletes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.apps import ChatClient, ClientFactory

pytestmark = pytest.mark.timeout(60)


async def say(client: ChatClient, text: str, channel: str = "general") -> dict[str, Any]:
    ack = await client.call("send", {"channel": channel, "text": text})
    assert ack["ok"], ack
    return dict(ack["message"])


async def search(client: ChatClient, **params: Any) -> tuple[list[str], str | None]:
    status, body = await client.request("GET", "/api/search", params=params)
    assert status == 200, body
    return [m["text"] for m in body["hits"]], body["next_before"]


async def archived(client: ChatClient, text: str) -> None:
    """Search reads the archive: wait until the archiver has written `text` (a few hundred ms)."""
    async with asyncio.timeout(5):
        while text not in (await search(client, q=text.split()[-1]))[0]:
            await asyncio.sleep(0.05)


async def test_words_tickers_channels_and_authors_narrow_the_hits_newest_first(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    for client in (alice, bob):
        assert (await client.call("join", {"channel": "general"}))["ok"]
    status, _ = await alice.request("POST", "/api/channels", {"name": "desk"})
    assert status == 201
    assert (await alice.call("join", {"channel": "desk"}))["ok"]
    await say(alice, "$TSLA before earnings: I'm cautious")
    await say(bob, "Earnings beat for $AAPL")
    await say(alice, "tesla earnings call tonight", "desk")
    await say(bob, "nothing to see")
    await say(alice, "Café talk about $TSLA")
    await archived(alice, "Café talk about $TSLA")

    assert (await search(bob, q="earnings"))[0] == [
        "tesla earnings call tonight",
        "Earnings beat for $AAPL",
        "$TSLA before earnings: I'm cautious",
    ]
    assert (await search(bob, q="$TSLA"))[0] == ["Café talk about $TSLA", "$TSLA before earnings: I'm cautious"]
    assert (await search(bob, q="earnings", cashtag="tsla"))[0] == ["$TSLA before earnings: I'm cautious"]
    assert (await search(bob, q="$tsla earnings"))[0] == ["$TSLA before earnings: I'm cautious"]
    assert (await search(bob, q="EARNINGS", channel="desk"))[0] == ["tesla earnings call tonight"]
    assert (await search(bob, q="earnings", user="BOB"))[0] == ["Earnings beat for $AAPL"]
    assert (await search(bob, user="@bob"))[0] == ["nothing to see", "Earnings beat for $AAPL"]
    assert (await search(bob, q="cafe"))[0] == ["Café talk about $TSLA"]  # accents folded
    assert (await search(bob, q="im"))[0] == ["$TSLA before earnings: I'm cautious"]
    assert (await search(bob, q="earn"))[0] == []  # whole words only
    assert (await search(bob, q="earnings tonight"))[0] == ["tesla earnings call tonight"]


async def test_pages_follow_next_before_to_the_end(make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    assert (await alice.call("join", {"channel": "general"}))["ok"]
    for i in range(7):
        await say(alice, f"tick {i}")
    await archived(alice, "tick 6")
    seen: list[str] = []
    before = None
    while True:
        params = {"q": "tick", "limit": 3} | ({"before": before} if before else {})
        hits, before = await search(alice, **params)
        seen += hits
        if before is None:
            break
    assert seen == [f"tick {i}" for i in reversed(range(7))]


async def test_edits_and_deletes_are_followed(make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    assert (await alice.call("join", {"channel": "general"}))["ok"]
    typo = await say(alice, "buy NVDIA now")
    gone = await say(alice, "secret plan for NVDA")
    assert (await alice.call("edit", {"channel": "general", "id": typo["id"], "text": "buy NVDA now"}))["ok"]
    assert (await alice.call("delete", {"channel": "general", "id": gone["id"]}))["ok"]
    await say(alice, "marker tock")
    await archived(alice, "marker tock")
    assert (await search(alice, q="nvda"))[0] == ["buy NVDA now"]
    assert (await search(alice, q="nvdia"))[0] == []
    assert (await search(alice, q="secret"))[0] == []


async def test_a_private_channel_is_searched_by_its_members_only(make_client: ClientFactory) -> None:
    owner, outsider = await make_client("owner"), await make_client("outsider")
    status, _ = await owner.request("POST", "/api/channels", {"name": "vault", "visibility": "private"})
    assert status == 201
    assert (await owner.call("join", {"channel": "vault"}))["ok"]
    await say(owner, "merger terms agreed", "vault")
    await archived(owner, "merger terms agreed")
    assert (await search(outsider, q="merger"))[0] == []
    assert (await search(outsider, user="owner"))[0] == []
    status, body = await outsider.request("GET", "/api/search", params={"q": "merger", "channel": "vault"})
    assert (status, body["error"]["code"]) == (404, "channel_not_found")
    assert "vault" not in str(body) or body["error"]["message"] == "No channel #vault"


async def test_a_search_must_say_what_it_looks_for(make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    for params in ({}, {"q": "  !!  "}, {"cashtag": "not a ticker"}, {"limit": 0}, {"limit": 101}):
        status, body = await alice.request("GET", "/api/search", params=params)
        assert (status, body["error"]["code"]) == (400, "invalid_parameter"), params
    status, body = await ChatClient(alice.base_url, alice.http).request("GET", "/api/search", params={"q": "x"})
    assert (status, body["error"]["code"]) == (401, "unauthorized")
