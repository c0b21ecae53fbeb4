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


async def test_one_write_chains_many_channels_and_their_heads_only_move_forward(store: Store) -> None:
    entries = [posted(1, "alpha"), posted(2, "alpha"), posted(1, "beta"), posted(1, "gamma"), posted(2, "delta")]
    await store.journal_append(entries[-1:])  # another replica's, unchained: kept as it is, then chained
    entries.insert(-1, posted(1, "delta"))
    runs = {c: extend(0, GENESIS, [e for e in entries if e.channel == c]) for c in ("alpha", "beta", "delta")}
    for entry in entries:
        entry.chain = dict(runs.get(entry.channel, [])).get(entry.seq)
    assert await store.journal_write(entries, runs) == 5
    assert await store.journal_heads(["alpha", "beta", "gamma", "delta", "nowhere"]) == [
        ("alpha", *runs["alpha"][-1]), ("beta", *runs["beta"][-1]), ("delta", *runs["delta"][-1]),
        ("gamma", 0, GENESIS),
    ]  # fmt: skip
    assert [e.chain for e in await store.journal_after("delta", 0, 10)] == [c for _, c in runs["delta"]]
    assert [e.chain for e in await store.journal_after("gamma", 0, 10)] == [None]
    await store.journal_write([], {"alpha": runs["alpha"][:1]})  # a slower replica's: the head stays
    assert await store.journal_head("alpha") == runs["alpha"][-1]


async def test_past_heads_gives_what_can_be_chained_of_many_channels(store: Store) -> None:
    await store.journal_append([posted(1, "alpha")])
    run = await chain_all(store, "alpha")
    # another replica's, past the heads: alpha's 2, 3 and 5 (4 not in yet), beta's 3 (1 and 2 not in yet)
    await store.journal_append([posted(seq, "alpha") for seq in (5, 3, 2)] + [posted(3, "beta")])
    after = {seq: posted(seq, "alpha") for seq in (2, 3, 5)}
    assert await store.journal_past_heads(["alpha", "beta", "nowhere"], 10) == {
        "alpha": (run[-1], [after[2], after[3], after[5]])
    }
    assert await store.journal_past_heads(["alpha"], 2) == {"alpha": (run[-1], [after[2], after[3]])}
    assert await store.journal_past_heads(["beta", "nowhere"], 10) == {}  # nothing of beta can be chained yet
    assert await store.journal_past_heads([], 10) == {}


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
