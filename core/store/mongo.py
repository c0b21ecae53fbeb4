"""MongoDB store for distributed mode: message id as _id, history served from the (channel, seq) index."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from core.errors import ChatError
from core.models import Channel, Message, User
from core.store import REVOKED_CHUNK

logger = logging.getLogger(__name__)

DEFAULT_DB = "investor_chat"
# Pooled sockets are dropped before a server that closes idle ones (SecantusDB: 300 s) does it first.
MAX_IDLE_MS = 120_000
DUPLICATE_KEY = 11000
SEQ_CEILING = 2**62

Document = dict[str, Any]


def _message_doc(message: Message) -> Document:
    return {"_id": message.id, **message.model_dump(exclude={"id"}, exclude_none=True)}


def _message(doc: Document) -> Message:
    doc["id"] = doc.pop("_id")
    return Message.model_validate(doc)


class MongoStore:
    def __init__(self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document]) -> None:
        self._client = client
        self._db = db

    @classmethod
    async def open(cls, url: str) -> MongoStore:
        options: dict[str, Any] = {} if "maxidletimems" in url.lower() else {"maxIdleTimeMS": MAX_IDLE_MS}
        client: AsyncMongoClient[Document] = AsyncMongoClient(url, tz_aware=True, **options)
        try:
            db = client.get_default_database(DEFAULT_DB)
            store = cls(client, db)
            await store._create_indexes()
        except BaseException:
            await client.close()
            raise
        return store

    async def _create_indexes(self) -> None:
        await self._db.users.create_indexes([IndexModel("username_lower", unique=True)])
        await self._db.messages.create_indexes([IndexModel([("channel", ASCENDING), ("seq", ASCENDING)], unique=True)])
        # expireAfterSeconds=0: the server drops a revoked token once the token itself has expired.
        await self._db.revoked_tokens.create_indexes([IndexModel("expires_at", expireAfterSeconds=0)])

    async def ping(self) -> None:
        await self._db.command("ping")

    async def close(self) -> None:
        await self._client.close()

    async def create_user(self, user: User) -> None:
        doc = {**user.model_dump(), "username_lower": user.username.lower()}
        try:
            await self._db.users.insert_one(doc)
        except DuplicateKeyError:
            raise ChatError("username_taken", "That username is taken", 409) from None

    async def get_user(self, username: str) -> User | None:
        doc = await self._db.users.find_one({"username_lower": username.lower()})
        return None if doc is None else User.model_validate(doc)

    async def create_channel(self, channel: Channel) -> bool:
        try:
            await self._db.channels.insert_one({"_id": channel.name, **channel.model_dump(exclude={"name"})})
        except DuplicateKeyError:
            return False
        return True

    async def get_channel(self, name: str) -> Channel | None:
        doc = await self._db.channels.find_one({"_id": name})
        return (
            None
            if doc is None
            else Channel(name=doc["_id"], created_by=doc["created_by"], created_at=doc["created_at"])
        )

    async def list_channels(self) -> list[Channel]:
        cursor = self._db.channels.find().sort("_id", ASCENDING)
        return [Channel(name=d["_id"], created_by=d["created_by"], created_at=d["created_at"]) async for d in cursor]

    async def count_channels(self) -> int:
        return int(await self._db.channels.count_documents({}))

    async def delete_channel(self, name: str) -> bool:
        result = await self._db.channels.delete_one({"_id": name})
        return bool(result.deleted_count == 1)

    async def save_messages(self, messages: Sequence[Message]) -> int:
        if not messages:
            return 0
        try:
            result = await self._db.messages.insert_many([_message_doc(m) for m in messages], ordered=False)
        except BulkWriteError as exc:
            return _inserted_despite_duplicates(exc)
        return len(result.inserted_ids)

    async def history(
        self, channel: str, *, limit: int, before: int | None = None, after: int | None = None
    ) -> tuple[list[Message], bool]:
        low = after if after is not None else 0
        high = before if before is not None else SEQ_CEILING
        order = ASCENDING if after is not None else DESCENDING
        cursor = (
            self._db.messages.find({"channel": channel, "seq": {"$gt": low, "$lt": high}})
            .sort("seq", order)
            .limit(limit + 1)
        )
        docs = await cursor.to_list()
        messages = [_message(d) for d in docs[:limit]]
        if order == DESCENDING:
            messages.reverse()
        return messages, len(docs) > limit

    async def last_seq(self, channel: str) -> int:
        doc = await self._db.messages.find_one({"channel": channel}, {"seq": 1}, sort=[("seq", DESCENDING)])
        return 0 if doc is None else int(doc["seq"])

    async def revoke_token(self, jti: str, expires_at: datetime) -> None:
        await self._db.revoked_tokens.replace_one({"_id": jti}, {"expires_at": expires_at.astimezone(UTC)}, upsert=True)

    async def revoked(self, jtis: Collection[str]) -> set[str]:
        asked, found = list(jtis), set[str]()
        for i in range(0, len(asked), REVOKED_CHUNK):
            cursor = self._db.revoked_tokens.find({"_id": {"$in": asked[i : i + REVOKED_CHUNK]}}, {"_id": 1})
            found.update([doc["_id"] async for doc in cursor])
        return found


def _inserted_despite_duplicates(exc: BulkWriteError) -> int:
    """Count the new messages of a batch that hit existing ones; re-raise any other failure."""
    errors: list[Document] = exc.details.get("writeErrors", [])
    if any(e.get("code") != DUPLICATE_KEY for e in errors) or exc.details.get("writeConcernErrors"):
        raise exc
    for error in errors:
        # A duplicate id is a redelivery; a duplicate (channel, seq) under another id means two
        # messages were given one seq, which the bus must never do: say so loudly.
        if "_id" not in (error.get("keyPattern") or {"_id": 1}):
            logger.error("seq collision on save: %s", error.get("errmsg"), extra={"op": error.get("op")})
    return int(exc.details.get("nInserted", 0))
