"""The web client in a real Chromium against the real `investor-chat` process."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import aiohttp
import pytest
import socketio
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import PASSWORD, ChatServer, UserFactory
from tests.fakes.stooq import FakeStooq

pytestmark = pytest.mark.browser
Shot = Callable[[Page, str], Awaitable[None]]


async def test_two_users_chat_live_both_ways(signed_up: UserFactory, screenshot: Shot) -> None:
    alice = await signed_up("alice")
    bob = await signed_up("bob")

    await alice.send("Morning all, AAPL looks strong")
    await expect(bob.message("Morning all, AAPL looks strong")).to_be_visible()
    await bob.send("Agreed, watching the open")
    await expect(alice.message("Agreed, watching the open")).to_be_visible()

    # Own messages are told apart from others', on both sides.
    mine = alice.messages().filter(has_text="AAPL looks strong")
    theirs = alice.messages().filter(has_text="watching the open")
    await expect(mine).to_have_attribute("data-mine", "true")
    await expect(theirs).to_have_attribute("data-mine", "false")
    await expect(bob.messages().filter(has_text="watching the open")).to_have_attribute("data-mine", "true")
    # Each message shows once, in the order it was posted, with a day separator above.
    await expect(alice.page.get_by_test_id("message-text")).to_have_text(
        ["Morning all, AAPL looks strong", "Agreed, watching the open"]
    )
    await expect(alice.page.get_by_test_id("day-separator")).to_have_text(["Today"])
    # Who is online: both, as seen from either side.
    await expect(alice.page.get_by_test_id("members").get_by_role("listitem")).to_have_count(2)
    await expect(bob.page.get_by_test_id("members")).to_contain_text("alice")

    # Typing in one browser shows an indicator in the other.
    await bob.page.get_by_role("textbox", name="Message #").press_sequentially("thinking", delay=20)
    await expect(alice.page.get_by_test_id("typing")).to_have_text(re.compile("bob is typing"))

    await screenshot(alice.page, "chat-desktop")
    assert alice.errors == [] and bob.errors == []


async def test_channel_created_by_one_appears_for_the_other(signed_up: UserFactory, screenshot: Shot) -> None:
    alice = await signed_up("alice")
    bob = await signed_up("bob")

    await alice.page.get_by_role("button", name="New channel").click()
    name_box = alice.page.get_by_label("New channel name")
    await name_box.fill("bad name!")
    await name_box.press("Enter")
    await expect(alice.page.get_by_role("alert")).to_be_visible()  # invalid_channel_name, inline
    await name_box.fill("earnings")
    await name_box.press("Enter")
    await expect(alice.page.get_by_role("heading", name="earnings")).to_be_visible()

    bob_list = bob.page.get_by_test_id("channel-list")
    await expect(bob_list.locator("[data-channel='earnings']")).to_be_visible()
    await expect(bob_list.get_by_role("button")).to_have_text([re.compile("earnings"), re.compile("general")])

    # A message in a channel bob is not looking at counts as unread until he opens it.
    await alice.send("NVDA reports after the close")
    badge = bob_list.locator("[data-channel='earnings']").get_by_test_id("unread")
    await expect(badge).to_have_text(re.compile(r"^1"))
    await screenshot(bob.page, "unread-badge")
    await bob.open_channel("earnings")
    await expect(bob.message("NVDA reports after the close")).to_be_visible()
    await expect(badge).to_have_count(0)
    await expect(bob_list.locator("[data-channel='earnings']")).to_have_attribute("aria-current", "page")

    # Creating the same channel again is refused inline.
    await bob.page.get_by_role("button", name="New channel").click()
    await bob.page.get_by_label("New channel name").fill("earnings")
    await bob.page.get_by_label("New channel name").press("Enter")
    await expect(bob.page.get_by_role("alert")).to_contain_text(re.compile("exist", re.I))


async def test_stock_bot_quote_card_is_seen_by_everyone(
    signed_up: UserFactory, fake_stooq: FakeStooq, screenshot: Shot
) -> None:
    alice = await signed_up("alice")
    bob = await signed_up("bob")

    await alice.send("/stock=aapl.us")

    for user in (alice, bob):
        card = user.page.get_by_test_id("quote-card")
        await expect(card).to_be_visible(timeout=15_000)
        await expect(card.get_by_test_id("quote-symbol")).to_have_text("AAPL.US")
        await expect(card.get_by_test_id("quote-price")).to_have_text("$93.42")
        # 93.42 against a previous close of 92.10: up, and shown green.
        change = card.get_by_test_id("quote-change")
        await expect(change).to_have_attribute("data-direction", "up")
        await expect(change).to_contain_text("+1.32")
        await expect(change).to_have_class(re.compile(r"\btext-up\b"))
        path = await card.get_by_test_id("sparkline").locator("path").last.get_attribute("d")
        assert path is not None and path.startswith("M") and path.count("L") >= 10
        reply = user.page.get_by_test_id("message-text").filter(has_text="AAPL.US quote is $93.42 per share")
        await expect(reply).to_be_visible()
    assert any("aapl" in r.lower() for r in fake_stooq.requests)

    # The asker alone sees an echo of the command; the other user never sees it.
    await expect(alice.message("/stock=aapl.us")).to_be_visible()
    await expect(bob.message("/stock=aapl.us")).to_have_count(0)

    # An unknown code gets a reply only the asker sees.
    await bob.send("/stock=nosuchthing.us")
    note = bob.messages().filter(has=bob.page.get_by_test_id("ephemeral-note")).last
    await expect(note).to_contain_text("Only visible to you", timeout=15_000)
    await expect(note).to_contain_text("StockBot")
    await screenshot(alice.page, "quote-card")
    await screenshot(bob.page, "ephemeral-reply")
    await expect(alice.page.get_by_test_id("ephemeral-note")).to_have_count(1)  # only alice's own echo


async def _post_as_script(server: ChatServer, name: str, texts: list[str]) -> None:
    """Another user posting from a Python script, as docs/protocol.md's script writers do."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/api/register", json={"username": name, "password": PASSWORD}) as resp:
            assert resp.status == 201, await resp.text()
            token = (await resp.json())["token"]
    async with socketio.AsyncSimpleClient() as sio:
        await sio.connect(server.url, auth={"token": token}, transports=["websocket"])
        joined = await sio.call("join", {"channel": "general"})
        assert joined["ok"], joined
        for i, text in enumerate(texts):
            ack = await sio.call("send", {"channel": "general", "text": text, "client_id": f"script-{i}"})
            assert ack["ok"], ack


