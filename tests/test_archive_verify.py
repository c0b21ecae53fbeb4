"""`investor-chat archive verify` as an auditor meets it (#24, docs/compliance.md): a channel's messages, edits,
deletes, reactions and moderation archived through the real Archiver verify intact on both stores and both
buses; one byte changed in the store, one entry removed or two swapped are each reported at their seq with exit
status 1; a restarted archiver and a second replica racing the first leave the chain as one archiver would."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pymongo
import pytest

from archiver import worker
from archiver.worker import GROUP, Archiver
from core.bus import ARCHIVE_STREAM, Bus
from core.bus.memory import MemoryBus
from core.changes import fold
from core.journal import GENESIS, JournalEntry, content_hash, entry_of, extend
from core.models import Change, ChangeKind, ChannelEvent, Message, Record, new_id, now_iso
from core.store import Store, open_store
from server import archive_cli
from tests.scripts import ROOT, run

CHANNEL = "general"


async def say(bus: Bus, user: str, text: str, channel: str = CHANNEL) -> Message:
    posted, _ = await bus.post(Message(id=new_id(), channel=channel, user=user, text=text, ts=now_iso()))
    return posted


async def change(bus: Bus, of: Message, kind: ChangeKind, by: str, **given: str) -> Change:
    folded = fold(of, kind, by, now_iso(), **given)
    assert folded is not None
    made = Change(kind=kind, channel=of.channel, by=by, ts=now_iso(), emoji=given.get("emoji"), message=folded)
    return await bus.post_change(made, expected_rev=of.rev or of.seq or 0)


async def a_day_of_chat(bus: Bus, channel: str = CHANNEL) -> list[Record]:
    """What a channel goes through, in seq order: posts, an edit, reactions, a deletion, a mute, posts after."""
    await bus.seed_seq(channel, 0)
    first = await say(bus, "alice", "Morning all: $VOD looks cheap here", channel)
    second = await say(bus, "bob", 'Ça dépend du prix 🐂 "really"', channel)
    third = await say(bus, "carol", "buy buy buy, guaranteed 10x", channel)
    records: list[Record] = [first, second, third]
    records.append(edited := await change(bus, second, "edit", "bob", text="Ça dépend du prix, 72.5p 🐂"))
    records.append(await change(bus, first, "react", "bob", emoji="🐂"))
    records.append(await change(bus, edited.message, "react", "alice", emoji="👍"))
    records.append(await change(bus, third, "delete", "mod"))
    records.append(
        await bus.post_event(
            ChannelEvent(channel=channel, kind="muted", by="mod", ts=now_iso(), target="carol", until=now_iso())
        )
    )
    records.append(await say(bus, "alice", "thanks mod", channel))
    records.append(await say(bus, "bob", "closing at 73p", channel))
    assert [r.seq for r in records] == list(range(1, 11))
    return records


async def drain(bus: Bus, *archivers: Archiver) -> None:
    """Run the archivers side by side until the archive stream is empty."""

    async def loop(archiver: Archiver) -> None:
        while await bus.backlog(ARCHIVE_STREAM, GROUP):
            await archiver.process_batch(block_ms=0)
            await asyncio.sleep(0)  # the other replica's turn between batches

    await asyncio.wait_for(asyncio.gather(*(loop(a) for a in archivers)), 30)


def expected_head(records: list[Record]) -> tuple[int, str]:
    """The head an auditor computes from the records as the bus posted them."""
    chains = extend(0, GENESIS, [entry_of(r) for r in records])
    return chains[-1]


async def cli(store_url: str, *args: str) -> tuple[int, list[str]]:
    """`investor-chat archive verify` on the store (in a thread: it runs its own event loop); status and lines."""
    lines: list[str] = []

    def run() -> int:
        import contextlib
        import io

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = archive_cli.main(["verify", "--storage-url", store_url, *args])
        lines.extend(out.getvalue().splitlines())
        return status

    return await asyncio.to_thread(run), lines


class Tamperer:
    """Changes the journal behind the store's back, as someone with access to its files or database could."""

    def __init__(self, store_url: str) -> None:
        self.url = store_url

    def _sqlite(self) -> sqlite3.Connection:
        return sqlite3.connect(self.url.removeprefix("sqlite:///"))

    @contextmanager
    def _journal(self) -> Iterator[pymongo.collection.Collection[dict[str, Any]]]:
        client: pymongo.MongoClient[dict[str, Any]]
        with pymongo.MongoClient(self.url) as client:
            yield client.get_default_database().journal

    def record(self, seq: int) -> bytes:
        if self.url.startswith("sqlite"):
            with self._sqlite() as db:
                return bytes(
                    db.execute("SELECT record FROM journal WHERE channel = ? AND seq = ?", (CHANNEL, seq)).fetchone()[0]
                )
        with self._journal() as journal:
            doc = journal.find_one({"_id": f"{CHANNEL}:{seq}"})
        assert doc is not None
        return str(doc["record"]).encode()

    def set_record(self, seq: int, record: bytes) -> None:
        if self.url.startswith("sqlite"):
            with self._sqlite() as db:
                db.execute("UPDATE journal SET record = ? WHERE channel = ? AND seq = ?", (record, CHANNEL, seq))
            return
        with self._journal() as journal:
            journal.update_one({"_id": f"{CHANNEL}:{seq}"}, {"$set": {"record": record.decode()}})

    def change_one_byte(self, seq: int, old: bytes, new: bytes) -> None:
        stored = self.record(seq)
        at = stored.index(old)
        self.set_record(seq, stored[:at] + new + stored[at + 1 :])

    def delete(self, seq: int) -> None:
        if self.url.startswith("sqlite"):
            with self._sqlite() as db:
                db.execute("DELETE FROM journal WHERE channel = ? AND seq = ?", (CHANNEL, seq))
            return
        with self._journal() as journal:
            journal.delete_one({"_id": f"{CHANNEL}:{seq}"})

    def rewrite_from(self, seq: int, old: bytes, new: bytes, entries: list[JournalEntry]) -> None:
        """Change a record and recompute its hash, every chain from it on and the head, as someone who knows
        how the chain is made would: the journal is consistent again, only a head published before tells."""
        self.change_one_byte(seq, old, new)
        record = orjson.loads(self.record(seq))
        rows = [e.model_copy(update={"content_hash": content_hash(record)}) if e.seq == seq else e for e in entries]
        chains = extend(seq - 1, entries[seq - 2].chain or GENESIS, rows[seq - 1 :])
        if self.url.startswith("sqlite"):
            with self._sqlite() as db:
                db.execute(
                    "UPDATE journal SET content_hash = ? WHERE channel = ? AND seq = ?",
                    (content_hash(record), CHANNEL, seq),
                )
                db.executemany(
                    "UPDATE journal SET chain = ? WHERE channel = ? AND seq = ?", [(c, CHANNEL, n) for n, c in chains]
                )
                db.execute("UPDATE journal_heads SET chain = ? WHERE channel = ?", (chains[-1][1], CHANNEL))
            return
        with self._journal() as journal:
            journal.update_one({"_id": f"{CHANNEL}:{seq}"}, {"$set": {"content_hash": content_hash(record)}})
            for n, c in chains:
                journal.update_one({"_id": f"{CHANNEL}:{n}"}, {"$set": {"chain": c}})
            journal.database.journal_heads.update_one({"_id": CHANNEL}, {"$set": {"chain": chains[-1][1]}})

    def swap(self, one: int, other: int) -> None:
        first, second = self.record(one), self.record(other)
        self.set_record(one, second)
        self.set_record(other, first)


