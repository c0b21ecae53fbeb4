"""The notifier: who a posted or edited message is for (mentions, DMs, keywords, watched cashtags, channels
set to `all`), decided once per message off the send path, kept in each user's inbox and handed to every
node as a notice, which delivers it to the user's connections (docs/protocol.md#notifications).

It reads the archive stream in a consumer group of its own, so it sees every record exactly as the
archiver does and acknowledges a batch only once its notifications are stored: a batch read again after
a crash notifies nobody twice (the store keeps one per message and user)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

import orjson
from pydantic import ValidationError

from core.bus import ARCHIVE_STREAM, Bus, consumer_name, unless_stopped
from core.models import (
    DM_PREFIX,
    Change,
    Channel,
    Message,
    Notification,
    NotificationKind,
    NotifyPrefs,
    is_change,
    is_channel_event,
    now_iso,
    ordered_id,
    parse_record,
)
from core.store import Store
from core.textscan import CHANNEL, HERE, WORD, cashtags, fold, words
from core.worker import StepCounter, run_steps

logger = logging.getLogger(__name__)
GROUP = "notifier"
BATCH = 500
BLOCK_MS = 1000
CLAIM_IDLE_MS = 10_000
LINGER = 0.1  # after a short batch, as the archiver: fewer, larger store writes at chat rates
PREFS_EVERY = 2.0  # seconds between looks for changed preferences
NOTICE_CHUNK = 200  # notifications per notice on the bus
SNIPPET = 140  # characters of the message a notification's text quotes
# One notification per message and user: the first reason in this order names it.
RANK: dict[NotificationKind, int] = {"mention": 0, "dm": 1, "keyword": 2, "cashtag": 3, "message": 4}


@dataclass
class Interests:
    """Everyone's preferences, indexed by what a message would match: lower-cased usernames throughout."""

    prefs: dict[str, tuple[str, NotifyPrefs]] = field(default_factory=dict)  # user -> (as registered, prefs)
    by_word: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)  # first word -> (user, phrase)
    by_cashtag: dict[str, set[str]] = field(default_factory=dict)
    everything: dict[str, set[str]] = field(default_factory=dict)  # channel -> users at level `all`
    since: str = ""

    def update(self, changed: list[tuple[str, NotifyPrefs, str]]) -> None:
        for user, prefs, updated_at in changed:
            self.prefs[user.lower()] = (user, prefs)
            self.since = max(self.since, updated_at)
        self.by_word, self.by_cashtag, self.everything = {}, {}, {}
        for user, (_, prefs) in self.prefs.items():
            for keyword in prefs.keywords:
                phrase = words(keyword)
                if phrase:
                    self.by_word.setdefault(phrase[0], []).append((user, phrase))
            for code in prefs.cashtags:
                self.by_cashtag.setdefault(code.upper(), set()).add(user)
            for channel, level in prefs.channels.items():
                if level == "all":
                    self.everything.setdefault(channel, set()).add(user)

    def may_match(self, channel: str, text: str) -> bool:
        """Whether someone's keywords, cashtags or `all` level could match a message of `channel` saying `text`:
        a superset of what _for finds, cheap enough to ask of every message."""
        if channel in self.everything or (self.by_cashtag and "$" in text):
            return True
        return bool(self.by_word) and any(fold(m.group(0)) in self.by_word for m in WORD.finditer(text))

    def level(self, user: str, channel: str) -> str | None:
        """The user's level for the channel, None when they set none."""
        found = self.prefs.get(user)
        return None if found is None else found[1].channels.get(channel)


