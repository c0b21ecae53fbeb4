"""An archive written before the journal existed, upgraded (#24): each channel with archived records begins its
journal after its last archived seq, its head there on 64 zeros, decided once when the upgrade makes the journal;
new records archived through the real Archiver chain from there, `archive verify` says where each journal begins
and is intact, an export of them verifies with the auditor's script; a new store journals from seq 1; an entry
removed at the beginning, or a beginning moved later, is still caught. On tests/old_stores.py's old stores."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pymongo
import pytest

from archiver import worker
from archiver.worker import Archiver
from core.bus.memory import MemoryBus
from core.exports.exporter import ExportSpec, export
from core.journal import GENESIS, chained, entry_of, extend
from core.models import ChannelEvent, Record, now_iso, utcnow
from core.store import Store, open_store
from core.store.mongo import MongoStore
from core.store.mongo_schema import JOURNAL_STARTED
from core.store.sqlite_journal import start_journal
from tests.scripts import ROOT, run
from tests.test_archive_verify import Tamperer, change, cli, drain, say

# desk: seq 1-3 (three messages, or two and an edit); general: seq 1. Every old store holds them so.
OLD_STARTS = {"desk": 4, "general": 2}
PREDATE = "journaled from seq {} (earlier records predate the journal)"


@pytest.fixture(params=["before_changes", "before_access", "mongodb"])
def old_url(request: pytest.FixtureRequest) -> str:
    """The URL of a store written before the journal existed, not opened by today's code yet."""
    if request.param == "mongodb":
        url: str = request.getfixturevalue("mongodb_before_url")
        return url
    return f"sqlite:///{request.getfixturevalue(f'{request.param}_file')}"


def head_after(start: int, records: list[Record]) -> tuple[int, str]:
    """The head an auditor computes from the records as posted, beginning at `start` on 64 zeros."""
    return extend(start - 1, GENESIS, [entry_of(r) for r in records])[-1]


async def test_each_old_channel_begins_its_journal_after_its_last_archived_seq(old_url: str) -> None:
    store = await open_store(old_url)
    try:
        assert await store.journal_starts() == OLD_STARTS
        assert await store.journal_starts(["desk", "nowhere"]) == {"desk": 4}  # what a batch of the archiver asks
        assert await store.journal_heads() == [("desk", 3, GENESIS), ("general", 1, GENESIS)]
        assert [e async for e in store.journal_scan("desk")] == []
        assert await cli(old_url) == (
            0,
            [
                f"desk  last_seq 3  chain {GENESIS}",
                "desk  " + PREDATE.format(4),
                f"general  last_seq 1  chain {GENESIS}",
                "general  " + PREDATE.format(2),
                "2 channels, 0 entries: intact",
            ],
        )
    finally:
        await store.close()


async def archive_after_upgrade(store: Store) -> dict[str, list[Record]]:
    """New records of desk and general, and a first one of a channel made after the upgrade, through the bus
    (seeded from the store, as the server does) and the real Archiver."""
    bus = MemoryBus()
    for channel in ("desk", "general", "fresh"):
        await bus.seed_seq(channel, await store.last_seq(channel))
    posted = await say(bus, "alice", "AAPL again", "desk")
    desk: list[Record] = [posted, await say(bus, "bob", "$TSLA lower", "desk")]
    desk.append(await change(bus, posted, "edit", "alice", text="AAPL again, 95"))
    muted = ChannelEvent(channel="desk", kind="muted", by="alice", ts=now_iso(), target="bob", until=now_iso())
    desk.append(await bus.post_event(muted))
    records = {"desk": desk, "general": [await say(bus, "carol", "back", "general")]}
    records["fresh"] = [await say(bus, "dave", "first words", "fresh")]
    await drain(bus, Archiver(bus, store))
    return records


