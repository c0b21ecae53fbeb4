"""The MongoDB collections' indexes, and how a database written by an older version is brought up to date."""

from __future__ import annotations

import logging
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from core.models import utcnow
from core.store.mongo_search import search_fields

logger = logging.getLogger(__name__)

# The `meta` document saying every message has a rev: the migration's scan of all messages runs once.
REV_MIGRATED = "messages_rev"
# The `meta` document saying every channel made before channels had members has its creator as owner.
OWNERS_MIGRATED = "channel_owners"
# The `meta` document saying every message has its search fields (#22).
SEARCH_MIGRATED = "messages_search"
MIGRATION_BATCH = 1000

Document = dict[str, Any]
DUPLICATE_KEY = 11000


async def prepare(db: AsyncDatabase[Document]) -> None:
    """Bring an older database up to date, then make the indexes (each node opening does it; both are idempotent)."""
    await _migrate(db)
    await _create_indexes(db)


def user_key(channel: str, username: str) -> str:
    """The _id of a user's member, mute or ban document in a channel: one per user whatever the letter case."""
    return f"{channel}\x00{username.lower()}"


async def _migrate(db: AsyncDatabase[Document]) -> None:
    await _give_messages_revs(db)
    await _give_channels_owners(db)
    await _give_messages_search_fields(db)


async def _give_messages_revs(db: AsyncDatabase[Document]) -> None:
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


async def _give_channels_owners(db: AsyncDatabase[Document]) -> None:
    """A database written before channels had members: each channel's creator becomes its owner (#general,
    made by the server, has none). Once, so an owner removed later is not made one again; run twice (two
    nodes opening) it inserts nothing the first run did not."""
    if await db.meta.find_one({"_id": OWNERS_MIGRATED}) is not None:
        return
    async for doc in db.channels.find({"created_by": {"$ne": "system"}}, {"created_by": 1}):
        channel, creator = doc["_id"], doc["created_by"]
        await db.members.update_one(
            {"_id": user_key(channel, creator)},
            {"$setOnInsert": {"channel": channel, "username": creator, "lower": creator.lower(), "role": "owner"}},
            upsert=True,
        )
    await db.meta.update_one({"_id": OWNERS_MIGRATED}, {"$set": {"at": utcnow()}}, upsert=True)


async def _give_messages_search_fields(db: AsyncDatabase[Document]) -> None:
    """A database written before search: its messages get their words, cashtags and lower-cased author from
    their latest text. Once, since finding them scans every message; run twice (two nodes opening) it
    writes the same values."""
    if await db.meta.find_one({"_id": SEARCH_MIGRATED}) is not None:
        return
    updates: list[UpdateOne] = []
    given = 0
    async for doc in db.messages.find({"user_lower": {"$exists": False}}, {"text": 1, "user": 1}):
        updates.append(UpdateOne({"_id": doc["_id"]}, {"$set": search_fields(doc["text"], doc["user"])}))
        if len(updates) == MIGRATION_BATCH:
            given += (await db.messages.bulk_write(updates, ordered=False)).modified_count
            updates = []
    if updates:
        given += (await db.messages.bulk_write(updates, ordered=False)).modified_count
    if given:
        logger.info("gave %d messages their search fields", given)
    await db.meta.update_one({"_id": SEARCH_MIGRATED}, {"$set": {"at": utcnow()}}, upsert=True)


async def _create_indexes(db: AsyncDatabase[Document]) -> None:
    await db.users.create_indexes([IndexModel("username_lower", unique=True)])
    await db.messages.create_indexes(
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
            # Search (core/store/mongo_search.py): one word's, tag's or author's messages, newest first.
            IndexModel([("words", ASCENDING), ("_id", DESCENDING)], name="search_words"),
            IndexModel([("cashtags", ASCENDING), ("_id", DESCENDING)], name="search_cashtags"),
            IndexModel([("user_lower", ASCENDING), ("_id", DESCENDING)], name="search_user"),
        ]
    )
    # The change log: (channel, seq) is its key; originals read a message's changes in order.
    await db.changes.create_indexes(
        [
            IndexModel([("channel", ASCENDING), ("seq", ASCENDING)], unique=True),
            IndexModel([("channel", ASCENDING), ("id", ASCENDING), ("seq", ASCENDING)]),
        ]
    )
    # A user's documents in a channel have _id "<channel>\0<lower-cased name>": found by it, listed by channel.
    await db.members.create_indexes([IndexModel("channel"), IndexModel("lower")])
    await db.mutes.create_indexes([IndexModel("channel")])
    await db.bans.create_indexes([IndexModel("channel")])
    # _id "<channel>:<seq>" keeps them unique; this index pages them in seq order
    await db.channel_events.create_indexes([IndexModel([("channel", ASCENDING), ("seq", ASCENDING)])])
    await db.invites.create_indexes([IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)])])
    # Read marks have _id "<channel>\0<lower-cased name>" like members; notifications are one per (user, key)
    # and an inbox pages by _id; preferences (_id the lower-cased name) are read by when they changed.
    await db.read_marks.create_indexes([IndexModel("channel"), IndexModel("lower")])
    await db.notifications.create_indexes(
        [
            IndexModel([("lower", ASCENDING), ("key", ASCENDING)], unique=True, name="one_per_key"),
            IndexModel([("lower", ASCENDING), ("_id", DESCENDING)], name="inbox"),
            IndexModel("key"),
        ]
    )
    await db.notify_prefs.create_indexes([IndexModel("updated_at")])
    # Investor tools (#23, core/store/mongo_trading.py): a user's alerts and an author's ideas newest first
    # (`lower`, the lower-cased name), what an evaluation round reads (by status), and those settled but not
    # delivered yet (delivered first: the few undelivered ones are one range however long the history grows).
    await db.alerts.create_indexes(
        [
            IndexModel([("lower", ASCENDING), ("status", ASCENDING), ("created_at", DESCENDING)], name="by_user"),
            IndexModel([("status", ASCENDING), ("created_at", ASCENDING)], name="by_status"),
            IndexModel([("delivered", ASCENDING), ("status", ASCENDING)], name="undelivered"),
        ]
    )
    await db.ideas.create_indexes(
        [
            IndexModel([("lower", ASCENDING), ("opened_at", DESCENDING)], name="by_author"),
            IndexModel([("status", ASCENDING), ("opened_at", ASCENDING)], name="by_status"),
            IndexModel([("delivered", ASCENDING), ("status", ASCENDING)], name="undelivered"),
        ]
    )
    # The compliance journal (#24, core/store/mongo_journal.py): _id "<channel>:<seq>" keeps an entry once;
    # verify and export page a channel by seq, an export finds its dates' seqs by time. `journal_heads` has the
    # channel as _id.
    await db.journal.create_indexes(
        [
            IndexModel([("channel", ASCENDING), ("seq", ASCENDING)], name="by_seq"),
            IndexModel([("channel", ASCENDING), ("ts", ASCENDING)], name="by_time"),
        ]
    )
    # Export jobs (#24, core/store/mongo_exports.py): a user's running ones (`lower`, the lower-cased creator);
    # lists page by _id, which grows with time.
    await db.exports.create_indexes([IndexModel([("status", ASCENDING), ("lower", ASCENDING)], name="by_status")])
    # expireAfterSeconds=0: the server drops a revoked token once the token itself has expired.
    await db.revoked_tokens.create_indexes([IndexModel("expires_at", expireAfterSeconds=0)])