class Notifier:
    def __init__(self, bus: Bus, store: Store, consumer: str | None = None) -> None:
        self.bus = bus
        self.store = store
        self.consumer = consumer or consumer_name()
        self.interests = Interests()
        self._prefs_read_at = -PREFS_EVERY

    async def process_batch(self, block_ms: int = BLOCK_MS, stop: asyncio.Event | None = None) -> int:
        """One step: read records, notify for their messages, acknowledge; returns how many records it read."""
        read = self.bus.read(
            ARCHIVE_STREAM, GROUP, self.consumer, count=BATCH, block_ms=block_ms, claim_idle_ms=CLAIM_IDLE_MS
        )
        entries = await unless_stopped(stop, read)
        if not entries:
            return 0
        await self._refresh_interests()
        batch = _Batch(self.store, self.bus)
        drafts: list[Notification] = []
        deleted: set[str] = set()  # messages deleted in this batch: notified of by none, and by none before
        read_up_to: dict[tuple[str, str], int] = {}
        for entry in entries:
            plain = _plain(entry.data, self.interests)
            if plain is not None:
                user, channel, seq = plain
                read_up_to[(user, channel)] = max(read_up_to.get((user, channel), 0), seq)
                continue
            try:
                record = parse_record(entry.data)
            except ValidationError:
                continue  # the archiver dead-letters it
            if isinstance(record, Change):
                if record.kind == "delete":
                    deleted.add(record.message.id)
                elif record.kind == "edit":
                    drafts += await self._for(record.message, batch)
            elif isinstance(record, Message) and record.seq is not None and not record.ephemeral:
                drafts += await self._for(record, batch)
                key = (record.user, record.channel)
                read_up_to[key] = max(read_up_to.get(key, 0), record.seq)
        if read_up_to:  # one's own message is read
            await self.store.mark_read_many([(user, channel, seq) for (user, channel), seq in read_up_to.items()])
        drafts = [n for n in drafts if n.key not in deleted]
        fresh = await self.store.save_notifications(drafts) if drafts else []
        for message_id in deleted:
            await self.store.drop_notifications(message_id)
        for start in range(0, len(fresh), NOTICE_CHUNK):
            chunk = [{"user": n.user, "notification": n.wire()} for n in fresh[start : start + NOTICE_CHUNK]]
            await self.bus.notify(orjson.dumps({"seq": 0, "notifications": chunk}))
        await self.bus.ack(ARCHIVE_STREAM, GROUP, [e.id for e in entries])
        return len(entries)

    async def _refresh_interests(self) -> None:
        if time.monotonic() - self._prefs_read_at < PREFS_EVERY:
            return
        self._prefs_read_at = time.monotonic()
        changed = await self.store.notify_prefs_since(self.interests.since)
        if changed:
            self.interests.update(changed)

    async def _for(self, message: Message, batch: _Batch) -> list[Notification]:
        """The notifications one message makes: its readers' reasons, the strongest one each. A message
        nobody could be notified of (most of them) reads nothing from the store."""
        reasons: dict[str, tuple[NotificationKind, str]] = {}  # lower-cased user -> (kind, detail)
        names: dict[str, str] = {}  # lower-cased -> as registered, where known

        def add(user: str, kind: NotificationKind, detail: str = "") -> None:
            key = user.lower()
            names.setdefault(key, user)
            if key not in reasons or RANK[kind] < RANK[reasons[key][0]]:
                reasons[key] = (kind, detail)

        for name in message.mentions or ():
            if name == HERE:
                for user in await self.bus.members(message.channel):
                    add(user, "mention", "here")
            elif name == CHANNEL:
                for user in await batch.audience(message.channel):
                    add(user, "mention", "channel")
            else:
                add(name, "mention")
        if message.channel.startswith(DM_PREFIX):
            dm = await batch.channel(message.channel)
            for user in dm.members or () if dm is not None else ():
                add(user, "dm")
        interests = self.interests
        if interests.by_word and message.text:
            found = [fold(m.group(0)) for m in WORD.finditer(message.text)]  # in order, repeats kept: phrases
            for index, word in enumerate(found):
                for user, phrase in interests.by_word.get(word, ()):
                    if found[index : index + len(phrase)] == phrase:
                        add(interests.prefs[user][0], "keyword", " ".join(phrase))
        if interests.by_cashtag and "$" in message.text:
            for code in cashtags(message.text):
                for user in interests.by_cashtag.get(code, ()):
                    add(interests.prefs[user][0], "cashtag", code)
        for user in interests.everything.get(message.channel, ()):
            add(interests.prefs[user][0], "message")
        author = message.user.lower()
        reasons.pop(author, None)  # never for one's own message
        channel = await batch.channel(message.channel) if reasons else None
        if channel is None:
            return []
        out = []
        for user, (kind, detail) in reasons.items():
            level = interests.level(user, channel.name)
            if level == "none" or (level == "mentions" and kind != "mention"):
                continue
            registered = await batch.reader(channel, user, names[user])
            if registered is None:
                continue
            out.append(
                Notification(
                    id=ordered_id(), user=registered, key=message.id, kind=kind, ts=now_iso(),
                    text=_text(message, channel, kind, detail), channel=channel.name, seq=message.seq, message=message,
                )
            )  # fmt: skip
        return out

    async def run(self, stop: asyncio.Event, counter: StepCounter | None = None) -> None:
        await run_steps(
            lambda: self._step(stop),
            stop,
            failed="notifying failed",
            log=logger,
            counter=counter,
        )

    async def _step(self, stop: asyncio.Event) -> int:
        read = await self.process_batch(block_ms=BLOCK_MS, stop=stop)
        if 0 < read < BATCH and not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), LINGER)
        return read


