"""core/bus/redis_client.py: the Redis client of the bus and the bot, its connections and its pipelines."""

from __future__ import annotations

from redis.asyncio.connection import Connection as RedisConnection

from core.bus.redis_client import hiredis_packing


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
