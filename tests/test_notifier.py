"""The notifier against a store and a bus directly (both stores), for what live tests cannot time: a batch
holding a message and its deletion notifies nobody, and a batch read again notifies nobody twice."""

from __future__ import annotations

import orjson

from archiver.notifier import GROUP, Notifier
from core.bus import ARCHIVE_STREAM
from core.bus.memory import MemoryBus
from core.models import Change, Channel, Message, NotifyPrefs, now_iso
from core.store import Store


def posted(seq: int, text: str, mentions: list[str]) -> Message:
    return Message(
        id=f"m{seq}", channel="desk", seq=seq, rev=seq, user="alice", text=text, ts=now_iso(), mentions=mentions
    )


async def test_a_message_deleted_in_the_same_batch_notifies_nobody(store: Store) -> None:
    await store.create_channel(Channel(name="desk", created_by="alice", created_at=now_iso()))
    bus = MemoryBus()
    kept, gone = posted(1, "@bob kept", ["bob"]), posted(2, "@bob gone", ["bob"])
    deletion = Change(seq=3, kind="delete", channel="desk", by="alice", ts=now_iso(),
                      message=gone.model_copy(update={"text": "", "deleted": True, "rev": 3, "mentions": None}))  # fmt: skip
    for record in (kept, gone, deletion):
        await bus.append(ARCHIVE_STREAM, orjson.dumps(record.wire()))
    notifier = Notifier(bus, store)
    assert await notifier.process_batch(block_ms=0) == 3
    assert [n.key for n in await store.notifications("bob", before=None, limit=10)] == ["m1"]
    assert await bus.backlog(ARCHIVE_STREAM, GROUP) == 0


async def test_a_batch_read_again_notifies_nobody_twice(store: Store) -> None:
    await store.create_channel(Channel(name="desk", created_by="alice", created_at=now_iso()))
    bus = MemoryBus()
    heard: list[bytes] = []
    await bus.subscribe_live(lambda _channel, wire: heard.append(wire))
    wire = orjson.dumps(posted(1, "@bob look", ["bob"]).wire())
    await bus.append(ARCHIVE_STREAM, wire)
    assert await Notifier(bus, store, consumer="first").process_batch(block_ms=0) == 1
    await bus.append(ARCHIVE_STREAM, wire)  # as a crashed notifier's batch comes back
    assert await Notifier(bus, store, consumer="second").process_batch(block_ms=0) == 1
    assert len(await store.notifications("bob", before=None, limit=10)) == 1
    assert len(heard) == 1  # one notice: the repeat found its notification stored already
    assert await store.read_marks("alice") == {"desk": 1}  # one's own message is read


async def test_a_phrase_is_found_wherever_its_words_stand_together(store: Store) -> None:
    await store.create_channel(Channel(name="desk", created_by="alice", created_at=now_iso()))
    await store.set_notify_prefs("bob", NotifyPrefs(keywords=["earnings call"]), now_iso())
    bus = MemoryBus()
    texts = ["Call me about the earnings call", "earnings: call me", "the earnings call-in"]
    for seq, text in enumerate(texts, 1):
        await bus.append(ARCHIVE_STREAM, orjson.dumps(posted(seq, text, []).wire()))
    await Notifier(bus, store).process_batch(block_ms=0)
    found = await store.notifications("bob", before=None, limit=10)
    assert sorted(n.key for n in found) == ["m1", "m2", "m3"]  # punctuation between words is no gap


async def test_only_messages_someone_could_be_notified_of_are_read_in_full(store: Store) -> None:
    """Most messages notify nobody and are read for their author's read mark alone; one that names a user,
    a keyword, a watched cashtag or a channel set to `all` still notifies."""
    for name in ("desk", "loud"):
        await store.create_channel(Channel(name=name, created_by="alice", created_at=now_iso()))
    await store.set_notify_prefs("bob", NotifyPrefs(keywords=["buyback"], cashtags=["VOD"]), now_iso())
    await store.set_notify_prefs("carol", NotifyPrefs(channels={"loud": "all"}), now_iso())
    bus = MemoryBus()
    records = [
        posted(1, "nothing for anyone", []),
        posted(2, "a BUYBACK is coming", []),
        posted(3, "$VOD again", []),
        posted(4, "@dave look", ["dave"]),
        posted(5, "in a loud room", []).model_copy(update={"channel": "loud", "seq": 1}),
        posted(6, "the last plain one", []),
    ]
    for record in records:
        await bus.append(ARCHIVE_STREAM, orjson.dumps(record.wire()))
    assert await Notifier(bus, store).process_batch(block_ms=0) == len(records)
    assert sorted(n.key for n in await store.notifications("bob", before=None, limit=10)) == ["m2", "m3"]
    assert [n.key for n in await store.notifications("carol", before=None, limit=10)] == ["m5"]
    assert [n.key for n in await store.notifications("dave", before=None, limit=10)] == ["m4"]
    assert await store.read_marks("alice") == {"desk": 6, "loud": 1}
