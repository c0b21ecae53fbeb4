"""Private channels, direct messages and moderation as people meet them in the web client: a lock
on what is private, a members panel that adds, mutes and appoints, a composer that says why it
waits, and a channel that does not exist for whoever was not let in. Several browsers at once, so
what reaches one live (and what must never reach another) is seen, not assumed."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Locator, expect

from tests.browser.conftest import ChatServer, User, UserFactory
from tests.browser.test_accessibility import WIDTHS, serious_violations

pytestmark = pytest.mark.browser

NARROW = 768  # below Tailwind's `md` the channel list is a drawer


async def call(server: ChatServer, user: User, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """The REST API as `user` (the token the web client signed in with), answer status and JSON."""
    token = await user.page.evaluate("() => sessionStorage.getItem('investor-chat.token')")
    assert token, f"{user.name} has no session token"
    resp = await user.context.request.fetch(
        f"{server.url}{path}", method=method, data=body, headers={"Authorization": f"Bearer {token}"}
    )
    return resp.status, (await resp.json() if resp.status != 204 else None)


def sidebar_entry(user: User, channel: str) -> Locator:
    return user.page.get_by_role("navigation", name="Channels").locator(f"[data-channel='{channel}']")


async def new_channel(user: User, name: str, *, private: bool) -> None:
    """Made through "New channel", as a person would; it opens for its maker."""
    page = user.page
    await page.get_by_role("button", name="New channel").click()
    await page.get_by_label("New channel name").fill(name)
    if private:
        await page.get_by_label("Private channel").check()
        await expect(page.get_by_text("Only the members you add can see it.")).to_be_visible()
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page.get_by_role("heading", name=name)).to_be_visible()


async def open_members(user: User, place: str) -> Locator:
    await user.page.get_by_role("button", name="Members", exact=True).click()
    panel = user.page.get_by_role("dialog", name=f"Members of {place}")
    await expect(panel.get_by_test_id("member-list")).to_be_visible()
    return panel


async def add_member(panel: Locator, username: str) -> None:
    await panel.get_by_label("Add member").fill(username)
    await panel.get_by_role("button", name="Add", exact=True).click()
    await expect(panel.get_by_role("status")).to_have_text(f"{username} was added.")
    await expect(panel.get_by_test_id("member").filter(has_text=username)).to_be_visible()


async def moderate(panel: Locator, username: str, item: str) -> None:
    """One step of a member's menu ("Mute for 10 minutes", "Unmute", "Make moderator", ...)."""
    await panel.get_by_role("button", name=f"Moderate {username}").click()
    await panel.get_by_role("menu", name=f"Moderate {username}").get_by_role("menuitem", name=item).click()


async def private_channel_with(owner: User, member: User, name: str) -> None:
    """`owner` makes the private channel in the UI and adds `member` from the members panel; it shows
    up, locked, in the member's open browser, which opens it."""
    await new_channel(owner, name, private=True)
    await expect(sidebar_entry(owner, name).get_by_role("img", name="private")).to_be_visible()
    panel = await open_members(owner, f"#{name}")
    await add_member(panel, member.name)
    await panel.get_by_role("button", name="Close members").click()
    await expect(sidebar_entry(member, name).get_by_role("img", name="private")).to_be_visible()
    await member.open_channel(name)


def clock(iso: str) -> re.Pattern[str]:
    """How the client writes a time of day in en-US ("3:05 PM", the space maybe a narrow one)."""
    t = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return re.compile(rf"\b{t.hour % 12 or 12}:{t.minute:02d}\s?[AP]M")


