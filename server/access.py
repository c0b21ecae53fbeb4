"""Who may do what with a channel: the one authorization layer. Every REST route and Socket.IO event that
names a channel gets its Grant here (tests/test_access.py walks them all), and every site-wide action
its check, so the rules of docs/protocol.md#access are written once.

A private channel (DMs are private) exists only for its members and for site compliance: to anyone else
every path answers `channel_not_found`, exactly as for a channel that does not exist."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from core.errors import ChatError
from core.models import Channel, ChannelEvent, ChannelRole, now_iso
from core.store import Store

STAFF: frozenset[ChannelRole] = frozenset({"owner", "moderator"})


class Need(enum.Enum):
    SEE = "see"  # join, history, members, pins, replies, typing
    POST = "post"  # send, edit, react, ...: not muted, not banned, not a read-only site role
    MODERATE = "moderate"  # mute, ban, kick, add, settings, delete others' messages, pin
    MANAGE = "manage"  # make or unmake moderators


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who asks: a user and the site roles granted on top of `user`."""

    username: str
    roles: frozenset[str] = frozenset()

    @property
    def admin(self) -> bool:
        return "admin" in self.roles

    @property
    def compliance(self) -> bool:
        return "compliance" in self.roles


@dataclass(frozen=True, slots=True)
class Grant:
    """A channel the viewer may use as asked, and its role there."""

    channel: Channel
    viewer: Viewer
    role: ChannelRole | None

    @property
    def moderator(self) -> bool:
        """Owners, moderators and site admins moderate; nobody moderates a DM."""
        return self.channel.kind != "dm" and (self.role in STAFF or self.viewer.admin)

    @property
    def manager(self) -> bool:
        """Owners and site admins make and unmake moderators."""
        return self.channel.kind != "dm" and (self.role == "owner" or self.viewer.admin)


def channel_not_found(name: str) -> ChatError:
    return ChatError("channel_not_found", f"No channel #{name[:60]}", 404)


def forbidden(why: str) -> ChatError:
    return ChatError("forbidden", why, 403)


def banned(name: str) -> ChatError:
    return ChatError("banned", f"You are banned from #{name[:60]}", 403)


def muted(name: str, until: str) -> ChatError:
    return ChatError("muted", f"You are muted in #{name[:60]} until {until}", 403, until=until)


def require_site(viewer: Viewer, *roles: str) -> None:
    """Site-wide actions (invites, roles, suspensions, the audit log): one of `roles` only."""
    if not any(role in viewer.roles for role in roles):
        raise forbidden("This needs the site role " + " or ".join(roles))


class Access:
    """The authorization of one process: the rules from the store, and per channel what the send path
    checks without a query (Rules), kept current by the channel events of the live feed."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._rules: dict[str, Rules] = {}

    async def channel(self, viewer: Viewer, raw_name: str, need: Need = Need.SEE) -> Grant:
        """The Grant to use channel `raw_name` as `need` says, or the ChatError that refuses it."""
        name = raw_name.strip().lower()[:100]
        channel = await self.store.get_channel(name)
        if channel is None:
            raise channel_not_found(raw_name)
        role = await self.store.member_role(channel.name, viewer.username)
        if channel.visibility == "private" and role is None and not viewer.compliance:
            raise channel_not_found(raw_name)
        grant = Grant(channel, viewer, role)
        if need is Need.MODERATE and not grant.moderator:
            raise forbidden(_why_not_moderator(channel))
        if need is Need.MANAGE and not grant.manager:
            raise forbidden("Only the channel's owner makes moderators")
        if need in (Need.SEE, Need.POST):
            refusal = (await self.rules(channel.name)).refusal(viewer, post=need is Need.POST)
            if refusal is not None:
                raise refusal
        return grant

    async def readable(self, viewer: Viewer) -> list[Channel]:
        """The channels `viewer` may read, by name: the public ones it is not banned from and its private
        ones (every one for site compliance). What search and the read marks range over."""
        mine = await self.store.channels_of(viewer.username)
        out = []
        for channel in await self.store.list_channels():
            if channel.visibility == "private" and channel.name not in mine and not viewer.compliance:
                continue
            if (await self.rules(channel.name)).refusal(viewer, post=False) is None:
                out.append(channel)
        return out

    async def rules(self, channel: str) -> Rules:
        """The channel's Rules, read from the store the first time this process needs them."""
        rules = self._rules.get(channel)
        if rules is None:
            loaded = await self.store.get_channel(channel)
            moderation = await self.store.moderation(channel)
            members = await self.store.members(channel)
            staff = {m.username.lower() for m in members if m.role in STAFF}
            private = loaded is not None and loaded.visibility == "private"
            rules = self._rules.setdefault(
                channel,
                Rules(
                    channel=channel,
                    slow_mode_s=loaded.slow_mode_s if loaded else 0,
                    staff=staff,
                    muted=dict(moderation.muted),
                    banned=set(moderation.banned),
                    members={m.username.lower() for m in members} if private else None,
                ),
            )
        return rules

    def cached_rules(self, channel: str) -> Rules | None:
        """The Rules if this process has them (the send path's check without an await)."""
        return self._rules.get(channel)

    def apply(self, event: ChannelEvent) -> None:
        """A channel event of the live feed: the Rules this process holds follow it at once."""
        rules = self._rules.get(event.channel)
        if rules is not None:
            rules.apply(event)

    def forget(self, channel: str) -> None:
        self._rules.pop(channel, None)