async def test_a_channel_archived_through_the_archiver_verifies_intact(bus: Bus, store: Store, store_url: str) -> None:
    records = await a_day_of_chat(bus)
    await bus.seed_seq("random", 0)
    elsewhere = await say(bus, "dave", "another channel, another chain", "random")
    await drain(bus, Archiver(bus, store))
    (seq, chain), other = expected_head(records), expected_head([elsewhere])
    assert await store.journal_heads() == [(CHANNEL, seq, chain), ("random", *other)]
    kinds = [e.kind async for e in store.journal_scan(CHANNEL)]
    assert kinds == ["message"] * 3 + ["change"] * 4 + ["event", "message", "message"]
    status, lines = await cli(store_url)
    assert (status, lines) == (
        0,
        [
            f"{CHANNEL}  last_seq 10  chain {chain}",
            f"random  last_seq 1  chain {other[1]}",
            "2 channels, 11 entries: intact",
        ],
    )


async def archived_and_intact(bus: Bus, store: Store, store_url: str) -> list[Record]:
    records = await a_day_of_chat(bus)
    await drain(bus, Archiver(bus, store))
    assert (await cli(store_url, "--channel", CHANNEL))[0] == 0
    return records


async def test_one_byte_changed_in_a_stored_record_is_reported_edited_at_its_seq(
    bus: Bus, store: Store, store_url: str
) -> None:
    await archived_and_intact(bus, store, store_url)
    Tamperer(store_url).change_one_byte(3, b"10x", b"2")  # "guaranteed 10x" -> "guaranteed 20x"
    status, lines = await cli(store_url)
    assert status == 1
    assert [line for line in lines if " seq " in line] == [
        f"{CHANNEL} seq 3: edited: the record does not match its content_hash"
    ]
    assert lines[-1] == "1 channels, 10 entries: 1 not intact"


