"""Compliance exports (docs/compliance.md#export): what an auditor gets from a channel with messages, a reply,
an edit, a delete, a reaction and a moderation event, as JSON Lines, CSV and emails."""

from __future__ import annotations

import csv
import dataclasses
import email
import hashlib
import json
import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import orjson
import pytest

from archiver.worker import Archiver
from core.bus import ARCHIVE_STREAM
from core.bus.memory import MemoryBus
from core.changes import fold
from core.exports.exporter import ExportProgress, ExportSpec, export
from core.exports.files import FileList
from core.exports.formats import FORMATS, WRITERS, ExportFormat
from core.journal import GENESIS, JournalEntry, content_hash, entry_of, extend
from core.models import Change, ChangeKind, ChannelEvent, Message, Record
from core.store import Store, open_store
from tests.scripts import ROOT, run

DAY1, DAY2, DAY3 = "2026-03-01", "2026-03-02", "2026-03-03"
VERIFY = ROOT / "scripts" / "verify_export.py"  # the auditor's script of docs/compliance.md
ROOT_ID, REPLY_ID, LATER_ID = "65e1a2b3c4d5e6f7a8b9c0d1", "65e1a2b3c4d5e6f7a8b9c0d2", "65e1a2b3c4d5e6f7a8b9c0d3"
ORIGINAL, EDITED = "AAPL looks strong 🐂", "AAPL looks strong, target 200"
REPLY = 'Agreed: $AAPL "breakout", see chart\nline two'


def desk_records() -> list[Record]:
    """#desk over three days: a post, a reply to it, its edit, a reaction, a mute, the reply deleted, a post."""
    root = Message(seq=1, rev=1, id=ROOT_ID, channel="desk", user="alice", text=ORIGINAL, ts=f"{DAY1}T09:30:00.000Z")
    reply = Message(
        seq=2, rev=2, id=REPLY_ID, channel="desk", user="bob", text=REPLY, ts=f"{DAY1}T09:31:00.000Z", reply_to=ROOT_ID
    )
    edited = _change(root, 3, "edit", "alice", f"{DAY1}T09:32:00.000Z", text=EDITED)
    reacted = _change(edited.message, 4, "react", "bob", f"{DAY1}T09:33:00.000Z", emoji="🐂")
    muted = ChannelEvent(
        seq=5, channel="desk", kind="muted", by="carol", ts=f"{DAY1}T09:34:00.000Z", target="bob",
        until=f"{DAY1}T10:34:00.000Z", reason="spam",
    )  # fmt: skip
    deleted = _change(reply, 6, "delete", "carol", f"{DAY2}T08:00:00.000Z")
    later = Message(
        seq=7, rev=7, id=LATER_ID, channel="desk", user="alice", text="Ünïcode ≠ ASCII", ts=f"{DAY3}T12:00:00.000Z"
    )
    return [root, reply, edited, reacted, muted, deleted, later]


def _change(message: Message, seq: int, kind: ChangeKind, by: str, ts: str, **given: str) -> Change:
    folded = fold(message, kind, by, ts, **given)  # type: ignore[arg-type]
    assert folded is not None
    return Change(seq=seq, kind=kind, channel=message.channel, by=by, ts=ts, emoji=given.get("emoji"),
                  message=folded.model_copy(update={"rev": seq}))  # fmt: skip


def chained(records: list[Record]) -> list[JournalEntry]:
    """The records as the archiver journals them: hashed and chained from the genesis."""
    entries = [entry_of(record) for record in records]
    chains = {
        (channel, seq): chain
        for channel in {e.channel for e in entries}
        for seq, chain in extend(0, GENESIS, [e for e in entries if e.channel == channel])
    }
    return [entry.model_copy(update={"chain": chains[entry.channel, entry.seq]}) for entry in entries]