async def test_new_records_chain_from_where_the_journal_begins_and_verify_says_so(old_url: str, tmp_path: Path) -> None:
    store = await open_store(old_url)
    try:
        old = (await store.history("desk", limit=10))[0][-1]
        records = await archive_after_upgrade(store)
        assert [r.seq for r in records["desk"]] == [4, 5, 6, 7] and records["general"][0].seq == 2
        # the previous version archived seq 3 and stopped before acknowledging it: it comes again, stays out
        await worker.journal(store, [old])
        assert [e.seq async for e in store.journal_scan("desk")] == [4, 5, 6, 7]
        desk, general, fresh = (head_after(OLD_STARTS.get(c, 1), records[c]) for c in ("desk", "general", "fresh"))
        assert await store.journal_heads() == [("desk", *desk), ("fresh", *fresh), ("general", *general)]
        first = (await store.journal_after("desk", 0, 1))[0]
        assert (first.seq, first.chain) == (4, chained(GENESIS, entry_of(records["desk"][0]).content_hash))
        assert await cli(old_url) == (
            0,
            [
                f"desk  last_seq 7  chain {desk[1]}",
                "desk  " + PREDATE.format(4),
                f"fresh  last_seq 1  chain {fresh[1]}",  # made after the upgrade: journaled from its seq 1
                f"general  last_seq 2  chain {general[1]}",
                "general  " + PREDATE.format(2),
                "3 channels, 6 entries: intact",
            ],
        )
        assert await store.journal_starts() == OLD_STARTS  # decided once: reopening (the command did) adds none
        await exported_and_verified(store, tmp_path / "export", desk)
    finally:
        await store.close()


async def exported_and_verified(store: Store, out: Path, desk: tuple[int, str]) -> None:
    """The day's JSON Lines export of desk begins on 64 zeros at seq 4, which the auditor's script recomputes."""
    today = utcnow().date()
    await export(store, ExportSpec("jsonl", today - timedelta(days=1), today + timedelta(days=1)), out)
    manifest: dict[str, Any] = json.loads((out / "manifest.json").read_bytes())
    assert manifest["channels"]["desk"] == {"entries": 4, "first_seq": 4, "last_seq": 7, "chain_before": GENESIS}
    script = ROOT / "scripts" / "verify_export.py"
    status, printed, _ = await run(str(script), str(out / "desk.jsonl"), env={"PATH": "/usr/bin:/bin"})
    assert (status, printed) == (0, f"intact: up to seq 7, chain {desk[1]}\n")


async def test_a_new_store_journals_every_channel_from_seq_1(store: Store, store_url: str) -> None:
    assert await store.journal_starts() == {} and await store.journal_heads() == []
    records = await archive_after_upgrade(store)  # on a new store: the first records of every channel
    assert [r.seq for r in records["desk"]] == [1, 2, 3, 4]
    reopened = await open_store(store_url)  # a restart: the journal is there, so nothing predates it
    try:
        assert await reopened.journal_starts() == {}
    finally:
        await reopened.close()
    status, lines = await cli(store_url)
    assert status == 0 and not [line for line in lines if "predate" in line]
    assert lines[0] == f"desk  last_seq 4  chain {head_after(1, records['desk'])[1]}"


async def test_nodes_opening_an_old_database_at_once_decide_its_beginning_once(mongodb_before_url: str) -> None:
    """Server nodes and archivers start together on one MongoDB: one decides, the others wait for it."""
    old_url = mongodb_before_url
    stores = await asyncio.gather(*(open_store(old_url) for _ in range(3)))
    try:
        assert [await s.journal_starts() for s in stores] == [OLD_STARTS] * 3
        assert await stores[0].journal_heads() == [("desk", 3, GENESIS), ("general", 1, GENESIS)]
        # records another node archives meanwhile, of an old channel and of a new one, move nothing
        await archive_after_upgrade(stores[0])
        later = await open_store(old_url)
        try:
            assert await later.journal_starts() == OLD_STARTS
        finally:
            await later.close()
    finally:
        for opened in stores:
            await opened.close()


async def test_processes_opening_an_old_file_at_once_decide_its_beginning_once(before_changes_file: Path) -> None:
    """The decision and the journal's tables are one write transaction: whoever comes second finds them made."""
    connections = [await aiosqlite.connect(before_changes_file) for _ in range(3)]
    try:
        await asyncio.gather(*(start_journal(db) for db in connections))
    finally:
        for db in connections:
            await db.close()
    with sqlite3.connect(before_changes_file) as db:
        assert dict(db.execute("SELECT channel, seq FROM journal_starts").fetchall()) == OLD_STARTS


