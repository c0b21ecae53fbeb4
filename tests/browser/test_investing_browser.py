"""Investor tools as people meet them in the web client: the ticker strip shows the watchlist another
client set by REST, with prices from the local fake stooq, and a trade idea's card turns "Target hit" in
every member's browser when the fake price moves past its target (the alert engine running in standalone
every second)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import ChatServer, User, UserFactory
from tests.browser.test_access_browser import call
from tests.browser.test_accessibility import serious_violations
from tests.fakes.stooq import FakeStooq

pytestmark = pytest.mark.browser

Screenshot = Callable[[Page, str], Awaitable[None]]


@pytest.fixture(autouse=True)
def fast_alerts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine checks open ideas every second (the server's environment is read when it starts)."""
    monkeypatch.setenv("CHAT_ALERT_INTERVAL", "1")


def ticker(user: User, symbol: str) -> Locator:
    return user.page.get_by_test_id("ticker").and_(user.page.locator(f"[data-symbol='{symbol}']"))


def tickers(user: User) -> Locator:
    return user.page.get_by_role("region", name="Watchlist").get_by_test_id("ticker")


async def test_the_ticker_strip_shows_the_watchlist_set_by_rest_with_prices(
    signed_up: UserFactory, chat_server: ChatServer, screenshot: Screenshot
) -> None:
    alice = await signed_up("alice")
    strip = alice.page.get_by_role("region", name="Watchlist")
    await expect(strip.get_by_test_id("ticker-empty")).to_have_text("Watch a code: /watch AAPL")

    # Another client (a script, a phone) sets the watchlist: the open page follows at once, prices included.
    status, body = await call(chat_server, alice, "PUT", "/api/me/watchlist", {"symbols": ["aapl", "VOD.UK"]})
    assert (status, body) == (200, {"symbols": ["AAPL.US", "VOD.UK"]})
    await expect(tickers(alice)).to_have_count(2)
    aapl, vod = ticker(alice, "AAPL.US"), ticker(alice, "VOD.UK")
    await expect(aapl.get_by_test_id("ticker-price")).to_have_text("$93.42")
    # 93.42 against the previous close 92.10, 72.50 pence against 71.90: both up, said by sign and arrow too.
    await expect(aapl.get_by_test_id("ticker-change")).to_have_text("▲up +1.43%")
    await expect(aapl).to_have_attribute("data-direction", "up")
    await expect(vod.get_by_test_id("ticker-price")).to_have_text("72.50 GBX")
    await expect(vod.get_by_test_id("ticker-change")).to_have_text("▲up +0.83%")

    # The trend on hover.
    await aapl.get_by_role("button", name="AAPL.US $93.42 up +1.43%").hover()
    tip = alice.page.get_by_role("tooltip")
    await expect(tip.get_by_role("img", name="Price trend over 30 points")).to_be_visible()
    await screenshot(alice.page, "investing-ticker-strip")
    assert await serious_violations(alice.page) == []

    # Removed by its close button, added by the strip's box: the server holds what the strip shows.
    await alice.page.get_by_role("button", name="Remove VOD.UK from watchlist").click()
    await expect(tickers(alice)).to_have_count(1)
    await alice.page.get_by_role("textbox", name="Code to watch").fill("^spx")
    await alice.page.get_by_role("button", name="Add to watchlist").click()
    await expect(ticker(alice, "^SPX").get_by_test_id("ticker-price")).to_contain_text("5,123.40")
    assert await call(chat_server, alice, "GET", "/api/me/watchlist") == (200, {"symbols": ["AAPL.US", "^SPX"]})
    assert alice.errors == []


