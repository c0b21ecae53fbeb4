"""What archiving costs per message: the CPU of Archiver.process_batch draining a queue of messages into SQLite.

    python bench/archive_cost.py                       # 20,000 messages over 20 channels, 3 rounds
    python bench/archive_cost.py --messages 50000 --channels 100 --rounds 5
    python bench/archive_cost.py --channels 500 --batch 400   # rooms of 2 at 4,000 sends/s: a batch a LINGER
    python bench/archive_cost.py --mongodb-url mongodb://127.0.0.1:27017   # into MongoDB instead

Each round fills an in-memory bus's archive stream with chat messages (an ordinary text, a cashtag now and then,
seqs 1..N per channel as the bus gives them), then drains it batch by batch through the real Archiver into a fresh
SQLite store in a temp dir (or a fresh MongoDB database, dropped after): everything the archiver writes (the
messages, their search index and, since #24, the compliance journal and its chains). Filling is not timed. CPU
time is this process's (time.process_time: the event loop and aiosqlite's thread; not the MongoDB server's),
wall time the drain's; per message, with the median of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import pymongo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archiver import worker
from archiver.worker import Archiver
from core.bus import ARCHIVE_STREAM
from core.bus.memory import MemoryBus
from core.models import Message, new_id
from core.store import open_store

TEXT = "the desk sees rates lower into the close while $VOD and $AAPL.US lead on volume today"
WORDS = TEXT.split(" ")


def wire(channel: int, seq: int, n: int) -> bytes:
    text = " ".join(WORDS[(n + k) % len(WORDS)] for k in range(8 + n % 7))
    message = Message(
        id=new_id(), channel=f"desk-{channel}", seq=seq, rev=seq, user=f"trader{n % 200}", text=text,
        ts=f"2026-12-01T14:{n // 6000 % 60:02d}:{n // 100 % 60:02d}.{n % 100:02d}0Z",
    )  # fmt: skip
    return orjson.dumps(message.wire())


async def one_round(root: Path, messages: int, channels: int, mongodb_url: str | None) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of draining `messages` into a new store."""
    bus = MemoryBus()
    for n in range(messages):
        await bus.append(ARCHIVE_STREAM, wire(n % channels, n // channels + 1, n))
    name = f"archive-{time.monotonic_ns()}"
    path = root / f"{name}.sqlite3"
    url = urlsplit(mongodb_url)._replace(path=f"/{name}").geturl() if mongodb_url else f"sqlite:///{path}"
    store = await open_store(url)
    try:
        archiver = Archiver(bus, store)
        cpu, wall = time.process_time(), time.perf_counter()
        done = 0
        while done < messages:
            stored = await archiver.process_batch(block_ms=0)
            assert stored, f"the archiver stopped at {done} of {messages}"
            done += stored
        return time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await store.close()
        if mongodb_url:
            client: pymongo.MongoClient[dict[str, object]]
            with pymongo.MongoClient(url) as client:
                client.drop_database(name)
        else:
            path.unlink()


async def run(a: argparse.Namespace, root: Path) -> None:
    rounds = []
    for n in range(a.rounds):
        cpu, wall = await one_round(root, a.messages, a.channels, a.mongodb_url)
        rounds.append((cpu, wall))
        print(
            f"round {n + 1}: {a.messages:,} messages, CPU {cpu:.2f} s ({cpu / a.messages * 1e6:.0f} µs/message), "
            f"wall {wall:.2f} s ({a.messages / wall:,.0f} messages/s)",
            flush=True,
        )
    cpu = statistics.median(r[0] for r in rounds)
    wall = statistics.median(r[1] for r in rounds)
    print(
        f"median: CPU {cpu / a.messages * 1e6:.0f} µs/message, {a.messages / wall:,.0f} messages/s "
        f"({a.messages:,} messages over {a.channels} channels, batches of {a.batch}, {a.rounds} rounds)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--channels", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=worker.BATCH, help="entries a batch at most (the archiver's BATCH)")
    ap.add_argument("--mongodb-url", help="archive into MongoDB there, a fresh database each round, not SQLite")
    a = ap.parse_args()
    worker.BATCH = a.batch
    root = Path(tempfile.mkdtemp(prefix="investor-chat-archive-cost-"))
    try:
        asyncio.run(run(a, root))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
