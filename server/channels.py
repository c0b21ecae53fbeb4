"""Channels: created within per-user and global limits, deleted by their creator; REST and Socket.IO
both come through here, so the rules and the authorization are the same on either path."""

from __future__ import annotations

import logging

from aiohttp import web

from core.errors import ChatError
from core.models import CHANNEL_RE, DEFAULT_CHANNEL, RESERVED_CHANNELS, Channel, now_iso
from server.app_keys import BUS, SETTINGS, SIO, STORE

logger = logging.getLogger(__name__)


def channel_name(raw: str) -> str:
    """The stored form of a channel name (lower case), or ChatError invalid_channel_name."""
    name = raw.strip().lower()
    if not CHANNEL_RE.fullmatch(name):
        raise ChatError("invalid_channel_name", "Channel names are 3-50 of a-z, 0-9, '-' and '_'", 400)
    if name in RESERVED_CHANNELS:
        raise ChatError("invalid_channel_name", f"#{name} is a reserved name", 400)
    return name


async def create_channel(app: web.Application, user: str, raw_name: str) -> Channel:
    """Create a channel for `user` and tell every connected client (`channel_created`)."""
    settings, store = app[SETTINGS], app[STORE]
    name = channel_name(raw_name)
    if await store.get_channel(name) is not None:
        raise ChatError("channel_exists", f"#{name} already exists", 409)
    budget = (f"channels:create:{user.lower()}", settings.channel_create_rate, settings.channel_create_burst)
    if not await app[BUS].allow(*budget):
        raise ChatError("rate_limited", "You are creating channels too fast; wait a minute", 429)
    if await store.count_channels() >= settings.max_channels:
        raise ChatError("too_many_channels", f"This chat holds at most {settings.max_channels} channels", 403)
    channel = Channel(name=name, created_by=user, created_at=now_iso())
    if not await store.create_channel(channel):
        raise ChatError("channel_exists", f"#{name} already exists", 409)
    await app[SIO].emit("channel_created", channel.model_dump())
    return channel


def check_may_delete(user: str, channel: Channel) -> None:
    """Only a channel's creator may delete it (there are no site roles yet), and never #general."""
    if channel.name == DEFAULT_CHANNEL:
        raise ChatError("forbidden", f"#{DEFAULT_CHANNEL} cannot be deleted", 403)
    if channel.created_by.lower() != user.lower():
        raise ChatError("not_channel_owner", f"Only {channel.created_by} can delete #{channel.name}", 403)


async def delete_channel(app: web.Application, user: str, name: str) -> Channel:
    """Delete a channel on `user`'s behalf: it leaves the list, every client gets `channel_deleted` and
    every connection leaves its room; its archived messages stay."""
    from server.realtime import REALTIME  # the handlers import this module's callers

    store = app[STORE]
    channel = await store.get_channel(name.strip().lower()[:100])
    if channel is None:
        raise ChatError("channel_not_found", f"No channel #{name[:60]}", 404)
    check_may_delete(user, channel)
    if not await store.delete_channel(channel.name):
        raise ChatError("channel_not_found", f"No channel #{channel.name}", 404)  # deleted meanwhile
    logger.info("channel deleted", extra={"channel": channel.name, "user": user})
    await app[REALTIME].forget_channel(channel.name)
    sio = app[SIO]
    await sio.to_everyone("channel_deleted", {"name": channel.name, "deleted_by": user})
    await sio.close_channel(channel.name)
    return channel
