"""Settings from the CHAT_* environment, validated once in main() and passed down, never read at import."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import first_error

LogLevel = Literal["debug", "info", "warning", "error", "critical"]
Registration = Literal["open", "invite", "closed"]
PROVIDERS = ("yahoo", "stooq")
MAX_RETENTION_DAYS = 36500  # a century: past it "now minus the retention" leaves the calendar
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT = 12  # "aaaa…" or "changemechangeme…" passes a length check but not this one


class SettingsError(Exception):
    """A bad configuration value, explained in one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHAT_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    storage_url: str = "sqlite:///./var/investor-chat.sqlite3"
    bus_url: str = "memory://"
    secret_key: str | None = None
    quote_providers: str = "yahoo,stooq"
    stooq_url: str = "https://stooq.com"
    yahoo_url: str = "https://query2.finance.yahoo.com"
    quote_timeout: float = Field(5.0, gt=0, le=60)
    quote_cache_ttl: float = Field(15.0, ge=0, le=3600)  # seconds a quote is shared before refetching
    quote_budget: int = Field(120, ge=1)  # upstream provider calls per minute per process
    quote_user_budget: int = Field(20, ge=1)  # codes not in the cache one user's /api/quotes may ask a minute
    bot_user_rate: float = Field(0.2, gt=0)  # /stock commands per second per user...
    bot_user_burst: int = Field(5, ge=1)  # ...and the burst allowed
    bot_channel_rate: float = Field(1.0, gt=0)  # /stock commands per second per channel
    bot_channel_burst: int = Field(20, ge=1)
    # price alerts and trade ideas: one evaluation round per interval across every bot replica, spending at
    # most `alert_budget` upstream calls a minute of its own (QuoteService apart from /stock's)
    alert_interval: float = Field(60.0, gt=0)
    alert_budget: int = Field(600, ge=1)
    # days the compliance archive keeps a record's content before the daily job redacts it (its hash stays,
    # so the chain still verifies); unset: forever. A channel's own retention_days overrides it
    retention_days: int | None = Field(None, ge=1, le=MAX_RETENTION_DAYS)
    # where export jobs started over REST write their files and zips, one per job, kept until removed by hand;
    # with several nodes, a directory they share (or each answers downloads of its own jobs only)
    export_dir: str = "./var/exports"
    allowed_origins: str = ""
    trusted_proxies: str = ""  # peers whose X-Forwarded-For/-Proto/-Host are believed (nginx)
    allowed_hosts: str = ""  # Host names answered besides loopback ones; empty: any, unless bound to loopback
    send_rate: float = Field(5.0, gt=0)
    send_burst: int = Field(20, ge=1)
    edit_window: float = Field(86400.0, ge=0)  # seconds after posting its author may edit a message
    event_rate: float = Field(20.0, gt=0)  # any Socket.IO events per second per connection
    event_burst: int = Field(60, ge=1)
    ping_interval: float = Field(25.0, gt=0, le=300)  # Engine.IO heartbeat: a client silent for
    ping_timeout: float = Field(20.0, gt=0, le=300)  # interval + timeout seconds is dropped
    http_idle_timeout: float = Field(75.0, gt=0, le=3600)  # a connection with no request in flight is closed
    login_rate: float = Field(0.2, gt=0)  # sustained login attempts per second per account and address
    login_burst: int = Field(10, ge=1)
    # every address together, for one account: slower and deeper, so no one address can lock it out
    login_account_rate: float = Field(0.02, gt=0)
    login_account_burst: int = Field(100, ge=1)
    channel_create_rate: float = Field(0.05, gt=0)  # channels a user may create per second...
    channel_create_burst: int = Field(5, ge=1)  # ...and at once
    max_channels: int = Field(1000, ge=1)  # channels in all, `general` included
    token_ttl: int = Field(7 * 24 * 3600, ge=60)  # seconds a session token stays valid
    # who may create an account: anyone, the holder of an invite code (POST /api/invites or
    # `investor-chat admin invite`), or nobody (a closed community: existing accounts only)
    registration: Registration = "open"
    bcrypt_rounds: int = Field(12, ge=4, le=16)
    log_level: LogLevel = "info"
    health_port: int = Field(0, ge=0, le=65535)  # workers' /healthz port; 0 means none
    # the archiver's CPU niceness: batch work that yields to the nodes' live traffic on a shared machine
    archiver_nice: int = Field(10, ge=0, le=19)
    client_dir: str = ""  # the built web client; empty means client/dist next to the code
    # what one client may hold of a node: bytes queued for it, a write's wait on it, history it pulls
    socket_queue_bytes: int = Field(4 * 1024 * 1024, ge=64 * 1024)  # over it, the socket is closed
    write_timeout: float = Field(30.0, gt=0, le=600)  # seconds a write may wait for a client that does not read
    history_byte_rate: int = Field(2_000_000, ge=1000)  # history bytes per second per user (join and REST)...
    history_byte_burst: int = Field(8_000_000, ge=100_000)  # ...and the burst (one long catch-up fits)
    connect_timeout: float = Field(10.0, gt=0, le=300)  # seconds from opening a connection to logging in on it
    max_sockets_per_user: int = Field(20, ge=1)  # open Socket.IO connections of one user on one node
    max_sockets_per_address: int = Field(200, ge=1)  # open connections from one address on one node
    connect_rate: float = Field(1.0, gt=0)  # connects per second per user on one node...
    connect_burst: int = Field(30, ge=1)  # ...and the burst
    fast_paths: bool = True  # off: no code reaching into libraries' private parts (core/fastpaths.py)

    @field_validator("storage_url")
    @classmethod
    def _storage_scheme(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in ("sqlite", "mongodb", "mongodb+srv"):
            raise ValueError(f"must start with sqlite:/// or mongodb://, got {scheme or value!r}")
        return value

    @field_validator("bus_url")
    @classmethod
    def _bus_scheme(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in ("memory", "redis", "rediss"):
            raise ValueError(f"must be memory:// or redis://host:port/db, got {value!r}")
        return value

    @field_validator("quote_providers")
    @classmethod
    def _providers(cls, value: str) -> str:
        names = [name.strip().lower() for name in value.split(",") if name.strip()]
        unknown = [name for name in names if name not in PROVIDERS]
        if not names or unknown:
            raise ValueError(f"must list providers among {', '.join(PROVIDERS)}, got {value!r}")
        return ",".join(names)

    @field_validator("retention_days", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", "registration", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def providers(self) -> list[str]:
        return self.quote_providers.split(",")

    @property
    def origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()]

    @property
    def hosts(self) -> set[str]:
        return {h.strip().lower().rstrip(".") for h in self.allowed_hosts.split(",") if h.strip()}

    @property
    def proxies(self) -> set[str]:
        return {p.strip() for p in self.trusted_proxies.split(",") if p.strip()}

    @property
    def sqlite_path(self) -> Path | None:
        if not self.storage_url.startswith("sqlite:"):
            return None
        return Path(self.storage_url.removeprefix("sqlite:///") or "investor-chat.sqlite3")

    @property
    def secret(self) -> str:
        if self.secret_key is None:
            raise SettingsError("CHAT_SECRET_KEY is not set")
        return self.secret_key


def read_settings(**overrides: object) -> Settings:
    """Settings from the environment plus CLI overrides, the secret key unchecked: for a tool that signs
    nothing (`investor-chat admin` on a machine where only the store is configured). SettingsError with
    one line when a value does not hold."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        path, problem = first_error(exc)
        field = "CHAT_" + path.split(".")[0].upper() if path else "settings"
        raise SettingsError(f"{field}: {problem}") from None


def load_settings(*, standalone: bool, **overrides: object) -> Settings:
    """Build settings from the environment plus CLI overrides; raise SettingsError with one line."""
    settings = read_settings(**overrides)
    if settings.secret_key is None:
        if not standalone:
            raise SettingsError("CHAT_SECRET_KEY is required outside standalone mode")
        settings = settings.model_copy(update={"secret_key": _standalone_secret(settings)})
    if len(settings.secret) < MIN_SECRET_LENGTH:
        raise SettingsError(f"CHAT_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")
    if len(set(settings.secret)) < MIN_SECRET_DISTINCT:
        raise SettingsError(
            f"CHAT_SECRET_KEY is too weak: use a random key of at least {MIN_SECRET_DISTINCT} distinct characters"
        )
    return settings


def _standalone_secret(settings: Settings) -> str:
    """Standalone keeps a generated key under var/ so sessions survive restarts."""
    base = settings.sqlite_path.parent if settings.sqlite_path else Path("var")
    path = base / "secret_key"
    if path.exists():
        return path.read_text().strip()
    base.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(key)
    return key
