"""Data shapes shared by every process: one Message model on the socket, the bus and in the store."""

from __future__ import annotations

import itertools
import os
import random
import re
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

BOT_NAME = "StockBot"
# Lower-cased names nobody may register: the bot's and the obvious impostors.
RESERVED_USERNAMES = frozenset(
    {"stockbot", "bot", "system", "admin", "administrator", "root", "moderator", "investor-chat"}
)
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,32}$")
CHANNEL_RE = re.compile(r"^[a-z0-9_\-]{3,50}$")
DEFAULT_CHANNEL = "general"
MAX_TEXT = 2000
PASSWORD_MIN_BYTES = 8
PASSWORD_MAX_BYTES = 72  # bcrypt ignores everything past 72 bytes


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, the wire form of every time stamp."""
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"


def now_iso() -> str:
    """iso(utcnow()) in a third of the time, for every message sent: the part up to the second is
    formatted once a second."""
    global _second
    now = time.time()
    whole = int(now)
    if whole != _second[0]:
        _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{_second[1]}.{int((now - whole) * 1000):03d}Z"


_second = (-1, "")


def new_id() -> str:
    """A MongoDB ObjectId as 24 hex digits (bson's layout: seconds, 5 random bytes of this process, a
    counter from a random start), a quarter of the cost of building bson's ObjectId for every message."""
    return f"{int(time.time()):08x}{_id_process}{next(_id_counter) & 0xFFFFFF:06x}"


def _new_id_process() -> None:
    global _id_process, _id_counter
    _id_process = os.urandom(5).hex()
    _id_counter = itertools.count(random.randrange(1 << 24))


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


class Message(BaseModel):
    """A chat message. `seq` is None only for ephemeral bot replies, which are never stored."""

    model_config = ConfigDict(extra="forbid")

    id: str
    channel: str
    seq: int | None = None
    user: str
    text: str
    ts: str
    bot: bool = False
    quote: Quote | None = None
    quotes: list[Quote] | None = None  # every quote of a several-code bot reply; `quote` is the first
    ephemeral: bool = False

    def wire(self) -> dict[str, Any]:
        """The dict sent to clients: optional fields appear only when they carry something."""
        data = self.model_dump(exclude_none=True)
        if not self.ephemeral:
            data.pop("ephemeral")
        return data


class User(BaseModel):
    username: str
    password_hash: str
    created_at: str


class Channel(BaseModel):
    name: str
    created_by: str
    created_at: str


class Command(BaseModel):
    """A bot command taken from a `send`; it travels on the bus to the bot, never to a room."""

    id: str
    channel: str
    user: str
    text: str
    ts: str
