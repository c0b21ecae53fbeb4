"""The compliance archive in the web client (#24): an admin reads a channel's chain head, publishes the heads,
exports the channel and downloads a zip whose manifest carries that same head, places and releases a legal
hold, and finds each step in the audit log; a compliance user has the same area (on a phone too); a plain
user has none, and the API refuses them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
import zipfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import ChatServer, User, UserFactory
from tests.browser.test_access_browser import call
from tests.browser.test_accessibility import serious_violations

pytestmark = pytest.mark.browser

Screenshot = Callable[[Page, str], Awaitable[None]]
CATCH_UP_SECONDS = 10.0
NARROW = 768  # below Tailwind's `md` the channel list (with the Admin button) is a drawer


async def grant(server: ChatServer, user: User, role: str) -> None:
    """A site role given from the server's machine, as the first admin is; the page reloaded to take it up."""
    store = f"sqlite:///{server.log.parent / 'db.sqlite3'}"
    cli = Path(sys.executable).with_name("investor-chat")
    done = await asyncio.to_thread(
        subprocess.run,
        [str(cli), "admin", "grant", user.name, role, "--storage-url", store],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    await user.page.reload()
    await expect(user.page.get_by_test_id("connection-banner")).to_have_attribute("data-state", "connected")


async def open_compliance(user: User, *, narrow: bool = False) -> Locator:
    if narrow:
        await user.page.get_by_role("button", name="Open channel list").click()
    await user.page.get_by_role("button", name="Admin", exact=True).click()
    area = user.page.get_by_test_id("compliance")
    await expect(area.get_by_role("heading", name="Compliance archive")).to_be_visible()
    return area


async def head_of(server: ChatServer, user: User, channel: str, at_least: int) -> dict[str, Any]:
    """The channel's head over REST once the archiver has chained it up to `at_least` (it journals behind the
    node)."""
    deadline = asyncio.get_running_loop().time() + CATCH_UP_SECONDS
    while True:
        status, body = await call(server, user, "GET", "/api/admin/archive/heads")
        assert status == 200, body
        head = next((h for h in body["channels"] if h["name"] == channel), None)
        if head and head["last_seq"] >= at_least:
            return head
        assert asyncio.get_running_loop().time() < deadline, f"#{channel} not chained to {at_least}: {body}"
        await asyncio.sleep(0.1)


async def last_seq(server: ChatServer, user: User, channel: str) -> int:
    status, body = await call(server, user, "GET", f"/api/channels/{channel}/messages?limit=1")
    assert status == 200, body
    return int(body["messages"][-1]["seq"])


def chain_row(area: Locator, channel: str) -> Locator:
    return area.locator(f"[data-testid='chain-head'][data-channel='{channel}']")


async def test_an_admin_publishes_the_heads_exports_a_channel_and_holds_it(
    signed_up: UserFactory, chat_server: ChatServer, screenshot: Screenshot, tmp_path: Path
) -> None:
    alice = await signed_up("alice")
    said = ["Q3 guidance raised", "buying $AAPL at the open", "closing the book for today"]
    for text in said:
        await alice.send(text)
    await grant(chat_server, alice, "admin")
    head = await head_of(chat_server, alice, "general", await last_seq(chat_server, alice, "general"))

    # Chain heads: the channel's last seq, its chain shortened, the whole of it behind the copy button.
    area = await open_compliance(alice)
    row = chain_row(area, "general")
    await expect(row).to_contain_text(str(head["last_seq"]))
    await expect(row.get_by_test_id("chain")).to_have_text(f"{head['chain'][:12]}…{head['chain'][-4:]}")
    await alice.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=chat_server.url)
    await row.get_by_role("button", name="Copy the chain of #general").click()
    await expect(area.get_by_role("status").first).to_have_text("Copied the chain of #general.")
    assert await alice.page.evaluate("() => navigator.clipboard.readText()") == head["chain"]
    await area.get_by_role("button", name="Copy all as JSON").click()
    published = json.loads(await alice.page.evaluate("() => navigator.clipboard.readText()"))
    assert head in published["channels"]
    await screenshot(alice.page, "compliance-heads")
    assert await serious_violations(alice.page) == []

    # Exports: today's #general as JSON Lines, followed to done, downloaded as a zip.
    await area.get_by_role("tab", name="Exports").click()
    form = area.get_by_role("form", name="New export")
    today = datetime.now(UTC).date().isoformat()
    await form.get_by_label("From").fill(today)
    await form.get_by_label("To").fill(today)
    await form.get_by_label("Channels").fill("#general")
    await form.get_by_label("Format").select_option(label="JSON Lines")
    await form.get_by_role("button", name="Start export").click()
    job = area.get_by_test_id("export-job").first
    await expect(job).to_have_attribute("data-status", "done", timeout=30_000)
    await expect(job.get_by_test_id("export-progress")).to_contain_text("1 of 1 channel")
    await job.scroll_into_view_if_needed()
    await screenshot(alice.page, "compliance-export-done")
    assert await serious_violations(alice.page) == []
    async with alice.page.expect_download() as info:
        await job.get_by_role("link", name=f"Download the export of #general, {today} to {today}").click()
    saved = tmp_path / "export.zip"
    await (await info.value).save_as(saved)
    with zipfile.ZipFile(saved) as z:
        files = {Path(n).name: z.read(n) for n in z.namelist() if not n.endswith("/")}
    manifest = json.loads(files["manifest.json"])
    # The head the page showed is the one the export carries, and every file is as the manifest says.
    assert manifest["heads"]["general"]["chain"] == head["chain"]
    # The checksum the page offers to note down is the manifest's.
    shown = await job.get_by_test_id("export-manifest").get_attribute("data-sha256")
    assert shown == hashlib.sha256(files["manifest.json"]).hexdigest()
    for name, digest in manifest["files"].items():
        assert hashlib.sha256(files[Path(name).name]).hexdigest() == digest, name
    texts = [(json.loads(line)["record"] or {}).get("text") for line in files["general.jsonl"].splitlines()]
    assert [t for t in texts if t in said] == said

    # Legal holds: placed on #general with a reason, then released after a confirm.
    await area.get_by_role("tab", name="Legal holds").click()
    form = area.get_by_role("form", name="Place a legal hold")
    await form.get_by_label("Name").fill("matter-2026-014")
    await form.get_by_label("Channels").fill("general")
    await form.get_by_label("Reason").fill("SEC inquiry")
    await form.get_by_role("button", name="Place hold").click()
    hold = area.locator("[data-testid='legal-hold'][data-name='matter-2026-014']")
    await expect(hold.get_by_test_id("hold-scope")).to_have_text("#general")
    status, body = await call(chat_server, alice, "GET", "/api/admin/holds")
    assert status == 200 and [(h["name"], h["channels"], h["reason"]) for h in body["holds"]] == [
        ("matter-2026-014", ["general"], "SEC inquiry")
    ]
    await hold.get_by_role("button", name="Release hold matter-2026-014").click()
    confirm = area.get_by_role("alertdialog", name="Release hold matter-2026-014")
    await expect(confirm.get_by_role("button", name="Yes, release")).to_be_focused()
    await screenshot(alice.page, "compliance-hold-release")
    assert await serious_violations(alice.page) == []
    await confirm.get_by_role("button", name="Yes, release").click()
    await expect(hold).to_have_count(0)
    assert await call(chat_server, alice, "GET", "/api/admin/holds") == (200, {"holds": []})

    # Each step is in the audit log, in words.
    await alice.page.reload()
    await expect(alice.page.get_by_test_id("connection-banner")).to_have_attribute("data-state", "connected")
    await open_compliance(alice)
    audit = alice.page.get_by_test_id("admin-audit")
    for action, words in (
        ("hold.released", "Legal hold released"),
        ("hold.placed", "Legal hold placed"),
        ("export.downloaded", "Export downloaded"),
        ("export.done", "Export finished"),
        ("export.requested", "Export requested"),
    ):
        entry = audit.locator(f"[data-testid='audit-entry'][data-action='{action}']")
        await expect(entry.get_by_test_id("audit-action")).to_have_text(words)
        await expect(entry).to_contain_text("alice")
    await expect(audit.locator("[data-action='hold.placed']")).to_contain_text("reason: SEC inquiry")
    await audit.scroll_into_view_if_needed()
    await screenshot(alice.page, "compliance-audit-log")
    assert alice.errors == []


