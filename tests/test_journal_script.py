"""The auditor's script of docs/compliance.md (scripts/verify_export.py, Python's standard library alone) on JSON Lines
written from the journal of a channel archived through the real Archiver, on both stores: intact as archived,
from a later seq with the chain before it, with a redacted record; broken once one byte of a record changes."""

from __future__ import annotations

import re
from pathlib import Path

import orjson

from archiver.worker import Archiver
from core.bus.memory import MemoryBus
from core.journal import JournalEntry
from core.store import Store
from tests.scripts import ROOT, run
from tests.test_archive_verify import CHANNEL, a_day_of_chat, drain, say

SCRIPT = ROOT / "scripts" / "verify_export.py"
AWKWARD = 'tab\there, newline\nthere, "quotes" and \\ back, \x01\x1f\x7f, \u2028 \u00e9\u00e8 \U0001f680 £72.5p'


def write_jsonl(path: Path, entries: list[JournalEntry]) -> None:
    """The export's <channel>.jsonl: one entry a line, {channel, seq, kind, ts, user, record, content_hash, chain}."""
    with path.open("wb") as out:
        for e in entries:
            line = {
                "channel": e.channel, "seq": e.seq, "kind": e.kind, "ts": e.ts, "user": e.user, "record": e.record,
                "content_hash": e.content_hash, "chain": e.chain,
            }  # fmt: skip
            out.write(orjson.dumps(line) + b"\n")


async def auditor(path: Path, *chain_before: str) -> tuple[int, list[str]]:
    status, out, err = await run(str(SCRIPT), str(path), *chain_before, env={"PATH": ""})
    assert not err, err
    return status, out.splitlines()


async def test_the_auditors_script_recomputes_the_chain_and_catches_one_changed_byte(
    store: Store, tmp_path: Path
) -> None:
    bus = MemoryBus()
    await a_day_of_chat(bus)
    await say(bus, "alice", AWKWARD)  # every character JSON escapes, and some it need not
    await drain(bus, Archiver(bus, store))
    entries = [e async for e in store.journal_scan(CHANNEL)]
    seq, chain = await store.journal_head(CHANNEL)
    assert seq == 11
    export = tmp_path / f"{CHANNEL}.jsonl"

    write_jsonl(export, entries)
    assert await auditor(export) == (0, [f"intact: up to seq 11, chain {chain}"])

    write_jsonl(export, entries[4:])  # an export of a later day: the chain before it from the manifest
    assert await auditor(export, entries[3].chain or "") == (0, [f"intact: up to seq 11, chain {chain}"])

    redacted = [e.model_copy(update={"record": None}) if e.seq == 2 else e for e in entries]
    write_jsonl(export, redacted)  # retention took a record's content: its hash still chains
    assert await auditor(export) == (0, [f"intact: up to seq 11, chain {chain}"])

    write_jsonl(export, entries)
    text = export.read_bytes()
    export.write_bytes(text.replace(b"guaranteed 10x", b"guaranteed 20x", 1))  # one byte
    status, lines = await auditor(export)
    assert (status, lines[:-1]) == (1, ["seq 3: edited: the record does not match its content_hash"])
    assert lines[-1].startswith("broken: up to seq 11")

    write_jsonl(export, entries[:6] + entries[7:])  # the deletion of carol's message left out
    status, lines = await auditor(export)
    assert (status, lines[0]) == (1, "seq 8: gap: seq 7 to 7 missing")


def test_the_script_in_the_docs_is_the_script_in_the_repository() -> None:
    doc = (ROOT / "docs" / "compliance.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", doc, re.DOTALL)
    assert SCRIPT.read_text() in blocks
    assert len(SCRIPT.read_text().splitlines()) < 40  # a few lines an auditor reads at once
    assert set(re.findall(r"^import (\w+)", SCRIPT.read_text(), re.MULTILINE)) == {"hashlib", "json", "sys"}
