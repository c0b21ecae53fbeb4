"""The store: users, channels, archived messages folded with their changes, the change log and revoked
tokens, chosen by URL scheme."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import orjson

from core.exports.job import ExportJob, ExportStatus
from core.journal import JournalEntry
from core.models import (
    AuditEntry,
    Change,
    Channel,
    ChannelEvent,
    ChannelRole,
    Hold,
    Invite,
    Member,
    Message,
    Moderation,
    Notification,
    NotifyPrefs,
    User,
)
from core.textscan import MAX_WORD, WORD, fold
from core.trading import Alert, AlertStatus, Idea, IdeaStatus

REVOKED_CHUNK = 500  # token ids per query of Store.revoked
PINS_MAX = 100  # pinned messages listed at most per channel
REDACT_CHUNK = 500  # journal entries (or messages) per query of a redaction
RETENTION_SPAN = 5000  # seqs of a channel one query of journal_expired reads at most


class Store(Protocol):
    async def ping(self) -> None: ...

    async def close(self) -> None: ...

    async def create_user(self, user: User) -> None:
        """Raise ChatError username_taken (409) when the name exists in any letter case."""

    async def get_user(self, username: str) -> User | None:
        """Find a user regardless of letter case."""

    async def create_channel(self, channel: Channel) -> bool:
        """Create the channel; False when it already exists."""

    async def get_channel(self, name: str) -> Channel | None: ...

    async def list_channels(self) -> list[Channel]:
        """All channels sorted by name."""

    async def count_channels(self) -> int: ...

    async def delete_channel(self, name: str) -> bool:
        """Remove the channel from the list (its archived messages stay); False when there was none."""

    async def save_messages(self, messages: Sequence[Message]) -> int:
        """Write messages idempotently (the id is the key); return how many were new."""

    async def history(
        self, channel: str, *, limit: int, before: int | None = None, after: int | None = None
    ) -> tuple[list[Message], bool]:
        """Messages with after < seq < before in seq order and whether more lie beyond: with
        `after`, the oldest `limit` of them (more = newer ones remain), otherwise the newest
        `limit` (more = older ones remain)."""

    async def last_seq(self, channel: str) -> int:
        """The highest archived seq of the channel (a message's or a change's), 0 when none."""

    async def apply_changes(self, changes: Sequence[Change]) -> int:
        """Apply changes in seq order, idempotently (a change already applied changes nothing): each goes in
        the change log with the text it replaced, and its folded message replaces the stored one if that
        one's rev is older. Returns how many were new."""

    async def get_message(self, channel: str, message_id: str) -> Message | None:
        """The message as its last archived change left it (with its reply_count), None when the channel
        has no such message."""

    async def changed(self, channel: str, *, after: int, limit: int) -> tuple[list[Message], bool]:
        """Messages whose rev > after, the oldest changes first, and whether more remain: a reader who was
        away since `after` pages on from the highest rev it got and ends with the channel's state."""

    async def replies(self, channel: str, root: str, *, after: int, limit: int) -> tuple[list[Message], bool]:
        """The replies to `root` with seq > after in seq order, and whether more remain."""

    async def reply_counts(self, channel: str, roots: Collection[str]) -> dict[str, int]:
        """How many archived replies each of `roots` has (those with none are left out)."""

    async def pins(self, channel: str) -> list[Message]:
        """The channel's pinned messages in seq order."""

    async def originals(self, channel: str, message_id: str) -> list[str]:
        """The texts a message had before each of its edits and its deletion, oldest first: the compliance
        record, never served to members."""

    async def revoke_token(self, jti: str, expires_at: datetime) -> None: ...

    # --- site roles and accounts (docs/protocol.md#access) ---

    async def set_user_roles(self, username: str, roles: Collection[str]) -> bool:
        """Replace the user's site roles (kept sorted, each once); False when there is no such user."""

    async def set_suspended(self, username: str, suspended: bool) -> bool:
        """Suspend or lift; False when there is no such user."""

    async def list_users(self, *, prefix: str = "", limit: int = 50) -> list[User]:
        """Users whose name starts with `prefix` (any letter case), sorted by name without regard to case."""

    async def create_invite(self, invite: Invite) -> None: ...

    async def list_invites(self) -> list[Invite]:
        """Every invite with uses left, newest first."""

    async def use_invite(self, code: str, now: str) -> bool:
        """Spend one use of an invite that has one left and has not expired (ISO times compare as text);
        atomically, so two registrations cannot spend the last use twice. False when it cannot be used."""

    async def add_audit(self, entry: AuditEntry) -> None: ...

    async def audit(self, *, before: str | None, limit: int) -> list[AuditEntry]:
        """Entries with id < before (ids grow with time), newest first."""

    # --- channels: settings, members, moderation, events ---

    async def update_channel(self, name: str, *, topic: str | None = None, slow_mode_s: int | None = None) -> bool:
        """Change the given settings; False when there is no such channel."""

    async def channels_of(self, username: str) -> set[str]:
        """The names of the channels `username` is a member of (any role, any letter case of the name)."""

    async def set_member(self, channel: str, username: str, role: ChannelRole) -> None:
        """Add the member or change its role."""

    async def remove_member(self, channel: str, username: str) -> bool:
        """False when it was not a member."""

    async def member_role(self, channel: str, username: str) -> ChannelRole | None:
        """The member's role (usernames without regard to case), None for a non-member."""

    async def members(self, channel: str) -> list[Member]:
        """Every member, owners first, then moderators, then by name."""

    async def set_mute(self, channel: str, username: str, until: str) -> None: ...

    async def remove_mute(self, channel: str, username: str) -> bool: ...

    async def set_ban(self, channel: str, username: str, banned: bool) -> bool:
        """Ban or unban; False when nothing changed."""

    async def moderation(self, channel: str) -> Moderation:
        """Who is muted (until when) and banned in the channel; mutes that ended may be included."""

    async def save_events(self, events: Sequence[ChannelEvent]) -> int:
        """Write channel events idempotently ((channel, seq) is the key); return how many were new."""

    async def events(self, channel: str, *, after: int, limit: int) -> list[ChannelEvent]:
        """The channel's events with seq > after, in seq order."""

    async def revoked(self, jtis: Collection[str]) -> set[str]:
        """Those of `jtis` that are revoked, in a few queries however many are asked about."""

    # --- read state, notifications, search (#22) ---

    async def mark_read(self, user: str, channel: str, seq: int) -> int:
        """Move the user's read mark of the channel to `seq` if that is higher, and return the mark after: it
        never goes back, so a device that read less answers with what another read (user any letter case)."""

    async def mark_read_many(self, marks: Sequence[tuple[str, str, int]]) -> None:
        """mark_read for each (user, channel, seq), in one write: the notifier's marks of a batch's authors."""

    async def read_marks(self, user: str) -> dict[str, int]:
        """The user's read mark in each channel it has one in (any letter case of the name)."""

    async def readers(self, channel: str) -> list[str]:
        """The users with a read mark in the channel, named as their first mark was, by name without regard
        to case."""

    async def unread_counts(self, user: str, marks: Mapping[str, int], *, cap: int) -> dict[str, int]:
        """Per channel of `marks`: its archived messages with seq > the mark, by others (the author is not
        `user` in any letter case), not deleted, counted up to `cap` (past it the count says only "many")."""

    async def mention_counts(self, user: str, marks: Mapping[str, int]) -> dict[str, int]:
        """Per channel of `marks`: the user's notifications of kind "mention" with seq > the mark; channels
        with none are left out."""

    async def save_notifications(self, items: Sequence[Notification]) -> list[Notification]:
        """Insert those not there yet, one per (user in any letter case, key), and return them: a batch
        retried after a crash notifies nobody twice."""

    async def notifications(self, user: str, *, before: str | None, limit: int) -> list[Notification]:
        """The user's inbox: notifications with id < before (ids grow with time), newest first."""

    async def drop_notifications(self, key: str) -> int:
        """Remove everyone's notification of `key` (its message was deleted); how many went."""

    async def get_notify_prefs(self, user: str) -> NotifyPrefs | None:
        """The user's preferences (any letter case of the name), None when never set."""

    async def set_notify_prefs(self, user: str, prefs: NotifyPrefs, updated_at: str) -> None:
        """Replace the user's preferences; `updated_at` (ISO time) is what notify_prefs_since pages by."""

    async def notify_prefs_since(self, since: str) -> list[tuple[str, NotifyPrefs, str]]:
        """(user, prefs, updated_at) of every user whose preferences changed after `since` (ISO times compare
        as text), oldest change first: a notifier keeps its copy current by asking from the last it saw."""

    async def search(
        self,
        *,
        words: Sequence[str],
        cashtags: Sequence[str],
        channels: Collection[str],
        user: str | None,
        before: str | None,
        limit: int,
    ) -> tuple[list[Message], str | None]:
        """Messages of `channels` (those the caller may read) holding every word (whole words of the latest
        text, folded as textscan.words folds them) and every cashtag (textscan.cashtags of the latest text),
        by `user` if given (any letter case), never deleted ones; newest first (archive order), at most
        `limit`, and the cursor (`before`) of the next page, None at the end. A `before` that cannot be
        one of its cursors raises ChatError invalid_parameter."""

    # --- watchlists, price alerts, trade ideas (#23, docs/protocol.md#investor-tools) ---

    async def get_watchlist(self, user: str) -> list[str]:
        """The user's watched codes in the order they were added ([] when never set; any letter case of the name)."""

    async def set_watchlist(self, user: str, symbols: Sequence[str]) -> None:
        """Replace the user's watchlist (codes already normalized, each once, at most MAX_WATCHLIST)."""

    async def add_alert(self, alert: Alert, *, max_active: int) -> bool:
        """Store a new active alert unless its user already has `max_active` active ones (then False); an alert
        already stored under its id counts as added (a command handled again after a crash stores one); two
        concurrent adds cannot both pass the limit on SQLite (one writer); on MongoDB they rarely can."""

    async def alerts(self, user: str, *, status: AlertStatus | None = None, limit: int = 100) -> list[Alert]:
        """The user's alerts (any letter case of the name), of `status` if given, newest first."""

    async def cancel_alert(self, user: str, alert_id: str) -> Alert | None:
        """Cancel the user's active alert; the alert after, or None when the user has no such active alert."""

    async def active_alerts(self) -> list[Alert]:
        """Every active alert: what one evaluation round checks."""

    async def settle_alert(
        self, alert_id: str, status: Literal["triggered", "expired"], at: str, price: str | None
    ) -> Alert | None:
        """Move an active alert to `status` (triggered_at/triggered_price = at/price when triggered) and return
        it; None when it was not active any more: of many replicas racing, exactly one wins. A triggered
        alert stays undelivered until mark_alert_delivered."""

    async def undelivered_alerts(self) -> list[Alert]:
        """Triggered alerts whose notification is not marked delivered (a crash came between)."""

    async def mark_alert_delivered(self, alert_id: str) -> None: ...

    async def save_idea(self, idea: Idea) -> bool:
        """Store a new open idea, idempotently (the id is the key); False when it was there already."""

    async def get_idea(self, idea_id: str) -> Idea | None: ...

    async def open_ideas(self) -> list[Idea]:
        """Every open idea: what one evaluation round checks."""

    async def close_idea(self, idea: Idea) -> Idea | None:
        """Write `idea` (status no longer open, exit, closed_at, return_pct set) over the stored one if that
        is still open, and return it; None when it was closed already: exactly one closer wins. A closed
        idea stays undelivered until mark_idea_delivered."""

    async def undelivered_ideas(self) -> list[Idea]:
        """Closed ideas whose card update and notification are not marked delivered."""

    async def mark_idea_delivered(self, idea_id: str) -> None: ...

    async def ideas_by(
        self, author: str, *, channels: Collection[str], status: IdeaStatus | None = None, limit: int = 200
    ) -> list[Idea]:
        """The author's ideas (any letter case) posted in `channels` (those the reader may read), of `status`
        if given, newest first."""

    # --- the compliance journal (#24, docs/compliance.md; core/journal.py) ---

    async def journal_append(self, entries: Sequence[JournalEntry]) -> int:
        """Insert the entries not there yet ((channel, seq) is the key: a batch retried after a crash adds
        nothing), each record kept as the canonical JSON its content_hash is the hash of; how many were new."""

    async def journal_write(
        self, entries: Sequence[JournalEntry], chains: Mapping[str, Sequence[tuple[int, str]]]
    ) -> int:
        """journal_append's insert, then the chain of each channel's (seq, chain)s (not written again where
        an entry inserted holds it) and its head moved to the last if that is further; each channel of
        `entries` has a head from then on. One transaction (on SQLite) or a bulk write a collection (MongoDB),
        however many channels; replicas writing the same chains, in any order, leave the same journal."""

    async def journal_head(self, channel: str) -> tuple[int, str]:
        """The channel's last chained (seq, chain); (0, GENESIS) when nothing of it is chained."""

    async def journal_after(self, channel: str, after: int, limit: int) -> list[JournalEntry]:
        """At most `limit` of the channel's entries with seq > after, chained or not, in seq order."""

    async def journal_past_heads(
        self, channels: Collection[str], limit: int
    ) -> dict[str, tuple[tuple[int, str], list[JournalEntry]]]:
        """What can be chained past the heads of `channels`: of each whose entry at head + 1 is there, its
        head and its entries with head < seq <= head + limit, in seq order; a constant number of queries."""

    async def journal_set_chains(self, channel: str, chains: Sequence[tuple[int, str]]) -> None:
        """Write the chain of each (seq, chain) and move the channel's head to the last if that is further:
        replicas writing the same chains, in any order, leave the same journal."""

    async def journal_heads(self, channels: Collection[str] | None = None) -> list[tuple[str, int, str]]:
        """Every journaled channel's (of `channels`, or all) (name, last chained seq, chain), by name: what is
        published daily (a channel whose journal begins after seq 1 is there from the upgrade on, at the seq
        before)."""

    async def journal_starts(self, channels: Collection[str] | None = None) -> dict[str, int]:
        """The channels (of `channels`, or all) whose journal begins after seq 1, each with the seq it begins
        at: their records before it were archived before the journal existed, and the upgrade that made the
        journal set their heads to (that seq - 1, GENESIS). A channel not in it is journaled from seq 1."""

    async def journal_channels(self) -> list[str]:
        """The name of every channel with an entry in the journal or a head set where its journal begins, sorted."""

    def journal_scan(self, channel: str, *, after: int = 0, page: int = 5000) -> AsyncIterator[JournalEntry]:
        """The channel's entries with seq > after in seq order, read `page` at a time: verify and export
        stream a channel through it without holding it in memory."""

    def journal_between(
        self, since: str, until: str, channels: Collection[str] | None, *, page: int = 5000
    ) -> AsyncIterator[JournalEntry]:
        """The entries of a time range (ISO times compare as text) of `channels` (every journaled channel when
        None), channel after channel by name, each in seq order, read `page` at a time: from the first with
        since <= ts to the last with ts < until, and every seq between, so that an export's chain can be
        recomputed without a gap (a record stamped by a node whose clock ran a little apart is inside when
        its neighbours are)."""

    # --- retention and legal holds (#24, docs/protocol.md#retention-and-legal-hold; archiver/retention.py) ---

    async def set_retention(self, channel: str, days: int | None) -> bool:
        """Set the channel's retention_days (None: the site's default); False when there is no such channel."""

    async def add_hold(self, hold: Hold) -> bool:
        """Store a new hold; False when one of its name (in any letter case) stands already."""

    async def remove_hold(self, name: str) -> bool:
        """Release the hold of that name (any letter case); False when there was none."""

    async def holds(self) -> list[Hold]:
        """Every standing hold, oldest first."""

    async def journal_expired(
        self, channel: str, before: str, *, after: int = 0, limit: int = REDACT_CHUNK
    ) -> list[tuple[int, str]]:
        """(seq, user) of the channel's entries not redacted yet with ts < before (ISO times) and seq > after,
        in seq order, at most `limit` (fewer only at the end). Read up to the last seq before `before` in
        time, in spans of RETENTION_SPAN seqs, so no query reads the whole of a long redacted past; an entry
        stamped before one with a lower seq (another node's clock) beyond that is found on a later day."""

    async def journal_redact(self, channel: str, seqs: Collection[int], at: str) -> int:
        """Redact those of the channel's journal entries not redacted yet: record None, redacted_at `at`,
        content_hash and chain kept (the chain still verifies). The messages among them keep their place
        (seq, id, author, time, thread) but not their content: text "" and redacted, as a delete drops the
        rest, the texts they had before edits blanked, out of search and of everyone's notifications.
        Returns how many entries were redacted now."""

    # --- export jobs (#24, docs/protocol.md#export; server/exports_api.py) ---

    async def save_export(self, job: ExportJob) -> None:
        """Store a new job (its id is new: ordered_id)."""

    async def get_export(self, export_id: str) -> ExportJob | None: ...

    async def list_exports(
        self, limit: int, *, status: ExportStatus | None = None, created_by: str | None = None
    ) -> list[ExportJob]:
        """Jobs newest first (by id), of `status` and by `created_by` (any letter case) when given."""

    async def update_export(
        self, export_id: str, *, when_status: ExportStatus | None = None, **fields: Any
    ) -> ExportJob | None:
        """Set the job's `fields` (ExportJob's, by name; models as models), in one write that finds the job
        still in `when_status` when given; the job after, or None when there was no such job (in that status)."""