async def test_a_deleted_entry_is_reported_as_a_gap_at_its_seq(bus: Bus, store: Store, store_url: str) -> None:
    await archived_and_intact(bus, store, store_url)
    Tamperer(store_url).delete(7)  # the deletion of carol's message: as if it had never been deleted
    status, lines = await cli(store_url, "--channel", CHANNEL)
    assert status == 1
    problems = [line for line in lines if " seq " in line]
    assert problems[0] == f"{CHANNEL} seq 7: gap: seq 7 is missing; next stored is 8"
    assert all(": gap: " in p or ": chain: " in p for p in problems), problems


async def test_two_swapped_entries_are_reported_reordered_at_both_seqs(bus: Bus, store: Store, store_url: str) -> None:
    await archived_and_intact(bus, store, store_url)
    Tamperer(store_url).swap(2, 9)
    status, lines = await cli(store_url)
    assert status == 1
    assert [line for line in lines if " seq " in line] == [
        f"{CHANNEL} seq 2: reordered: holds the record of seq 9",
        f"{CHANNEL} seq 9: reordered: holds the record of seq 2",
    ]


async def test_a_restarted_archiver_continues_the_chain(bus: Bus, store_url: str) -> None:
    first_store = await open_store(store_url)
    records = await a_day_of_chat(bus)
    await drain(bus, Archiver(bus, first_store, consumer="before"))
    await first_store.close()
    records += [await say(bus, "alice", f"after the restart {n}") for n in range(3)]
    store = await open_store(store_url)
    try:
        await drain(bus, Archiver(bus, store, consumer="after"))
        assert await store.journal_head(CHANNEL) == expected_head(records) and records[-1].seq == 13
    finally:
        await store.close()
    status, lines = await cli(store_url)
    assert status == 0 and lines[0].startswith(f"{CHANNEL}  last_seq 13  chain "), lines