async def test_a_private_channel_reaches_its_members_live_and_nobody_else(
    signed_up: UserFactory, chat_server: ChatServer
) -> None:
    alice = await signed_up("alice")
    bob = await signed_up("bob")
    carol = await signed_up("carol")
    # Set on bob's page now: still there at the end means nothing reloaded it.
    await bob.page.evaluate("() => { window.notReloaded = true; }")

    await new_channel(alice, "desk", private=True)
    await expect(sidebar_entry(alice, "desk").get_by_role("img", name="private")).to_be_visible()
    await expect(alice.page.get_by_role("heading", name="desk").get_by_role("img", name="private")).to_be_visible()
    await alice.send("Q3 numbers: members only")
    await expect(sidebar_entry(bob, "desk")).to_have_count(0)  # made, and still unknown to a non-member

    panel = await open_members(alice, "#desk")
    await expect(panel.get_by_test_id("member").filter(has_text="alice").get_by_test_id("role-badge")).to_have_text(
        "owner"
    )
    await add_member(panel, "bob")
    await expect(panel.get_by_test_id("member").filter(has_text="bob").get_by_test_id("role-badge")).to_have_count(0)
    await panel.get_by_role("button", name="Close members").click()

    await expect(sidebar_entry(bob, "desk").get_by_role("img", name="private")).to_be_visible()
    await bob.open_channel("desk")
    await expect(bob.message("Q3 numbers: members only")).to_be_visible()
    await alice.send("welcome, bob")
    await expect(bob.message("welcome, bob")).to_be_visible()
    await bob.send("thanks, reading")
    await expect(alice.message("thanks, reading")).to_be_visible()
    assert await bob.page.evaluate("() => window.notReloaded === true")

    # carol: not in her list, even freshly loaded from the server, and nothing of it on her page.
    await expect(sidebar_entry(carol, "desk")).to_have_count(0)
    await carol.page.reload()
    await expect(carol.page.get_by_role("heading", name="general")).to_be_visible()
    await expect(carol.page.get_by_test_id("connection-banner")).to_have_attribute("data-state", "connected")
    await expect(sidebar_entry(carol, "desk")).to_have_count(0)
    await expect(carol.page.get_by_text(re.compile("members only|welcome, bob|thanks, reading"))).to_have_count(0)
    # Nor over REST: not listed, and the same 404 as a channel that never was.
    status, body = await call(chat_server, carol, "GET", "/api/channels")
    assert status == 200 and "desk" not in [c["name"] for c in body["channels"]]
    for path in ("/api/channels/desk/messages", "/api/channels/desk/members", "/api/channels/nosuch/messages"):
        status, body = await call(chat_server, carol, "GET", path)
        assert (status, body["error"]["code"]) == (404, "channel_not_found"), path
    assert alice.errors == [] and bob.errors == [] and carol.errors == []


async def test_the_owner_mutes_bob_from_the_members_panel_and_unmutes_him(
    signed_up: UserFactory, chat_server: ChatServer
) -> None:
    alice = await signed_up("alice")
    bob = await signed_up("bob")
    await private_channel_with(alice, bob, "desk")

    panel = await open_members(alice, "#desk")
    await moderate(panel, "bob", "Mute for 10 minutes")
    await expect(panel.get_by_role("status")).to_have_text("bob is muted.")
    status, body = await call(chat_server, alice, "GET", "/api/channels/desk/moderation")
    assert status == 200 and [m["username"] for m in body["muted"]] == ["bob"]
    until = body["muted"][0]["until"]
    await expect(panel.get_by_test_id("member").filter(has_text="bob")).to_contain_text(clock(until))

    # bob is told live, with the time it ends and what is left; his draft waits, unsent.
    notice = bob.page.get_by_test_id("muted-notice")
    await expect(notice).to_contain_text("You are muted in #desk until")
    await expect(notice).to_contain_text(clock(until))
    await expect(notice).to_contain_text(re.compile(r"\b(10:00|9:[0-5]\d) left"))
    await expect(bob.page.get_by_test_id("channel-event").filter(has_text="alice muted bob")).to_be_visible()
    box = bob.page.get_by_role("textbox", name="Message #desk")
    await box.fill("let me speak")
    await box.press("Enter")
    await expect(bob.page.get_by_role("button", name="Send message")).to_be_disabled()
    await expect(box).to_have_value("let me speak")
    # A fresh page learns it from the join, not from having watched the event.
    await bob.page.reload()
    await expect(bob.page.get_by_test_id("connection-banner")).to_have_attribute("data-state", "connected")
    await bob.open_channel("desk")
    await expect(notice).to_contain_text(clock(until))
    await box.fill("let me speak")

    # alice goes on talking, and bob hears her.
    await alice.send("while bob is muted")
    await expect(bob.message("while bob is muted")).to_be_visible()
    await expect(alice.message("let me speak")).to_have_count(0)

    await moderate(panel, "bob", "Unmute")
    await expect(panel.get_by_role("status")).to_have_text("bob is no longer muted.")
    await expect(notice).to_have_count(0)
    await box.press("Enter")  # the kept draft goes now
    await expect(box).to_have_value("")
    await expect(alice.message("let me speak")).to_be_visible()

    # The owner appoints him: a badge in the panel, and his own header gains the channel's settings.
    await moderate(panel, "bob", "Make moderator")
    await expect(panel.get_by_test_id("member").filter(has_text="bob").get_by_test_id("role-badge")).to_have_text(
        "moderator"
    )
    await expect(bob.page.get_by_role("button", name="Channel settings")).to_be_visible()
    assert alice.errors == [] and bob.errors == []