async def test_reload_shows_history_and_older_pages(
    signed_up: UserFactory, chat_server: ChatServer, screenshot: Shot
) -> None:
    alice = await signed_up("alice")
    await _post_as_script(chat_server, "carol", [f"history line {n}" for n in range(1, 71)])
    await alice.send("after the flood")
    await expect(alice.message("after the flood")).to_be_visible()

    await alice.page.reload()
    await expect(alice.page.get_by_test_id("me")).to_have_text("alice")
    await expect(alice.message("after the flood")).to_be_in_viewport()
    await expect(alice.message("history line 70")).to_be_visible()
    # Only the newest page came with the join; scrolling up fetches the rest over REST.
    messages = alice.page.get_by_test_id("messages")
    for _ in range(10):
        if await alice.message(re.compile(r"^history line 1$")).count():
            break
        await messages.evaluate("el => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }")
        await alice.page.wait_for_timeout(200)
    await expect(alice.message(re.compile(r"^history line 1$"))).to_have_count(1)
    await expect(alice.page.get_by_text("This is the start of #general.")).to_be_visible()
    rows = await _read_through(alice.page)
    assert [text for _, text in rows] == [f"history line {n}" for n in range(1, 71)] + ["after the flood"]
    assert [seq for seq, _ in rows] == list(range(1, 72))
    # Only the rows on screen are in the page, not the whole history.
    assert await alice.messages().count() < 71
    await screenshot(alice.page, "history")


async def _read_through(page: Page) -> list[tuple[int, str]]:
    """Every message (seq, text) from the top down, scrolling as a reader would: the list only
    holds the rows on screen."""
    seen: dict[int, str] = {}
    box = page.get_by_test_id("messages")
    await box.evaluate("el => { el.scrollTop = 0; }")
    for _ in range(100):
        await page.wait_for_timeout(50)
        rows = await page.get_by_test_id("message").evaluate_all(
            "els => els.map(e => [Number(e.dataset.seq), e.querySelector('[data-testid=message-text]').innerText])"
        )
        seen.update((int(seq), str(text)) for seq, text in rows)
        at_end = await box.evaluate(
            "el => { const end = el.scrollTop + el.clientHeight >= el.scrollHeight - 1;"
            " el.scrollTop += el.clientHeight / 2; return end; }"
        )
        if at_end:
            break
    return sorted(seen.items())