class _Batch:
    """What a batch looks up about its channels, once per batch."""

    def __init__(self, store: Store, bus: Bus) -> None:
        self.store = store
        self.bus = bus
        self._channels: dict[str, Channel | None] = {}
        self._members: dict[str, dict[str, str]] = {}  # channel -> lower-cased -> as registered
        self._banned: dict[str, set[str]] = {}

    async def channel(self, name: str) -> Channel | None:
        if name not in self._channels:
            self._channels[name] = await self.store.get_channel(name)
        return self._channels[name]

    async def members(self, name: str) -> dict[str, str]:
        if name not in self._members:
            self._members[name] = {m.username.lower(): m.username for m in await self.store.members(name)}
        return self._members[name]

    async def audience(self, name: str) -> list[str]:
        """Who @channel reaches: a private channel's members; in a public one its members and whoever reads it."""
        channel = await self.channel(name)
        if channel is None:
            return []
        people = dict(await self.members(channel.name))
        if channel.visibility == "public":
            for user in await self.store.readers(channel.name):
                people.setdefault(user.lower(), user)
        return list(people.values())

    async def reader(self, channel: Channel, user: str, name: str) -> str | None:
        """`user` (lower-cased) as registered (`name`), if they may read the channel; None otherwise."""
        if channel.visibility == "private":
            return (await self.members(channel.name)).get(user)
        if channel.name not in self._banned:
            self._banned[channel.name] = {b.lower() for b in (await self.store.moderation(channel.name)).banned}
        return None if user in self._banned[channel.name] else name


def _plain(data: bytes, interests: Interests) -> tuple[str, str, int] | None:
    """(author, channel, seq) of a posted message nobody could be notified of (no mentions, not a DM, nothing
    for anyone's keywords, cashtags or levels): most messages, which then need only their author's read mark
    and not the full parse, most of the notifier's work on them. None for any other record: parsed as ever."""
    if is_change(data) or is_channel_event(data):
        return None
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(raw, dict) or raw.get("mentions") or raw.get("ephemeral"):
        return None
    user, channel, seq, text = raw.get("user"), raw.get("channel"), raw.get("seq"), raw.get("text")
    if type(seq) is not int or not isinstance(user, str) or not isinstance(channel, str) or not isinstance(text, str):
        return None
    if channel.startswith(DM_PREFIX) or interests.may_match(channel, text):
        return None
    return user, channel, seq


def _text(message: Message, channel: Channel, kind: NotificationKind, detail: str) -> str:
    """The notification's line: why, where and who, then the start of the message."""
    snippet = " ".join(message.text.split())
    if len(snippet) > SNIPPET:
        snippet = snippet[: SNIPPET - 1] + "…"
    where = "a direct message" if channel.kind == "dm" else f"#{channel.name}"
    who = message.user
    if kind == "mention":
        whom = {"here": "@here", "channel": "@channel"}.get(detail, "you")
        return f"{who} mentioned {whom} in {where}: {snippet}"
    if kind == "dm":
        return f"{who}: {snippet}"
    if kind == "keyword":
        return f"“{detail}” in {where}, {who}: {snippet}"
    if kind == "cashtag":
        return f"${detail} in {where}, {who}: {snippet}"
    return f"{where}, {who}: {snippet}"