def write(fmt: ExportFormat, entries: list[JournalEntry], out: Path) -> dict[str, str]:
    """One channel's entries through a format's writer; the files it listed, with their sha256."""
    files = FileList(out)
    writer = WRITERS[fmt](files)
    writer.begin(entries[0].channel)
    for entry in entries:
        writer.write(entry)
    writer.end()
    listed = dict(files.entries())
    files.discard()
    return listed


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_json_lines_are_the_journal_entries_exactly(tmp_path: Path) -> None:
    entries = chained(desk_records())
    listed = write("jsonl", entries, tmp_path)
    assert listed == {"desk.jsonl": sha256(tmp_path / "desk.jsonl")}
    lines = (tmp_path / "desk.jsonl").read_bytes().splitlines()
    assert [JournalEntry.model_validate_json(line) for line in lines] == entries
    redacted = entries[1].model_copy(update={"record": None, "redacted_at": f"{DAY3}T00:00:00.000Z"})
    write("jsonl", [redacted], tmp_path / "redacted")
    assert JournalEntry.model_validate_json((tmp_path / "redacted" / "desk.jsonl").read_bytes()) == redacted


def test_csv_rows_hold_the_original_the_edit_the_deletion_and_the_event(tmp_path: Path) -> None:
    entries = chained(desk_records())
    assert write("csv", entries, tmp_path) == {"desk.csv": sha256(tmp_path / "desk.csv")}
    with (tmp_path / "desk.csv").open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [(r["seq"], r["kind"], r["user"], r["change"]) for r in rows] == [
        ("1", "message", "alice", ""), ("2", "message", "bob", ""), ("3", "change", "alice", "edit"),
        ("4", "change", "bob", "react"), ("5", "event", "carol", "muted"), ("6", "change", "carol", "delete"),
        ("7", "message", "alice", ""),
    ]  # fmt: skip
    assert rows[0]["text"] == ORIGINAL and rows[2]["text"] == EDITED  # the text before the edit and after
    assert rows[1]["text"] == REPLY and rows[1]["reply_to"] == ROOT_ID  # the deleted reply's text, as posted
    assert (rows[5]["message_id"], rows[5]["text"]) == (REPLY_ID, "")
    assert rows[3]["detail"] == "🐂" and rows[2]["message_id"] == ROOT_ID
    assert rows[4]["detail"] == f'{{"target":"bob","until":"{DAY1}T10:34:00.000Z","reason":"spam"}}'
    assert [(r["content_hash"], r["chain"]) for r in rows] == [(e.content_hash, e.chain) for e in entries]


def read_email(path: Path) -> EmailMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_each_message_and_change_is_an_email_threaded_by_reply(tmp_path: Path) -> None:
    entries = chained(desk_records())
    listed = write("eml", entries, tmp_path)
    assert listed == {f"desk/{seq}.eml": sha256(tmp_path / "desk" / f"{seq}.eml") for seq in range(1, 8)}
    mails = {seq: read_email(tmp_path / "desk" / f"{seq}.eml") for seq in range(1, 8)}
    root, reply, edit, react, muted, delete, later = (mails[seq] for seq in range(1, 8))
    assert (root["From"], root["Subject"]) == ("alice <alice@investor-chat>", "#desk")
    assert root["Message-ID"] == f"<{ROOT_ID}@investor-chat>"
    assert root["Date"] == "Sun, 01 Mar 2026 09:30:00 +0000" and root["In-Reply-To"] is None
    assert _text(root) == ORIGINAL + "\n" and _text(later) == "Ünïcode ≠ ASCII\n"
    assert (reply["In-Reply-To"], reply["References"]) == (f"<{ROOT_ID}@investor-chat>",) * 2
    assert _text(reply) == REPLY + "\n"
    assert (edit["Message-ID"], edit["In-Reply-To"]) == (f"<{ROOT_ID}.3@investor-chat>", f"<{ROOT_ID}@investor-chat>")
    assert _text(edit) == EDITED + "\n" and edit["Subject"] == "#desk: edit"
    assert _text(react) == "bob reacted 🐂.\n"
    # a change to a reply: under the reply, which is under its root
    assert delete["References"] == f"<{ROOT_ID}@investor-chat> <{REPLY_ID}@investor-chat>"
    assert (delete["From"], _text(delete)) == ("carol <carol@investor-chat>", "Deleted by carol.\n")
    assert muted["Subject"] == "#desk: muted bob" and "reason: spam" in _text(muted)
    for seq, mail in mails.items():  # each email carries its record, which hashes to the journal's hash
        record = next(part for part in mail.iter_attachments() if part.get_filename() == "record.json")
        entry = entries[seq - 1]
        assert hashlib.sha256(record.get_content()).hexdigest() == entry.content_hash
        assert (mail["X-Investor-Chat-Seq"], mail["X-Investor-Chat-Chain"]) == (str(seq), entry.chain)


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")  # an email's lines end in CRLF


