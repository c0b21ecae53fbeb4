"""The MongoDB collections' indexes, and how a database written by an older version is brought up to date."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from core.journal import GENESIS
from core.models import utcnow
from core.store.mongo_search import search_fields

logger = logging.getLogger(__name__)

# The `meta` document saying every message has a rev: the migration's scan of all messages runs once.
REV_MIGRATED = "messages_rev"
# The `meta` document saying every channel made before channels had members has its creator as owner.
OWNERS_MIGRATED = "channel_owners"
# The `meta` document saying every message has its search fields (#22).
SEARCH_MIGRATED = "messages_search"
# The `meta` document saying where the journal of each channel archived before it begins is decided (#24):
# one node decides while the others wait; one that stops deciding for longer than the lease is replaced.
JOURNAL_STARTED = "journal_start"
START_LEASE = timedelta(minutes=2)
START_POLL = 0.1  # seconds between two looks of a waiting node
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
    await _start_journal(db)  # before _create_indexes makes the journal collection, whose absence it reads


async def last_archived_seq(db: AsyncDatabase[Document], channel: str) -> int:
    """The channel's last archived seq: of a message, a change or a channel event (0 when none)."""
    last = 0
    for collection in (db.messages, db.changes, db.channel_events):
        doc = await collection.find_one({"channel": channel}, {"seq": 1}, sort=[("seq", DESCENDING)])
        last = max(last, 0 if doc is None else int(doc["seq"]))
    return last


async def _start_journal(db: AsyncDatabase[Document]) -> None:
    """Where the journal begins, decided once by the first node to claim the decision, the others waiting
    for it: no node's archiver journals anything before it is made, so no record arriving meanwhile moves it."""
    try:
        await db.meta.insert_one({"_id": JOURNAL_STARTED, "done": False, "until": utcnow() + START_LEASE})
    except DuplicateKeyError:
        await _wait_for_start(db)
        return
    await _decide_start(db)


async def _wait_for_start(db: AsyncDatabase[Document]) -> None:
    """Wait for the node deciding where the journal begins (at once when it is long decided); decide in its
    place when its lease ran out, as a node stopped halfway leaves it."""
    while True:
        claim = await db.meta.find_one({"_id": JOURNAL_STARTED})
        if claim is None or claim.get("done"):
            return
        now = utcnow()
        if claim["until"] < now:
            taken = await db.meta.find_one_and_update(
                {"_id": JOURNAL_STARTED, "done": False, "until": claim["until"]}, {"$set": {"until": now + START_LEASE}}
            )
            if taken is not None:
                logger.warning("deciding where the journal begins in place of a node that stopped doing it")
                await _decide_start(db)
                return
        await asyncio.sleep(START_POLL)


async def _decide_start(db: AsyncDatabase[Document]) -> None:
    """A database whose records were archived before the journal existed: each such channel's journal
    begins after its last archived seq, its head there on 64 zeros. Those records cannot be journaled as
    they were posted, since the messages collection holds each folded with its changes. Written so that a
    node deciding again in place of one that stopped halfway writes the same."""
    if "journal" not in await db.list_collection_names():
        channels: set[str] = set()
        for collection in (db.messages, db.changes, db.channel_events):
            channels.update(await collection.distinct("channel"))
        for channel in sorted(channels):
            seq = await last_archived_seq(db, channel)
            await db.journal_starts.update_one({"_id": channel}, {"$setOnInsert": {"seq": seq + 1}}, upsert=True)
            with contextlib.suppress(DuplicateKeyError):  # there and further on: written by the node before
                await db.journal_heads.update_one(
                    {"_id": channel, "seq": {"$lt": seq}}, {"$set": {"seq": seq, "chain": GENESIS}}, upsert=True
                )
        if channels:
            logger.info("the journal of %d channels begins after their records archived before it", len(channels))
    await db.meta.update_one({"_id": JOURNAL_STARTED}, {"$set": {"done": True, "at": utcnow()}})


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
