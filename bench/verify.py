"""`investor-chat archive verify` on a 1,000,000-event SQLite journal: the issue's bar is under a minute.

    python bench/verify.py                            # 1,000,000 events over 10 channels
    python bench/verify.py --events 200000 --channels 4 --keep /tmp/journal.sqlite3

The journal is filled straight through the store (Store.journal_append in batches of 50,000, each entry
chained beforehand with core.journal.extend, each channel's head set at the end): chat messages with an edit
or a reaction now and then and a moderation event in every 50, records of the size the archiver writes. Then
the real command runs in a child process, as an operator runs it, and is timed from start to exit: events,
seconds, events/s. Its last line (the verdict) is printed too; it must say intact.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.changes import fold
from core.journal import GENESIS, JournalEntry, entry_of, extend
from core.models import Change, ChangeKind, ChannelEvent, Message, Record
from core.store import Store, open_store

BATCH = 50_000
LIMIT_S = 60.0
TEXT = "the desk sees rates lower into the close while $VOD and $AAPL.US lead on volume today, watching 72.5p"


def record(channel: str, seq: int) -> Record:
    ts = f"2026-12-{1 + seq // 40_000 % 28:02d}T{seq // 1000 % 24:02d}:{seq // 20 % 60:02d}:{seq % 60:02d}.000Z"
    message = Message(
        id=f"{seq:024x}", channel=channel, seq=seq, rev=seq,
        user=f"trader{seq % 300}", text=f"{TEXT} #{seq}", ts=ts,
    )  # fmt: skip
    if seq % 50 == 0:
        return ChannelEvent(channel=channel, seq=seq, kind="muted", by="mod", ts=ts, target="carol", until=ts)
    if seq % 10 == 0:  # a change of the message before it
        kind: ChangeKind = "edit" if seq % 20 == 0 else "react"
        folded = fold(message, kind, message.user, ts, text=f"{TEXT} (edited)", emoji="🐂")
        assert folded is not None
        emoji = "🐂" if kind == "react" else None
        folded = folded.model_copy(update={"rev": seq})
        return Change(seq=seq, kind=kind, channel=channel, by=message.user, ts=ts, emoji=emoji, message=folded)
    return message


async def fill(store: Store, events: int, channels: int) -> None:
    per = events // channels
    for k in range(channels):
        channel = f"desk-{k:02d}"
        head = (0, GENESIS)
        for start in range(1, per + 1, BATCH):
            entries: list[JournalEntry] = [
                entry_of(record(channel, s)) for s in range(start, min(per, start + BATCH - 1) + 1)
            ]
            for entry, (_, chain) in zip(entries, extend(*head, entries), strict=True):
                entry.chain = chain
            await store.journal_append(entries)
            head = (entries[-1].seq, entries[-1].chain or GENESIS)
        await store.journal_set_chains(channel, [head])
        print(f"filled {channel}: {per:,} events", flush=True)


def verify(path: Path) -> tuple[float, str, int]:
    """Seconds the real command takes, its last line, its exit status."""
    command = [
        str(Path(sys.executable).parent / "investor-chat"),
        "archive",
        "verify",
        "--storage-url",
        f"sqlite:///{path}",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - started
    return seconds, (done.stdout.strip().splitlines() or [done.stderr.strip()])[-1], done.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--channels", type=int, default=10)
    ap.add_argument("--keep", type=Path, help="build (or reuse) the journal at this path and keep it")
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="investor-chat-verify-"))
    path = a.keep or root / "journal.sqlite3"
    try:
        if not path.exists():
            started = time.perf_counter()
            asyncio.run(_fill(path, a.events, a.channels))
            print(f"fill: {a.events:,} events in {time.perf_counter() - started:.1f} s", flush=True)
        seconds, verdict, status = verify(path)
        print(f"verify: {verdict} (exit {status})")
        print(f"events {a.events:,}  seconds {seconds:.1f}  events/s {a.events / seconds:,.0f}  (bar: {LIMIT_S:.0f} s)")
        if status != 0 or seconds >= LIMIT_S:
            raise SystemExit(1)
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def _fill(path: Path, events: int, channels: int) -> None:
    store = await open_store(f"sqlite:///{path}")
    try:
        await fill(store, events, channels)
    finally:
        await store.close()


if __name__ == "__main__":
    main()
