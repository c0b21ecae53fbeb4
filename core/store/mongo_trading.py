"""Watchlists, price alerts and trade ideas of the MongoDB store (#23): a part of MongoStore, on its database."""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Sequence
from typing import Literal

from pymongo import DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from core.store.mongo_schema import Document
from core.trading import Alert, AlertStatus, Idea, IdeaStatus

# Alerts and ideas have their id as _id, the lower-cased user or author as `lower` (what letter case
# ignores), and `delivered`, the store's alone: whether a triggered alert's notification, or a closed
# idea's card update and notification, went out. Neither field reads back into the model.
HIDDEN = ("lower", "delivered")
CLOSED: list[IdeaStatus] = ["target_hit", "stopped", "expired"]


def _fields(doc: Document) -> Document:
    """A stored alert's or idea's model fields."""
    doc["id"] = doc.pop("_id")
    for field in HIDDEN:
        doc.pop(field, None)
    return doc


def _alert(doc: Document) -> Alert:
    return Alert.model_validate(_fields(doc))


def _idea(doc: Document) -> Idea:
    return Idea.model_validate(_fields(doc))


class MongoTrading:
    _db: AsyncDatabase[Document]

    async def get_watchlist(self, user: str) -> list[str]:
        doc = await self._db.watchlists.find_one({"_id": user.lower()}, {"symbols": 1})
        return [] if doc is None else list(doc["symbols"])

    async def set_watchlist(self, user: str, symbols: Sequence[str]) -> None:
        await self._db.watchlists.update_one(
            {"_id": user.lower()}, {"$set": {"symbols": list(symbols)}, "$setOnInsert": {"username": user}}, upsert=True
        )

    async def add_alert(self, alert: Alert, *, max_active: int) -> bool:
        """Count, then insert: adds of one user racing at the limit may each pass it (the protocol allows it on
        MongoDB); only a transaction would rule it out, and a few alerts over cost the engine little."""
        lower = alert.user.lower()
        if await self._db.alerts.find_one({"_id": alert.id}, {"_id": 1}) is not None:
            return True  # set before (a command handled again): added all the same
        if await self._db.alerts.count_documents({"lower": lower, "status": "active"}) >= max_active:
            return False
        doc = {
            "_id": alert.id,
            "lower": lower,
            "delivered": False,
            **alert.model_dump(exclude={"id"}, exclude_none=True),
        }
        with contextlib.suppress(DuplicateKeyError):  # the same command handled at once by another replica
            await self._db.alerts.insert_one(doc)
        return True

    async def alerts(self, user: str, *, status: AlertStatus | None = None, limit: int = 100) -> list[Alert]:
        query: Document = {"lower": user.lower()}
        if status is not None:
            query["status"] = status
        cursor = self._db.alerts.find(query).sort([("created_at", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        return [_alert(doc) async for doc in cursor]

    async def cancel_alert(self, user: str, alert_id: str) -> Alert | None:
        doc = await self._db.alerts.find_one_and_update(
            {"_id": alert_id, "lower": user.lower(), "status": "active"},
            {"$set": {"status": "cancelled"}},
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else _alert(doc)

    async def active_alerts(self) -> list[Alert]:
        return [_alert(doc) async for doc in self._db.alerts.find({"status": "active"}).sort("created_at")]

    async def settle_alert(
        self, alert_id: str, status: Literal["triggered", "expired"], at: str, price: str | None
    ) -> Alert | None:
        fields: Document = {"status": status}
        if status == "triggered":
            fields["triggered_at"] = at
            if price is not None:
                fields["triggered_price"] = price
        # one document's update is atomic: of many replicas, only the first finds it still active
        doc = await self._db.alerts.find_one_and_update(
            {"_id": alert_id, "status": "active"}, {"$set": fields}, return_document=ReturnDocument.AFTER
        )
        return None if doc is None else _alert(doc)

    async def undelivered_alerts(self) -> list[Alert]:
        cursor = self._db.alerts.find({"delivered": False, "status": "triggered"}).sort("created_at")
        return [_alert(doc) async for doc in cursor]

    async def mark_alert_delivered(self, alert_id: str) -> None:
        await self._db.alerts.update_one({"_id": alert_id}, {"$set": {"delivered": True}})

    async def save_idea(self, idea: Idea) -> bool:
        try:
            await self._db.ideas.insert_one(_idea_doc(idea))
        except DuplicateKeyError:
            return False  # a redelivered /idea: the first one stays
        return True

    async def get_idea(self, idea_id: str) -> Idea | None:
        doc = await self._db.ideas.find_one({"_id": idea_id})
        return None if doc is None else _idea(doc)

    async def open_ideas(self) -> list[Idea]:
        return [_idea(doc) async for doc in self._db.ideas.find({"status": "open"}).sort("opened_at")]

    async def close_idea(self, idea: Idea) -> Idea | None:
        # replaced whole, in the one update that finds it still open: exactly one closer wins
        doc = await self._db.ideas.find_one_and_replace(
            {"_id": idea.id, "status": "open"}, _idea_doc(idea), return_document=ReturnDocument.AFTER
        )
        return None if doc is None else _idea(doc)

    async def undelivered_ideas(self) -> list[Idea]:
        # the closed statuses named: SecantusDB reads no index for $ne
        cursor = self._db.ideas.find({"delivered": False, "status": {"$in": CLOSED}}).sort("opened_at")
        return [_idea(doc) async for doc in cursor]

    async def mark_idea_delivered(self, idea_id: str) -> None:
        await self._db.ideas.update_one({"_id": idea_id}, {"$set": {"delivered": True}})

    async def ideas_by(
        self, author: str, *, channels: Collection[str], status: IdeaStatus | None = None, limit: int = 200
    ) -> list[Idea]:
        # the first stage alone is what SecantusDB reads the author's index for (with the channels in it, it scans)
        rest: Document = {"channel": {"$in": list(channels)}}
        if status is not None:
            rest["status"] = status
        pipeline: list[Document] = [
            {"$match": {"lower": author.lower()}},
            {"$match": rest},
            {"$sort": {"opened_at": DESCENDING, "_id": DESCENDING}},
            {"$limit": limit},
        ]
        return [_idea(doc) async for doc in await self._db.ideas.aggregate(pipeline)]


def _idea_doc(idea: Idea) -> Document:
    """An idea as stored, not delivered yet (_id, lower and delivered beside its fields)."""
    fields = idea.model_dump(exclude={"id"}, exclude_none=True)
    return {"_id": idea.id, "lower": idea.author.lower(), "delivered": False, **fields}