async def test_a_node_that_stopped_while_deciding_is_replaced(mongodb_before_url: str) -> None:
    """The decision is claimed in `meta` for a lease: a node killed holding it leaves the next one to decide."""
    client: pymongo.AsyncMongoClient[dict[str, Any]] = pymongo.AsyncMongoClient(mongodb_before_url)
    try:
        meta = client.get_default_database().meta
        await meta.insert_one({"_id": JOURNAL_STARTED, "done": False, "until": utcnow() - timedelta(seconds=1)})
        store = await asyncio.wait_for(MongoStore.open(mongodb_before_url), 10)
        try:
            assert await store.journal_starts() == OLD_STARTS
            assert await store.journal_heads() == [("desk", 3, GENESIS), ("general", 1, GENESIS)]
        finally:
            await store.close()
        claim = await meta.find_one({"_id": JOURNAL_STARTED})
        assert claim is not None and claim["done"]
    finally:
        await client.close()


async def test_an_entry_removed_where_the_journal_begins_is_a_gap(old_url: str) -> None:
    store = await open_store(old_url)
    try:
        bus = MemoryBus()
        await bus.seed_seq("general", await store.last_seq("general"))
        assert [(await say(bus, "carol", f"back {n}")).seq for n in range(3)] == [2, 3, 4]
        await drain(bus, Archiver(bus, store))
    finally:
        await store.close()
    Tamperer(old_url).delete(2)  # Tamperer works on #general
    status, lines = await cli(old_url, "--channel", "general")
    assert status == 1
    assert "general seq 2: gap: seq 2 is missing; next stored is 3" in lines
    assert lines[-1].endswith(": 1 not intact")


def move_beginning(url: str, start: int, chain: str) -> None:
    """Remove #general's entries before `start` and begin its journal there on 64 zeros, its entry at `start`
    rechained (`chain`) and the head on it, as someone hiding its first journaled records could."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            db.execute("DELETE FROM journal WHERE channel = 'general' AND seq < ?", (start,))
            db.execute("UPDATE journal_starts SET seq = ? WHERE channel = 'general'", (start,))
            db.execute("UPDATE journal SET chain = ? WHERE channel = 'general' AND seq = ?", (chain, start))
            db.execute("UPDATE journal_heads SET seq = ?, chain = ? WHERE channel = 'general'", (start, chain))
        return
    client: pymongo.MongoClient[dict[str, Any]]
    with pymongo.MongoClient(url) as client:
        db = client.get_default_database()
        db.journal.delete_many({"channel": "general", "seq": {"$lt": start}})
        db.journal_starts.update_one({"_id": "general"}, {"$set": {"seq": start}})
        db.journal.update_one({"_id": f"general:{start}"}, {"$set": {"chain": chain}})
        db.journal_heads.update_one({"_id": "general"}, {"$set": {"seq": start, "chain": chain}})


async def test_a_beginning_moved_later_shows_against_a_head_published_before(old_url: str, tmp_path: Path) -> None:
    store = await open_store(old_url)
    try:
        bus = MemoryBus()
        await bus.seed_seq("general", await store.last_seq("general"))
        await say(bus, "carol", "back")
        await drain(bus, Archiver(bus, store))
        heads = [{"name": n, "last_seq": s, "chain": c} for n, s, c in await store.journal_heads()]
        published = tmp_path / "heads.json"
        published.write_text(json.dumps({"channels": heads}))  # general at seq 2, the day's head sent away
        later = [await say(bus, "carol", f"later {n}") for n in range(2)]
        await drain(bus, Archiver(bus, store))
    finally:
        await store.close()
    move_beginning(old_url, 4, chained(GENESIS, entry_of(later[-1]).content_hash))
    status, lines = await cli(old_url, "--channel", "general")
    assert status == 0 and "general  " + PREDATE.format(4) in lines  # consistent on its own, as any full rewrite
    status, lines = await cli(old_url, "--channel", "general", "--heads", str(published))
    assert status == 1
    assert "general seq 3: gap: the journal begins at seq 4; the head published is at seq 2" in lines