@dataclass(slots=True)
class Rules:
    """What the send path of one channel checks, in memory: slow mode, its staff (exempt from slow mode,
    never muted), who is muted until when (lower-cased names), who is banned and, for a private channel,
    who its members are (who a message there may mention)."""

    channel: str
    slow_mode_s: int = 0
    staff: set[str] = field(default_factory=set)
    muted: dict[str, str] = field(default_factory=dict)
    banned: set[str] = field(default_factory=set)
    members: set[str] | None = None  # lower-cased; None: a public channel, which every account may read

    def may_read(self, username: str) -> bool:
        """Whether `username` (lower-cased) may read the channel: mentioned, notified."""
        return username not in self.banned and (self.members is None or username in self.members)

    def refusal(self, viewer: Viewer, *, post: bool) -> ChatError | None:
        """Why `viewer` may not read (post=False) or post in the channel, or None. Compliance always reads
        and never posts; a muted moderator (muted by the owner) is muted too."""
        if viewer.compliance:
            return forbidden("Compliance reads every channel and posts nothing") if post else None
        user = viewer.username.lower()
        if user in self.banned:
            return banned(self.channel)
        until = self.muted.get(user) if post else None
        if until is not None and until > now_iso():
            return muted(self.channel, until)
        return None

    def slowed(self, viewer: Viewer) -> bool:
        """Whether `viewer`'s sends wait for slow mode: not its owner's and moderators', nor a site admin's."""
        return self.slow_mode_s > 0 and not viewer.admin and viewer.username.lower() not in self.staff

    def apply(self, event: ChannelEvent) -> None:
        target = (event.target or "").lower()
        if event.kind == "muted" and event.until is not None:
            self.muted[target] = event.until
        elif event.kind == "unmuted":
            self.muted.pop(target, None)
        elif event.kind == "banned":
            self.banned.add(target)
            self.staff.discard(target)
        elif event.kind == "unbanned":
            self.banned.discard(target)
        if self.members is not None and event.kind in ("member_added", "member_removed", "banned"):
            (self.members.add if event.kind == "member_added" else self.members.discard)(target)
        if event.kind in ("member_added", "role_changed"):
            if event.role in STAFF:
                self.staff.add(target)
            else:
                self.staff.discard(target)
        elif event.kind == "member_removed":
            self.staff.discard(target)
        elif event.kind == "settings_changed" and event.changes and "slow_mode_s" in event.changes:
            self.slow_mode_s = int(event.changes["slow_mode_s"])


def _why_not_moderator(channel: Channel) -> str:
    if channel.kind == "dm":
        return "Direct messages have no moderators"
    return f"Only the owner and moderators of #{channel.name} can do that"
