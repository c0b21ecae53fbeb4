"""MongoDB store for distributed mode: message id as _id, history served from the (channel, seq) index, the
messages folded with their changes and the change log beside them."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from core.errors import ChatError
from core.models import Change, Channel, Message, User, utcnow
from core.store import PINS_MAX, REVOKED_CHUNK, replaced_texts, with_counts

logger = logging.getLogger(__name__)

DEFAULT_DB = "investor_chat"
# Pooled sockets are dropped before a server that closes idle ones (SecantusDB: 300 s) does it first.
MAX_IDLE_MS = 120_000
DUPLICATE_KEY = 11000
SEQ_CEILING = 2**62
# The `meta` document saying every message has a rev: the migration's scan of all messages runs once.
REV_MIGRATED = "messages_rev"

Document = dict[str, Any]


def _message_doc(message: Message, original: str | None = None) -> Document:
    """A message as stored: its rev always set (its seq until it changes), reply_count never (it is counted),
    and `original`, its text as posted, for the compliance record (never read back into a Message)."""
    doc = {"_id": message.id, **message.model_dump(exclude={"id", "reply_count"}, exclude_none=True)}
    doc.setdefault("rev", message.seq)
    if original is not None:
        doc["original"] = original
    return doc


def _message(doc: Document) -> Message:
    doc["id"] = doc.pop("_id")
    doc.pop("original", None)
    doc.setdefault("rev", doc.get("seq"))  # written before messages could change and not migrated yet
    return Message.model_validate(doc)


async def _migrate(db: AsyncDatabase[Document]) -> None:
    """A database written before messages could change: its messages get rev = seq. Once, since finding
    the messages without a rev scans them all; an update run twice (two nodes opening) does the same."""
    if await db.meta.find_one({"_id": REV_MIGRATED}) is not None:
        return
    # none of them was ever edited: their text is as posted
    result = await db.messages.update_many(
        {"rev": {"$exists": False}}, [{"$set": {"rev": "$seq", "original": "$text"}}]
    )
    if result.modified_count:
        logger.info("gave %d messages their rev", result.modified_count)
    await db.meta.update_one({"_id": REV_MIGRATED}, {"$set": {"at": utcnow()}}, upsert=True)


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
            await _migrate(db)
            await store._create_indexes()
        except BaseException:
            await client.close()
            raise
        return store

    async def _create_indexes(self) -> None:
        await self._db.users.create_indexes([IndexModel("username_lower", unique=True)])
        await self._db.messages.create_indexes(
            [
                IndexModel([("channel", ASCENDING), ("seq", ASCENDING)], unique=True),
                IndexModel([("channel", ASCENDING), ("rev", ASCENDING)], name="by_rev"),
                # Every message, not only replies: SecantusDB's planner uses a partial index on
                # {reply_to: {$exists: true}} for neither a thread's page nor the reply counts ($in).
                IndexModel([("channel", ASCENDING), ("reply_to", ASCENDING), ("seq", ASCENDING)], name="by_thread"),
                # Only pinned messages are in it: a channel's others cost it nothing.
                IndexModel(
                    [("channel", ASCENDING), ("pinned", ASCENDING), ("seq", ASCENDING)],
                    name="pinned",
                    partialFilterExpression={"pinned": True},
                ),
            ]
        )
        # The change log: (channel, seq) is its key; originals read a message's changes in order.
        await self._db.changes.create_indexes(
            [
                IndexModel([("channel", ASCENDING), ("seq", ASCENDING)], unique=True),
                IndexModel([("channel", ASCENDING), ("id", ASCENDING), ("seq", ASCENDING)]),
            ]
        )
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
            result = await self._db.messages.insert_many([_message_doc(m, m.text) for m in messages], ordered=False)
        except BulkWriteError as exc:
            inserted = _inserted_despite_duplicates(exc)
            # a message a change of it reached first was stored folded, without its text as posted
            for m in messages:
                await self._db.messages.update_one(
                    {"_id": m.id, "channel": m.channel, "original": {"$exists": False}}, {"$set": {"original": m.text}}
                )
            return inserted
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
        return await self._with_reply_counts(channel, messages), len(docs) > limit

    async def last_seq(self, channel: str) -> int:
        last = 0
        for collection in (self._db.messages, self._db.changes):
            doc = await collection.find_one({"channel": channel}, {"seq": 1}, sort=[("seq", DESCENDING)])
            last = max(last, 0 if doc is None else int(doc["seq"]))
        return last

    async def apply_changes(self, changes: Sequence[Change]) -> int:
        applied = 0
        for change in changes:
            applied += await self._apply(change)
        return applied

    async def _apply(self, change: Change) -> int:
        message = change.message
        stored = await self._db.messages.find_one({"_id": message.id, "channel": change.channel}, {"original": 1})
        entry = {
            "_id": f"{change.channel}:{change.seq}", "channel": change.channel, "seq": change.seq, "id": message.id,
            "kind": change.kind, "by": change.by, "ts": change.ts,
            "data": change.model_dump(exclude_none=True, exclude={"message": {"reply_count"}}),
        }  # fmt: skip
        # The message first, then the change log: with no transaction here, a reader must never find the
        # log (whose highest seq counts as archived) ahead of the messages. A redelivery after a crash in
        # between writes the log; the message's write is guarded by its rev and changes nothing twice.
        doc = _message_doc(message, None if stored is None else stored.get("original"))
        inserted = False
        if stored is None:
            try:
                await self._db.messages.insert_one(doc)
                inserted = True
            except DuplicateKeyError:
                pass  # its message was archived meanwhile: replace it below if it is older
        if not inserted:
            rev = doc["rev"]
            older = {"$or": [{"rev": {"$lt": rev}}, {"rev": {"$exists": False}, "seq": {"$lt": rev}}]}
            await self._db.messages.replace_one({"_id": message.id, "channel": change.channel, **older}, doc)
        try:
            await self._db.changes.insert_one(entry)
        except DuplicateKeyError:
            return 0  # applied before: a redelivery
        return 1

    async def get_message(self, channel: str, message_id: str) -> Message | None:
        doc = await self._db.messages.find_one({"_id": message_id, "channel": channel})
        return None if doc is None else (await self._with_reply_counts(channel, [_message(doc)]))[0]

    async def changed(self, channel: str, *, after: int, limit: int) -> tuple[list[Message], bool]:
        cursor = self._db.messages.find({"channel": channel, "rev": {"$gt": after}}).sort("rev", ASCENDING)
        docs = await cursor.limit(limit + 1).to_list()
        return await self._with_reply_counts(channel, [_message(d) for d in docs[:limit]]), len(docs) > limit

    async def replies(self, channel: str, root: str, *, after: int, limit: int) -> tuple[list[Message], bool]:
        cursor = self._db.messages.find({"channel": channel, "reply_to": root, "seq": {"$gt": after}})
        docs = await cursor.sort("seq", ASCENDING).limit(limit + 1).to_list()
        return [_message(d) for d in docs[:limit]], len(docs) > limit

    async def pins(self, channel: str) -> list[Message]:
        cursor = self._db.messages.find({"channel": channel, "pinned": True}).sort("seq", ASCENDING).limit(PINS_MAX)
        return await self._with_reply_counts(channel, [_message(d) async for d in cursor])

    async def originals(self, channel: str, message_id: str) -> list[str]:
        doc = await self._db.messages.find_one({"_id": message_id, "channel": channel}, {"original": 1, "deleted": 1})
        if doc is None:
            return []
        query = {"channel": channel, "id": message_id, "kind": "edit"}
        cursor = self._db.changes.find(query, {"data.message.text": 1}).sort("seq", ASCENDING)
        edits = [entry["data"]["message"]["text"] async for entry in cursor]
        return replaced_texts(doc.get("original"), edits, deleted=bool(doc.get("deleted")))

    async def reply_counts(self, channel: str, roots: Collection[str]) -> dict[str, int]:
        if not roots:
            return {}
        pipeline: list[Document] = [
            {"$match": {"channel": channel, "reply_to": {"$in": list(roots)}}},
            {"$group": {"_id": "$reply_to", "count": {"$sum": 1}}},
        ]
        return {doc["_id"]: int(doc["count"]) async for doc in await self._db.messages.aggregate(pipeline)}

    async def _with_reply_counts(self, channel: str, messages: list[Message]) -> list[Message]:
        return with_counts(messages, await self.reply_counts(channel, [m.id for m in messages if m.reply_to is None]))

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
