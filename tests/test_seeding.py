"""core/posting.py's seeding: a fresh bus continues each channel's seq after the archive, asking the store once
however many posts find the channel unseeded at once (a node restarted under load)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.bus.memory import MemoryBus
from core.models import Message, new_id, now_iso
from core.posting import publish
from core.store.sqlite import SqliteStore


def _message(channel: str, i: int) -> Message:
    return Message(id=new_id(), channel=channel, user=f"u{i % 5}", text=f"hello {i}", ts=now_iso())


async def test_posts_racing_into_an_unseeded_channel_ask_the_store_once_and_continue_its_seq(tmp_path: Path) -> None:
    store = await SqliteStore.open(str(tmp_path / "archive.sqlite3"))
    try:
        archived = [_message("general", i).model_copy(update={"seq": i + 1, "rev": i + 1}) for i in range(40)]
        await store.save_messages(archived)  # what the previous process archived
        asked: list[str] = []
        last_seq = store.last_seq

        async def counted(channel: str) -> int:
            asked.append(channel)
            await asyncio.sleep(0.05)  # a store that takes a while, as one under load does
            return await last_seq(channel)

        store.last_seq = counted  # type: ignore[method-assign]
        bus = MemoryBus()  # restarted: no counter for any channel
        posted = await asyncio.gather(*(publish(bus, store, _message("general", i)) for i in range(200)))
        assert asked == ["general"]
        assert sorted(m.seq for m, _ in posted) == list(range(41, 241))  # after the archive, no gap, none twice
    finally:
        await store.close()
