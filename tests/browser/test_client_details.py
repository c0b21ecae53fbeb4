"""The smaller things a reader notices: where the list scrolls, links, times on touch screens."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import ChatServer, UserFactory
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_web_client import _post_as_script
from tests.fakes.stooq import FakeStooq

pytestmark = pytest.mark.browser


async def _gap_below_last_message(page: Page) -> float:
    """How far the newest message's bottom sits below the list's visible bottom (<= 0: all shown)."""
    return float(
        await page.get_by_test_id("messages").evaluate(
            "el => { const rows = el.querySelectorAll('[data-testid=message]');"
            " return rows[rows.length - 1].getBoundingClientRect().bottom - el.getBoundingClientRect().bottom; }"
        )
    )


async def test_own_message_brings_you_down_and_the_last_one_is_fully_shown_on_a_phone(
    signed_up: UserFactory, chat_server: ChatServer
) -> None:
    alice = await signed_up("alice", width=360, height=740)
    page = alice.page
    await _post_as_script(chat_server, "carol", [f"earlier line {n}" for n in range(1, 41)])
    await expect(alice.message(re.compile(r"^earlier line 40$"))).to_be_visible()
    assert await _gap_below_last_message(page) <= 0

    # Scrolled up to read, then posting: the view comes down to what one just wrote.
    await page.get_by_test_id("messages").evaluate("el => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }")
    await expect(alice.message(re.compile(r"^earlier line 40$"))).not_to_be_in_viewport()
    await alice.send("my own, while scrolled up")
    await expect(alice.message("my own, while scrolled up")).to_be_in_viewport(ratio=1)
    await page.wait_for_timeout(300)
    assert await _gap_below_last_message(page) <= 0

    # A draft of several lines makes the list shorter; the newest message stays in full view.
    box = page.get_by_role("textbox", name="Message #")
    await box.fill("one\ntwo\nthree\nfour")
    await page.wait_for_timeout(300)
    assert await _gap_below_last_message(page) <= 0


async def test_links_are_safe_anchors_and_nothing_else_is(signed_up: UserFactory) -> None:
    alice = await signed_up("alice")
    bob = await signed_up("bob")
    await alice.send("filing: https://www.sec.gov/cgi-bin/browse-edgar?action=x. and javascript:alert(1)")
    text = bob.message("filing:")
    link = text.get_by_role("link")
    await expect(link).to_have_count(1)
    await expect(link).to_have_text("https://www.sec.gov/cgi-bin/browse-edgar?action=x")
    await expect(link).to_have_attribute("href", "https://www.sec.gov/cgi-bin/browse-edgar?action=x")
    await expect(link).to_have_attribute("rel", "noopener noreferrer")
    await expect(link).to_have_attribute("target", "_blank")
    await expect(text).to_have_text(
        "filing: https://www.sec.gov/cgi-bin/browse-edgar?action=x. and javascript:alert(1)"
    )


async def test_grouped_messages_show_their_time_on_a_touch_screen(signed_up: UserFactory) -> None:
    phone = await signed_up("alice", width=360, height=740, touch=True)
    await phone.send("first of two")
    await phone.send("second of two, grouped")
    time = phone.messages().filter(has_text="second of two").get_by_test_id("compact-time")
    await expect(time).to_have_css("opacity", "1")
    await expect(time).to_have_text(re.compile(r"\d{1,2}:\d{2}"))

    desk = await signed_up("bob")  # a mouse: the time waits for hover
    follow_up = desk.messages().filter(has_text="second of two")
    await expect(follow_up.get_by_test_id("compact-time")).to_have_css("opacity", "0")
    await follow_up.hover()
    await expect(follow_up.get_by_test_id("compact-time")).to_have_css("opacity", "1")


async def test_a_chip_shows_the_price_when_posted_and_the_change_since(
    signed_up: UserFactory, chat_server: ChatServer, fake_stooq: FakeStooq
) -> None:
    alice = await signed_up("alice")
    bob = await signed_up("bob")
    # A script posts before anyone on the node looked at AAPL: no stamp.
    await _post_as_script(chat_server, "carol", ["before anyone looked: $AAPL"])
    first = alice.message("before anyone looked").get_by_test_id("cashtag")
    await expect(first).to_have_attribute("data-state", "ok", timeout=15_000)
    # Alice's chip fetched AAPL; her draft's pause fetches VOD.UK, which no chip shows: both stamped.
    box = alice.page.get_by_role("textbox", name="Message #")
    await box.fill("stamped: $AAPL at the open, $VOD.UK too")
    await alice.page.wait_for_timeout(1_000)
    await box.press("Enter")
    await expect(box).to_have_value("")

    fake_stooq.set_symbol("aapl.us", "101.00", previous_close="99.00", name="APPLE")
    await bob.page.wait_for_timeout(3_500)  # the old quote leaves the server's cache
    await bob.page.reload()
    chips = bob.message("stamped:").get_by_test_id("cashtag")
    await expect(chips.get_by_test_id("cashtag-price")).to_have_text(["$93.42", "72.50 GBX"], timeout=15_000)
    await expect(chips.get_by_test_id("cashtag-price").first).to_have_attribute("data-stamped", "true")
    await expect(chips.get_by_test_id("cashtag-price").last).to_have_attribute("data-stamped", "true")
    chip = chips.first
    await expect(chip).to_have_attribute("data-state", "ok", timeout=15_000)
    since = chip.get_by_test_id("cashtag-since")
    await expect(since).to_contain_text("+8.11%")  # 93.42 -> 101.00
    await expect(since).to_have_attribute("data-direction", "up")
    name = re.compile(r"^\$AAPL \$93\.42 when posted up \+8\.11% since")
    await expect(bob.page.get_by_role("button", name=name)).to_be_visible()
    # The live price is one hover away.
    await chip.hover()
    tooltip = bob.message("stamped:").get_by_role("tooltip").first
    await expect(tooltip).to_contain_text("When posted: $93.42")
    await expect(tooltip).to_contain_text("Now: $101.00")
    assert await serious_violations(bob.page) == []
    # The message posted before its node had a quote has no stamp: its chip shows the live price.
    unstamped = bob.message("before anyone looked").get_by_test_id("cashtag")
    await expect(unstamped.get_by_test_id("cashtag-price")).to_have_text("$101.00")
    await expect(unstamped.get_by_test_id("cashtag-price")).not_to_have_attribute("data-stamped", "true")
