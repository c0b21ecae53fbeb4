"""Retention and legal holds on SQLite and MongoDB (the `store` fixture): records posted with their times on a
memory bus and archived by the real archiver, then the daily job run with the clock moved (`now=`). What an
auditor would check: the old content is gone from history, search, originals and inboxes while every seq
stays and the chain still verifies; what a hold covers is kept until it is released."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

import pytest

from archiver.retention import Retention, redact_expired
from archiver.worker import Archiver
from core import posting
from core.bus.memory import MemoryBus
from core.changes import check_allowed, fold
from core.errors import ChatError
from core.journal import verify
from core.models import Change, Channel, ChannelEvent, Hold, Message, Notification, iso, new_id, ordered_id, utcnow
from core.store import Store

NOW = utcnow()
DEFAULT_DAYS = 30  # as CHAT_RETENTION_DAYS=30


def ago(days: float) -> str:
    return iso(NOW - timedelta(days=days))


class Archive:
    """Records posted on a memory bus with the times given, archived (and journaled) by the real archiver."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.bus = MemoryBus()

    async def say(self, channel: str, user: str, text: str, days: float, **extra: Any) -> Message:
        await self.bus.seed_seq(channel, 0)
        await self.store.create_channel(Channel(name=channel, created_by=user, created_at=ago(400)))
        message = Message(id=new_id(), channel=channel, user=user, text=text, ts=ago(days), **extra)
        return (await self.bus.post(message))[0]

    async def change(self, message: Message, kind: str, by: str, days: float, **how: Any) -> Message:
        folded = fold(message, kind, by, ago(days), **how)  # type: ignore[arg-type]
        assert folded is not None
        emoji = how.get("emoji")
        change = Change(kind=kind, channel=message.channel, by=by, ts=ago(days), emoji=emoji, message=folded)  # type: ignore[arg-type]
        return (await self.bus.post_change(change, expected_rev=message.rev or 0)).message

    async def event(self, channel: str, by: str, target: str, days: float) -> None:
        await self.bus.post_event(ChannelEvent(channel=channel, kind="muted", by=by, ts=ago(days), target=target))

    async def archived(self) -> None:
        archiver = Archiver(self.bus, self.store)
        while await archiver.process_batch(block_ms=0):
            pass


async def journal(store: Store, channel: str) -> list[tuple[int, bool]]:
    """Each entry's seq and whether its record is still there."""
    return [(e.seq, e.record is not None) async for e in store.journal_scan(channel)]


async def intact(store: Store, channel: str) -> bool:
    report = await verify(channel, store.journal_scan(channel))
    return report.intact and report.pending == 0


async def texts(store: Store, channel: str) -> list[tuple[int, str, bool]]:
    page, _ = await store.history(channel, limit=100)
    return [(m.seq or 0, m.text, bool(m.redacted)) for m in page]


async def found(
    store: Store, *, words: Sequence[str] = (), cashtags: Sequence[str] = (), user: str | None = None
) -> set[str]:
    hits, _ = await store.search(
        words=words, cashtags=cashtags, channels={"desk", "lobby"}, user=user, before=None, limit=50
    )
    return {m.text for m in hits}