async def test_two_replicas_racing_on_the_stream_give_the_chains_of_one(
    bus: Bus, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # small batches, so that each replica holds every other run of each channel's seqs and chains past the
    # other's gaps; each on its own connection, as two processes
    monkeypatch.setattr(worker, "BATCH", 7)
    channels = [f"desk-{n}" for n in range(4)]
    posted: dict[str, list[Record]] = {}
    for channel in channels:
        posted[channel] = await a_day_of_chat(bus, channel)
    for n in range(60):
        posted[channels[n % 4]].append(await say(bus, "alice", f"burst {n}", channels[n % 4]))
    one, other = await open_store(store_url), await open_store(store_url)
    try:
        await drain(bus, Archiver(bus, one, consumer="one"), Archiver(bus, other, consumer="other"))
        heads = await one.journal_heads()
    finally:
        await one.close()
        await other.close()
    assert heads == [(channel, *expected_head(posted[channel])) for channel in channels]
    status, lines = await cli(store_url)
    assert status == 0 and lines[-1] == "4 channels, 100 entries: intact", lines


async def test_a_batch_archived_again_adds_nothing_and_keeps_the_chain(bus: Bus, store: Store) -> None:
    records = await a_day_of_chat(bus)
    await drain(bus, Archiver(bus, store))
    head = await store.journal_head(CHANNEL)
    await worker.journal(store, records[3:8])  # as a batch a crashed archiver wrote and never acked
    assert await store.journal_head(CHANNEL) == head == expected_head(records)
    assert [e.content_hash async for e in store.journal_scan(CHANNEL)] == [content_hash(r.wire()) for r in records]


async def test_entries_another_replica_left_unchained_are_chained_by_whoever_fills_the_gap(store: Store) -> None:
    records = await a_day_of_chat(MemoryBus())
    # a replica wrote seqs 4-8 while 1-3 were not in yet (and died before chaining anything)
    await store.journal_append([entry_of(r) for r in records[3:8]])
    assert await store.journal_head(CHANNEL) == (0, GENESIS)
    await worker.journal(store, records[:8])  # the batch of 1-8, claimed by the next
    assert await store.journal_head(CHANNEL) == expected_head(records[:8])
    assert [e.chain for e in await store.journal_after(CHANNEL, 0, 20)] == [
        chain for _, chain in extend(0, GENESIS, [entry_of(r) for r in records[:8]])
    ]


async def test_a_chain_rewritten_from_some_seq_on_is_caught_only_against_a_head_published_before(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    bus = MemoryBus()
    await archived_and_intact(bus, store, store_url)
    published = tmp_path / "heads-2026-12-01.json"
    seq, chain = await store.journal_head(CHANNEL)
    published.write_text(json.dumps({"channels": [{"name": CHANNEL, "last_seq": seq, "chain": chain}]}))
    later = [await say(bus, "alice", f"the next day {n}") for n in range(2)]
    await drain(bus, Archiver(bus, store))
    entries = [e async for e in store.journal_scan(CHANNEL)]
    Tamperer(store_url).rewrite_from(3, b"10x", b"2", entries)
    status, lines = await cli(store_url)
    assert status == 0 and lines[-1] == "1 channels, 12 entries: intact", lines  # consistent again
    assert lines[0].startswith(f"{CHANNEL}  last_seq 12  chain ") and chain not in lines[0]
    status, lines = await cli(store_url, "--heads", str(published))
    assert status == 1 and later[-1].seq == 12
    assert [line for line in lines if " seq " in line] == [
        f"{CHANNEL} seq 10: chain: the chain differs from the head published, {chain}"
    ]


async def test_the_command_line_says_intact_or_not_by_its_exit_status(store: Store, store_url: str) -> None:
    await archived_and_intact(MemoryBus(), store, store_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")} | {"PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "server", "archive", "verify", "--storage-url", store_url]
    status, out, _ = await run(*command[1:], env=env)
    assert status == 0 and out.splitlines()[-1] == "1 channels, 10 entries: intact", out
    Tamperer(store_url).change_one_byte(1, b"cheap", b"C")
    status, out, _ = await run(*command[1:], "--channel", CHANNEL, env=env)
    assert status == 1 and f"{CHANNEL} seq 1: edited: the record does not match its content_hash" in out.splitlines()
    status, _, err = await run(*command[1:], "--channels", CHANNEL, env=env)
    assert status == 2 and "unrecognized arguments: --channels" in err
    assert (await run(*command[1:], "--channel", "nowhere", env=env))[:2] == (
        1,
        "nowhere  last_seq 0  chain "
        + GENESIS
        + "\nnowhere seq 1: gap: the journal holds nothing of this channel\n1 channels, 0 entries: 1 not intact\n",
    )


async def test_entries_waiting_too_long_for_a_seq_before_them_are_a_gap(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    records = await a_day_of_chat(MemoryBus())
    await worker.journal(store, records[:5])
    await worker.journal(store, records[6:])  # seq 6 never comes: its entry was lost before the journal
    written = datetime.fromisoformat(records[6].ts.replace("Z", "+00:00"))
    assert await archive_cli.verify_archive(store, None, {}, now=written + timedelta(minutes=9)) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith("  (4 newest not chained yet)")  # a replica may hold 6
    assert await archive_cli.verify_archive(store, None, {}, now=written + timedelta(minutes=11)) == 1
    assert f"{CHANNEL} seq 6: gap: seq 6 is missing; 4 entries after it wait since {records[6].ts}" in (
        capsys.readouterr().out.splitlines()
    )
