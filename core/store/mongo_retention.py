"""Retention and legal holds of the MongoDB store (#24, docs/protocol.md#retention-and-legal-hold): a part of
MongoStore, on its database."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from core.changes import DROPPED
from core.models import Hold
from core.store import REDACT_CHUNK, RETENTION_SPAN, message_ids
from core.store.mongo_schema import Document

# holds have their name lower-cased as _id (one per name in any letter case); the rest is the model's


class MongoRetention:
    _db: AsyncDatabase[Document]

    async def set_retention(self, channel: str, days: int | None) -> bool:
        update = {"$set": {"retention_days": days}} if days is not None else {"$unset": {"retention_days": ""}}
        result = await self._db.channels.update_one({"_id": channel}, update)
        return bool(result.matched_count == 1)

    async def add_hold(self, hold: Hold) -> bool:
        try:
            await self._db.holds.insert_one({"_id": hold.name.lower(), **hold.model_dump(exclude_none=True)})
        except DuplicateKeyError:
            return False
        return True

    async def remove_hold(self, name: str) -> bool:
        return bool((await self._db.holds.delete_one({"_id": name.lower()})).deleted_count == 1)

    async def holds(self) -> list[Hold]:
        cursor = self._db.holds.find({}, {"_id": 0}).sort([("created_at", ASCENDING), ("name", ASCENDING)])
        return [Hold.model_validate(doc) async for doc in cursor]

    async def journal_expired(
        self, channel: str, before: str, *, after: int = 0, limit: int = REDACT_CHUNK
    ) -> list[tuple[int, str]]:
        # as SQLite's: the last seq before `before` by the time index, then spans of the seq index
        last = await self._db.journal.find_one(
            {"channel": channel, "ts": {"$lt": before}}, {"seq": 1}, sort=[("ts", DESCENDING), ("seq", DESCENDING)]
        )
        high = 0 if last is None else int(last["seq"])
        found: list[tuple[int, str]] = []
        while after < high and len(found) < limit:
            upto = min(after + RETENTION_SPAN, high)
            query = {
                "channel": channel, "seq": {"$gt": after, "$lte": upto}, "ts": {"$lt": before},
                "redacted_at": {"$exists": False},
            }  # fmt: skip
            cursor = self._db.journal.find(query, {"seq": 1, "user": 1}).sort("seq", ASCENDING)
            found += [(int(doc["seq"]), doc["user"]) async for doc in cursor.limit(limit - len(found))]
            after = found[-1][0] if len(found) == limit else upto
        return found

    async def journal_redact(self, channel: str, seqs: Collection[int], at: str) -> int:
        count = 0
        asked = sorted(set(seqs))
        for start in range(0, len(asked), REDACT_CHUNK):
            keys = [f"{channel}:{seq}" for seq in asked[start : start + REDACT_CHUNK]]
            query: Document = {"_id": {"$in": keys}, "redacted_at": {"$exists": False}}
            docs = self._db.journal.find({**query, "kind": "message"}, {"kind": 1, "record": 1})
            ids = message_ids([(doc["kind"], doc.get("record")) async for doc in docs])
            # the messages before their entries, with no transaction here: a run stopped between leaves the
            # entries unredacted, so the next run blanks the messages again rather than never
            if ids:
                await self._redact_messages(channel, ids)
            result = await self._db.journal.update_many(query, {"$set": {"redacted_at": at}, "$unset": {"record": ""}})
            count += int(result.modified_count)
        return count

    async def _redact_messages(self, channel: str, ids: Sequence[str]) -> None:
        """As SQLite's: text "" and redacted, what a delete drops dropped, no words or cashtags for search,
        the texts replaced blanked, everyone's notifications of them gone."""
        mine = {"_id": {"$in": list(ids)}, "channel": channel}
        await self._db.messages.update_many(
            mine,
            {"$set": {"text": "", "redacted": True, "words": [], "cashtags": []}, "$unset": dict.fromkeys(DROPPED, "")},
        )
        await self._db.messages.update_many({**mine, "original": {"$exists": True}}, {"$set": {"original": ""}})
        await self._db.changes.update_many(
            {"channel": channel, "id": {"$in": list(ids)}},
            {
                "$set": {"data.message.text": "", "data.message.redacted": True},
                "$unset": {f"data.message.{field}": "" for field in DROPPED},
            },
        )
        await self._db.notifications.delete_many({"key": {"$in": list(ids)}})
