"""The archiver's journal step over a batch of many channels (#25: rooms of 2), on SQLite and MongoDB: the same
chains and heads as channel by channel, whatever another replica left behind, and a store's work per batch that
does not grow with the number of channels."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from archiver import worker
from core.journal import GENESIS, extend
from core.models import Message
from core.store import Store
from core.store.sqlite import SqliteStore


def said(channel: str, seq: int) -> Message:
    return Message(
        id=f"{channel}-{seq}", channel=channel, seq=seq, rev=seq, user="alice", text=f"{channel} {seq}",
        ts=f"2026-12-01T14:00:{seq:02d}.000Z",
    )  # fmt: skip


def expected(channel: str, last: int, missing: int | None = None) -> list[str | None]:
    """Each entry's chain, seqs 1..last but `missing`: chained from 1 up to the gap, None after it."""
    entries = [worker.entry_of(said(channel, seq)) for seq in range(1, last + 1) if seq != missing]
    chains = [chain for _, chain in extend(0, GENESIS, entries)]
    return chains + [None] * (len(entries) - len(chains))


async def test_a_batch_over_many_channels_chains_each_as_channel_by_channel(store: Store) -> None:
    plain = [f"dm-{n:02d}" for n in range(30)]
    await worker.journal(store, [said(channel, 1) for channel in plain])  # an earlier batch: heads at 1
    # another replica's: seq 2 of "retried" already there (unchained), seqs 3-5 of "beyond" past the batch,
    # and "ahead" journaled and chained through 3 (the batch's 1-2 are old news to it)
    await store.journal_append([worker.entry_of(said("retried", 2))])
    await store.journal_append([worker.entry_of(said("beyond", seq)) for seq in (3, 4, 5)])
    await worker.journal(store, [said("ahead", seq) for seq in (1, 2, 3)])
    batch = [said(channel, seq) for channel in plain for seq in (2, 3)]
    batch += [said("retried", seq) for seq in (1, 2, 3)]
    batch += [said("gap", seq) for seq in (1, 2, 4)]  # 3 is another replica's, not in yet
    batch += [said("beyond", seq) for seq in (1, 2)]
    batch += [said("ahead", seq) for seq in (1, 2)]
    await worker.journal(store, batch[::-1])  # in no particular order
    lasts = {channel: 3 for channel in plain} | {"retried": 3, "gap": 4, "beyond": 5, "ahead": 3}
    for channel, last in lasts.items():
        chains = expected(channel, last, 3 if channel == "gap" else None)
        assert [e.chain for e in await store.journal_after(channel, 0, 10)] == chains, channel
    heads = {channel: (seq, chain) for channel, seq, chain in await store.journal_heads()}
    assert heads == {
        channel: (2, expected(channel, 2)[-1]) if channel == "gap" else (last, expected(channel, last)[-1])
        for channel, last in lasts.items()
    }
    await worker.journal(store, [said("gap", 3)])  # whoever writes 3 chains past it
    assert await store.journal_head("gap") == (4, expected("gap", 4)[-1])


class Counting:
    """A store whose every call is counted, by method name."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self.store, name)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            return await method(*args, **kwargs)

        return counted


@pytest.mark.parametrize("channels", [2, 200])
async def test_a_batch_costs_the_store_the_same_calls_however_many_channels(store: Store, channels: int) -> None:
    names = [f"dm-{n:03d}" for n in range(channels)]
    await worker.journal(store, [said(channel, 1) for channel in names])
    counting = Counting(store)
    commits = 0
    if isinstance(store, SqliteStore):
        commit = store._db.commit

        async def counted_commit() -> None:
            nonlocal commits
            commits += 1
            await commit()

        store._db.commit = counted_commit  # type: ignore[method-assign]
    await worker.journal(counting, [said(channel, seq) for channel in names for seq in (2, 3)])  # type: ignore[arg-type]
    assert counting.calls == {"journal_starts": 1, "journal_heads": 1, "journal_write": 1, "journal_past_heads": 1}
    assert commits == (1 if isinstance(store, SqliteStore) else 0)
    assert {head[1] for head in await store.journal_heads()} == {3}
