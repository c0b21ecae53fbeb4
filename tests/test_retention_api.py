"""Retention and legal holds through the standalone app, on SQLite and MongoDB: holds placed and released over
REST by admins and compliance (refused to anyone else), a channel's retention set by site admins and not by
its owner, every one of them in the audit log; then messages sent over Socket.IO redacted by the daily job
with the clock moved, as members and search see it, a hold placed over REST keeping them until released;
and the job scheduled in standalone and in the archiver process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from archiver import runner
from archiver.retention import redact_expired
from core.journal import entry_of, verify
from core.models import AuditEntry, Message, iso, new_id, now_iso, utcnow
from core.store import Store, open_store
from server.app_keys import STORE
from tests.apps import ChatClient, ClientFactory, code, settings_for, with_role

StartServer = Callable[..., Awaitable[TestServer]]
MANY = {"login_burst": 1000, "login_rate": 100.0}


@pytest.fixture
async def chat_server(make_server: StartServer, fake_stooq: Any, store_url: str) -> TestServer:
    return await make_server(stooq_url=fake_stooq.url, storage_url=store_url, retention_days=30, **MANY)


@pytest.fixture
def store(chat_server: TestServer) -> Store:
    return chat_server.app[STORE]


async def audited(client: ChatClient, *actions: str) -> list[tuple[Any, ...]]:
    status, body = await client.request("GET", "/api/admin/audit")
    assert status == 200, body
    return [
        (e["actor"], e["action"], e.get("target"), e.get("channel"), e["details"])
        for e in reversed(body["entries"])
        if e["action"] in actions
    ]


async def test_holds_are_placed_and_released_by_admins_and_compliance_alone(
    make_client: ClientFactory, store: Store
) -> None:
    chief = await with_role(make_client, store, "chief", "admin")
    auditor = await with_role(make_client, store, "auditor", "compliance")
    mallory = await make_client("mallory", connect=False)
    case = {"name": "SEC-2026-17", "channels": ["desk"], "users": ["alice", "alice"], "reason": "subpoena"}
    assert code(await mallory.request("POST", "/api/admin/holds", case)) == (403, "forbidden")
    assert code(await mallory.request("GET", "/api/admin/holds")) == (403, "forbidden")

    status, placed = await auditor.request("POST", "/api/admin/holds", case)
    assert status == 201, placed
    assert placed == {**case, "users": ["alice"], "created_by": "auditor", "created_at": placed["created_at"]}
    assert code(await chief.request("POST", "/api/admin/holds", {"name": "sec-2026-17"})) == (409, "hold_exists")
    assert (await chief.request("POST", "/api/admin/holds", {"name": "everything"}))[0] == 201
    for bad in ({"name": "no spaces"}, {"name": "x", "channels": []}, {"name": "x", "users": ["a b"]}):
        assert code(await chief.request("POST", "/api/admin/holds", bad)) == (400, "invalid_payload"), bad
    status, listed = await chief.request("GET", "/api/admin/holds")
    assert status == 200 and [h["name"] for h in listed["holds"]] == ["SEC-2026-17", "everything"]

    assert code(await mallory.request("DELETE", "/api/admin/holds/everything")) == (403, "forbidden")
    assert await chief.request("DELETE", "/api/admin/holds/sec-2026-17") == (204, "")
    assert code(await auditor.request("DELETE", "/api/admin/holds/sec-2026-17")) == (404, "hold_not_found")
    assert (await auditor.request("GET", "/api/admin/holds"))[1] == {"holds": [listed["holds"][1]]}
    assert await audited(auditor, "hold.placed", "hold.released") == [
        (
            "auditor",
            "hold.placed",
            "SEC-2026-17",
            None,
            {"channels": ["desk"], "users": ["alice"], "reason": "subpoena"},
        ),
        ("chief", "hold.placed", "everything", None, {}),
        ("chief", "hold.released", "sec-2026-17", None, {}),
    ]


async def test_a_channels_retention_is_set_by_site_admins_not_by_its_owner(
    make_client: ClientFactory, store: Store
) -> None:
    chief = await with_role(make_client, store, "chief", "admin")
    auditor = await with_role(make_client, store, "auditor", "compliance")
    olive = await make_client("olive", connect=False)
    assert (await olive.request("POST", "/api/channels", {"name": "desk"}))[0] == 201
    path = "/api/admin/channels/desk/retention"
    assert code(await olive.request("PATCH", path, {"retention_days": 1})) == (403, "forbidden")  # its owner
    assert code(await auditor.request("PATCH", path, {"retention_days": 1})) == (403, "forbidden")
    assert code(await olive.request("PATCH", "/api/admin/channels/nowhere/retention", {"retention_days": 1})) == (
        404,
        "channel_not_found",
    )
    for bad in (0, 36501, 7.5):
        assert code(await chief.request("PATCH", path, {"retention_days": bad})) == (400, "invalid_payload"), bad

    status, desk = await chief.request("PATCH", path, {"retention_days": 7})
    assert status == 200 and (desk["name"], desk["retention_days"]) == ("desk", 7)
    _, listed = await olive.request("GET", "/api/channels")
    assert [c.get("retention_days") for c in listed["channels"] if c["name"] == "desk"] == [7]
    assert (await chief.request("PATCH", path, {"retention_days": 7}))[0] == 200  # the same again: no entry
    status, desk = await chief.request("PATCH", path, {"retention_days": None})  # back to the site's
    assert status == 200 and "retention_days" not in desk
    assert await audited(auditor, "retention.changed") == [
        ("chief", "retention.changed", None, "desk", {"retention_days": 7}),
        ("chief", "retention.changed", None, "desk", {"previous": 7}),
    ]


async def archived(store: Store, channel: str, seq: int) -> None:
    """Wait until the archiver has journaled and chained the channel up to `seq`."""
    async with asyncio.timeout(10):
        while (await store.journal_head(channel))[0] < seq:
            await asyncio.sleep(0.02)


async def send(client: ChatClient, channel: str, text: str) -> dict[str, Any]:
    ack = await client.call("send", {"channel": channel, "text": text})
    assert ack["ok"], ack
    return dict(ack["message"])


def moment(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


async def test_what_members_sent_is_redacted_after_the_channels_retention_unless_held(
    make_client: ClientFactory, store: Store
) -> None:
    chief = await with_role(make_client, store, "chief", "admin")
    alice = await make_client("alice")
    assert (await alice.request("POST", "/api/channels", {"name": "desk"}))[0] == 201
    assert (await alice.call("join", {"channel": "desk"}))["ok"]
    old = [await send(alice, "desk", text) for text in ("the merger closes friday", "keep $ACME quiet")]
    while now_iso() <= old[-1]["ts"]:  # the next one stamped a millisecond later at least
        await asyncio.sleep(0.001)
    new = [await send(alice, "desk", "the merger is public now")]
    await archived(store, "desk", new[-1]["seq"])
    assert (await chief.request("PATCH", "/api/admin/channels/desk/retention", {"retention_days": 7}))[0] == 200
    a_week_on = moment(new[0]["ts"]) + timedelta(days=7)  # the clock moved on: the first two are past the week

    assert (await chief.request("POST", "/api/admin/holds", {"name": "case-9", "channels": ["desk"]}))[0] == 201
    held = await redact_expired(store, now=a_week_on, default_days=30)
    assert (held.redacted, held.held_channels) == (0, 1)
    assert await chief.request("DELETE", "/api/admin/holds/case-9") == (204, "")
    report = await redact_expired(store, now=a_week_on, default_days=30)
    assert report.by_channel == {"desk": 2}

    _, page = await alice.request("GET", "/api/channels/desk/messages")
    assert [(m["seq"], m["text"], m.get("redacted")) for m in page["messages"]] == [
        (old[0]["seq"], "", True),
        (old[1]["seq"], "", True),
        (new[0]["seq"], "the merger is public now", None),
    ]
    assert [m["seq"] for m in page["messages"]] == list(range(old[0]["seq"], new[0]["seq"] + 1))  # no gap
    _, hits = await alice.request("GET", "/api/search", params={"q": "merger"})
    assert [h["text"] for h in hits["hits"]] == ["the merger is public now"]
    _, hits = await alice.request("GET", "/api/search", params={"cashtag": "ACME"})
    assert hits["hits"] == []
    assert (await verify("desk", store.journal_scan("desk"))).intact
    runs = await audited(chief, "retention.run")
    assert [(actor, details["redacted"]) for actor, _, _, _, details in runs][-2:] == [(None, 0), (None, 2)]


async def seeded(url: str) -> None:
    """A store holding one journaled message of #general stamped 40 days ago."""
    store = await open_store(url)
    try:
        ts = iso(utcnow() - timedelta(days=40))
        await store.journal_append(
            [entry_of(Message(seq=1, id=new_id(), channel="general", user="alice", text="old", ts=ts))]
        )
    finally:
        await store.close()


