"""Search in the web client: a word finds its message across channels, a hit far back in a channel opens
there (older pages loaded until it is), scrolled into view, marked and focused, and a private channel
one is not in never shows up in one's results."""

from __future__ import annotations

import re

import aiohttp
import pytest
import socketio
from playwright.async_api import Locator, expect

from tests.browser.conftest import PASSWORD, ChatServer, User, UserFactory
from tests.browser.test_access_browser import call
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_web_client import Shot

pytestmark = pytest.mark.browser

WORD = "zanzibarite"  # a word no other message has
NEWER = 80  # messages after the hit: more than the join's first page (50), so it is only on an older one


async def script_user(server: ChatServer, name: str) -> tuple[str, socketio.AsyncSimpleClient]:
    """Another user posting from a Python script (docs/protocol.md), connected and in #general."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/api/register", json={"username": name, "password": PASSWORD}) as resp:
            assert resp.status == 201, await resp.text()
            token = str((await resp.json())["token"])
    sio = socketio.AsyncSimpleClient()
    await sio.connect(server.url, auth={"token": token}, transports=["websocket"])
    joined = await sio.call("join", {"channel": "general"})
    assert joined["ok"], joined
    return token, sio


async def post(sio: socketio.AsyncSimpleClient, channel: str, texts: list[str]) -> None:
    for i, text in enumerate(texts):
        ack = await sio.call("send", {"channel": channel, "text": text, "client_id": f"{channel}-{i}-{text[:8]}"})
        assert ack["ok"], ack


async def search(user: User, text: str, expected: int = 1) -> Locator:
    """Searches from the box as a reader would ("/" to get there), again while the archive (a few hundred
    milliseconds behind the live feed) has not caught up with the `expected` hits; the hits once the search
    has answered."""
    page = user.page
    box = page.get_by_role("searchbox", name="Search messages")
    hits = page.get_by_test_id("search-hit")
    for _ in range(20):
        await page.get_by_test_id("messages").focus()
        await page.keyboard.press("/")
        await expect(box).to_be_focused()
        await box.fill(text)
        await box.press("Enter")
        status = page.get_by_test_id("search-status")
        await expect(status).to_have_text(re.compile(r"messages?, |No messages match"))
        if await hits.count() >= expected:
            return hits
        await page.wait_for_timeout(250)
    return hits


async def test_a_hit_far_back_opens_in_its_channel_marked_and_a_private_one_never_shows(
    signed_up: UserFactory, chat_server: ChatServer, screenshot: Shot
) -> None:
    alice = await signed_up("alice")
    _, carol = await script_user(chat_server, "carol")
    # Older messages too, so the hit is not at the top of the channel: the list centres it.
    await post(carol, "general", [f"early chatter {n}" for n in range(1, 31)])
    await alice.send(f"Desk note: the {WORD} position is on, $TSLA hedged")
    # Alice's private channel, which bob is not in, says the word too.
    status, _ = await call(chat_server, alice, "POST", "/api/channels", {"name": "vault", "visibility": "private"})
    assert status == 201
    token = await alice.page.evaluate("() => sessionStorage.getItem('investor-chat.token')")
    async with socketio.AsyncSimpleClient() as sio:
        await sio.connect(chat_server.url, auth={"token": token}, transports=["websocket"])
        assert (await sio.call("join", {"channel": "vault"}))["ok"]
        await post(sio, "vault", [f"Members only: {WORD} size doubled"])
    try:
        await post(carol, "general", [f"market chatter {n}" for n in range(1, NEWER + 1)])
    finally:
        await carol.disconnect()

    # alice finds both of hers, the newest first.
    hits = await search(alice, WORD, 2)
    await expect(hits).to_have_count(2)
    await expect(hits.get_by_test_id("search-hit-channel")).to_have_text(["vault", "#general"])

    # bob arrives after all that: his #general holds only the newest page.
    bob = await signed_up("bob")
    await expect(bob.message("market chatter 80")).to_be_visible()
    await expect(bob.message(WORD)).to_have_count(0)
    hits = await search(bob, WORD)
    await expect(hits).to_have_count(1)
    hit = hits.first
    await expect(hit.get_by_test_id("search-hit-channel")).to_have_text("#general")
    await expect(hit).to_contain_text("alice")
    await expect(hit.locator("mark")).to_have_text([WORD])
    await expect(bob.page.get_by_test_id("search-status")).to_have_text("1 message, newest first")
    assert await serious_violations(bob.page) == []
    await screenshot(bob.page, "search-results")
    # Nor does the private channel answer him by name.
    status, body = await call(chat_server, bob, "GET", f"/api/search?q={WORD}&channel=vault")
    assert (status, body["error"]["code"]) == (404, "channel_not_found")

    await hit.click()
    await expect(bob.page.get_by_test_id("search-results")).to_have_count(0)
    target = bob.messages().filter(has_text=WORD)
    await expect(target).to_be_in_viewport()
    await expect(target).to_be_focused()
    await expect(bob.page.locator("li[data-highlighted='true']")).to_contain_text(WORD)
    await screenshot(bob.page, "search-hit-opened")
    # Marked for a moment only; the message stays where the reader is.
    await expect(bob.page.locator("li[data-highlighted='true']")).to_have_count(0, timeout=5_000)
    await expect(target).to_be_in_viewport()
    # Centred (the rows around it are on screen), the bottom of the channel left.
    spot = await target.bounding_box()
    view = await bob.page.get_by_test_id("messages").bounding_box()
    assert spot and view
    middle = spot["y"] + spot["height"] / 2 - view["y"]
    assert view["height"] * 0.25 < middle < view["height"] * 0.75, (middle, view)
    await expect(bob.message(re.compile(r"^early chatter 30$"))).to_be_in_viewport()
    await expect(bob.message(re.compile(r"^market chatter 80$"))).not_to_be_in_viewport()

    # Escape closes the panel and gives the box back; Ctrl+K comes back to it from the message box.
    box = bob.page.get_by_role("searchbox", name="Search messages")
    await bob.page.get_by_role("textbox", name="Message #").focus()
    await bob.page.keyboard.press("Control+k")
    await expect(box).to_be_focused()
    await box.press("Enter")
    await expect(bob.page.get_by_test_id("search-hit")).to_have_count(1)
    await bob.page.keyboard.press("Escape")
    await expect(bob.page.get_by_test_id("search-results")).to_have_count(0)
    await expect(box).to_be_focused()
    assert alice.errors == [] and bob.errors == []


async def test_search_by_keyboard_on_a_phone_passes_axe(signed_up: UserFactory, screenshot: Shot) -> None:
    alice = await signed_up("alice", width=360, height=740)
    for text in (f"first {WORD} note about $AAPL", "nothing to see", f"second {WORD} note"):
        await alice.send(text)
    hits = await search(alice, f"{WORD} from:@alice", 2)
    await expect(hits).to_have_count(2)
    await expect(hits.get_by_test_id("search-hit-text")).to_have_text(
        [f"second {WORD} note", f"first {WORD} note about $AAPL"]
    )
    assert await serious_violations(alice.page) == []
    await screenshot(alice.page, "search-phone")
    # Down from the box to the hits, Enter opens one: the channel shows it, focused.
    box = alice.page.get_by_role("searchbox", name="Search messages")
    await box.press("ArrowDown")
    await expect(hits.first).to_be_focused()
    await alice.page.keyboard.press("ArrowDown")
    await expect(hits.nth(1)).to_be_focused()
    await alice.page.keyboard.press("Enter")
    target = alice.messages().filter(has_text="first")
    await expect(target).to_be_focused()
    await expect(target).to_be_in_viewport()
    # A cashtag finds only what mentions it.
    hits = await search(alice, "$aapl")
    await expect(hits).to_have_count(1)
    await expect(hits.first.locator("mark")).to_have_text(["$AAPL"])
    assert alice.errors == []
