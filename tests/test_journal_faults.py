"""The archiver process SIGKILLed mid-burst while it holds entries it read and has not acknowledged, then
restarted (#24): every channel's chain comes out intact and complete, on both stores."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio

from core.bus import ARCHIVE_STREAM, Bus, open_bus
from core.models import ChannelEvent, Message, Record, now_iso
from core.store import Store, open_store
from server import archive_cli
from tests.apps import SECRET
from tests.scripts import ROOT
from tests.test_archive_verify import change, say

CHANNELS = ("desk-a", "desk-b", "desk-c")
PER_CHANNEL = 500


async def start_archiver(redis_url: str, store_url: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")} | {
        "PYTHONPATH": str(ROOT), "CHAT_BUS_URL": redis_url, "CHAT_STORAGE_URL": store_url,
        "CHAT_SECRET_KEY": SECRET, "CHAT_HEALTH_PORT": "0", "CHAT_LOG_LEVEL": "WARNING",
    }  # fmt: skip
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "archiver", env=env)


async def burst(bus: Bus, channel: str, count: int) -> list[Record]:
    """Posts with a reaction on every tenth and a moderation event in every fifty, a little apart."""
    records: list[Record] = []
    last: Message | None = None
    while len(records) < count:
        n = len(records)
        if n % 50 == 49:
            records.append(
                await bus.post_event(
                    ChannelEvent(channel=channel, kind="muted", by="mod", ts=now_iso(), target="eve", until=now_iso())
                )
            )
        elif n % 10 == 9 and last is not None:
            records.append(await change(bus, last, "react", "bob", emoji="🚀"))
        else:
            records.append(last := await say(bus, "alice", f"tick {n}", channel))
        await asyncio.sleep(0.002)
    return records


async def pending(redis_url: str) -> int:
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        groups = await client.xinfo_groups(ARCHIVE_STREAM)
        return sum(int(g["pending"]) for g in groups if g["name"] in (b"archiver", "archiver"))
    finally:
        await client.aclose()


async def journaled(store: Store) -> dict[str, int]:
    return {name: seq for name, seq, _ in await store.journal_heads()}


async def kill_holding_entries(archiver: asyncio.subprocess.Process, redis_url: str) -> int:
    """SIGKILL the archiver while it holds entries it has not acked: freeze it, look, kill it frozen if it
    holds some, else let it run a moment and look again. How many it held."""
    for _ in range(300):
        archiver.send_signal(signal.SIGSTOP)
        held = await pending(redis_url)
        if held:
            archiver.kill()
            await archiver.wait()
            return held
        archiver.send_signal(signal.SIGCONT)
        await asyncio.sleep(0.005)
    pytest.fail("the archiver never held unacknowledged entries")


async def until(condition: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not await condition():
                await asyncio.sleep(0.1)
    except TimeoutError:
        pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.mark.timeout(120)
async def test_an_archiver_killed_mid_burst_and_restarted_leaves_every_chain_intact(
    redis_url: str, store_url: str
) -> None:
    bus = open_bus(redis_url)
    store = await open_store(store_url)
    archiver = await start_archiver(redis_url, store_url)
    try:
        for channel in CHANNELS:
            await bus.seed_seq(channel, 0)
        sending = [asyncio.create_task(burst(bus, channel, PER_CHANNEL)) for channel in CHANNELS]
        await until(lambda: _more_than(store, 150), 30, "the archiver journaling the first of the burst")
        held = await kill_holding_entries(archiver, redis_url)
        at_kill = await journaled(store)
        records = dict(zip(CHANNELS, await asyncio.gather(*sending), strict=True))
        archiver = await start_archiver(redis_url, store_url)  # its entries are claimed once idle (10 s)
        expected = {channel: PER_CHANNEL for channel in CHANNELS}
        await until(lambda: _journaled_is(store, expected), 60, "every record chained after the restart")
        print(
            f"\n[archiver kill -9] held at kill {held}, chained at kill {at_kill}, records {len(CHANNELS) * PER_CHANNEL}"
        )
        assert sum(at_kill.values()) < len(CHANNELS) * PER_CHANNEL  # killed mid-burst
        assert all(len(r) == PER_CHANNEL and r[-1].seq == PER_CHANNEL for r in records.values())
        for channel in CHANNELS:
            seqs = [entry.seq async for entry in store.journal_scan(channel)]
            assert seqs == list(range(1, PER_CHANNEL + 1))  # each record once
        status, _ = await asyncio.to_thread(lambda: (archive_cli.main(["verify", "--storage-url", store_url]), None))
        assert status == 0
    finally:
        if archiver.returncode is None:
            archiver.terminate()
            await archiver.wait()
        await store.close()
        await bus.close()


async def _more_than(store: Store, count: int) -> bool:
    return sum((await journaled(store)).values()) > count


async def _journaled_is(store: Store, expected: dict[str, int]) -> bool:
    return await journaled(store) == expected
