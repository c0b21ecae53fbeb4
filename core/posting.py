"""Posting, changing and reading messages through the bus and the store, shared by server nodes and the bot.
Reads fold in what is still on the bus and not yet archived, so nothing acknowledged is ever missing."""

from __future__ import annotations

import asyncio
import weakref
from datetime import datetime, timedelta
from typing import Any

from core.bus import Conflict, Limit, Posting, SeqUnseeded
from core.changes import check_allowed, fold, not_found
from core.errors import ChatError
from core.models import Change, ChangeKind, Channel, ChannelEvent, Message, Record, now_iso, utcnow
from core.store import PINS_MAX, Store, with_counts
from core.trading import Idea

REDACTABLE_AFTER = timedelta(days=1)  # the shortest retention (CHAT_RETENTION_DAYS >= 1): nothing younger is redacted
CHANGE_ATTEMPTS = 5  # folds of one change against a message other nodes keep changing, before giving up


# the seeds being read from the store, per bus and channel: every post that finds the channel unseeded meanwhile
# waits for the same one
_SEEDING: weakref.WeakKeyDictionary[Any, dict[str, asyncio.Future[None]]] = weakref.WeakKeyDictionary()


async def seed(bus: Posting, store: Store, channel: str) -> None:
    """Make the bus's seq counter of `channel` continue after the archive (a fresh bus: the first post since
    start, or Redis lost its keys), with one store read however many posts find it unseeded at once: a node
    restarted under load would otherwise ask the store once per send until the first answer came, and the
    queries queued behind each other would keep every send waiting."""
    seeding = _SEEDING.setdefault(bus, {})
    pending = seeding.get(channel)
    if pending is None:
        pending = seeding[channel] = asyncio.ensure_future(_seed(bus, store, channel))
        pending.add_done_callback(lambda _: seeding.pop(channel, None))
    await asyncio.shield(pending)


async def _seed(bus: Posting, store: Store, channel: str) -> None:
    await bus.seed_seq(channel, await store.last_seq(channel))


async def publish(
    bus: Posting, store: Store, message: Message, dedup_key: str | None = None, limit: Limit | None = None
) -> tuple[Message, bool]:
    """Give `message` its seq and queue it for the archive; (first message, True) for a repeat.
    Raises RateLimited when `limit` has no token left."""
    try:
        return await bus.post(message, dedup_key, limit)
    except SeqUnseeded:
        await seed(bus, store, message.channel)
        return await bus.post(message, dedup_key, limit)


async def change(
    bus: Posting,
    store: Store,
    channel: Channel,
    message_id: str,
    kind: ChangeKind,
    by: str,
    *,
    moderator: bool,
    edit_window: float,
    now: datetime,
    text: str = "",
    emoji: str = "",
    mentions: list[str] | None = None,
    idea: Idea | None = None,
    limit: Limit | None = None,
) -> Message:
    """Make one change to a message of `channel` on `by`'s behalf and return the message after it: the
    change takes the channel's next seq and reaches every member as `message_updated`. A change that
    changes nothing (a second 🐂 from the same user) posts nothing and returns the message as it is.
    Raises the ChatError that refuses it, and RateLimited when `limit` has no token left."""
    base = await find_message(bus, store, channel.name, message_id)
    for _ in range(CHANGE_ATTEMPTS):
        if base is None or base.seq is None:
            raise not_found(message_id)
        check_allowed(kind, base, by, moderator=moderator, edit_window=edit_window, now=now)
        ts = now_iso()
        after = fold(base, kind, by, ts, text=text, emoji=emoji, mentions=mentions, idea=idea)
        if after is None:
            return base
        draft = Change(kind=kind, channel=channel.name, by=by, ts=ts, emoji=emoji or None, message=after)
        expected = base.rev or base.seq
        try:
            try:
                return (await bus.post_change(draft, expected, limit)).message
            except SeqUnseeded:
                await seed(bus, store, channel.name)
                return (await bus.post_change(draft, expected, limit)).message
        except Conflict as conflict:  # another change came first: fold onto it
            base = conflict.current
    raise ChatError("rate_limited", "That message is changing fast; try again in a moment", 429)


