"""Shared by the bus tests: a draft message, what the archive stream holds, a stream read."""

from __future__ import annotations

from core.bus import ARCHIVE_STREAM, Bus, Entry
from core.models import Message, new_id, now_iso

STREAM = "test:jobs"


def draft(channel: str = "general", text: str = "hello") -> Message:
    return Message(id=new_id(), channel=channel, user="alice", text=text, ts=now_iso())


async def archived(bus: Bus) -> list[Message]:
    entries = await bus.read(ARCHIVE_STREAM, "check", "c", count=1000, block_ms=0, claim_idle_ms=60_000)
    return [Message.model_validate_json(e.data) for e in entries]


async def read(
    bus: Bus, consumer: str, *, group: str = "workers", idle_ms: int = 60_000, block_ms: int = 0
) -> list[Entry]:
    return await bus.read(STREAM, group, consumer, count=10, block_ms=block_ms, claim_idle_ms=idle_ms)