async def test_the_owner_mutes_and_bans_bob_who_only_joined_her_public_channel(
    signed_up: UserFactory, chat_server: ChatServer
) -> None:
    """Joining a public channel adds no member row, yet its owner reaches the poster: in the members
    panel's "Also in the channel" list, and from his message's toolbar."""
    alice = await signed_up("alice")
    bob = await signed_up("bob")
    await new_channel(alice, "lobby", private=False)
    await expect(sidebar_entry(bob, "lobby")).to_be_visible()
    await bob.open_channel("lobby")
    await bob.send("buy my newsletter")
    await expect(alice.message("buy my newsletter")).to_be_visible()

    panel = await open_members(alice, "#lobby")
    await expect(panel.get_by_test_id("member")).to_have_count(1)  # alice, the owner
    also = panel.get_by_role("list", name="Also in the channel")
    await expect(also.get_by_test_id("visitor")).to_have_count(1)
    await expect(also.get_by_test_id("visitor")).to_have_attribute("data-username", "bob")
    await also.get_by_role("button", name="Moderate bob").click()
    menu = panel.get_by_role("menu", name="Moderate bob")
    await expect(menu.get_by_role("menuitem", name="Remove from channel")).to_have_count(0)
    await menu.get_by_role("menuitem", name="Mute for 10 minutes").click()
    await expect(panel.get_by_role("status")).to_have_text("bob is muted.")
    await expect(bob.page.get_by_test_id("muted-notice")).to_contain_text("You are muted in #lobby until")
    await panel.get_by_role("button", name="Close members").click()

    # From his message: the toolbar's Moderate bob opens the same menu.
    row = alice.page.get_by_test_id("message").filter(has_text="buy my newsletter")
    await row.hover()
    await row.get_by_role("button", name="Moderate bob").click()
    await alice.page.get_by_role("menu", name="Moderate bob").get_by_role("menuitem", name="Ban").click()
    await expect(alice.page.get_by_test_id("author-moderation").get_by_role("status")).to_have_text("bob is banned.")

    await expect(sidebar_entry(bob, "lobby")).to_have_count(0)
    await expect(bob.page.get_by_test_id("access-notice")).to_contain_text("alice banned you from #lobby.")
    status, body = await call(chat_server, alice, "GET", "/api/channels/lobby/moderation")
    assert status == 200 and body["banned"] == ["bob"]
    assert alice.errors == [] and bob.errors == []


async def test_slow_mode_counts_bob_down_and_spares_the_owner(signed_up: UserFactory) -> None:
    alice = await signed_up("alice")
    bob = await signed_up("bob")
    await new_channel(alice, "desk", private=False)
    await bob.open_channel("desk")

    await alice.page.get_by_role("button", name="Channel settings").click()
    settings = alice.page.get_by_role("dialog", name="Settings of #desk")
    await settings.get_by_label("Slow mode").select_option("5")
    await settings.get_by_role("button", name="Save").click()
    await expect(settings).to_be_hidden()
    # Live in bob's header, no reload.
    await expect(bob.page.get_by_test_id("slow-mode-badge")).to_have_text("Slow mode · 5 s")

    await bob.send("first under slow mode")
    await expect(alice.message("first under slow mode")).to_be_visible()
    notice = bob.page.get_by_test_id("slow-mode-notice")
    await expect(notice).to_have_text(re.compile(r"^Slow mode: you can send again in [1-5] s$"))
    box = bob.page.get_by_role("textbox", name="Message #desk")
    await box.fill("second, too soon")
    await box.press("Enter")
    await expect(box).to_have_value("second, too soon")
    await expect(bob.page.get_by_role("button", name="Send message")).to_be_disabled()
    await expect(notice).to_have_text(re.compile(r"in [1-3] s$"))  # counting down

    # The owner is not slowed: two in a row, both through, no countdown.
    await alice.send("owner one")
    await alice.send("owner two")
    await expect(bob.message("owner two")).to_be_visible()
    await expect(alice.page.get_by_test_id("slow-mode-notice")).to_have_count(0)

    await expect(notice).to_have_count(0, timeout=10_000)
    await box.press("Enter")
    await expect(box).to_have_value("")
    await expect(alice.message("second, too soon")).to_be_visible()
    assert alice.errors == [] and bob.errors == []


