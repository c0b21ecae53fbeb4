"""Read marks, unread and mention counts, notifications and notification preferences of the MongoDB store
(#22): a part of MongoStore, on its database."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from core.models import Notification, NotifyPrefs
from core.store.mongo_schema import DUPLICATE_KEY, Document, user_key


def _notification(doc: Document) -> Notification:
    doc["id"] = doc.pop("_id")
    doc.pop("lower")
    return Notification.model_validate(doc)


class MongoNotify:
    _db: AsyncDatabase[Document]

    async def mark_read(self, user: str, channel: str, seq: int) -> int:
        try:
            return await self._move_mark(user, channel, seq)
        except DuplicateKeyError:
            # two first marks at once: the upsert that lost the insert finds the other's document now
            return await self._move_mark(user, channel, seq)

    async def _move_mark(self, user: str, channel: str, seq: int) -> int:
        doc = await self._db.read_marks.find_one_and_update(
            {"_id": user_key(channel, user)},
            {"$max": {"seq": seq}, "$setOnInsert": {"channel": channel, "username": user, "lower": user.lower()}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return seq if doc is None else int(doc["seq"])

    async def mark_read_many(self, marks: Sequence[tuple[str, str, int]]) -> None:
        if not marks:
            return
        updates = [
            UpdateOne(
                {"_id": user_key(channel, user)},
                {"$max": {"seq": seq}, "$setOnInsert": {"channel": channel, "username": user, "lower": user.lower()}},
                upsert=True,
            )
            for user, channel, seq in marks
        ]
        try:
            await self._db.read_marks.bulk_write(updates, ordered=False)
        except BulkWriteError:
            # two first marks at once: the upserts that lost their insert find the other's documents now
            await self._db.read_marks.bulk_write(updates, ordered=False)

    async def read_marks(self, user: str) -> dict[str, int]:
        cursor = self._db.read_marks.find({"lower": user.lower()}, {"channel": 1, "seq": 1})
        return {doc["channel"]: int(doc["seq"]) async for doc in cursor}

    async def readers(self, channel: str) -> list[str]:
        cursor = self._db.read_marks.find({"channel": channel}, {"username": 1}).sort("lower", ASCENDING)
        return [doc["username"] async for doc in cursor]

    async def unread_counts(self, user: str, marks: Mapping[str, int], *, cap: int) -> dict[str, int]:
        counts = await asyncio.gather(*(self._unread(user, channel, mark, cap) for channel, mark in marks.items()))
        return dict(zip(marks, counts, strict=True))

    async def _unread(self, user: str, channel: str, mark: int, cap: int) -> int:
        # the first stage alone is what SecantusDB reads the (channel, seq) index for
        pipeline: list[Document] = [
            {"$match": {"channel": channel, "seq": {"$gt": mark}}},
            {"$match": {"deleted": {"$ne": True}, "user_lower": {"$ne": user.lower()}}},
            {"$limit": cap},
            {"$count": "unread"},
        ]
        found = await (await self._db.messages.aggregate(pipeline)).to_list()
        return int(found[0]["unread"]) if found else 0

    async def mention_counts(self, user: str, marks: Mapping[str, int]) -> dict[str, int]:
        if not marks:
            return {}
        after = [{"channel": channel, "seq": {"$gt": mark}} for channel, mark in marks.items()]
        pipeline: list[Document] = [
            {"$match": {"lower": user.lower()}},
            {"$match": {"kind": "mention", "$or": after}},
            {"$group": {"_id": "$channel", "count": {"$sum": 1}}},
        ]
        return {doc["_id"]: int(doc["count"]) async for doc in await self._db.notifications.aggregate(pipeline)}

    async def save_notifications(self, items: Sequence[Notification]) -> list[Notification]:
        if not items:
            return []
        docs = [
            {"_id": n.id, "lower": n.user.lower(), **n.model_dump(exclude={"id"}, exclude_none=True)} for n in items
        ]
        try:
            await self._db.notifications.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors: list[Document] = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors) or exc.details.get("writeConcernErrors"):
                raise
            there = {int(e["index"]) for e in errors}  # (user, key) or id saved before: a retried batch
            return [n for i, n in enumerate(items) if i not in there]
        return list(items)

    async def notifications(self, user: str, *, before: str | None, limit: int) -> list[Notification]:
        query: Document = {"lower": user.lower()}
        if before is not None:
            query["_id"] = {"$lt": before}
        cursor = self._db.notifications.find(query).sort("_id", DESCENDING).limit(limit)
        return [_notification(doc) async for doc in cursor]

    async def drop_notifications(self, key: str) -> int:
        result = await self._db.notifications.delete_many({"key": key})
        return int(result.deleted_count)

    async def get_notify_prefs(self, user: str) -> NotifyPrefs | None:
        doc = await self._db.notify_prefs.find_one({"_id": user.lower()}, {"prefs": 1})
        return None if doc is None else NotifyPrefs.model_validate(doc["prefs"])

    async def set_notify_prefs(self, user: str, prefs: NotifyPrefs, updated_at: str) -> None:
        await self._db.notify_prefs.update_one(
            {"_id": user.lower()},
            {"$set": {"prefs": prefs.model_dump(), "updated_at": updated_at}, "$setOnInsert": {"username": user}},
            upsert=True,
        )

    async def notify_prefs_since(self, since: str) -> list[tuple[str, NotifyPrefs, str]]:
        cursor = self._db.notify_prefs.find({"updated_at": {"$gt": since}})
        cursor = cursor.sort([("updated_at", ASCENDING), ("_id", ASCENDING)])
        return [(doc["username"], NotifyPrefs.model_validate(doc["prefs"]), doc["updated_at"]) async for doc in cursor]
