"""Posting and reading messages through the bus and the store, shared by server nodes and the bot."""

from __future__ import annotations

from core.bus import Bus, Limit, SeqUnseeded
from core.models import Message
from core.store import Store


async def publish(
    bus: Bus, store: Store, message: Message, dedup_key: str | None = None, limit: Limit | None = None
) -> tuple[Message, bool]:
    """Give `message` its seq and queue it for the archive; (first message, True) for a repeat.
    Raises RateLimited when `limit` has no token left."""
    try:
        return await bus.post(message, dedup_key, limit)
    except SeqUnseeded:
        # A fresh bus (first post since start, or Redis lost its keys) continues after the archive.
        await bus.seed_seq(message.channel, await store.last_seq(message.channel))
        return await bus.post(message, dedup_key, limit)


async def read_history(
    store: Store, bus: Bus, channel: str, *, limit: int, before: int | None = None, after: int | None = None
) -> tuple[list[Message], bool]:
    """History from the store, completed by messages still on the bus that the archiver has not
    written yet, so a reader never misses an acknowledged message."""
    stored, more = await store.history(channel, limit=limit, before=before, after=after)
    pending = [m for m in await bus.recent(channel, after or 0) if before is None or (m.seq or 0) < before]
    if not pending:
        return stored, more
    by_seq = {m.seq: m for m in stored}
    for m in pending:
        by_seq.setdefault(m.seq, m)
    merged = [by_seq[s] for s in sorted(s for s in by_seq if s is not None)]
    more = more or len(merged) > limit
    return (merged[:limit] if after is not None else merged[-limit:]), more


async def last_seq(store: Store, bus: Bus, channel: str) -> int:
    recent = await bus.recent(channel)
    return max([await store.last_seq(channel)] + [m.seq or 0 for m in recent])