async def test_offline_then_back_catches_up(signed_up: UserFactory, screenshot: Shot) -> None:
    alice = await signed_up("alice")
    bob = await signed_up("bob")
    await alice.send("before the outage")
    await expect(bob.message("before the outage")).to_be_visible()

    await bob.context.set_offline(True)
    banner = bob.page.get_by_test_id("connection-banner")
    await expect(banner).to_have_attribute("data-state", re.compile("offline|reconnecting"))
    await expect(banner).to_contain_text(re.compile("offline|reconnecting", re.I))
    # A draft can still be written; it waits for the connection.
    draft = bob.page.get_by_role("textbox", name="Message #")
    await draft.fill("drafted while offline")
    await draft.press("Enter")
    await expect(draft).to_have_value("drafted while offline")
    await expect(bob.page.get_by_role("button", name="Send message")).to_be_disabled()
    await screenshot(bob.page, "offline-banner")

    for text in ("missed one", "missed two", "missed three"):
        await alice.send(text)
    await bob.page.wait_for_timeout(500)
    await expect(bob.message("missed one")).to_have_count(0)

    await bob.context.set_offline(False)
    await expect(banner).to_have_attribute("data-state", "connected", timeout=20_000)
    await expect(bob.page.get_by_test_id("message-text")).to_have_text(
        ["before the outage", "missed one", "missed two", "missed three"]
    )
    # And live delivery carries on after the catch-up.
    await alice.send("back to normal")
    await expect(bob.message("back to normal")).to_be_visible()
    await expect(draft).to_have_value("drafted while offline")
    await draft.press("Enter")
    await expect(alice.message("drafted while offline")).to_be_visible()
    await bob.send("thanks, all caught up")
    await expect(alice.message("thanks, all caught up")).to_be_visible()


async def test_message_text_is_never_html(signed_up: UserFactory) -> None:
    alice = await signed_up("alice")
    bob = await signed_up("bob")
    payload = '<img src=x onerror="window.__xss=1">'

    await alice.send(payload)
    for user in (alice, bob):
        shown = user.page.get_by_test_id("message-text").filter(has_text="onerror")
        await expect(shown).to_have_text(payload)
        await expect(user.page.get_by_test_id("messages").locator("img")).to_have_count(0)
    await bob.page.reload()
    await expect(bob.page.get_by_test_id("message-text").filter(has_text="onerror")).to_have_text(payload)
    for user in (alice, bob):
        assert await user.page.evaluate("typeof window.__xss") == "undefined"


async def test_login_errors_show_where_they_belong(
    browser: Browser, chat_server: ChatServer, signed_up: UserFactory, screenshot: Shot
) -> None:
    await signed_up("alice")
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    try:
        await page.goto(chat_server.url)
        await expect(page.get_by_role("button", name="Log in")).to_be_visible()
        await screenshot(page, "login")
        # Wrong password: a form-level error.
        await page.get_by_label("Username").fill("alice")
        await page.get_by_label("Password").fill("not the password")
        await page.get_by_label("Password").press("Enter")
        await expect(page.get_by_role("alert")).to_be_visible()
        await expect(page.get_by_label("Username")).not_to_have_attribute("aria-invalid", "true")
        # A taken name: under the username field.
        await page.get_by_role("tab", name="Register").click()
        await page.get_by_label("Username").fill("ALICE")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Create account").click()
        await expect(page.get_by_label("Username")).to_have_attribute("aria-invalid", "true")
        await screenshot(page, "register-username-taken")
        # A short password: under the password field.
        await page.get_by_label("Username").fill("dave")
        await page.get_by_label("Password").fill("short")
        await page.get_by_role("button", name="Create account").click()
        await expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
        # And the right one gets in, then logging out returns to the form.
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Create account").click()
        await expect(page.get_by_test_id("me")).to_have_text("dave")
        await page.get_by_role("button", name="Log out").click()
        await expect(page.get_by_role("button", name="Log in")).to_be_visible()
        await page.reload()
        await expect(page.get_by_role("button", name="Log in")).to_be_visible()
    finally:
        await context.close()


