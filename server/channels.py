"""Channels: created within per-user and global limits, public or private, direct messages between two users,
settings changed and channels deleted by their owners; REST and Socket.IO both come through here, and every
decision of who may goes through server/access.py."""

from __future__ import annotations

import hashlib
import logging

from aiohttp import web

from core.errors import ChatError
from core.models import (
    CHANNEL_RE,
    DEFAULT_CHANNEL,
    DM_PREFIX,
    RESERVED_CHANNELS,
    Channel,
    ChannelEvent,
    Visibility,
    now_iso,
)
from core.posting import post_event
from server import audit
from server.access import Need, Viewer, forbidden
from server.app_keys import ACCESS, BUS, SETTINGS, SIO, STORE

logger = logging.getLogger(__name__)
MAX_TOPIC = 250
MAX_SLOW_MODE = 3600


def channel_name(raw: str) -> str:
    """The stored form of a channel name (lower case), or ChatError invalid_channel_name."""
    name = raw.strip().lower()
    if not CHANNEL_RE.fullmatch(name):
        raise ChatError("invalid_channel_name", "Channel names are 3-50 of a-z, 0-9, '-' and '_'", 400)
    if name in RESERVED_CHANNELS:
        raise ChatError("invalid_channel_name", f"#{name} is a reserved name", 400)
    if name.startswith(DM_PREFIX):
        raise ChatError("invalid_channel_name", f"Names starting with {DM_PREFIX} are kept for direct messages", 400)
    return name


def dm_name(a: str, b: str) -> str:
    """The one channel name of the DM between two users, whichever of them opens it."""
    pair = "\x00".join(sorted((a.lower(), b.lower())))
    return DM_PREFIX + hashlib.sha256(pair.encode()).hexdigest()[:20]


async def _may_create(app: web.Application, user: str) -> None:
    settings = app[SETTINGS]
    budget = (f"channels:create:{user.lower()}", settings.channel_create_rate, settings.channel_create_burst)
    if not await app[BUS].allow(*budget):
        raise ChatError("rate_limited", "You are creating channels too fast; wait a minute", 429)
    if await app[STORE].count_channels() >= settings.max_channels:
        raise ChatError("too_many_channels", f"This chat holds at most {settings.max_channels} channels", 403)


async def announce(app: web.Application, channel: Channel) -> None:
    """`channel_created`: to everyone for a public channel, to its members only for a private one."""
    if channel.visibility == "public":
        await app[SIO].to_everyone("channel_created", channel.wire())
    else:
        members = [m.username for m in await app[STORE].members(channel.name)]
        await app[SIO].to_users(members, "channel_created", channel.wire())


async def create_channel(
    app: web.Application, viewer: Viewer, raw_name: str, *, visibility: Visibility = "public", topic: str = ""
) -> Channel:
    """Create a channel owned by its creator and announce it to those who may see it."""
    store = app[STORE]
    if viewer.compliance and not viewer.admin:
        raise forbidden("Compliance reads every channel and creates none")
    name = channel_name(raw_name)
    if await store.get_channel(name) is not None:
        raise ChatError("channel_exists", f"#{name} already exists", 409)
    await _may_create(app, viewer.username)
    channel = Channel(
        name=name, created_by=viewer.username, created_at=now_iso(), visibility=visibility, topic=topic.strip()
    )
    if not await store.create_channel(channel):
        raise ChatError("channel_exists", f"#{name} already exists", 409)
    await store.set_member(name, viewer.username, "owner")
    await announce(app, channel)
    return channel