async def test_old_records_lose_their_content_but_keep_their_place_and_the_chain(store: Store) -> None:
    archive = Archive(store)
    tip = await archive.say("desk", "alice", "buy $ACME before the merger @bob", 10, mentions=["bob"])
    await archive.event("desk", "mod", "carol", 9.5)
    edited = await archive.change(tip, "edit", "alice", 9, text="buy $ACME before the merger, quietly")
    await archive.change(edited, "react", "bob", 8, emoji="🚀")
    recent = await archive.say("desk", "bob", "sell $ACME", 3)
    await archive.say("lobby", "alice", "ancient gossip", 40)
    await archive.say("lobby", "alice", "old but kept", 20)
    await archive.archived()
    await store.save_notifications([
        Notification(id=ordered_id(), user="bob", key=tip.id, kind="mention", text="alice mentioned you",
                     ts=tip.ts, channel="desk", seq=tip.seq, message=tip),
    ])  # fmt: skip
    assert await store.set_retention("desk", 7)  # desk keeps a week; lobby the site's 30 days
    assert await found(store, words=["merger"]) == {"buy $ACME before the merger, quietly"}

    report = await redact_expired(store, now=NOW, default_days=DEFAULT_DAYS)

    assert (report.redacted, report.by_channel, report.held) == (5, {"desk": 4, "lobby": 1}, 0)
    assert await journal(store, "desk") == [(1, False), (2, False), (3, False), (4, False), (5, True)]
    assert await journal(store, "lobby") == [(1, False), (2, True)]
    assert [e.redacted_at async for e in store.journal_scan("desk", after=3)] == [iso(NOW), None]
    assert await intact(store, "desk") and await intact(store, "lobby")  # the hashes stayed: the chain verifies
    # every message keeps its seq (no gap a reader would see), the old ones their place but not their words
    assert await texts(store, "desk") == [(1, "", True), (5, "sell $ACME", False)]
    assert await texts(store, "lobby") == [(1, "", True), (2, "old but kept", False)]
    gone = await store.get_message("desk", tip.id)
    assert gone is not None and gone.model_dump(exclude_none=True) == {
        "seq": 1, "rev": 4, "id": tip.id, "channel": "desk", "user": "alice", "text": "", "ts": tip.ts,
        "bot": False, "ephemeral": False, "edited_at": ago(9), "redacted": True,
    }  # fmt: skip
    assert set(await store.originals("desk", tip.id)) <= {""}  # the text as posted and before the edit: blank
    assert await found(store, words=["merger"]) == set()
    assert await found(store, cashtags=["ACME"]) == {"sell $ACME"}
    assert await found(store, user="alice") == {"old but kept"}
    assert await store.notifications("bob", before=None, limit=10) == []
    assert recent == (await store.get_message("desk", recent.id))

    again = await redact_expired(store, now=NOW, default_days=DEFAULT_DAYS)
    assert again.redacted == 0 and await journal(store, "desk") == [
        (1, False),
        (2, False),
        (3, False),
        (4, False),
        (5, True),
    ]
    audited = [e for e in await store.audit(before=None, limit=10) if e.action == "retention.run"]
    assert [(e.actor, e.details["redacted"], e.details["by_channel"]) for e in audited] == [
        (None, 0, {}),
        (None, 5, {"desk": 4, "lobby": 1}),
    ]


async def test_a_redacted_message_takes_no_more_changes_and_none_brings_its_text_back(store: Store) -> None:
    archive = Archive(store)
    tip = await archive.say("desk", "alice", "the secret number is 42", 40)
    await archive.archived()
    await redact_expired(store, now=NOW, default_days=DEFAULT_DAYS)
    stored = await store.get_message("desk", tip.id)
    assert stored is not None and stored.redacted
    with pytest.raises(ChatError) as refused:
        check_allowed("react", stored, "bob", moderator=True, edit_window=86400, now=NOW)
    assert refused.value.code == "forbidden"
    # a node that still had it as posted (its bus buffer) and let a reaction through: the archive stays blank
    await archive.change(tip, "react", "bob", 0, emoji="🚀")
    await archive.archived()
    after = await store.get_message("desk", tip.id)
    assert after is not None and (after.text, after.redacted, after.rev) == ("", True, 2)


async def test_a_quiet_channels_bus_buffer_serves_no_redacted_text(store: Store) -> None:
    archive = Archive(store)  # the bus still holds the channel's last records, as it would a quiet channel's
    tip = await archive.say("desk", "alice", "the secret number is 42", 40)
    await archive.change(tip, "pin", "alice", 39)
    await archive.archived()
    await redact_expired(store, now=NOW, default_days=DEFAULT_DAYS)
    desk = await store.get_channel("desk")
    assert desk is not None and await archive.bus.find("desk", tip.id) is not None

    history, _ = await posting.read_history(store, archive.bus, "desk", limit=10)
    assert [(m.text, m.redacted) for m in history] == [("", True)]
    assert await posting.read_pins(store, archive.bus, "desk") == []
    with pytest.raises(ChatError) as refused:
        await posting.change(
            archive.bus, store, desk, tip.id, "react", "bob", moderator=False, edit_window=86400, now=NOW, emoji="🚀"
        )
    assert refused.value.code == "forbidden"


EVERYONE = {f"{channel}/{user}" for channel in ("desk", "lobby") for user in ("alice", "bob")}
HOLDS = {  # each kind of hold, and whose records in which channel it keeps
    "channel": (
        Hold(name="case-1", channels=["desk"], created_by="chief", created_at=ago(0)),
        {"desk/alice", "desk/bob"},
    ),
    "user": (
        Hold(name="case-2", users=["ALICE"], created_by="chief", created_at=ago(0)),
        {"desk/alice", "lobby/alice"},
    ),
    "user_in_channel": (
        Hold(name="case-3", channels=["desk"], users=["alice"], created_by="chief", created_at=ago(0)),
        {"desk/alice"},
    ),
    "everything": (Hold(name="case-4", created_by="auditor", created_at=ago(0)), EVERYONE),
}


@pytest.fixture(params=sorted(HOLDS))
def hold(request: pytest.FixtureRequest) -> Iterator[tuple[Hold, set[str]]]:
    yield HOLDS[request.param]