# --- whole exports from the store, on both stores ---


async def archive(store: Store, records: list[Record]) -> list[JournalEntry]:
    """The records through the real Archiver, as a node's posts reach it on the archive stream; the journal
    entries they make, hashed and chained here independently."""
    bus = MemoryBus()
    for record in records:
        await bus.append(ARCHIVE_STREAM, orjson.dumps(record.wire()))
    assert await Archiver(bus, store).process_batch(block_ms=0) == len(records)
    return chained(records)


def ops_records() -> list[Record]:
    return [
        Message(
            seq=1,
            rev=1,
            id="65e1a2b3c4d5e6f7a8b9c0e1",
            channel="ops",
            user="dan",
            text="ops note",
            ts=f"{DAY2}T07:00:00.000Z",
        )
    ]


async def collect(entries: AsyncIterator[JournalEntry]) -> list[JournalEntry]:
    return [entry async for entry in entries]


def manifest_of(out: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((out / "manifest.json").read_bytes())
    return manifest


def files_in(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"manifest.json"}


@pytest.mark.parametrize("fmt", FORMATS)
async def test_the_manifest_holds_every_files_hash_and_each_channels_head(
    store: Store, tmp_path: Path, fmt: ExportFormat
) -> None:
    await archive(store, desk_records() + ops_records())
    spec, out = ExportSpec(fmt, date(2026, 3, 1), date(2026, 3, 3)), tmp_path / "export"
    result = await export(store, spec, out, now=datetime(2026, 3, 4, 6, 0, tzinfo=UTC))
    manifest = manifest_of(out)
    assert manifest["files"] == {name: sha256(out / name) for name in files_in(out)}
    assert (
        len(manifest["files"]) == {"jsonl": 2, "csv": 2, "eml": 8}[fmt] and result.files == len(manifest["files"]) + 1
    )
    assert (manifest["format"], manifest["from"], manifest["to"]) == (fmt, DAY1, DAY3)
    assert manifest["generated_at"] == "2026-03-04T06:00:00.000Z"
    heads = await store.journal_heads()
    assert manifest["heads"] == {name: {"last_seq": seq, "chain": chain} for name, seq, chain in heads}
    assert manifest["heads"]["desk"]["last_seq"] == 7
    assert manifest["channels"] == {
        "desk": {"entries": 7, "first_seq": 1, "last_seq": 7, "chain_before": GENESIS},
        "ops": {"entries": 1, "first_seq": 1, "last_seq": 1, "chain_before": GENESIS},
    }
    assert result.progress == ExportProgress(events=8, channels_done=2, channels=2)


async def test_json_lines_round_trip_to_the_journal(store: Store, tmp_path: Path) -> None:
    entries = await archive(store, desk_records() + ops_records())
    await export(store, ExportSpec("jsonl", date(2026, 3, 1), date(2026, 3, 3)), tmp_path / "export")
    for channel in ("desk", "ops"):
        lines = (tmp_path / "export" / f"{channel}.jsonl").read_bytes().splitlines()
        exported = [JournalEntry.model_validate_json(line) for line in lines]
        assert exported == await collect(store.journal_scan(channel))
        assert exported == [entry for entry in entries if entry.channel == channel]


async def test_the_auditors_script_finds_an_export_intact_from_its_first_seq_or_from_the_manifests_chain(
    store: Store, tmp_path: Path
) -> None:
    await archive(store, desk_records() + ops_records())
    heads = {name: chain for name, _, chain in await store.journal_heads()}
    whole, later = tmp_path / "whole", tmp_path / "later"
    await export(store, ExportSpec("jsonl", date(2026, 3, 1), date(2026, 3, 3)), whole)
    await export(store, ExportSpec("jsonl", date(2026, 3, 2), date(2026, 3, 3), channels=("desk",)), later)
    env = {"PATH": "/usr/bin:/bin"}  # Python's standard library alone: none of this project on the path
    assert await run(str(VERIFY), str(whole / "desk.jsonl"), env=env) == (
        0,
        f"intact: up to seq 7, chain {heads['desk']}\n",
        "",
    )
    chain_before = manifest_of(later)["channels"]["desk"]["chain_before"]
    status, out, _ = await run(str(VERIFY), str(later / "desk.jsonl"), chain_before, env=env)
    assert (status, out) == (0, f"intact: up to seq 7, chain {heads['desk']}\n")
    assert (await run(str(VERIFY), str(later / "desk.jsonl"), env=env))[0] == 1  # from seq 6, not from the genesis


async def test_a_date_range_and_a_channel_filter_keep_only_what_they_name(store: Store, tmp_path: Path) -> None:
    entries = await archive(store, desk_records() + ops_records())
    progress: list[ExportProgress] = []

    async def report(done: ExportProgress) -> None:
        progress.append(dataclasses.replace(done))

    day2 = ExportSpec("jsonl", date(2026, 3, 2), date(2026, 3, 2))  # one day, both ends included
    await export(store, day2, tmp_path / "day2", progress=report)
    assert files_in(tmp_path / "day2") == {"desk.jsonl", "ops.jsonl"}
    assert [json.loads(line)["seq"] for line in (tmp_path / "day2" / "desk.jsonl").read_bytes().splitlines()] == [6]
    desk = manifest_of(tmp_path / "day2")["channels"]["desk"]
    # the chain just before the range, so the range's chain is recomputed from the export alone
    assert desk == {"entries": 1, "first_seq": 6, "last_seq": 6, "chain_before": entries[4].chain}
    assert progress[-1] == ExportProgress(events=2, channels_done=2, channels=2)

    only_ops = ExportSpec("csv", date(2026, 3, 1), date(2026, 3, 3), channels=("ops",))
    await export(store, only_ops, tmp_path / "ops")
    assert files_in(tmp_path / "ops") == {"ops.csv"}
    assert set(manifest_of(tmp_path / "ops")["heads"]) == {"ops"}

    day1 = ExportSpec("eml", date(2026, 3, 1), date(2026, 3, 1), channels=("desk", "ops"))
    await export(store, day1, tmp_path / "day1")
    assert files_in(tmp_path / "day1") == {f"desk/{seq}.eml" for seq in range(1, 6)}
    assert manifest_of(tmp_path / "day1")["channels"]["ops"] == {
        "entries": 0,
        "first_seq": None,
        "last_seq": None,
        "chain_before": None,
    }


LARGE = 200_000  # entries of about 700 bytes: a 140 MB export


async def fill_large(store: Store, channel: str, count: int) -> None:
    """`count` entries of one channel, chained, appended 50,000 at a time."""
    text = "Quarterly numbers beat the street: $AAPL up, guidance raised. " * 5
    head_seq, head_chain = 0, GENESIS
    for start in range(1, count + 1, 50_000):
        batch = []
        for seq in range(start, min(start + 50_000, count + 1)):
            record = {"seq": seq, "rev": seq, "id": f"{seq:024x}", "channel": channel, "user": "alice",
                      "text": text, "ts": f"{DAY1}T{seq // 3600 % 24:02d}:{seq // 60 % 60:02d}:{seq % 60:02d}.000Z"}  # fmt: skip
            batch.append(JournalEntry.model_construct(
                channel=channel, seq=seq, kind="message", ts=record["ts"], user="alice", record=record,
                content_hash=content_hash(record), chain=None, redacted_at=None,
            ))  # fmt: skip
        chains = extend(head_seq, head_chain, batch)
        await store.journal_append(batch)
        await store.journal_set_chains(channel, chains)
        head_seq, head_chain = chains[-1]


@pytest.mark.timeout(240)
async def test_a_large_export_streams_without_holding_the_journal_in_memory(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/large.sqlite3")
    try:
        await fill_large(store, "desk", LARGE)
        reports: list[int] = []

        async def report(done: ExportProgress) -> None:
            reports.append(done.events)

        tracemalloc.start()
        try:
            result = await export(
                store, ExportSpec("jsonl", date(2026, 3, 1), date(2026, 3, 1)), tmp_path / "out", progress=report
            )
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    finally:
        await store.close()
    exported = tmp_path / "out" / "desk.jsonl"
    assert result.progress.events == LARGE and exported.stat().st_size > 130_000_000
    assert peak < 4_000_000, f"peak {peak / 1e6:.1f} MB while writing {exported.stat().st_size / 1e6:.0f} MB"
    assert manifest_of(tmp_path / "out")["files"] == {"desk.jsonl": sha256(exported)}
    assert reports[:3] == [5000, 10000, 15000] and reports[-1] == LARGE  # progress as it goes, not only at the end