async def test_an_idea_card_turns_target_hit_when_the_price_passes_its_target(
    signed_up: UserFactory, chat_server: ChatServer, fake_stooq: FakeStooq, screenshot: Screenshot
) -> None:
    alice = await signed_up("alice")
    bob = await signed_up("bob")
    await alice.send("/idea long AAPL target 95 stop 90")

    cards = [user.page.get_by_test_id("idea-card") for user in (alice, bob)]
    for card in cards:
        await expect(card).to_have_attribute("data-status", "open")
        await expect(card).to_have_accessible_name("Trade idea: long AAPL.US by alice")
        await expect(card.get_by_test_id("idea-side")).to_have_text("Long")
        await expect(card.get_by_test_id("idea-entry")).to_have_text("$93.42")
        await expect(card.get_by_test_id("idea-now")).to_have_text("$93.42")
        await expect(card.get_by_test_id("idea-pnl")).to_have_text("■ unchanged 0.00%")
        await expect(
            card.get_by_role("img", name="Stop $90.00, Entry $93.42, Now $93.42, Target $95.00")
        ).to_be_visible()
    await screenshot(bob.page, "investing-idea-open")

    # Past the target: the engine closes the idea and the card changes in place for everyone.
    fake_stooq.set_symbol("aapl.us", "95.25", previous_close="92.10", name="APPLE")
    for card in cards:
        await expect(card).to_have_attribute("data-status", "target_hit", timeout=20_000)
        await expect(card.get_by_test_id("idea-outcome")).to_have_text("Target hit")
        await expect(card.get_by_test_id("idea-exit")).to_have_text("$95.25")
        await expect(card.get_by_test_id("idea-return")).to_have_text("▲ up +1.96%")
        await expect(card.get_by_test_id("idea-pnl")).to_have_count(0)
    await expect(bob.page.get_by_test_id("idea-card")).to_have_count(1)
    await screenshot(bob.page, "investing-idea-target-hit")

    # alice is told (seen at once: it is about the channel she is reading); bob checks her record from her name on the card.
    await alice.page.get_by_role("button", name="Notifications").click()
    note = alice.page.get_by_role("dialog", name="Notifications").get_by_test_id("notification")
    await expect(note).to_have_count(1)
    await expect(note).to_have_attribute("data-kind", "idea")
    await expect(note).to_contain_text("Your long AAPL.US idea: target hit at $95.25 (+1.96%)")
    await cards[1].get_by_role("button", name="alice").click()
    record = bob.page.get_by_role("dialog", name="alice's trade ideas")
    await expect(record.get_by_test_id("scorecard-figures").locator("dd")).to_have_text(["1", "1", "100%", "+1.96%"])
    await expect(record.get_by_test_id("scorecard-idea")).to_have_text(["LongAAPL.USTarget hit+1.96%"])
    await screenshot(bob.page, "investing-scorecard")
    assert await serious_violations(bob.page) == []
    await bob.page.keyboard.press("Escape")
    await expect(record).to_have_count(0)
    await expect(cards[1].get_by_role("button", name="alice")).to_be_focused()
    assert alice.errors == [] and bob.errors == []


async def test_on_a_phone_the_strip_scrolls_sideways_and_the_card_fits(
    signed_up: UserFactory, chat_server: ChatServer, screenshot: Screenshot
) -> None:
    alice = await signed_up("alice", width=390, height=844, touch=True)
    codes = ["AAPL.US", "VOD.UK", "^SPX", "EURUSD", "CL.F"]
    assert await call(chat_server, alice, "PUT", "/api/me/watchlist", {"symbols": codes}) == (200, {"symbols": codes})
    await expect(tickers(alice)).to_have_count(5)
    await expect(ticker(alice, "CL.F").get_by_test_id("ticker-price")).to_have_text("$78.12")
    # A press shows the trend on a touch screen, which has no hover.
    await ticker(alice, "AAPL.US").get_by_role("button", name="AAPL.US $93.42 up +1.43%").tap()
    await expect(alice.page.get_by_role("tooltip").get_by_test_id("sparkline")).to_be_visible()
    await alice.send("/idea short VOD.UK target 70 stop 75")
    card = alice.page.get_by_test_id("idea-card")
    await expect(card.get_by_test_id("idea-entry")).to_have_text("72.50 GBX")
    await expect(
        card.get_by_role("img", name="Target 70.00 GBX, Entry 72.50 GBX, Now 72.50 GBX, Stop 75.00 GBX")
    ).to_be_visible()
    await screenshot(alice.page, "investing-phone")
    box = await card.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    # The page itself never scrolls sideways: the strip does, inside itself.
    assert await alice.page.evaluate("document.scrollingElement.scrollWidth") <= 390
    list_ = alice.page.get_by_test_id("ticker-list")
    assert await list_.evaluate("el => el.scrollWidth > el.clientWidth")
    assert alice.errors == []
