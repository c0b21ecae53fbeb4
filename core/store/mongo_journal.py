"""The compliance journal of the MongoDB store (#24, docs/compliance.md): a part of MongoStore, on its database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from typing import Any

import orjson
from pymongo import ASCENDING, InsertOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

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


def _head(channel: str, head: tuple[int, str]) -> UpdateOne:
    """The write that moves a channel's head to `head` if that is further (a head further on already makes it a
    duplicate key), or lists the channel at (0, GENESIS) if it has no head yet."""
    seq, chain = head
    if not seq:
        return UpdateOne({"_id": channel}, {"$setOnInsert": {"seq": 0, "chain": GENESIS}}, upsert=True)
    return UpdateOne({"_id": channel, "seq": {"$lt": seq}}, {"$set": {"seq": seq, "chain": chain}}, upsert=True)


def _is_duplicate(exc: BulkWriteError) -> bool:
    errors: list[Document] = exc.details.get("writeErrors", [])
    return all(e.get("code") == DUPLICATE_KEY for e in errors) and not exc.details.get("writeConcernErrors")


class MongoJournal:
    _db: AsyncDatabase[Document]

    async def journal_append(self, entries: Sequence[JournalEntry]) -> int:
        return await self.journal_write(entries, {})

    async def journal_write(
        self, entries: Sequence[JournalEntry], chains: Mapping[str, Sequence[tuple[int, str]]]
    ) -> int:
        added = 0
        for start in range(0, len(entries), APPEND_CHUNK):
            writes = [InsertOne(_doc(e)) for e in entries[start : start + APPEND_CHUNK]]
            try:
                added += (await self._db.journal.bulk_write(writes, ordered=False)).inserted_count
            except BulkWriteError as exc:
                if not _is_duplicate(exc):
                    raise
                added += int(exc.details.get("nInserted", 0))  # the others were there: a batch retried
        # when every entry went in, those inserted chained hold their chain already: the others get theirs
        done = {(e.channel, e.seq, e.chain) for e in entries if e.chain is not None} if added == len(entries) else set()
        updates = [
            UpdateOne({"_id": f"{channel}:{seq}"}, {"$set": {"chain": chain}})
            for channel, run in chains.items()
            for seq, chain in run
            if (channel, seq, chain) not in done
        ]
        for start in range(0, len(updates), APPEND_CHUNK):
            await self._db.journal.bulk_write(updates[start : start + APPEND_CHUNK], ordered=False)
        # after the entries' chains: a replica that crashed between left a head behind, which the next batch
        # extends from again to the same chains
        heads = {e.channel: (0, GENESIS) for e in entries} | {c: max(run) for c, run in chains.items() if run}
        if heads:
            try:
                await self._db.journal_heads.bulk_write([_head(*head) for head in sorted(heads.items())], ordered=False)
            except BulkWriteError as exc:  # a head there and further on already, or two replicas making it at once
                if not _is_duplicate(exc):
                    raise
        return added

    async def journal_head(self, channel: str) -> tuple[int, str]:
        return next(((seq, chain) for _, seq, chain in await self.journal_heads([channel])), (0, GENESIS))

    async def journal_after(self, channel: str, after: int, limit: int) -> list[JournalEntry]:
        cursor = self._db.journal.find({"channel": channel, "seq": {"$gt": after}}).sort("seq", ASCENDING)
        return [_entry(doc) async for doc in cursor.limit(limit)]

    async def journal_past_heads(
        self, channels: Collection[str], limit: int
    ) -> dict[str, tuple[tuple[int, str], list[JournalEntry]]]:
        heads = {channel: (seq, chain) for channel, seq, chain in await self.journal_heads(channels)}
        # only a channel whose next seq is there (one waiting for a replica's seq is not read again every batch),
        # found along _id; then one query for those, each as far as `limit` seqs past its head
        nexts = {f"{c}:{seq + 1}" for c, (seq, _) in heads.items()}
        there = self._db.journal.find({"_id": {"$in": sorted(nexts)}}, {"channel": 1})
        ready = sorted({doc["channel"] async for doc in there})
        if not ready:
            return {}
        ranges = [{"channel": c, "seq": {"$gt": heads[c][0], "$lte": heads[c][0] + limit}} for c in ready]
        found: dict[str, tuple[tuple[int, str], list[JournalEntry]]] = {}
        async for doc in self._db.journal.find({"$or": ranges}).sort([("channel", ASCENDING), ("seq", ASCENDING)]):
            found.setdefault(doc["channel"], (heads[doc["channel"]], []))[1].append(_entry(doc))
        return found

    async def journal_set_chains(self, channel: str, chains: Sequence[tuple[int, str]]) -> None:
        if chains:
            await self.journal_write([], {channel: chains})

    async def journal_heads(self, channels: Collection[str] | None = None) -> list[tuple[str, int, str]]:
        query = {} if channels is None else {"_id": {"$in": sorted(set(channels))}}
        cursor = self._db.journal_heads.find(query).sort("_id", ASCENDING)
        return [(doc["_id"], int(doc["seq"]), doc["chain"]) async for doc in cursor]

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
