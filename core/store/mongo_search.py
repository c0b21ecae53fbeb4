"""Message search on MongoDB: each message document carries its folded `words`, its `cashtags` and its author
lower-cased, each in an index whose second key is _id, so a search reads one word's (or tag's, or author's)
entries newest first and stops at the page.

SecantusDB has no text index (createIndex refuses "text"), and arrays of whole folded words match exactly
what the SQLite store's index matches; on a real mongod they are as sound: a multikey index point-looked-up
on one word, its entries in _id order, is how a text index would answer a word too, without its stemming
and stop words that would make the two stores disagree."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from core.store import search_cashtags, search_words
from core.textscan import cashtags, words

Document = dict[str, Any]
SEARCH_FIELDS = ("words", "cashtags", "user_lower")  # stored beside the message, never read back into one


def search_fields(text: str, user: str) -> Document:
    """What a message document holds for search and unread counts, from its latest text and its author: a
    deleted message's text is empty, so it matches no word or tag."""
    return {"words": words(text), "cashtags": cashtags(text), "user_lower": user.lower()}


def search_pipeline(
    *,
    words: Sequence[str],
    cashtags: Sequence[str],
    channels: Collection[str],
    user: str | None,
    before: str | None,
    limit: int,
) -> list[Document] | None:
    """The aggregation finding Store.search's hits and one more, newest first (message ids grow with
    time); None when nothing can match."""
    wanted, tags = search_words(words), search_cashtags(cashtags)
    if wanted is None or not channels:
        return None
    readable = {"$in": sorted(channels)}
    match: Document = {"channel": readable, "deleted": {"$ne": True}, "redacted": {"$ne": True}}
    if wanted:
        match["words"] = {"$all": wanted}
    if tags:
        match["cashtags"] = {"$all": tags}
    if user is not None:
        match["user_lower"] = user.lower()
    if before is not None:
        match["_id"] = {"$lt": before}
    # SecantusDB uses an index only for a lone equality ($all and $and scan every document) and reads
    # every document it finds there, so the first stage names one word (the longest, likely the rarest),
    # tag or author on its own; mongod merges the two stages into one query and plans it itself.
    first: Document = {"channel": readable}
    longest = sorted(wanted, key=len, reverse=True)
    for field, values in (("words", longest), ("cashtags", tags), ("user_lower", [user.lower()] if user else [])):
        if values:
            first = {field: values[0]}
            break
    return [{"$match": first}, {"$match": match}, {"$sort": {"_id": -1}}, {"$limit": limit + 1}]
