"""The compliance journal of the MongoDB store (#24, docs/compliance.md): a part of MongoStore, on its database."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any

import orjson
from pymongo import ASCENDING, InsertOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from core.journal import GENESIS, JournalEntry
from core.store.mongo_schema import DUPLICATE_KEY, Document

APPEND_CHUNK = 10_000  # documents per bulk write
PAGE = 5000


def _record_of(seq: int, stored: str | None) -> dict[str, Any] | None:
    """The record as stored (its canonical JSON, a string); one no longer JSON at all reads as a record that
    cannot match its hash, so that verify reports it edited rather than stopping at it."""
    if stored is None:
        return None
    try:
        found = orjson.loads(stored)
    except orjson.JSONDecodeError:
        return {"seq": seq, "unreadable": stored}
    return found if isinstance(found, dict) else {"seq": seq, "unreadable": found}


def _entry(doc: Document) -> JournalEntry:
    # built without validation: the document is the store's own, and verify reads a great many of them
    return JournalEntry.model_construct(
        channel=doc["channel"], seq=doc["seq"], kind=doc["kind"], ts=doc["ts"], user=doc["user"],
        record=_record_of(doc["seq"], doc.get("record")), content_hash=doc["content_hash"], chain=doc.get("chain"),
        redacted_at=doc.get("redacted_at"),
    )  # fmt: skip


def _doc(entry: JournalEntry) -> Document:
    """An entry as stored: _id "<channel>:<seq>"; `record` the exact canonical JSON its content_hash is the
    hash of, as a string (a document's own field order would not keep it)."""
    record = None if entry.record is None else orjson.dumps(entry.record, option=orjson.OPT_SORT_KEYS).decode()
    doc = {"_id": f"{entry.channel}:{entry.seq}", **entry.model_dump(exclude={"record"}), "record": record}
    return {key: value for key, value in doc.items() if value is not None or key == "chain"}


def _is_duplicate(exc: BulkWriteError) -> bool:
    errors: list[Document] = exc.details.get("writeErrors", [])
    return all(e.get("code") == DUPLICATE_KEY for e in errors) and not exc.details.get("writeConcernErrors")


class MongoJournal:
    _db: AsyncDatabase[Document]

    async def journal_append(self, entries: Sequence[JournalEntry]) -> int:
        added = 0
        for start in range(0, len(entries), APPEND_CHUNK):
            writes = [InsertOne(_doc(e)) for e in entries[start : start + APPEND_CHUNK]]
            try:
                added += (await self._db.journal.bulk_write(writes, ordered=False)).inserted_count
            except BulkWriteError as exc:
                if not _is_duplicate(exc):
                    raise
                added += int(exc.details.get("nInserted", 0))  # the others were there: a batch retried
        heads = [
            UpdateOne({"_id": channel}, {"$setOnInsert": {"seq": 0, "chain": GENESIS}}, upsert=True)
            for channel in sorted({e.channel for e in entries})
        ]
        if heads:
            try:
                await self._db.journal_heads.bulk_write(heads, ordered=False)
            except BulkWriteError as exc:  # two replicas making a channel's head at once: it is there
                if not _is_duplicate(exc):
                    raise
        return added

    async def journal_head(self, channel: str) -> tuple[int, str]:
        doc = await self._db.journal_heads.find_one({"_id": channel})
        return (int(doc["seq"]), doc["chain"]) if doc is not None else (0, GENESIS)

    async def journal_after(self, channel: str, after: int, limit: int) -> list[JournalEntry]:
        cursor = self._db.journal.find({"channel": channel, "seq": {"$gt": after}}).sort("seq", ASCENDING)
        return [_entry(doc) async for doc in cursor.limit(limit)]

    async def journal_set_chains(self, channel: str, chains: Sequence[tuple[int, str]]) -> None:
        if not chains:
            return
        writes = [UpdateOne({"_id": f"{channel}:{seq}"}, {"$set": {"chain": chain}}) for seq, chain in chains]
        await self._db.journal.bulk_write(writes, ordered=False)
        last_seq, last_chain = max(chains)
        # after the entries' chains, and only forward: a replica that crashed between left a head behind,
        # which the next batch extends from again to the same chains
        with contextlib.suppress(DuplicateKeyError):  # the head is there and further on already
            await self._db.journal_heads.update_one(
                {"_id": channel, "seq": {"$lt": last_seq}},
                {"$set": {"seq": last_seq, "chain": last_chain}},
                upsert=True,
            )

    async def journal_heads(self, channels: Collection[str] | None = None) -> list[tuple[str, int, str]]:
        query = {} if channels is None else {"_id": {"$in": sorted(set(channels))}}
        cursor = self._db.journal_heads.find(query).sort("_id", ASCENDING)
        return [(doc["_id"], int(doc["seq"]), doc["chain"]) async for doc in cursor]

    async def journal_move_heads(self, heads: Sequence[tuple[str, int, str]]) -> None:
        # only forward, as journal_set_chains; a head further on already makes the upsert a duplicate key
        writes = [
            UpdateOne({"_id": channel, "seq": {"$lt": seq}}, {"$set": {"seq": seq, "chain": chain}}, upsert=True)
            for channel, seq, chain in heads
        ]
        if writes:
            try:
                await self._db.journal_heads.bulk_write(writes, ordered=False)
            except BulkWriteError as exc:
                if not _is_duplicate(exc):
                    raise

    async def journal_present(self, keys: Collection[tuple[str, int]]) -> set[tuple[str, int]]:
        ids = [f"{channel}:{seq}" for channel, seq in keys]
        found: set[tuple[str, int]] = set()
        for start in range(0, len(ids), APPEND_CHUNK):
            query = {"_id": {"$in": ids[start : start + APPEND_CHUNK]}}
            async for doc in self._db.journal.find(query, {"channel": 1, "seq": 1}):
                found.add((doc["channel"], int(doc["seq"])))
        return found

    async def journal_starts(self, channels: Collection[str] | None = None) -> dict[str, int]:
        query = {} if channels is None else {"_id": {"$in": sorted(set(channels))}}
        return {doc["_id"]: int(doc["seq"]) async for doc in self._db.journal_starts.find(query)}

    async def journal_channels(self) -> list[str]:
        return [doc["_id"] async for doc in self._db.journal_heads.find({}, {"_id": 1}).sort("_id", ASCENDING)]

    async def journal_scan(self, channel: str, *, after: int = 0, page: int = PAGE) -> AsyncIterator[JournalEntry]:
        async for entry in self._pages(channel, after, None, page):
            yield entry

    async def journal_between(
        self, since: str, until: str, channels: Collection[str] | None, *, page: int = PAGE
    ) -> AsyncIterator[JournalEntry]:
        for channel in sorted(await self.journal_channels() if channels is None else set(channels)):
            # the seqs that bound the time range, from the time index; then every entry between them
            query = {"channel": channel, "ts": {"$gte": since, "$lt": until}}
            seqs = [doc["seq"] async for doc in self._db.journal.find(query, {"seq": 1, "_id": 0})]
            if seqs:
                async for entry in self._pages(channel, min(seqs) - 1, max(seqs), page):
                    yield entry

    async def _pages(self, channel: str, after: int, high: int | None, page: int) -> AsyncIterator[JournalEntry]:
        """The channel's entries with after < seq <= high, in seq order, a page per query."""
        while True:
            seqs: Document = {"$gt": after} if high is None else {"$gt": after, "$lte": high}
            cursor = self._db.journal.find({"channel": channel, "seq": seqs}).sort("seq", ASCENDING).limit(page)
            docs = await cursor.to_list()
            for doc in docs:
                yield _entry(doc)
            if len(docs) < page:
                return
            after = docs[-1]["seq"]