def replaced_texts(original: str | None, edits: list[str], *, deleted: bool) -> list[str]:
    """The texts a message had before each edit and before its deletion: as posted, then each edit's
    text in seq order (whatever order the archiver applied them in), the last one only if deleted."""
    versions = ([] if original is None else [original]) + edits
    return versions if deleted else versions[:-1]


def message_ids(entries: Iterable[tuple[str, bytes | str | None]]) -> list[str]:
    """The ids of the messages among journal entries given as (kind, stored record): what a redaction blanks
    in the messages it archived."""
    ids = []
    for kind, stored in entries:
        if kind != "message" or stored is None:
            continue
        try:
            record = orjson.loads(stored)
        except orjson.JSONDecodeError:
            continue  # a record tampered with beyond JSON names no message; verify reports it
        if isinstance(record, dict) and isinstance(record.get("id"), str):
            ids.append(record["id"])
    return ids


def search_words(given: Sequence[str]) -> list[str] | None:
    """The words a search asks for as the stores index them (textscan.words: folded, each once), however the
    caller split them; None when one is longer than any indexed word, so that nothing can match."""
    found = [fold(m.group(0)) for m in WORD.finditer(" ".join(given))]
    if any(len(word) > MAX_WORD for word in found):
        return None
    return list(dict.fromkeys(word for word in found if word))


def search_cashtags(given: Sequence[str]) -> list[str]:
    """Cashtag codes as the stores index them: upper-cased, without "$", each once."""
    return list(dict.fromkeys(code.removeprefix("$").upper() for code in given if code.removeprefix("$")))


def with_counts(messages: list[Message], counts: dict[str, int]) -> list[Message]:
    """The messages with the reply counts of those that have replies."""
    if not counts:
        return messages
    return [m.model_copy(update={"reply_count": counts[m.id]}) if m.id in counts else m for m in messages]


async def open_store(url: str) -> Store:
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from core.store.sqlite import SqliteStore

        return await SqliteStore.open(url.removeprefix("sqlite:///") or "investor-chat.sqlite3")
    if scheme in ("mongodb", "mongodb+srv"):
        from core.store.mongo import MongoStore

        return await MongoStore.open(url)
    raise ValueError(f"unsupported storage URL {url!r}")