async def test_compliance_has_the_area_on_a_phone_too_and_a_plain_user_has_none(
    signed_up: UserFactory, chat_server: ChatServer, screenshot: Screenshot
) -> None:
    bob = await signed_up("bob", width=360, height=740)
    carol = await signed_up("carol")
    await carol.send("morning all")
    await grant(chat_server, bob, "compliance")
    head = await head_of(chat_server, bob, "general", await last_seq(chat_server, bob, "general"))

    area = await open_compliance(bob, narrow=True)
    await expect(chain_row(area, "general")).to_contain_text(str(head["last_seq"]))
    # The audit log too, and nothing of the admins' own sections.
    await expect(bob.page.get_by_test_id("admin-audit")).to_be_visible()
    await expect(bob.page.get_by_test_id("admin-invites")).to_have_count(0)
    await expect(bob.page.get_by_test_id("admin-users")).to_have_count(0)
    for tab, ready in (("Exports", "No exports yet."), ("Legal holds", "No holds: retention applies everywhere.")):
        await area.get_by_role("tab", name=tab).click()
        await expect(area.get_by_role("tabpanel", name=tab).get_by_text(ready)).to_be_visible()
        await expect(area.get_by_role("alert")).to_have_count(0)
        # Fits the phone: the page itself never scrolls sideways.
        assert await bob.page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        assert await serious_violations(bob.page) == []
    await screenshot(bob.page, "compliance-phone-holds")

    # carol: no way in on the page, and the API refuses her.
    await expect(carol.page.get_by_role("button", name="Admin", exact=True)).to_have_count(0)
    await expect(carol.page.get_by_test_id("compliance")).to_have_count(0)
    for method, path, body in (
        ("GET", "/api/admin/archive/heads", None),
        ("GET", "/api/admin/exports", None),
        ("POST", "/api/admin/exports", {"from": "2026-01-01", "to": "2026-01-02", "format": "jsonl"}),
        ("GET", "/api/admin/holds", None),
        ("POST", "/api/admin/holds", {"name": "mine"}),
    ):
        status, answer = await call(chat_server, carol, method, path, body)
        assert (status, answer["error"]["code"]) == (403, "forbidden"), path
    assert bob.errors == [] and carol.errors == []
