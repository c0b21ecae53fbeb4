"""The message lifecycle in real Chromium against the real server: edits, reactions, pins, threads and
deletes live across two browsers, by mouse and by keyboard, on a desktop and a phone, and after a reconnect."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import UserFactory
from tests.browser.test_accessibility import serious_violations

pytestmark = pytest.mark.browser
Shot = Callable[[Page, str], Awaitable[None]]


async def test_edit_react_pin_reply_and_delete_live_in_two_browsers_and_after_a_reconnect(
    signed_up: UserFactory, screenshot: Shot
) -> None:
    alice = await signed_up("alice")
    bob = await signed_up("bob")
    # alice owns a new channel; bob joins it
    await alice.page.get_by_role("button", name="New channel").click()
    await alice.page.get_by_label("New channel name").fill("desk")
    await alice.page.keyboard.press("Enter")
    await expect(alice.page.get_by_role("heading", name="desk")).to_be_visible()
    await bob.open_channel("desk")
    await bob.send("AAPL looks strong")
    await alice.send("alice says hi")

    # bob edits his message
    row = bob.page.get_by_test_id("message").filter(has_text="AAPL looks strong")
    await row.hover()
    await row.get_by_role("button", name="Edit").click()
    box = bob.page.get_by_role("textbox", name="Edit message")
    await box.fill("AAPL looks very strong")
    await box.press("Enter")
    await expect(bob.message("AAPL looks very strong")).to_be_visible()
    await expect(alice.message("AAPL looks very strong")).to_be_visible()
    await expect(alice.page.get_by_test_id("edited")).to_have_count(1)

    # alice reacts bull from the picker; bob sees the chip and toggles it too
    arow = alice.page.get_by_test_id("message").filter(has_text="AAPL looks very strong")
    await arow.hover()
    await arow.get_by_role("button", name="React").click()
    await alice.page.get_by_role("button", name="Add reaction 🐂").click()
    await expect(alice.page.get_by_role("button", name="🐂 1")).to_have_attribute("aria-pressed", "true")
    chip = bob.page.get_by_role("button", name="🐂 1")
    await expect(chip).to_have_attribute("aria-pressed", "false")
    await chip.click()
    await expect(bob.page.get_by_role("button", name="🐂 2")).to_have_attribute("aria-pressed", "true")
    await expect(alice.page.get_by_role("button", name="🐂 2")).to_be_visible()

    # alice (owner) pins it; the pins button counts it for bob
    await arow.hover()
    await arow.get_by_role("button", name="Pin").click()
    await expect(bob.page.get_by_test_id("pins-count")).to_have_text("1")
    await bob.page.get_by_role("button", name="Pinned messages").click()
    pins = bob.page.get_by_role("dialog", name="Pinned messages")
    await expect(pins).to_contain_text("AAPL looks very strong")
    assert await serious_violations(bob.page) == []
    await bob.page.keyboard.press("Escape")

    # bob replies in a thread; alice sees "1 reply" and opens the thread
    row = bob.page.get_by_test_id("message").filter(has_text="AAPL looks very strong")
    await row.hover()
    await row.get_by_role("button", name="Reply").click()
    thread = bob.page.get_by_role("region", name="Thread")
    await expect(thread).to_be_visible()
    reply_box = thread.get_by_role("textbox", name="Reply in thread")
    await expect(reply_box).to_be_focused()
    await reply_box.fill("earnings next week")
    await reply_box.press("Enter")
    await expect(thread.get_by_test_id("message-text").filter(has_text="earnings next week")).to_be_visible()
    await alice.page.get_by_role("button", name="1 reply").click()
    athread = alice.page.get_by_role("region", name="Thread")
    await expect(athread.get_by_text("earnings next week")).to_be_visible()
    assert await serious_violations(alice.page) == []
    await athread.get_by_role("button", name="Close thread").click()

    # alice (owner) deletes bob's message after confirming: a tombstone on both sides
    await arow.hover()
    await arow.get_by_role("button", name="Delete").click()
    await alice.page.get_by_role("button", name="Yes, delete").click()
    await expect(alice.page.get_by_test_id("tombstone")).to_have_text("This message was deleted")
    await expect(bob.page.get_by_test_id("messages").get_by_test_id("tombstone")).to_have_text(
        "This message was deleted"
    )
    await expect(bob.page.get_by_test_id("pins-count")).to_have_text("0")
    await expect(alice.page.get_by_test_id("messages").get_by_role("button", name="1 reply")).to_be_visible()
    await expect(bob.page.get_by_test_id("messages").get_by_role("button", name="1 reply")).to_be_visible()

    # offline changes come back after a reconnect (catch-up by rev)
    await bob.context.set_offline(True)
    await expect(bob.page.get_by_test_id("connection-banner")).not_to_have_attribute("data-state", "connected")
    hi = alice.page.get_by_test_id("message").filter(has_text="alice says hi")
    await hi.hover()
    await hi.get_by_role("button", name="Edit").click()
    await alice.page.get_by_role("textbox", name="Edit message").fill("alice says hello")
    await alice.page.keyboard.press("Enter")
    await alice.send("while bob was away")
    hello = alice.page.get_by_test_id("message").filter(has_text="alice says hello")
    await hello.hover()
    await hello.get_by_role("button", name="React").click()
    await alice.page.get_by_role("button", name="Add reaction 🚀").click()
    await expect(alice.page.get_by_role("button", name="🚀 1")).to_be_visible()
    await bob.context.set_offline(False)
    await expect(bob.page.get_by_test_id("connection-banner")).to_have_attribute(
        "data-state", "connected", timeout=20_000
    )
    await expect(bob.message("alice says hello")).to_be_visible(timeout=15_000)
    await expect(bob.message("while bob was away")).to_be_visible()
    await expect(bob.page.get_by_role("button", name="🚀 1")).to_be_visible()
    await screenshot(alice.page, "lifecycle-alice")
    assert alice.errors == [] and bob.errors == []


async def test_reactions_and_threads_by_keyboard_and_on_a_phone(signed_up: UserFactory, screenshot: Shot) -> None:
    alice = await signed_up("alice")
    bob = await signed_up("bob", width=390, height=800, touch=True)
    await alice.send("root message")
    page = alice.page
    row = page.get_by_test_id("message").filter(has_text="root message")
    # keyboard: focus the row, its toolbar shows; Tab into it; arrow to Reply; Escape closes it
    await row.focus()
    toolbar = row.get_by_role("toolbar", name="Message actions")
    await expect(toolbar).to_be_visible()
    await page.keyboard.press("Tab")
    await expect(row.get_by_role("button", name="React")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("button", name="Add reaction 🐂")).to_be_focused()
    await page.keyboard.press("ArrowRight")
    await expect(page.get_by_role("button", name="Add reaction 🐻")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(row.get_by_role("button", name="🐻 1")).to_be_visible()
    await expect(row.get_by_role("button", name="React")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(toolbar).to_have_count(0)
    await expect(row).to_be_focused()
    # reply from bob's phone: the thread covers the screen
    brow = bob.page.get_by_test_id("message").filter(has_text="root message")
    await brow.click()
    await brow.get_by_role("button", name="Reply").click()
    thread = bob.page.get_by_role("region", name="Thread")
    box = thread.get_by_role("textbox", name="Reply in thread")
    await box.fill("from my phone")
    await box.press("Enter")
    await expect(thread.get_by_text("from my phone")).to_be_visible()
    box_ = await thread.bounding_box()
    assert box_ is not None and box_["width"] >= 389, box_
    await screenshot(bob.page, "lifecycle-phone-thread")
    assert await serious_violations(bob.page) == []
    await thread.get_by_role("button", name="Close thread").click()
    await expect(thread).to_have_count(0)
    # alice sees 1 reply; a reaction then keeps it
    await expect(row.get_by_role("button", name="1 reply")).to_be_visible()
    await row.get_by_role("button", name="🐻 1").click()
    await expect(row.get_by_role("button", name="🐻 1")).to_have_count(0)
    await expect(row.get_by_role("button", name="1 reply")).to_be_visible()
    # bob reloads: the count comes from the server's page
    await bob.page.reload()
    await expect(bob.page.get_by_role("button", name="1 reply")).to_be_visible()
    # edit refused: bob cannot edit alice's message (no Edit offered)
    await brow.click()
    await expect(brow.get_by_role("button", name="Edit")).to_have_count(0)
    assert alice.errors == [] and bob.errors == []