async def open_dm(app: web.Application, viewer: Viewer, username: str) -> tuple[Channel, bool]:
    """The DM channel of the viewer and `username`, made on first use; (channel, True) when new."""
    store = app[STORE]
    other = await store.get_user(username.strip()[:64]) if username.strip() else None
    if other is None or other.suspended:
        raise ChatError("user_not_found", f"No user {username[:40]!r}", 404)
    if other.username.lower() == viewer.username.lower():
        raise ChatError("invalid_parameter", "A direct message needs another user", 400)
    name = dm_name(viewer.username, other.username)
    existing = await store.get_channel(name)
    if existing is not None:
        return existing, False
    await _may_create(app, viewer.username)
    users = sorted((viewer.username, other.username), key=str.lower)
    channel = Channel(
        name=name, created_by=viewer.username, created_at=now_iso(), visibility="private", kind="dm", members=users
    )
    if not await store.create_channel(channel):  # the other one opened it at the same moment
        found = await store.get_channel(name)
        if found is None:
            raise ChatError("internal_error", "The direct message could not be opened", 500)
        return found, False
    for user in users:
        await store.set_member(name, user, "member")
    await announce(app, channel)
    return channel, True


async def visible_channels(app: web.Application, viewer: Viewer) -> list[Channel]:
    """The channels `viewer` may see, sorted by name: public ones, and private ones it is a member of
    (every one for site compliance)."""
    store = app[STORE]
    mine = await store.channels_of(viewer.username)
    return [c for c in await store.list_channels() if c.visibility == "public" or c.name in mine or viewer.compliance]


async def update_settings(
    app: web.Application, viewer: Viewer, name: str, *, topic: str | None, slow_mode_s: int | None
) -> Channel:
    """Change a channel's topic or slow mode (its moderators): a `settings_changed` channel event."""
    grant = await app[ACCESS].channel(viewer, name, Need.MODERATE)
    channel = grant.channel
    changes: dict[str, str | int] = {}
    topic = topic.strip() if topic is not None else None
    if topic is not None and topic != channel.topic:
        changes["topic"] = topic
    if slow_mode_s is not None and slow_mode_s != channel.slow_mode_s:
        changes["slow_mode_s"] = slow_mode_s
    if not changes:
        return channel
    store = app[STORE]
    await store.update_channel(channel.name, topic=topic, slow_mode_s=slow_mode_s)
    event = ChannelEvent(
        channel=channel.name, kind="settings_changed", by=viewer.username, ts=now_iso(), changes=changes
    )
    app[ACCESS].apply(await post_event(app[BUS], store, event))  # at once here, as moderation._emit does
    await audit.record(store, viewer.username, "channel.settings_changed", channel=channel.name, changes=changes)
    return channel.model_copy(update=changes)


def check_may_delete(grant_role: str | None, viewer: Viewer, channel: Channel) -> None:
    """A channel's owner or a site admin may delete it; never #general, never a DM."""
    if channel.name == DEFAULT_CHANNEL:
        raise forbidden(f"#{DEFAULT_CHANNEL} cannot be deleted")
    if channel.kind == "dm":
        raise forbidden("Direct messages cannot be deleted")
    if grant_role != "owner" and not viewer.admin:
        raise ChatError("not_channel_owner", f"Only {channel.created_by} can delete #{channel.name}", 403)


async def delete_channel(app: web.Application, viewer: Viewer, name: str) -> Channel:
    """Delete a channel on `viewer`'s behalf: it leaves the list, those who could see it get
    `channel_deleted` and every connection leaves its room; its archived messages stay."""
    from server.realtime import REALTIME  # the handlers import this module's callers

    store = app[STORE]
    grant = await app[ACCESS].channel(viewer, name, Need.SEE)
    channel = grant.channel
    check_may_delete(grant.role, viewer, channel)
    members = [m.username for m in await store.members(channel.name)] if channel.visibility == "private" else []
    if not await store.delete_channel(channel.name):
        raise ChatError("channel_not_found", f"No channel #{channel.name}", 404)  # deleted meanwhile
    logger.info("channel deleted", extra={"channel": channel.name, "user": viewer.username})
    await audit.record(store, viewer.username, "channel.deleted", channel=channel.name)
    await app[REALTIME].forget_channel(channel.name)
    sio = app[SIO]
    notice = {"name": channel.name, "deleted_by": viewer.username}
    if channel.visibility == "public":
        await sio.to_everyone("channel_deleted", notice)
    else:
        await sio.to_users(members, "channel_deleted", notice)
    await sio.close_channel(channel.name)
    return channel
