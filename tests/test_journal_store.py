"""The journal part of the Store contract (#24), on SQLite and MongoDB through the `store` fixture: entries kept
once under (channel, seq) exactly as written, heads that only move forward, and the scans verify and export
page through."""

from __future__ import annotations

from collections.abc import AsyncIterator

from core.journal import GENESIS, JournalEntry, chained, content_hash, entry_of, extend
from core.models import ChannelEvent, Message
from core.store import Store


def ts(minute: int) -> str:
    return f"2026-12-01T14:{minute:02d}:00.000Z"


def posted(seq: int, channel: str = "desk", text: str | None = None, minute: int | None = None) -> JournalEntry:
    message = Message(
        id=f"{channel}-{seq}", channel=channel, seq=seq, rev=seq, user="alice", text=text or f"m{seq}",
        ts=ts(seq if minute is None else minute),
    )  # fmt: skip
    return entry_of(message)


async def collect(entries: AsyncIterator[JournalEntry]) -> list[JournalEntry]:
    return [entry async for entry in entries]


async def chain_all(store: Store, channel: str) -> list[tuple[int, str]]:
    seq, chain = await store.journal_head(channel)
    chains = extend(seq, chain, await store.journal_after(channel, seq, 10_000))
    await store.journal_set_chains(channel, chains)
    return chains


async def test_an_entry_reads_back_as_written_and_is_kept_once(store: Store) -> None:
    text = 'Ça monte: $VOD 🚀 "quoted" \\ tab\there\nline two \u2028 \x7f'
    event = ChannelEvent(seq=2, channel="desk", kind="muted", by="mod", ts=ts(2), target="bob", until=ts(30))
    written = [posted(1, text=text), entry_of(event)]
    assert await store.journal_append(written) == 2
    assert await store.journal_append([*written, posted(3)]) == 1  # a batch retried after a crash adds only the new
    found = await store.journal_after("desk", 0, 10)
    assert found == [*written, posted(3)]
    assert [e.kind for e in found] == ["message", "event", "message"]
    assert [e.user for e in found] == ["alice", "mod", "alice"]
    assert found[0].record is not None and found[0].record["text"] == text
    assert content_hash(found[0].record) == found[0].content_hash  # what is hashed is what is stored
    assert all(e.chain is None for e in found)


async def test_a_redacted_entry_keeps_its_hash(store: Store) -> None:
    entry = posted(1).model_copy(update={"record": None, "redacted_at": ts(50)})
    await store.journal_append([entry])
    assert await store.journal_after("desk", 0, 10) == [entry]


async def test_the_head_is_the_last_chained_entry_and_only_moves_forward(store: Store) -> None:
    assert await store.journal_head("desk") == (0, GENESIS)
    await store.journal_append([posted(1), posted(2), posted(4)])  # 3 not in yet: 4 waits for it
    chains = await chain_all(store, "desk")
    assert [seq for seq, _ in chains] == [1, 2]
    assert await store.journal_head("desk") == chains[-1]
    assert chains[0][1] == chained(GENESIS, posted(1).content_hash)
    assert [e.chain for e in await store.journal_after("desk", 0, 10)] == [chains[0][1], chains[1][1], None]
    await store.journal_append([posted(3)])
    later = await chain_all(store, "desk")
    assert [seq for seq, _ in later] == [3, 4]  # whoever writes 3 extends past 4
    await store.journal_set_chains("desk", chains)  # a slower replica writing the same earlier chains
    assert await store.journal_head("desk") == later[-1]
    assert [e.chain for e in await store.journal_after("desk", 2, 10)] == [c for _, c in later]


async def test_after_pages_from_a_seq_with_a_limit(store: Store) -> None:
    await store.journal_append([posted(seq) for seq in (5, 1, 3, 2, 4)] + [posted(1, "other")])
    assert [e.seq for e in await store.journal_after("desk", 1, 3)] == [2, 3, 4]
    assert [e.seq for e in await store.journal_after("desk", 4, 3)] == [5]
    assert await store.journal_after("desk", 5, 3) == []
    assert await store.journal_after("nowhere", 0, 3) == []


