"""core/bus/redis_client.py: the Redis client of the bus and the bot, its connections and its batches."""

from __future__ import annotations

import asyncio

from redis.asyncio.connection import Connection as RedisConnection

from core.bus.redis_client import Batcher, hiredis_packing


def test_commands_are_packed_byte_for_byte_as_redis_py_packs_them() -> None:
    """The bus's Redis connections pack commands with hiredis (core/bus/redis_client.py): same bytes on the wire."""
    python_packed, hiredis_packed = RedisConnection(), hiredis_packing(RedisConnection)()
    commands = [
        ("EVALSHA", "abc", 2, "chat:seq:général", b"\x00\xff", 1000.0, 0.1, 1e20, -3, 12345678901234567890),
        ("CONFIG GET", "maxmemory"),
        ("SET", "k", "€" * 10_000),
    ]
    for command in commands:
        assert b"".join(hiredis_packed.pack_command(*command)) == b"".join(python_packed.pack_command(*command))
    assert b"".join(hiredis_packed.pack_commands(commands)) == b"".join(python_packed.pack_commands(commands))


async def test_calls_of_one_turn_leave_as_one_batch_and_later_ones_wait_for_it() -> None:
    sent: list[list[int]] = []
    release = asyncio.Event()

    async def send(batch: list[int]) -> list[int | Exception]:
        sent.append(batch)
        await release.wait()
        return [ValueError(f"no {n}") if n == 3 else n * 10 for n in batch]

    batcher: Batcher[int, int] = Batcher(send, max_batch=4)
    first = [batcher.submit(n) for n in range(3)]
    await asyncio.sleep(0.01)
    later = [batcher.submit(n) for n in range(3, 9)]  # while the first batch is out
    await asyncio.sleep(0.01)
    assert sent == [[0, 1, 2]]
    release.set()
    results = await asyncio.gather(*first, *later, return_exceptions=True)
    assert sent == [[0, 1, 2], [3, 4, 5, 6], [7, 8]]  # at most max_batch at a time, in call order
    assert [r if isinstance(r, int) else str(r) for r in results] == [0, 10, 20, "no 3", 40, 50, 60, 70, 80]


async def test_a_failed_batch_fails_its_callers_only() -> None:
    async def send(batch: list[str]) -> list[str | Exception]:
        if "boom" in batch:
            raise ConnectionError("Redis went away")
        return [s.upper() for s in batch]

    batcher: Batcher[str, str] = Batcher(send, max_batch=10)
    failed = await asyncio.gather(batcher.submit("boom"), batcher.submit("x"), return_exceptions=True)
    assert [type(r) for r in failed] == [ConnectionError, ConnectionError]
    assert await batcher.submit("y") == "Y"


async def test_under_load_batches_are_spaced_yet_a_call_after_a_quiet_spell_leaves_at_once() -> None:
    loop = asyncio.get_running_loop()
    left: list[tuple[float, list[int]]] = []

    async def send(batch: list[int]) -> list[int | Exception]:
        left.append((loop.time(), batch))
        return list(batch)

    batcher: Batcher[int, int] = Batcher(send, max_batch=100, spacing=0.05)
    start = loop.time()
    assert await batcher.submit(0) == 0  # nothing left before it: no wait
    calls = [batcher.submit(n) for n in range(1, 4)]
    await asyncio.sleep(0.01)
    calls += [batcher.submit(n) for n in range(4, 6)]
    assert await asyncio.gather(*calls) == [1, 2, 3, 4, 5]
    assert [batch for _, batch in left] == [[0], [1, 2, 3, 4, 5]]  # the calls within the spacing: one batch
    assert left[0][0] - start < 0.02
    assert left[1][0] - left[0][0] >= 0.05
    await asyncio.sleep(0.06)  # a quiet spell longer than the spacing
    quiet = loop.time()
    assert await batcher.submit(6) == 6
    assert left[2][0] - quiet < 0.02
