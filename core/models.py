"""Data shapes shared by every process: one Message model on the socket, the bus and in the store."""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import re
import time
import unicodedata
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.trading import Idea

BOT_NAME = "StockBot"
# Lower-cased names nobody may register: the bot's and the obvious impostors.
RESERVED_USERNAMES = frozenset(
    {
        "stockbot",
        "bot",
        "system",
        "admin",
        "administrator",
        "root",
        "moderator",
        "investor-chat",
        "here",
        "channel",
        "everyone",
    }
)
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,32}$")
CHANNEL_RE = re.compile(r"^[a-z0-9_\-]{3,50}$")
# Lower-case names every JavaScript object already answers: a client keeping channels in a plain object
# would read them as channels it has (the web client uses a Map; scripts may not).
RESERVED_CHANNELS = frozenset({"__proto__", "constructor", "prototype"})
# Digits and separators that make a name look like another: St0ck-B0t reads as StockBot.
_LOOKALIKE = str.maketrans({"0": "o", "1": "i", "l": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g"})
_SEPARATORS = re.compile(r"[_.\-]+")
# Characters that show nothing: controls, format characters (zero-width space, joiners, bidi marks, BOM),
# separators, combining marks alone, and the blank letters that render as empty space.
# Not unassigned code points (Cn): an emoji newer than this Python's Unicode tables is one.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"})
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
DEFAULT_CHANNEL = "general"
DM_PREFIX = "dm-"  # a direct message's channel name starts with it; no other channel's may
MAX_TEXT = 2000
MAX_SEQ = 2**62  # the highest seq a client may name: stores hold signed 64-bit integers
PASSWORD_MIN_BYTES = 8
PASSWORD_MAX_BYTES = 72  # bcrypt ignores everything past 72 bytes


def name_skeleton(name: str) -> str:
    """What a username looks like: case, separators and look-alike digits folded (St0ck_Bot -> stockbot)."""
    return _SEPARATORS.sub("", name.lower()).translate(_LOOKALIKE)


def impersonates(username: str) -> bool:
    """Whether a username reads as the bot's or a reserved one: equal skeletons, or the bot's inside it."""
    skeleton = name_skeleton(username)
    bot = name_skeleton(BOT_NAME)
    return bot in skeleton or skeleton in {name_skeleton(name) for name in RESERVED_USERNAMES}


def is_blank(text: str) -> bool:
    """True when the text shows nothing: only whitespace, NUL, zero-width or other invisible characters.
    Ordinary text returns at its first character."""
    for char in text:
        visible = not char.isspace() and char not in _BLANK_LETTERS
        if visible and unicodedata.category(char) not in _INVISIBLE_CATEGORIES:
            return False
    return True


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, the wire form of every time stamp."""
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"


def now_iso() -> str:
    """iso(utcnow()) for every message sent, cheaper: the part up to the second is formatted once a
    second (docs/performance.md#inbound-event-path)."""
    global _second
    now = time.time()
    whole = int(now)
    if whole != _second[0]:
        _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{_second[1]}.{int((now - whole) * 1000):03d}Z"


_second = (-1, "")


def new_id() -> str:
    """A MongoDB ObjectId as 24 hex digits (bson's layout: seconds, 5 random bytes of this process, a
    counter from a random start), for every message, without the cost of building bson's ObjectId."""
    return f"{int(time.time()):08x}{_id_process}{next(_id_counter) & 0xFFFFFF:06x}"


def _new_id_process() -> None:
    global _id_process, _id_counter
    _id_process = os.urandom(5).hex()
    _id_counter = itertools.count(random.randrange(1 << 24))


def ordered_id(now: float | None = None) -> str:
    """24 hex digits ordered by time to the millisecond, whichever process writes (the nodes and the command
    line write the same audit log; the notifier and the bot the same inboxes; both page by id):
    milliseconds, this process, a counter."""
    ms = int((time.time() if now is None else now) * 1000)
    return f"{ms:012x}{_id_process[:8]}{next(_id_counter) & 0xFFFF:04x}"


def keyed_id(ts: str, key: str) -> str:
    """ordered_id's layout for a record made at `ts` (ISO time) that must come out the same however often
    it is made: the milliseconds of `ts`, then a digest of `key` (an alert's notification, made again by
    whichever replica delivers it after a crash)."""
    ms = int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)
    return f"{ms:012x}{hashlib.sha256(key.encode()).hexdigest()[:12]}"


_id_process, _id_counter = "", itertools.count()
_new_id_process()
os.register_at_fork(after_in_child=_new_id_process)  # a forked child must not repeat its parent's ids


class Quote(BaseModel):
    """A quote as the bot reports it; prices are decimal strings so nothing is rounded by floats."""

    model_config = ConfigDict(extra="forbid")

    symbol: str
    name: str | None = None
    price: str
    currency: str
    change: str | None = None
    change_pct: str | None = None
    as_of: str
    market_state: str
    source: str
    series: list[str] = Field(default_factory=list)
    # The exchange's own clock: its IANA zone and `as_of` in it (ISO 8601 with its UTC offset).
    exchange_tz: str | None = None
    as_of_local: str | None = None
    stale: bool = False  # older than one trading session of its market


class PriceStamp(BaseModel):
    """A cashtag's price when its message was posted (server/stamps.py): `code` as written, upper-cased."""

    model_config = ConfigDict(extra="forbid")

    code: str
    symbol: str
    price: str
    currency: str
    as_of: str


class Reaction(BaseModel):
    """One emoji on a message: who put it there, in the order they did."""

    model_config = ConfigDict(extra="forbid")

    emoji: str
    count: int
    users: list[str]


class Message(BaseModel):
    """A chat message. `seq` is None only for ephemeral bot replies, which are never stored."""

    model_config = ConfigDict(extra="forbid")

    seq: int | None = None
    rev: int | None = None  # the seq of its latest change: its own seq until it changes
    id: str
    channel: str
    user: str
    text: str
    ts: str
    bot: bool = False
    quote: Quote | None = None
    quotes: list[Quote] | None = None  # every quote of a several-code bot reply; `quote` is the first
    stamps: list[PriceStamp] | None = None  # its cashtags' prices at posting, where the node had them
    ephemeral: bool = False
    # folded from its changes (core/changes.py); absent while unused
    edited_at: str | None = None
    deleted: bool | None = None
    # its content removed under the retention policy (archiver/retention.py): text "", as a deleted one's
    # fields; its seq and id stay, so a reader sees no gap
    redacted: bool | None = None
    reply_to: str | None = None  # the id of the thread's root, in the same channel
    reply_count: int | None = None  # on a root: its replies, counted when read (not a change: no rev)
    reactions: list[Reaction] | None = None
    pinned: bool | None = None
    # who it mentions (core/textscan.py): members' usernames as registered, "@here", "@channel"
    mentions: list[str] | None = None
    idea: Idea | None = None  # on StockBot's card of a trade idea (core/trading.py)

    def wire(self) -> dict[str, Any]:
        """The dict sent to clients: optional fields appear only when they carry something."""
        data = self.model_dump(exclude_none=True)
        if not self.ephemeral:
            data.pop("ephemeral")
        return data


SiteRole = Literal["admin", "compliance"]  # every account is a `user`; these are granted on top
SITE_ROLES: tuple[str, ...] = ("user", "admin", "compliance")


class User(BaseModel):
    username: str
    password_hash: str
    created_at: str
    roles: list[SiteRole] = Field(default_factory=list)
    suspended: bool = False


Visibility = Literal["public", "private"]
ChannelKind = Literal["channel", "dm"]
ChannelRole = Literal["owner", "moderator", "member"]


class Channel(BaseModel):
    name: str
    created_by: str
    created_at: str
    visibility: Visibility = "public"
    kind: ChannelKind = "channel"
    topic: str = ""
    slow_mode_s: int = 0
    members: list[str] | None = None  # a DM's two users; other channels list theirs at .../members
    retention_days: int | None = None  # set by a site admin; None: the site's CHAT_RETENTION_DAYS

    def wire(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class Member(BaseModel):
    username: str
    role: ChannelRole


class Moderation(BaseModel):
    """Who is muted (until when) and who is banned in a channel: what its send path checks."""

    muted: dict[str, str] = Field(default_factory=dict)  # lower-cased username -> until (ISO time)
    banned: set[str] = Field(default_factory=set)  # lower-cased usernames


EventKind = Literal[
    "member_added", "member_removed", "role_changed", "muted", "unmuted", "banned", "unbanned", "settings_changed"
]


class ChannelEvent(BaseModel):
    """A membership or moderation action on a channel, with the channel's next seq like a post:
    `channel_event` on the wire, the archive stream and the bus buffer. Its JSON begins
    '{"seq":N,"channel":' (a Message's '{"seq":N,"rev":', a Change's '{"seq":N,"kind":')."""

    model_config = ConfigDict(extra="forbid")

    seq: int | None = None
    channel: str
    kind: EventKind
    by: str
    ts: str
    target: str | None = None
    role: ChannelRole | None = None
    until: str | None = None
    reason: str | None = None
    changes: dict[str, Any] | None = None

    def wire(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


NotificationKind = Literal["mention", "dm", "keyword", "cashtag", "message", "alert", "idea"]
NotifyLevel = Literal["all", "mentions", "none"]
MAX_KEYWORDS = 50
MAX_WATCHED_CASHTAGS = 50


class Notification(BaseModel):
    """Something for one user's attention (docs/protocol.md#notifications): at most one per `key` (the
    message's id, or an alert's) and user. `id` orders a user's inbox (ms-ordered, like audit ids); `seq`
    is the message's, which the channel's mention count compares with the user's read mark."""

    model_config = ConfigDict(extra="forbid")

    id: str
    user: str
    key: str
    kind: NotificationKind
    text: str
    ts: str
    channel: str | None = None
    seq: int | None = None
    message: Message | None = None

    def wire(self) -> dict[str, Any]:
        """The `notification` event's payload: {id, kind, channel?, message?, text, ts}."""
        data = self.model_dump(exclude_none=True, exclude={"user", "key", "seq", "message"})
        if self.message is not None:
            data["message"] = self.message.wire()
        return data


class NotifyPrefs(BaseModel):
    """What a user is notified of besides mentions and DMs (GET/PUT /api/me/notify): whole words or
    phrases (`keywords`, kept lower-cased), watched cashtags (upper-cased codes) and, per channel, a
    level: `all` every message, `mentions` only mentions, `none` nothing; unset, mentions, keywords and
    cashtags notify (in a DM every message)."""

    model_config = ConfigDict(extra="forbid")

    keywords: list[str] = Field(default_factory=list)
    cashtags: list[str] = Field(default_factory=list)
    channels: dict[str, NotifyLevel] = Field(default_factory=dict)


class Invite(BaseModel):
    code: str
    created_by: str
    created_at: str
    expires_at: str
    uses_left: int


class AuditEntry(BaseModel):
    """One admin or moderator action (docs/protocol.md#audit-log); `actor` is None for the command line."""

    id: str
    ts: str
    actor: str | None
    action: str
    target: str | None = None
    channel: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class Hold(BaseModel):
    """A legal hold (docs/protocol.md#retention-and-legal-hold): while it stands, retention redacts nothing
    it covers. It covers the records of `users` (any letter case) in `channels`; without `users`, every
    record of those channels; without `channels`, those users' records everywhere; without either, all."""

    model_config = ConfigDict(extra="forbid")

    name: str
    channels: list[str] | None = None
    users: list[str] | None = None
    created_by: str
    created_at: str
    reason: str | None = None


class Command(BaseModel):
    """A bot command taken from a `send`; it travels on the bus to the bot, never to a channel's members."""

    id: str
    channel: str
    user: str
    text: str
    ts: str


ChangeKind = Literal["edit", "delete", "react", "unreact", "pin", "unpin", "idea"]  # idea: its card closed


class Change(BaseModel):
    """A change to a message, with the channel's next seq like a post: `message_updated` on the wire, the
    archive stream and the bus buffer. `message` is the message folded with it (its rev is this seq)."""

    model_config = ConfigDict(extra="forbid")

    seq: int | None = None
    kind: ChangeKind
    channel: str
    by: str
    ts: str
    emoji: str | None = None
    message: Message

    def wire(self) -> dict[str, Any]:
        """The `message_updated` payload: {seq, kind, channel, by, ts, emoji?, message}, seq first."""
        data = self.model_dump(exclude_none=True, exclude={"message"})
        data["message"] = self.message.wire()
        return data


# A channel's records, in seq order: what it was sent, what changed and what happened to its members.
Record = Message | Change | ChannelEvent


def is_change(wire: bytes) -> bool:
    """Whether a record's wire JSON is a Change: its second key is "kind" ('{"seq":<seq>,"kind":...'), a
    Message's is "rev". Read on the live feed for every delivery, so a few bytes are looked at, no JSON."""
    return _second_key_is(wire, b'"kind":"')


def is_channel_event(wire: bytes) -> bool:
    """Whether a record's wire JSON is a ChannelEvent: its second key, after the seq, is "channel"."""
    return _second_key_is(wire, b'"channel":"')


def _second_key_is(wire: bytes, key: bytes) -> bool:
    comma = wire.find(b",", 7, 30)  # after '{"seq":<seq>'
    return comma != -1 and wire.startswith(key, comma + 1)


def record_event(wire: bytes) -> str:
    """The Socket.IO event a record of the live feed goes out as."""
    if is_change(wire):
        return "message_updated"
    return "channel_event" if is_channel_event(wire) else "message"


def parse_record(data: bytes | str) -> Record:
    raw = data.encode() if isinstance(data, str) else data
    if is_change(raw):
        return Change.model_validate_json(raw)
    if is_channel_event(raw):
        return ChannelEvent.model_validate_json(raw)
    return Message.model_validate_json(raw)
