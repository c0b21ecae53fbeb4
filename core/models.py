"""Data shapes shared by every process: one Message model on the socket, the bus and in the store."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
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


def new_id() -> str:
    return str(ObjectId())


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