async def runs_in(url: str) -> list[AuditEntry]:
    """The retention.run entries of the store at `url`, once there is one."""
    async with asyncio.timeout(10):
        while True:
            store = await open_store(url)
            try:
                found = [e for e in await store.audit(before=None, limit=10) if e.action == "retention.run"]
            finally:
                await store.close()
            if found:
                return found
            await asyncio.sleep(0.05)


async def test_the_daily_run_starts_in_standalone(make_server: StartServer, store_url: str) -> None:
    await seeded(store_url)
    await make_server(storage_url=store_url, retention_days=30)  # its first run at once, with CHAT_RETENTION_DAYS
    runs = await runs_in(store_url)
    assert [(e.actor, e.details["default_days"], e.details["redacted"]) for e in runs] == [(None, 30, 1)]


async def test_the_daily_run_starts_in_the_archiver_process(tmp_path: Path, store_url: str) -> None:
    settings = settings_for(tmp_path, storage_url=store_url, retention_days=3)
    await seeded(settings.storage_url)
    stop = asyncio.Event()
    process = asyncio.create_task(runner.run(settings, stop))
    try:
        runs = await runs_in(settings.storage_url)
    finally:
        stop.set()
        await process
    assert [(e.actor, e.details["default_days"], e.details["redacted"]) for e in runs] == [(None, 3, 1)]
