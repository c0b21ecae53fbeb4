"""Mentions, the notifications inbox and read marks kept on the server, as people meet them in the web
client: a mention in a channel one is not looking at raises that channel's mention badge, the bell and
the tab's title, and two browsers of the same person agree on what is read, whichever one reads it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from tests.browser.conftest import PASSWORD, ChatServer, User, UserFactory
from tests.browser.test_access_browser import new_channel, sidebar_entry

pytestmark = pytest.mark.browser


@pytest.fixture
async def second_browser(browser: Browser, chat_server: ChatServer) -> AsyncIterator[User]:
    """bob's second device: a browser context of its own, not yet logged in (the test logs bob in)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US", timezone_id="UTC")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield User(name="bob", context=context, page=page, errors=errors)
    finally:
        await context.close()


async def log_in(page: Page, url: str, name: str) -> None:
    await page.goto(url)
    await page.get_by_label("Username").fill(name)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_test_id("me")).to_have_text(name)
    await expect(page.get_by_test_id("connection-banner")).to_have_attribute("data-state", "connected")


def mention_badge(user: User, channel: str) -> Locator:
    return sidebar_entry(user, channel).get_by_test_id("mention-badge")


def unread_badge(user: User, channel: str) -> Locator:
    return sidebar_entry(user, channel).get_by_test_id("unread")


async def test_a_mention_in_another_channel_raises_the_badge_and_the_inbox(
    signed_up: UserFactory, chat_server: ChatServer, second_browser: User
) -> None:
    alice = await signed_up("alice")
    bob = await signed_up("bob")
    bob2 = second_browser
    await log_in(bob2.page, chat_server.url, "bob")
    for page in (bob.page, bob2.page):
        await expect(page.get_by_role("heading", name="general")).to_be_visible()
        assert await page.evaluate("document.visibilityState") == "visible"

    await new_channel(alice, "desk", private=False)
    for user in (bob, bob2):
        await expect(sidebar_entry(user, "desk")).to_be_visible()
    await alice.send("@bob look at this")

    # Both of bob's browsers, #general open: the mention badge of #desk, its unread count, the bell, the title.
    for user in (bob, bob2):
        await expect(mention_badge(user, "desk")).to_have_text("@1 mention")
        await expect(unread_badge(user, "desk")).to_have_text("1 unread")
        await expect(user.page.get_by_test_id("inbox-count")).to_have_text("1")
        await expect(user.page).to_have_title(re.compile(r"^\(1\) #general · investor-chat$"))
    # The counts are the server's: a reload still has them.
    await bob2.page.reload()
    await expect(mention_badge(bob2, "desk")).to_have_text("@1 mention")
    await expect(unread_badge(bob2, "desk")).to_have_text("1 unread")

    # bob opens the inbox on the first: the notification is there, the count goes.
    await bob.page.get_by_role("button", name="Notifications, 1 new").click()
    inbox = bob.page.get_by_role("dialog", name="Notifications")
    entry = inbox.get_by_test_id("notification").filter(has_text="look at this")
    await expect(entry).to_contain_text("alice mentioned you in #desk")
    await expect(entry).to_contain_text("Mention")
    await expect(bob.page.get_by_test_id("inbox-count")).to_have_count(0)
    await expect(bob.page).to_have_title("#general · investor-chat")

    # Opening it opens #desk: the message with bob's mention as a pill, the row marked; the badges go,
    # here and, read on this browser, on the other one too.
    await entry.click()
    await expect(bob.page.get_by_role("heading", name="desk")).to_be_visible()
    row = bob.messages().filter(has_text="look at this")
    await expect(row).to_have_attribute("data-mentions-me", "true")
    await expect(row.get_by_test_id("mention")).to_have_text("@bob")
    await expect(row.get_by_test_id("mention")).to_have_attribute("data-me", "true")
    await expect(bob.page.get_by_role("separator", name="New messages")).to_be_visible()
    await expect(mention_badge(bob, "desk")).to_have_count(0)
    await expect(unread_badge(bob, "desk")).to_have_count(0)
    await expect(mention_badge(bob2, "desk")).to_have_count(0)
    await expect(unread_badge(bob2, "desk")).to_have_count(0)

    # The other way round: bob goes back to #general on the first, alice writes again, and reading
    # it on the second clears the first.
    await bob.open_channel("general")
    await alice.send("and the Q3 numbers")
    for user in (bob, bob2):
        await expect(unread_badge(user, "desk")).to_have_text("1 unread")
        await expect(mention_badge(user, "desk")).to_have_count(0)
    await bob2.open_channel("desk")
    await expect(bob2.message("and the Q3 numbers")).to_be_visible()
    await expect(unread_badge(bob, "desk")).to_have_count(0)
    await bob.page.reload()
    await expect(bob.page.get_by_role("heading", name="general")).to_be_visible()
    await expect(unread_badge(bob, "desk")).to_have_count(0)
    await expect(mention_badge(bob, "desk")).to_have_count(0)

    # alice's own messages are no news to her.
    await expect(unread_badge(alice, "desk")).to_have_count(0)
    assert alice.errors == [] and bob.errors == [] and bob2.errors == []