async def post_event(bus: Posting, store: Store, event: ChannelEvent) -> ChannelEvent:
    """Give a channel event the channel's next seq and send it to the members and the archive."""
    try:
        return await bus.post_event(event)
    except SeqUnseeded:
        await seed(bus, store, event.channel)
        return await bus.post_event(event)


async def read_events(store: Store, bus: Posting, channel: str, *, after: int, limit: int) -> list[ChannelEvent]:
    """The channel's events with seq > after in seq order: the archive's, then those only the bus holds yet."""
    stored = await store.events(channel, after=after, limit=limit)
    by_seq = {e.seq: e for e in stored}
    for record in await bus.recent(channel, after):
        if isinstance(record, ChannelEvent):
            by_seq.setdefault(record.seq, record)
    return [by_seq[s] for s in sorted(s for s in by_seq if s is not None)][:limit]


async def find_message(bus: Posting, store: Store, channel: str, message_id: str) -> Message | None:
    """A message of `channel` as its latest change left it, wherever that is known: the bus (its memory of
    changed messages, its buffer of recent ones), else the archive. Without its reply_count (a count, not
    a state)."""
    found = await bus.find(channel, message_id)
    if found is not None and _redactable(found):
        # the bus keeps a quiet channel's last records for long: retention may have redacted this one since
        stored = await store.get_message(channel, message_id)
        found = stored if stored is not None and stored.redacted else found
    if found is None:
        found = await store.get_message(channel, message_id)
    if found is None:
        buffered = await bus.recent(channel)
        if buffered and await store.last_seq(channel) < (buffered[0].seq or 0) - 1:
            # the archiver lags past what the bus keeps: the message may be in neither yet
            raise ChatError("history_catching_up", "Recent messages are still being archived; try again shortly", 503)
    if found is None or found.channel != channel:
        return None
    return found.model_copy(update={"reply_count": None}) if found.reply_count is not None else found


def _redactable(message: Message) -> bool:
    """Whether retention may have redacted the message: it is older than the shortest retention, a day."""
    return datetime.fromisoformat(message.ts.replace("Z", "+00:00")) < utcnow() - REDACTABLE_AFTER


def _latest(records: list[Record]) -> dict[str, Message]:
    """Each message of the buffer as its latest record there left it (records come in seq order)."""
    latest: dict[str, Message] = {}
    for record in records:
        if isinstance(record, ChannelEvent):
            continue
        message = record.message if isinstance(record, Change) else record
        latest[message.id] = message
    return latest


def _refresh(messages: list[Message], latest: dict[str, Message]) -> list[Message]:
    """Messages read from the archive, with the changes the bus holds and the archive has yet to get."""
    out = []
    for m in messages:
        newer = latest.get(m.id)
        if newer is not None and (newer.rev or 0) > (m.rev or m.seq or 0):
            m = newer.model_copy(update={"reply_count": m.reply_count})
        out.append(m)
    return out


def _count_replies(messages: list[Message], unarchived: list[Message]) -> list[Message]:
    """reply_count on roots, with the replies the archive does not have yet."""
    extra: dict[str, int] = {}
    for m in unarchived:
        if m.reply_to is not None:
            extra[m.reply_to] = extra.get(m.reply_to, 0) + 1
    if not extra:
        return messages
    return [
        m.model_copy(update={"reply_count": (m.reply_count or 0) + extra[m.id]}) if m.id in extra else m
        for m in messages
    ]


async def read_history(
    store: Store, bus: Posting, channel: str, *, limit: int, before: int | None = None, after: int | None = None
) -> tuple[list[Message], bool]:
    """History from the store, completed by what is still on the bus that the archiver has not written
    yet (messages and changes), so a reader never misses an acknowledged message or change. If the
    archiver lags by more than the bus keeps, a page that would reach into the messages held by neither is
    refused (`history_catching_up`) rather than served with a silent gap."""
    stored, more = await store.history(channel, limit=limit, before=before, after=after)
    buffered = await bus.recent(channel)
    latest = _latest(buffered)
    archived = await store.last_seq(channel) if buffered else 0
    posts = [r for r in buffered if isinstance(r, Message)]
    # whatever the archive holds wins; the buffer fills in what it does not hold yet, whatever it has
    # written of later records (a batch lands all at once on SQLite, one write after another on MongoDB)
    pending = [m for m in posts if (m.seq or 0) > (after or 0) and (before is None or (m.seq or 0) < before)]
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
    unarchived = [m for m in posts if (m.seq or 0) > archived]
    return _count_replies(_refresh(page, latest), unarchived), more


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


