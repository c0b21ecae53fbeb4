"""MongoDB store for distributed mode: message id as _id, history served from the (channel, seq) index, the
messages folded with their changes and the change log beside them."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from core.changes import redacted
from core.errors import ChatError
from core.models import (
    AuditEntry,
    Change,
    Channel,
    ChannelEvent,
    ChannelRole,
    Invite,
    Member,
    Message,
    Moderation,
    User,
)
from core.store import PINS_MAX, REVOKED_CHUNK, replaced_texts, with_counts
from core.store.mongo_exports import MongoExports
from core.store.mongo_journal import MongoJournal
from core.store.mongo_notify import MongoNotify
from core.store.mongo_retention import MongoRetention
from core.store.mongo_schema import DUPLICATE_KEY, Document, last_archived_seq, prepare, user_key
from core.store.mongo_search import SEARCH_FIELDS, search_fields, search_pipeline
from core.store.mongo_trading import MongoTrading

logger = logging.getLogger(__name__)

DEFAULT_DB = "investor_chat"
# Pooled sockets are dropped before a server that closes idle ones (SecantusDB: 300 s) does it first.
MAX_IDLE_MS = 120_000
SEQ_CEILING = 2**62
ROLE_RANK = {"owner": 0, "moderator": 1, "member": 2}
NAME_CEILING = "\U0010ffff"  # sorts after every string that begins with the same characters


def _message_doc(message: Message, original: str | None = None) -> Document:
    """A message as stored: its rev always set (its seq until it changes), reply_count never (it is counted),
    `original`, its text as posted, for the compliance record, and what search reads (search_fields): none
    of them read back into a Message."""
    doc = {"_id": message.id, **message.model_dump(exclude={"id", "reply_count"}, exclude_none=True)}
    doc.update(search_fields(message.text, message.user))
    doc.setdefault("rev", message.seq)
    if original is not None:
        doc["original"] = original
    return doc


def _message(doc: Document) -> Message:
    doc["id"] = doc.pop("_id")
    for field in ("original", *SEARCH_FIELDS):
        doc.pop(field, None)
    doc.setdefault("rev", doc.get("seq"))  # written before messages could change and not migrated yet
    return Message.model_validate(doc)


def _channel(doc: Document) -> Channel:
    """A channel as stored, its name the _id; one written before channels had settings reads as public, no topic."""
    doc["name"] = doc.pop("_id")
    return Channel.model_validate(doc)


def _event(doc: Document) -> ChannelEvent:
    doc.pop("_id")
    return ChannelEvent.model_validate(doc)


class MongoStore(MongoNotify, MongoTrading, MongoJournal, MongoRetention, MongoExports):
    def __init__(self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document]) -> None:
        self._client = client
        self._db = db

    @classmethod
    async def open(cls, url: str) -> MongoStore:
        options: dict[str, Any] = {} if "maxidletimems" in url.lower() else {"maxIdleTimeMS": MAX_IDLE_MS}
        client: AsyncMongoClient[Document] = AsyncMongoClient(url, tz_aware=True, **options)
        try:
            db = client.get_default_database(DEFAULT_DB)
            await prepare(db)
            store = cls(client, db)
        except BaseException:
            await client.close()
            raise
        return store

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
        return None if doc is None else _channel(doc)

    async def list_channels(self) -> list[Channel]:
        return [_channel(doc) async for doc in self._db.channels.find().sort("_id", ASCENDING)]

    async def count_channels(self) -> int:
        return int(await self._db.channels.count_documents({}))

    async def delete_channel(self, name: str) -> bool:
        result = await self._db.channels.delete_one({"_id": name})
        # a channel made later under the name starts with nobody in it, muted or banned
        for collection in (self._db.members, self._db.mutes, self._db.bans):
            await collection.delete_many({"channel": name})
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
        return await last_archived_seq(self._db, channel)

    async def apply_changes(self, changes: Sequence[Change]) -> int:
        applied = 0
        for change in changes:
            applied += await self._apply(change)
        return applied

    async def _apply(self, change: Change) -> int:
        message = change.message
        stored = await self._db.messages.find_one(
            {"_id": message.id, "channel": change.channel}, {"original": 1, "redacted": 1}
        )
        if stored is not None and stored.get("redacted"):
            message = redacted(message)  # a change of a message redacted under retention brings no text back
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

    async def search(self, *, words: Sequence[str], cashtags: Sequence[str], channels: Collection[str],
                     user: str | None, before: str | None, limit: int) -> tuple[list[Message], str | None]:  # fmt: skip
        pipeline = search_pipeline(
            words=words, cashtags=cashtags, channels=channels, user=user, before=before, limit=limit
        )
        if pipeline is None:
            return [], None
        found = [_message(doc) async for doc in await self._db.messages.aggregate(pipeline)]
        hits, counts = found[:limit], dict[str, int]()
        for channel in {m.channel for m in hits}:
            counts |= await self.reply_counts(channel, [m.id for m in hits if m.channel == channel and not m.reply_to])
        return with_counts(hits, counts), hits[-1].id if len(found) > limit else None

    async def set_user_roles(self, username: str, roles: Collection[str]) -> bool:
        result = await self._db.users.update_one(
            {"username_lower": username.lower()}, {"$set": {"roles": sorted(set(roles))}}
        )
        return bool(result.matched_count == 1)

    async def set_suspended(self, username: str, suspended: bool) -> bool:
        result = await self._db.users.update_one(
            {"username_lower": username.lower()}, {"$set": {"suspended": suspended}}
        )
        return bool(result.matched_count == 1)

    async def list_users(self, *, prefix: str = "", limit: int = 50) -> list[User]:
        start = prefix.lower()
        query = {"username_lower": {"$gte": start, "$lt": start + NAME_CEILING}} if start else {}
        cursor = self._db.users.find(query).sort("username_lower", ASCENDING).limit(limit)
        return [User.model_validate(doc) async for doc in cursor]

    async def create_invite(self, invite: Invite) -> None:
        await self._db.invites.insert_one({"_id": invite.code, **invite.model_dump(exclude={"code"})})

    async def list_invites(self) -> list[Invite]:
        cursor = self._db.invites.find({"uses_left": {"$gt": 0}}).sort(
            [("created_at", DESCENDING), ("_id", DESCENDING)]
        )
        return [Invite.model_validate({**doc, "code": doc["_id"]}) async for doc in cursor]

    async def use_invite(self, code: str, now: str) -> bool:
        # one document's update is atomic: of two registrations after the last use, one matches nothing
        result = await self._db.invites.update_one(
            {"_id": code, "uses_left": {"$gt": 0}, "expires_at": {"$gt": now}}, {"$inc": {"uses_left": -1}}
        )
        return bool(result.modified_count == 1)

    async def add_audit(self, entry: AuditEntry) -> None:
        await self._db.audit.insert_one({"_id": entry.id, **entry.model_dump(exclude={"id"})})

    async def audit(self, *, before: str | None, limit: int) -> list[AuditEntry]:
        query = {} if before is None else {"_id": {"$lt": before}}
        cursor = self._db.audit.find(query).sort("_id", DESCENDING).limit(limit)
        return [AuditEntry.model_validate({**doc, "id": doc["_id"]}) async for doc in cursor]

    async def update_channel(self, name: str, *, topic: str | None = None, slow_mode_s: int | None = None) -> bool:
        settings = {key: value for key, value in (("topic", topic), ("slow_mode_s", slow_mode_s)) if value is not None}
        if not settings:
            return await self._db.channels.find_one({"_id": name}, {"_id": 1}) is not None
        result = await self._db.channels.update_one({"_id": name}, {"$set": settings})
        return bool(result.matched_count == 1)

    async def channels_of(self, username: str) -> set[str]:
        return {doc["channel"] async for doc in self._db.members.find({"lower": username.lower()}, {"channel": 1})}

    async def set_member(self, channel: str, username: str, role: ChannelRole) -> None:
        await self._db.members.update_one(
            {"_id": user_key(channel, username)},
            {
                "$set": {"role": role},
                "$setOnInsert": {"channel": channel, "username": username, "lower": username.lower()},
            },
            upsert=True,
        )

    async def remove_member(self, channel: str, username: str) -> bool:
        result = await self._db.members.delete_one({"_id": user_key(channel, username)})
        return bool(result.deleted_count == 1)

    async def member_role(self, channel: str, username: str) -> ChannelRole | None:
        doc = await self._db.members.find_one({"_id": user_key(channel, username)}, {"role": 1})
        return None if doc is None else doc["role"]

    async def members(self, channel: str) -> list[Member]:
        docs = await self._db.members.find({"channel": channel}).to_list()
        docs.sort(key=lambda doc: (ROLE_RANK[doc["role"]], doc["lower"]))
        return [Member(username=doc["username"], role=doc["role"]) for doc in docs]

    async def set_mute(self, channel: str, username: str, until: str) -> None:
        await self._db.mutes.replace_one(
            {"_id": user_key(channel, username)},
            {"channel": channel, "lower": username.lower(), "until": until},
            upsert=True,
        )

    async def remove_mute(self, channel: str, username: str) -> bool:
        result = await self._db.mutes.delete_one({"_id": user_key(channel, username)})
        return bool(result.deleted_count == 1)

    async def set_ban(self, channel: str, username: str, banned: bool) -> bool:
        key = user_key(channel, username)
        if not banned:
            return bool((await self._db.bans.delete_one({"_id": key})).deleted_count == 1)
        result = await self._db.bans.update_one(
            {"_id": key}, {"$setOnInsert": {"channel": channel, "lower": username.lower()}}, upsert=True
        )
        return result.upserted_id is not None

    async def moderation(self, channel: str) -> Moderation:
        muted = {doc["lower"]: doc["until"] async for doc in self._db.mutes.find({"channel": channel})}
        banned = {doc["lower"] async for doc in self._db.bans.find({"channel": channel})}
        return Moderation(muted=muted, banned=banned)

    async def save_events(self, events: Sequence[ChannelEvent]) -> int:
        if not events:
            return 0
        docs = [{"_id": f"{e.channel}:{e.seq}", **e.model_dump(exclude_none=True)} for e in events]
        try:
            result = await self._db.channel_events.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            return _inserted_despite_duplicates(exc)
        return len(result.inserted_ids)

    async def events(self, channel: str, *, after: int, limit: int) -> list[ChannelEvent]:
        cursor = self._db.channel_events.find({"channel": channel, "seq": {"$gt": after}})
        return [_event(doc) async for doc in cursor.sort("seq", ASCENDING).limit(limit)]

    async def revoke_token(self, jti: str, expires_at: datetime) -> None:
        await self._db.revoked_tokens.replace_one({"_id": jti}, {"expires_at": expires_at.astimezone(UTC)}, upsert=True)

    async def revoked(self, jtis: Collection[str]) -> set[str]:
        asked, found = list(jtis), set[str]()
        for i in range(0, len(asked), REVOKED_CHUNK):
            cursor = self._db.revoked_tokens.find({"_id": {"$in": asked[i : i + REVOKED_CHUNK]}}, {"_id": 1})
            found.update([doc["_id"] async for doc in cursor])
        return found


def _inserted_despite_duplicates(exc: BulkWriteError) -> int:
    """Count the new messages (or channel events) of a batch that hit existing ones; re-raise any other failure."""
    errors: list[Document] = exc.details.get("writeErrors", [])
    if any(e.get("code") != DUPLICATE_KEY for e in errors) or exc.details.get("writeConcernErrors"):
        raise exc
    for error in errors:
        # A duplicate id is a redelivery; a duplicate (channel, seq) under another id means two
        # messages were given one seq, which the bus must never do: say so loudly.
        if "_id" not in (error.get("keyPattern") or {"_id": 1}):
            logger.error("seq collision on save: %s", error.get("errmsg"), extra={"op": error.get("op")})
    return int(exc.details.get("nInserted", 0))
