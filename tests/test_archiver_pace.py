"""archiver/worker.py's pace: after a short batch it lets the stream fill, longer while every channel is quiet
(fewer, larger store writes where a batch touches hundreds of channels), never so long that a reader catching
up finds messages neither the archive nor the bus's recent buffer holds."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from archiver.worker import LAG_QUOTA, LINGER, LINGER_MAX, Archiver, linger
from core.bus.memory import MemoryBus
from core.errors import ChatError
from core.models import Message, new_id, now_iso
from core.posting import publish, read_history
from core.store.sqlite import SqliteStore


def test_quiet_channels_let_the_stream_fill_longer_and_a_busy_one_keeps_the_wait_short() -> None:
    assert linger(busiest=3, span=0.2, work=0.01) == LINGER_MAX  # 15 a second: LAG_QUOTA takes seconds
    assert linger(busiest=80, span=0.1, work=0.01) == LINGER  # 800 a second: as short as ever
    rate = 250  # LAG_QUOTA of them arrive in LAG_QUOTA / rate seconds, less the time the batch took to store
    assert linger(busiest=25, span=25 / rate, work=0.02) == pytest.approx(LAG_QUOTA / rate - 0.02)
    assert linger(busiest=0, span=0.1, work=0.0) == LINGER and linger(busiest=5, span=None, work=0.0) == LINGER


@pytest.mark.serial  # a rate against the archiver's pace: the parallel run's load would be measured too
async def test_a_reader_catching_up_is_never_refused_when_a_quiet_channel_turns_busy(tmp_path: Path) -> None:
    """Many quiet channels (the archiver waits its longest), then one of them posts 200 a second: a reader 250
    messages behind, further than the bus keeps, gets all 250 in order every time it asks (the archive has
    what the bus let go)."""
    bus, store = MemoryBus(), await SqliteStore.open(str(tmp_path / "archive.sqlite3"))
    stop = asyncio.Event()
    archiving = asyncio.create_task(Archiver(bus, store).run(stop))

    async def post(channel: str, i: int) -> int:
        message = Message(id=new_id(), channel=channel, user=f"u{i % 7}", text=f"hello {i}", ts=now_iso())
        return (await publish(bus, store, message))[0].seq or 0

    try:
        for round_ in range(10):  # 0.5 s of 100 quiet channels
            for k in range(100):
                await post(f"quiet-{k}", round_)
            await asyncio.sleep(0.05)
        latest, refused = 0, 0
        for i in range(400):  # 2 s at 200 a second in one of them
            latest = await post("quiet-0", i)
            if latest > 250 and i % 4 == 0:
                try:
                    page, _ = await read_history(store, bus, "quiet-0", limit=250, after=latest - 250)
                except ChatError:
                    refused += 1
                    continue
                assert [m.seq for m in page] == list(range(latest - 249, latest + 1))
            await asyncio.sleep(0.005)
        assert refused == 0
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(archiving, 10)
        await store.close()