async def read_changes(
    store: Store, bus: Posting, channel: str, *, after: int, limit: int
) -> tuple[list[Message], bool]:
    """Every message whose rev > after (new or changed since), folded, the oldest changes first, and
    whether more remain: a client away since seq `after` pages on from the highest rev it got."""
    buffered = await bus.recent(channel, after)
    archived = await store.last_seq(channel)
    if buffered and after < (buffered[0].seq or 0) - 1 and archived < (buffered[0].seq or 0) - 1:
        raise ChatError("history_catching_up", "Older changes are still being archived; try again shortly", 503)
    stored, more = await store.changed(channel, after=after, limit=limit)
    ceiling = max((m.rev or 0) for m in stored) if more and stored else None
    by_id = {m.id: m for m in stored}
    uncounted = []  # roots known from the bus alone: their archived replies are counted below
    for m in _latest(buffered).values():
        rev = m.rev or m.seq or 0
        known = by_id.get(m.id)
        if (ceiling is None or rev <= ceiling) and (known is None or rev > (known.rev or known.seq or 0)):
            by_id[m.id] = m if known is None else m.model_copy(update={"reply_count": known.reply_count})
            if known is None and m.reply_to is None:
                uncounted.append(m.id)
    page = sorted(by_id.values(), key=lambda m: m.rev or m.seq or 0)[:limit]
    more = more or len(by_id) > limit
    page = with_counts(page, await store.reply_counts(channel, uncounted))
    # the replies the archive had not written when it was counted: its last seq read again after the counts (a
    # reply archived between the first read and the counts is counted there, and must not count twice)
    archived = await store.last_seq(channel)
    unarchived = [r for r in buffered if isinstance(r, Message) and (r.seq or 0) > archived]
    return _count_replies(page, unarchived), more


async def read_replies(
    store: Store, bus: Posting, channel: str, root: str, *, after: int, limit: int
) -> tuple[list[Message], bool]:
    """A thread's replies with seq > after, in seq order, and whether more remain."""
    stored, more = await store.replies(channel, root, after=after, limit=limit)
    buffered = await bus.recent(channel, after)
    by_seq = {m.seq: m for m in stored}
    top = max((m.seq or 0) for m in stored) if more and stored else None  # a full page: nothing past it
    for m in _latest(buffered).values():
        if m.reply_to == root and (m.seq or 0) > after and (top is None or (m.seq or 0) < top):
            by_seq.setdefault(m.seq, m)
    page = _refresh([by_seq[s] for s in sorted(s for s in by_seq if s is not None)], _latest(buffered))
    return page[:limit], more or len(page) > limit


async def read_pins(store: Store, bus: Posting, channel: str) -> list[Message]:
    """The channel's pinned messages in seq order, changes the archive has yet to get included."""
    by_id = {m.id: m for m in await store.pins(channel)}
    buffered = await bus.recent(channel)
    archived = await store.last_seq(channel) if buffered else 0
    for m in _latest(buffered).values():
        known = by_id.get(m.id)
        if known is not None and (m.rev or 0) <= (known.rev or known.seq or 0):
            continue
        if known is None and (m.rev or 0) <= archived:
            continue  # archived and not pinned there: unpinned, deleted or redacted since
        if m.pinned:
            by_id[m.id] = m.model_copy(update={"reply_count": None if known is None else known.reply_count})
        else:
            by_id.pop(m.id, None)
    pins = sorted(by_id.values(), key=lambda m: m.seq or 0)[:PINS_MAX]
    uncounted = [m.id for m in pins if m.reply_count is None and m.reply_to is None]
    pins = with_counts(pins, await store.reply_counts(channel, uncounted))
    return _count_replies(pins, [r for r in buffered if isinstance(r, Message) and (r.seq or 0) > archived])


async def last_seq(store: Store, bus: Posting, channel: str) -> int:
    """The channel's highest seq, a message's or a change's."""
    recent = await bus.recent(channel)
    return max([await store.last_seq(channel)] + [r.seq or 0 for r in recent])
