"""Posting and reading messages through the bus and the store, shared by server nodes and the bot."""

from __future__ import annotations

from core.bus import Limit, Posting, SeqUnseeded
from core.errors import ChatError
from core.models import Message
from core.store import Store


async def publish(
    bus: Posting, store: Store, message: Message, dedup_key: str | None = None, limit: Limit | None = None
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
    store: Store, bus: Posting, channel: str, *, limit: int, before: int | None = None, after: int | None = None
) -> tuple[list[Message], bool]:
    """History from the store, completed by messages still on the bus that the archiver has not
    written yet, so a reader never misses an acknowledged message. If the archiver lags by more than the
    bus keeps, a page that would reach into the messages held by neither is refused (`history_catching_up`)
    rather than served with a silent gap."""
    stored, more = await store.history(channel, limit=limit, before=before, after=after)
    buffered = await bus.recent(channel, after or 0)
    pending = [m for m in buffered if before is None or (m.seq or 0) < before]
    page = stored
    if pending:
        by_seq = {m.seq: m for m in stored}
        for m in pending:
            by_seq.setdefault(m.seq, m)
        merged = [by_seq[s] for s in sorted(s for s in by_seq if s is not None)]
        more = more or len(merged) > limit
        page = merged[:limit] if after is not None else merged[-limit:]
    if buffered and await _reaches_unarchived(store, channel, page, buffered[0].seq or 0, limit, before, after):
        raise ChatError("history_catching_up", "Older messages are still being archived; try again shortly", 503)
    return page, more


async def _reaches_unarchived(
    store: Store, channel: str, page: list[Message], oldest: int, limit: int, before: int | None, after: int | None
) -> bool:
    """Whether the right page holds messages neither the store (it ends at its last seq) nor the bus (it
    begins at `oldest`) has: those the archiver has yet to write after the bus let them go."""
    low, high = (after or 0) + 1, min(oldest, before or oldest) - 1  # seqs of the range below the bus's
    if low > high:
        return False
    if len(page) == limit:
        if after is None and (page[0].seq or 0) >= oldest:
            return False  # the newest page, all of it still on the bus: any gap lies below it
        if after is not None and (page[-1].seq or 0) <= high:
            return False  # a page onwards from `after`, all of it below the bus's: any gap lies above it
    return await store.last_seq(channel) < high


async def last_seq(store: Store, bus: Posting, channel: str) -> int:
    recent = await bus.recent(channel)
    return max([await store.last_seq(channel)] + [m.seq or 0 for m in recent])