def shown(channel: str, kept: set[str]) -> list[tuple[int, str, bool]]:
    """What history shows of alice's and bob's message in the channel when `kept` are kept."""
    return [
        (seq, f"{user} in {channel}", False) if f"{channel}/{user}" in kept else (seq, "", True)
        for seq, user in enumerate(("alice", "bob"), 1)
    ]


async def test_what_a_hold_covers_is_kept_until_it_is_released(store: Store, hold: tuple[Hold, set[str]]) -> None:
    placed, kept = hold
    archive = Archive(store)
    for place in sorted(EVERYONE):
        channel, user = place.split("/")
        await archive.say(channel, user, f"{user} in {channel}", 40)
    await archive.archived()
    assert await store.add_hold(placed)

    report = await redact_expired(store, now=NOW, default_days=DEFAULT_DAYS)

    assert report.redacted == len(EVERYONE - kept)
    for channel in ("desk", "lobby"):
        assert await texts(store, channel) == shown(channel, kept), placed
        assert await intact(store, channel)

    assert await store.remove_hold(placed.name.upper())  # released, in any letter case
    await redact_expired(store, now=NOW, default_days=DEFAULT_DAYS)
    for channel in ("desk", "lobby"):
        assert await texts(store, channel) == shown(channel, set())
        assert await intact(store, channel)


async def test_nothing_is_redacted_without_a_retention_nor_before_its_time(store: Store) -> None:
    archive = Archive(store)
    await archive.say("desk", "alice", "kept forever", 400)
    await archive.say("lobby", "alice", "six days old", 6)
    await archive.archived()
    assert await store.set_retention("lobby", 7)
    report = await redact_expired(store, now=NOW, default_days=None)  # CHAT_RETENTION_DAYS unset
    assert (report.channels, report.redacted) == (1, 0)
    assert await texts(store, "desk") == [(1, "kept forever", False)]
    later = await redact_expired(store, now=NOW + timedelta(days=1, minutes=1), default_days=None)  # the clock moves
    assert later.redacted == 1
    assert await texts(store, "lobby") == [(1, "", True)]


async def test_holds_are_one_per_name_and_retention_is_a_channel_setting(store: Store) -> None:
    first = Hold(name="SEC-2026-17", channels=["desk"], created_by="chief", created_at=ago(2), reason="subpoena")
    second = Hold(name="everything", created_by="auditor", created_at=ago(1))
    assert await store.add_hold(first) and await store.add_hold(second)
    assert not await store.add_hold(second.model_copy(update={"name": "EVERYTHING", "created_at": ago(0)}))
    assert await store.holds() == [first, second]  # oldest first
    assert await store.remove_hold("sec-2026-17") and not await store.remove_hold("sec-2026-17")
    assert await store.holds() == [second]

    assert await store.create_channel(Channel(name="desk", created_by="chief", created_at=ago(3)))
    assert [(c.name, c.retention_days) for c in await store.list_channels()] == [("desk", None)]
    assert await store.set_retention("desk", 7)
    assert [(c.name, c.retention_days) for c in await store.list_channels()] == [("desk", 7)]
    assert await store.set_retention("desk", None)
    desk = await store.get_channel("desk")
    assert desk is not None and desk.retention_days is None and "retention_days" not in desk.wire()
    assert not await store.set_retention("nowhere", 7)


class Flaky:
    """A store whose holds cannot be read once: a run that fails midway."""

    def __init__(self, store: Store) -> None:
        self.store, self.failed = store, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def holds(self) -> list[Hold]:
        if not self.failed:
            self.failed = True
            raise ConnectionError("store went away")
        return await self.store.holds()


async def test_one_run_a_day_among_replicas_and_a_failed_run_is_retried(store: Store) -> None:
    archive = Archive(store)
    await archive.say("desk", "alice", "forty days old", 40)
    await archive.archived()
    bus, stop = MemoryBus(), asyncio.Event()
    first = Retention(bus, Flaky(store), DEFAULT_DAYS, tick=0.01)  # type: ignore[arg-type]
    second = Retention(bus, store, DEFAULT_DAYS, tick=0.01)
    with pytest.raises(ConnectionError):
        await first._step(stop)  # took the day's token, then failed
    assert await second._step(stop) == 0  # the other replica gets no token today
    await first._step(stop)  # retried without a token
    await second._step(stop)
    runs = await store.audit(before=None, limit=10)
    assert [(e.action, e.actor, e.details["redacted"]) for e in runs] == [("retention.run", None, 1)]
    assert await texts(store, "desk") == [(1, "", True)]


async def test_a_site_without_any_retention_logs_no_daily_run(store: Store) -> None:
    archive = Archive(store)
    await archive.say("desk", "alice", "kept forever", 400)
    await archive.archived()
    assert (await redact_expired(store, now=NOW, default_days=None)).channels == 0
    assert await store.audit(before=None, limit=10) == []