async def test_every_journaled_channel_is_listed_with_its_head(store: Store) -> None:
    assert await store.journal_heads() == [] and await store.journal_channels() == []
    await store.journal_append([posted(1, "zeta"), posted(1, "alpha"), posted(2, "alpha"), posted(2, "mid")])
    chains = await chain_all(store, "alpha")
    await chain_all(store, "mid")  # its seq 1 is not in: nothing chains
    assert await store.journal_channels() == ["alpha", "mid", "zeta"]
    assert await store.journal_heads() == [("alpha", 2, chains[-1][1]), ("mid", 0, GENESIS), ("zeta", 0, GENESIS)]


async def test_heads_of_some_channels_move_together_and_only_forward(store: Store) -> None:
    entries = [posted(1, "alpha"), posted(2, "alpha"), posted(1, "beta"), posted(1, "gamma")]
    runs = {c: extend(0, GENESIS, [e for e in entries if e.channel == c]) for c in ("alpha", "beta", "gamma")}
    for entry in entries:
        entry.chain = dict(runs[entry.channel])[entry.seq]
    await store.journal_append(entries)
    await store.journal_move_heads([("alpha", *runs["alpha"][-1]), ("beta", *runs["beta"][-1])])
    assert await store.journal_heads(["alpha", "beta", "gamma", "nowhere"]) == [
        ("alpha", *runs["alpha"][-1]), ("beta", *runs["beta"][-1]), ("gamma", 0, GENESIS),
    ]  # fmt: skip
    await store.journal_move_heads([("alpha", *runs["alpha"][0])])  # a slower replica's: the head stays
    assert await store.journal_heads(["alpha"]) == [("alpha", *runs["alpha"][-1])]
    assert await store.journal_present([("alpha", 2), ("alpha", 3), ("beta", 1), ("nowhere", 1)]) == {
        ("alpha", 2), ("beta", 1),
    }  # fmt: skip
    assert await store.journal_present([]) == set()


async def test_a_scan_pages_through_a_channel_in_seq_order(store: Store) -> None:
    await store.journal_append([posted(seq) for seq in range(10, 0, -1)] + [posted(1, "other")])
    assert [e.seq for e in await collect(store.journal_scan("desk", page=3))] == list(range(1, 11))
    assert [e.seq for e in await collect(store.journal_scan("desk", after=8, page=3))] == [9, 10]
    assert [e.seq for e in await collect(store.journal_scan("desk", page=5))] == list(range(1, 11))  # pages end flush
    assert await collect(store.journal_scan("nowhere")) == []


async def test_between_gives_a_time_range_channel_by_channel_in_seq_order_without_a_gap(store: Store) -> None:
    # nodes' clocks differ a little: seq 3 was stamped before seq 2, seq 6 after seq 7
    minutes = {1: 1, 2: 10, 3: 9, 4: 15, 5: 19, 6: 21, 7: 19, 8: 22}
    await store.journal_append([posted(seq, "desk", minute=m) for seq, m in minutes.items()])
    await store.journal_append([posted(seq, "alpha", minute=seq * 5) for seq in range(1, 5)])
    found = await collect(store.journal_between(ts(10), ts(20), None, page=2))
    assert [(e.channel, e.seq) for e in found] == [
        ("alpha", 2), ("alpha", 3), ("desk", 2), ("desk", 3), ("desk", 4), ("desk", 5), ("desk", 6), ("desk", 7),
    ]  # fmt: skip
    only = await collect(store.journal_between(ts(0), ts(59), ["desk", "nowhere"]))
    assert [e.seq for e in only] == list(range(1, 9))
    assert await collect(store.journal_between(ts(30), ts(40), None)) == []