async def test_a_direct_message_is_named_by_the_other_person_and_arrives_live(
    signed_up: UserFactory, chat_server: ChatServer
) -> None:
    alice = await signed_up("alice")
    bob = await signed_up("bob")
    carol = await signed_up("carol")

    await alice.page.get_by_role("button", name="New direct message").click()
    picker = alice.page.get_by_role("combobox", name="Find a person")
    await expect(picker).to_be_focused()
    await picker.fill("b")
    people = alice.page.get_by_role("listbox", name="People")
    await expect(people.get_by_role("option")).to_have_text(["bob"])
    await people.get_by_role("option", name="bob").click()
    await expect(alice.page.get_by_role("heading", name="bob", exact=True)).to_be_visible()
    await expect(alice.page.get_by_role("button", name="Members", exact=True)).to_have_count(0)  # nobody moderates a DM

    alice_dm = alice.page.get_by_test_id("dm-list").get_by_role("button", name="bob")
    bob_dm = bob.page.get_by_test_id("dm-list").get_by_role("button", name="alice")
    await expect(alice_dm).to_have_attribute("aria-current", "page")
    await expect(bob_dm).to_be_visible()
    dm = await alice_dm.get_attribute("data-channel")
    assert dm and dm.startswith("dm-")
    await expect(bob_dm).to_have_attribute("data-channel", dm)

    box = alice.page.get_by_role("textbox", name="Message @bob")
    await box.fill("just between us: AAPL")
    await box.press("Enter")
    await expect(box).to_have_value("")
    await expect(bob_dm.get_by_test_id("unread")).to_have_text(re.compile(r"^1"))
    await bob_dm.click()
    await expect(bob.page.get_by_role("heading", name="alice", exact=True)).to_be_visible()
    await expect(bob.message("just between us: AAPL")).to_be_visible()
    await bob.page.get_by_role("textbox", name="Message @alice").fill("got it")
    await bob.page.get_by_role("textbox", name="Message @alice").press("Enter")
    await expect(alice.message("got it")).to_be_visible()

    # carol, there all along: no DM listed, and the DM is not there for her over REST.
    await expect(carol.page.get_by_test_id("dm-list").get_by_role("button")).to_have_count(0)
    status, body = await call(chat_server, carol, "GET", f"/api/channels/{dm}/messages")
    assert (status, body["error"]["code"]) == (404, "channel_not_found")
    assert alice.errors == [] and bob.errors == [] and carol.errors == []


async def _open_channel_list(user: User, width: int) -> None:
    if width < NARROW:
        await user.page.get_by_role("button", name="Open channel list").click()
        await expect(user.page.get_by_role("dialog", name="Channels")).to_be_visible()


@pytest.mark.parametrize(("width", "height"), WIDTHS)
async def test_members_panel_with_its_menu_and_the_admin_page_pass_axe(
    signed_up: UserFactory, chat_server: ChatServer, width: int, height: int
) -> None:
    alice = await signed_up("alice", width=width, height=height)
    bob = await signed_up("bob", width=width, height=height)
    # Set up over REST (the UI steps have their own tests): a private channel, bob in it, muted.
    for method, path, body, expected in (
        ("POST", "/api/channels", {"name": "desk", "visibility": "private"}, 201),
        ("PUT", "/api/channels/desk/members/bob", {}, 200),
        ("POST", "/api/channels/desk/mutes", {"username": "bob"}, 200),
    ):
        assert (await call(chat_server, alice, method, path, body))[0] == expected, path

    await _open_channel_list(alice, width)
    await alice.open_channel("desk")
    panel = await open_members(alice, "#desk")
    await expect(panel.get_by_role("list", name="Muted")).to_contain_text("bob")
    await panel.get_by_role("button", name="Moderate bob").click()
    await expect(panel.get_by_role("menuitem", name="Unmute")).to_be_focused()
    assert await serious_violations(alice.page) == []
    await expect(bob.page.get_by_test_id("connection-banner")).to_have_attribute("data-state", "connected")

    # The admin page: alice made a site admin from the server's machine, as the first admin is.
    store = f"sqlite:///{chat_server.log.parent / 'db.sqlite3'}"
    cli = Path(sys.executable).with_name("investor-chat")
    done = await asyncio.to_thread(
        subprocess.run,
        [str(cli), "admin", "grant", "alice", "admin", "--storage-url", store],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    await alice.page.reload()
    await expect(alice.page.get_by_test_id("connection-banner")).to_have_attribute("data-state", "connected")
    await _open_channel_list(alice, width)
    await alice.page.get_by_role("button", name="Admin", exact=True).click()
    await expect(alice.page.get_by_role("heading", name="Administration")).to_be_visible()
    await alice.page.get_by_role("button", name="Create invite").click()
    await expect(alice.page.get_by_test_id("invite-code")).to_be_visible()
    await expect(alice.page.get_by_test_id("admin-user").filter(has_text="bob")).to_be_visible()
    await expect(alice.page.get_by_test_id("audit-entry").first).to_be_visible()
    assert await serious_violations(alice.page) == []
    assert alice.errors == [] and bob.errors == []
