"""Members and moderation of a channel: add, change a role, remove (kick or leave), mute, ban. Each action
is checked by server/access.py, written to the store, sent to the channel as a channel event with its next
seq (every node applies it to its connections at once) and, when a moderator made it, to the audit log."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from core.errors import ChatError
from core.models import ChannelEvent, ChannelRole, EventKind, User, iso, now_iso, utcnow
from core.posting import post_event
from server import audit
from server.access import Grant, Need, Viewer, forbidden
from server.app_keys import ACCESS, BUS, STORE

DEFAULT_MUTE_MINUTES = 10


async def _user(app: web.Application, username: str) -> User:
    user = await app[STORE].get_user(username.strip()[:64]) if username.strip() else None
    if user is None:
        raise ChatError("user_not_found", f"No user {username[:40]!r}", 404)
    return user


async def _emit(
    app: web.Application,
    grant: Grant,
    kind: EventKind,
    target: str,
    *,
    role: ChannelRole | None = None,
    until: str | None = None,
    reason: str | None = None,
) -> ChannelEvent:
    by = grant.viewer.username
    event = ChannelEvent(
        channel=grant.channel.name, kind=kind, by=by, ts=now_iso(), target=target, role=role, until=until,
        reason=reason,
    )  # fmt: skip
    posted = await post_event(app[BUS], app[STORE], event)
    # this node's rules follow at once, before the reply: on Redis the live feed brings the event back later,
    # and a send right after the reply would pass a mute or slow mode not yet applied (applying is idempotent)
    app[ACCESS].apply(posted)
    if by.lower() != target.lower() or kind != "member_removed":  # leaving is no moderation
        await audit.record(
            app[STORE], by, f"channel.{kind}", target=target, channel=grant.channel.name, role=role, until=until,
            reason=reason,
        )  # fmt: skip
    return posted


def _outranks(grant: Grant, target_role: ChannelRole | None, target: User | None = None) -> None:
    """Nobody acts on an owner, a site admin or compliance (which must read every channel); only an owner or a
    site admin acts on a moderator."""
    if target is not None and target.roles:
        raise forbidden(f"{target.username} is a site {' and '.join(target.roles)}: channel moderation does not apply")
    if target_role == "owner":
        raise forbidden("The channel's owner cannot be removed, muted or banned")
    if target_role == "moderator" and not grant.manager:
        raise forbidden("Only the channel's owner can act on a moderator")


async def set_member(app: web.Application, viewer: Viewer, channel: str, username: str, role: ChannelRole) -> User:
    """Add `username` to the channel with `role`, or change its role: moderators add members, only an
    owner (or a site admin) makes or unmakes moderators; nobody is made owner."""
    access, store = app[ACCESS], app[STORE]
    grant = await access.channel(viewer, channel, Need.MODERATE)
    name = grant.channel.name
    if role == "owner":
        raise ChatError("invalid_role", "A channel has one owner, its creator", 400)
    user = await _user(app, username)
    current = await store.member_role(name, user.username)
    if current == role:
        return user
    if (role == "moderator" or current == "moderator") and not grant.manager:
        raise forbidden("Only the channel's owner makes moderators")
    _outranks(grant, current if current == "owner" else None)
    if user.username.lower() in (await access.rules(name)).banned:
        raise ChatError("banned", f"{user.username} is banned from #{name}; unban them first", 403)
    await store.set_member(name, user.username, role)
    await _emit(app, grant, "member_added" if current is None else "role_changed", user.username, role=role)
    return user


async def remove_member(app: web.Application, viewer: Viewer, channel: str, username: str) -> None:
    """Kick `username` (moderators), or leave (the member itself; an owner cannot leave its channel)."""
    access, store = app[ACCESS], app[STORE]
    leaving = username.strip().lower() == viewer.username.lower()
    grant = await access.channel(viewer, channel, Need.SEE if leaving else Need.MODERATE)
    name = grant.channel.name
    if grant.channel.kind == "dm":
        raise forbidden("Nobody joins or leaves a direct message")
    user = await _user(app, username)
    current = await store.member_role(name, user.username)
    if leaving and current == "owner":
        raise forbidden("An owner cannot leave its channel; delete it instead")
    if not leaving:
        _outranks(grant, current, user)
    if current is None or not await store.remove_member(name, user.username):
        raise ChatError("not_a_member", f"{user.username} is not a member of #{name}", 404)
    await _emit(app, grant, "member_removed", user.username)


async def mute(
    app: web.Application, viewer: Viewer, channel: str, username: str, minutes: int | None, reason: str | None
) -> tuple[User, str]:
    """Mute `username` until now + `minutes`: its sends answer `muted` with the end time."""
    access, store = app[ACCESS], app[STORE]
    grant = await access.channel(viewer, channel, Need.MODERATE)
    user = await _user(app, username)
    _outranks(grant, await store.member_role(grant.channel.name, user.username), user)
    until = iso(utcnow() + timedelta(minutes=minutes or DEFAULT_MUTE_MINUTES))
    await store.set_mute(grant.channel.name, user.username, until)
    await _emit(app, grant, "muted", user.username, until=until, reason=reason or None)
    return user, until


async def unmute(app: web.Application, viewer: Viewer, channel: str, username: str) -> None:
    grant = await app[ACCESS].channel(viewer, channel, Need.MODERATE)
    user = await _user(app, username)
    if await app[STORE].remove_mute(grant.channel.name, user.username):
        await _emit(app, grant, "unmuted", user.username)


async def ban(app: web.Application, viewer: Viewer, channel: str, username: str, reason: str | None) -> User:
    """Ban `username`: removed from the channel, its connections leave it on every node, and it cannot join
    (or be added) again until unbanned."""
    access, store = app[ACCESS], app[STORE]
    grant = await access.channel(viewer, channel, Need.MODERATE)
    name = grant.channel.name
    user = await _user(app, username)
    role = await store.member_role(name, user.username)
    _outranks(grant, role, user)
    if user.username.lower() == viewer.username.lower():
        raise forbidden("You cannot ban yourself")
    if await store.set_ban(name, user.username, True):
        if role is not None:
            await store.remove_member(name, user.username)
        await _emit(app, grant, "banned", user.username, reason=reason or None)
    return user


async def unban(app: web.Application, viewer: Viewer, channel: str, username: str) -> None:
    grant = await app[ACCESS].channel(viewer, channel, Need.MODERATE)
    user = await _user(app, username)
    if await app[STORE].set_ban(grant.channel.name, user.username, False):
        await _emit(app, grant, "unbanned", user.username)