async def test_narrow_screen_and_keyboard_only(signed_up: UserFactory, screenshot: Shot) -> None:
    alice = await signed_up("alice", width=360, height=740)
    page = alice.page
    # The sidebar collapses behind a button at phone width.
    await expect(page.get_by_role("navigation", name="Channels")).to_be_hidden()
    await expect(page.get_by_role("textbox", name="Message #")).to_be_focused()
    await page.keyboard.type("typed without a mouse")
    await page.keyboard.press("Shift+Enter")
    await page.keyboard.type("second line")
    await page.keyboard.press("Enter")
    await expect(alice.message("typed without a mouse")).to_have_text("typed without a mouse\nsecond line")
    await screenshot(page, "chat-mobile")

    await page.get_by_role("button", name="Open channel list").click()
    drawer = page.get_by_role("dialog", name="Channels")
    await expect(drawer).to_be_visible()
    await expect(drawer.locator("[data-channel='general']")).to_be_focused()
    await screenshot(page, "sidebar-mobile")
    await page.keyboard.press("Escape")
    await expect(drawer).to_be_hidden()

    # Near the limit the composer counts down; over it, sending is refused before the server.
    box = page.get_by_role("textbox", name="Message #")
    await box.fill("x" * 1990)
    await expect(page.get_by_text("10 characters left")).to_be_visible()
    await box.fill("x" * 2001)
    await expect(page.get_by_text("1 characters over the limit")).to_be_visible()
    await expect(page.get_by_role("button", name="Send message")).to_be_disabled()


async def test_cashtags_show_price_chips_and_several_codes_show_several_cards(
    signed_up: UserFactory, screenshot: Shot
) -> None:
    alice = await signed_up("alice")
    bob = await signed_up("bob")
    asked: list[str] = []
    alice.page.on("request", lambda req: asked.append(req.url) if "/api/quotes" in req.url else None)

    await alice.send("watching $AAPL today")
    for user in (alice, bob):
        text = user.message("watching")
        chip = text.get_by_test_id("cashtag")
        await expect(chip).to_have_count(1)
        await expect(chip).to_have_attribute("data-state", "ok", timeout=15_000)
        await expect(chip).to_have_attribute("data-symbol", "AAPL")
        await expect(chip.get_by_test_id("cashtag-price")).to_have_text("$93.42")
        # 93.42 against 92.10: up 1.43 %, green.
        change = chip.get_by_test_id("cashtag-change")
        await expect(change).to_have_attribute("data-direction", "up")
        await expect(change).to_contain_text("+1.43%")
        await expect(change).to_have_class(re.compile(r"\btext-up\b"))
        # The words around the chip are still plain text.
        await expect(text).to_contain_text("watching $AAPL")
        await expect(text).to_contain_text("today")
        # Named by what it shows, with the direction in words.
        await expect(user.page.get_by_role("button", name=re.compile(r"^\$AAPL \$93\.42 up \+1\.43%"))).to_be_visible()
    # One batched request for the chip, not one per render.
    assert asked and all(url.endswith("symbols=AAPL") for url in asked), asked

    # An unknown code is a muted chip, not an error in the page.
    await bob.send("what about $ZZZZQ")
    unknown = alice.message("what about").get_by_test_id("cashtag")
    await expect(unknown).to_have_attribute("data-state", "error", timeout=15_000)
    await expect(unknown.get_by_test_id("cashtag-price")).to_have_count(0)

    # Several codes in one command: one reply with a card per code.
    await alice.send("/stock=aapl.us,vod.uk")
    for user in (alice, bob):
        reply = user.messages().filter(has=user.page.get_by_test_id("quote-cards")).last
        cards = reply.get_by_test_id("quote-card")
        await expect(cards).to_have_count(2, timeout=15_000)
        await expect(cards.get_by_test_id("quote-symbol")).to_have_text(["AAPL.US", "VOD.UK"])
        await expect(cards.get_by_test_id("quote-price")).to_have_text(["$93.42", "72.50 GBX"])
        await expect(reply.get_by_test_id("message-text")).to_contain_text("AAPL.US quote is $93.42 per share")
        await expect(reply.get_by_test_id("message-text")).to_contain_text("VOD.UK")

    # Focus shows the details: name, the exchange's time, the market state.
    chip = alice.message("watching").get_by_test_id("cashtag")
    await chip.focus()
    await expect(chip).to_be_focused()
    tooltip = alice.message("watching").get_by_role("tooltip")
    await expect(tooltip).to_be_visible()
    await expect(tooltip).to_contain_text("APPLE")
    await expect(tooltip).to_contain_text("As of")
    await screenshot(alice.page, "cashtag")
    assert alice.errors == [] and bob.errors == []
