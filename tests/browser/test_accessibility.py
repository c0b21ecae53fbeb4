"""Accessibility of every chat screen: axe-core in the page, focus that goes where it should, and
the whole journey by keyboard alone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import PASSWORD, ROOT, ChatServer, UserFactory

pytestmark = pytest.mark.browser

AXE = ROOT / "client" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = [(1280, 800), (360, 740)]


async def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line each."""
    if not Path(AXE).is_file():
        pytest.fail("axe-core is missing: install the client's packages (cd client && npm ci)")
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        # Through the DevTools protocol, which the page's Content-Security-Policy does not govern.
        await page.evaluate(AXE.read_text() + "\n;undefined")
    found: list[dict[str, Any]] = await page.evaluate(
        "async () => (await axe.run(document, { resultTypes: ['violations'] })).violations"
    )
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize(("width", "height"), WIDTHS)
async def test_login_and_register_with_errors_pass_axe(
    browser: Browser, chat_server: ChatServer, width: int, height: int
) -> None:
    context = await browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
    page = await context.new_page()
    try:
        await page.goto(chat_server.url)
        await expect(page.get_by_role("button", name="Log in")).to_be_visible()
        assert await serious_violations(page) == []
        # The login fields describe themselves only with what exists on the login tab.
        for field in ("Username", "Password"):
            described = await page.get_by_label(field).get_attribute("aria-describedby")
            for ref in (described or "").split():
                await expect(page.locator(f"[id='{ref}']")).to_have_count(1)

        await page.get_by_role("tab", name="Register").click()
        await page.get_by_label("Username").fill("a!")
        await page.get_by_label("Password").fill("short")
        await page.get_by_role("button", name="Create account").click()
        await expect(page.get_by_label("Username")).to_have_attribute("aria-invalid", "true")
        assert await serious_violations(page) == []
    finally:
        await context.close()


@pytest.mark.parametrize(("width", "height"), WIDTHS)
async def test_chat_with_quotes_and_new_channel_form_pass_axe(signed_up: UserFactory, width: int, height: int) -> None:
    alice = await signed_up("alice", width=width, height=height)
    page = alice.page
    await alice.send("watching $AAPL and $ZZZZQ, see https://example.com/a")
    await alice.send("/stock=aapl.us")
    await expect(page.get_by_test_id("quote-card")).to_be_visible(timeout=15_000)
    await expect(page.get_by_test_id("cashtag").first).to_have_attribute("data-state", "ok", timeout=15_000)
    await expect(page.get_by_test_id("cashtag").last).to_have_attribute("data-state", "error", timeout=15_000)
    assert await serious_violations(page) == []

    if width < 768:
        await page.get_by_role("button", name="Open channel list").click()
        await expect(page.get_by_role("dialog", name="Channels")).to_be_visible()
    await page.get_by_role("button", name="New channel").click()
    await page.get_by_label("New channel name").fill("bad name!")
    await page.get_by_label("New channel name").press("Enter")
    await expect(page.get_by_role("alert")).to_be_visible()
    assert await serious_violations(page) == []


async def test_phone_drawer_holds_focus_and_gives_it_back(signed_up: UserFactory) -> None:
    alice = await signed_up("alice", width=360, height=740)
    page = alice.page
    opener = page.get_by_role("button", name="Open channel list")
    await opener.click()
    drawer = page.get_by_role("dialog", name="Channels")
    await expect(drawer.locator("[data-channel='general']")).to_be_focused()
    # Tab as far as you like: focus stays inside the modal drawer.
    for _ in range(12):
        await page.keyboard.press("Tab")
        assert await drawer.evaluate("el => el.contains(document.activeElement)")
    for _ in range(3):
        await page.keyboard.press("Shift+Tab")
        assert await drawer.evaluate("el => el.contains(document.activeElement)")
    await page.keyboard.press("Escape")
    await expect(drawer).to_be_hidden()
    await expect(opener).to_be_focused()


async def test_escape_and_log_out_leave_focus_somewhere_useful(signed_up: UserFactory) -> None:
    alice = await signed_up("alice")
    page = alice.page
    new_channel = page.get_by_role("button", name="New channel")
    await new_channel.click()
    await expect(page.get_by_label("New channel name")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(new_channel).to_be_focused()

    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_label("Username")).to_be_focused()


async def test_history_chips_are_not_tab_stops_and_follow_ups_name_their_author(signed_up: UserFactory) -> None:
    alice = await signed_up("alice")
    page = alice.page
    await alice.send("$AAPL first")
    await alice.send("$AAPL second, same author a moment later")
    follow_up = alice.messages().filter(has_text="second, same author")
    # Grouped under the first, it shows no name, but says whose it is to a screen reader.
    await expect(follow_up.get_by_test_id("author")).to_have_count(0)
    await expect(follow_up).to_contain_text("alice:")
    for chip in await page.get_by_test_id("cashtag").all():
        await expect(chip).to_have_attribute("tabindex", "-1")


async def test_keyboard_only_register_switch_send_create_and_log_out(
    browser: Browser, chat_server: ChatServer, signed_up: UserFactory
) -> None:
    await signed_up("bob")  # someone to make #general not empty of people
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US", timezone_id="UTC")
    page = await context.new_page()
    keys = page.keyboard

    async def tab_to(name: str | re.Pattern[str], limit: int = 40) -> None:
        """Press Tab until focus is on an element whose accessible text matches."""
        for _ in range(limit):
            await keys.press("Tab")
            label = await page.evaluate(
                "() => { const e = document.activeElement;"
                " return (e.labels?.[0]?.innerText || e.getAttribute('aria-label') || e.innerText || '').trim(); }"
            )
            if name.search(label) if isinstance(name, re.Pattern) else label == name:
                return
        raise AssertionError(f"Tab never reached {name!r}")

    try:
        await page.goto(chat_server.url)
        await expect(page.get_by_role("button", name="Log in")).to_be_visible()
        await tab_to("Register")
        await keys.press("Enter")
        await expect(page.get_by_role("button", name="Create account")).to_be_visible()
        await tab_to("Username")
        await keys.type("kim")
        await keys.press("Tab")
        await keys.type(PASSWORD)
        await keys.press("Enter")
        await expect(page.get_by_test_id("me")).to_have_text("kim")
        box = page.get_by_role("textbox", name="Message #")
        await expect(box).to_be_focused()

        await tab_to(re.compile(r"New channel$"))
        await keys.press("Enter")
        await keys.type("desk")
        await keys.press("Enter")
        await expect(page.get_by_role("heading", name="desk")).to_be_visible()

        await tab_to(re.compile(r"^#\s*general"))
        await keys.press("Enter")
        await expect(page.get_by_role("heading", name="general")).to_be_visible()
        await tab_to("Message #general")
        await keys.type("sent by keyboard alone")
        await keys.press("Enter")
        await expect(page.get_by_test_id("message-text").filter(has_text="sent by keyboard alone")).to_be_visible()

        await tab_to("Log out")
        await keys.press("Enter")
        await expect(page.get_by_role("button", name="Log in")).to_be_visible()
    finally:
        await context.close()
