"""The Socket.IO protocol of docs/protocol.md: authenticated connections, rooms per channel, acks for every event."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

import orjson
from aiohttp import web

from core.bus import NOTICES
from core.errors import ChatError
from core.models import ChannelEvent, is_channel_event, now_iso
from core.posting import last_seq, read_changes, read_events, read_history
from core.ratelimit import TokenBucket
from server.access import Need, Viewer
from server.acks import answered
from server.admin import suspended_lately
from server.api import COOKIE, client_address
from server.app_keys import ACCESS, ACCOUNTS, BUDGETS, BUS, METRICS, SETTINGS, SIO, STORE
from server.attention import Attention
from server.channels import delete_channel
from server.message_events import MessageEvents
from server.origins import connect_origin_allowed
from server.payloads import Event, JoinPayload, event_payload
from socketio_edge import create_sio, refusal, spawn

logger = logging.getLogger(__name__)
HISTORY_ON_JOIN = 50
CATCH_UP_LIMIT = 200
MAX_REFUSALS = 50
MAX_BACKLOG = 256 * 1024  # bytes still on their way to a client past which it gets no more history
SESSION_SWEEP_SECONDS = 15.0  # how soon a logged-out, expired or suspended session loses its open sockets
SUSPENSION_LOOKBACK_SECONDS = 4 * SESSION_SWEEP_SECONDS  # a late sweep or a skewed clock still sees them
CHANNEL_SWEEP_SECONDS = 15.0  # how soon a channel deleted through another node is forgotten by this one
PRESENCE_SWEEP_SECONDS = 10.0  # how soon, past the bus's presence TTL, a dead node's users are announced gone


@dataclass(slots=True)
class Conn:
    user: str
    jti: str
    expires_at: float  # POSIX seconds
    events: TokenBucket
    viewer: Viewer
    channels: set[str] = field(default_factory=set)
    refusals: int = 0  # events refused for flooding; past MAX_REFUSALS the connection is closed


REALTIME: web.AppKey[Realtime] = web.AppKey("realtime")


def attach(app: web.Application) -> None:
    settings = app[SETTINGS]
    sio = create_sio(
        settings,
        origin_allowed=lambda origin, request: connect_origin_allowed(
            origin, request, settings.origins, settings.proxies
        ),
        address_of=client_address,
    )
    sio.attach(app, socketio_path="socket.io")
    app[SIO] = sio
    app[REALTIME] = Realtime(app)
    app[REALTIME].register()
    app.cleanup_ctx.append(_live_feed)
    app.cleanup_ctx.append(_every(SESSION_SWEEP_SECONDS, Realtime.sweep_sessions))
    app.cleanup_ctx.append(_every(PRESENCE_SWEEP_SECONDS, Realtime.sweep_presence))
    app.cleanup_ctx.append(_every(CHANNEL_SWEEP_SECONDS, Realtime.sweep_channels))
    app.on_shutdown.append(_close_sockets)


async def _live_feed(app: web.Application) -> AsyncIterator[None]:
    """Records posted anywhere on the bus reach this node's members of their room; channel events and
    notices also change what this node's connections may do."""
    unsubscribe = await app[BUS].subscribe_live(app[REALTIME].on_live)
    yield
    unsubscribe()


async def end_sessions(app: web.Application, username: str) -> None:
    """Disconnect every connection of `username` on every node at once (a suspension): a notice on the
    live feed, which each node's Realtime.on_live acts on for its own connections."""
    await app[BUS].notify(orjson.dumps({"seq": 0, "suspended": username}))


Job = Callable[["Realtime"], Awaitable[None]]


def _every(seconds: float, job: Job) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context running `job` every `seconds` for the app's life; a failed run is logged."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        async def repeat() -> None:
            while True:
                await asyncio.sleep(seconds)
                try:
                    await job(app[REALTIME])
                except Exception:
                    logger.exception("%s failed", job.__name__)

        task = asyncio.create_task(repeat(), name=job.__name__)
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return context


async def _close_sockets(app: web.Application) -> None:
    """Disconnect every client first: open WebSockets would otherwise hold the shutdown up.
    Clients reconnect (through nginx, to another node) and catch up by seq."""
    await app[SIO].close_all()


def _refusal(error: ChatError) -> Exception:
    """A refusal whose connect_error data is exactly {code, message}, as docs/protocol.md promises."""
    return refusal(error.message, error.as_dict())


class Realtime:
    """The Socket.IO event handlers of one node and the connections it holds."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.sio = app[SIO]
        self.conns: dict[str, Conn] = {}
        self.known_channels: set[str] = set()

    def register(self) -> None:
        self.sio.on("connect", self.connect)
        self.sio.on("disconnect", self.disconnect)
        self.sio.on("join", self.join)
        self.sio.on("leave", self.leave)
        self.sio.on("typing", self.typing)
        MessageEvents(self).register(self.sio)
        self.attention = Attention(self)
        self.sio.on("read", self.attention.read)
        self.sio.on("delete_channel", self.delete_channel)
        self.sio.on("*", self.unknown)

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token:
            cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
            token = cookie[COOKIE].value if COOKIE in cookie else None
        try:
            if not token:
                raise ChatError("unauthorized", "Log in first", 401)
            session = await self.app[ACCOUNTS].verify(token)
        except ChatError as exc:
            raise _refusal(exc) from None
        budget = self.app[BUDGETS].of(session.username)
        if budget.sockets >= self.app[SETTINGS].max_sockets_per_user:
            raise _refusal(ChatError("too_many_connections", "Too many open connections; close some first", 429))
        if not budget.connects.take():
            raise _refusal(ChatError("rate_limited", "Connecting too often; wait a moment", 429))
        budget.sockets += 1
        viewer = Viewer(session.username, session.roles)
        self.conns[sid] = Conn(session.username, session.jti, session.expires_at.timestamp(), budget.events, viewer)
        await self.sio.join_user(sid, session.username)
        self.app[METRICS].connections.inc()
        # the environ is held for the connection's whole life by engine.io and python-socketio; nothing reads
        # it after the connect (one dict, shared by all of them: emptied in place;
        # docs/performance.md#per-connection-memory)
        environ.clear()

    async def disconnect(self, sid: str, *_: Any) -> None:
        conn = self.conns.pop(sid, None)
        if conn is None:
            return
        self.app[BUDGETS].of(conn.user).sockets -= 1
        self.app[METRICS].connections.dec()
        for channel in list(conn.channels):
            await self._leave(sid, conn, channel)

    async def not_joined(self, conn: Conn, name: str) -> ChatError:
        """The error for an event on a channel the connection has not joined: `channel_not_found` when it
        may not see it (a private channel is not revealed by the error), else `not_joined`."""
        await self.app[ACCESS].channel(conn.viewer, name, Need.SEE)
        return ChatError("not_joined", f"Join #{name[:60]} first")

    def on_live(self, channel: str, wire: bytes) -> None:
        """One record of the live feed: delivered to this node's members of the channel; a channel event
        also updates the channel's rules here and reaches or removes its target's connections; a notice
        acts on this node's connections."""
        if channel == NOTICES:
            self._notice(wire)
            return
        self.sio.deliver(channel, wire)
        if is_channel_event(wire):
            event = ChannelEvent.model_validate_json(wire)
            self.app[ACCESS].apply(event)
            if event.target is not None:
                self._reach_target(event, wire)

    def _reach_target(self, event: ChannelEvent, wire: bytes) -> None:
        """The target's connections get the event even when they have not joined the channel (an added
        member learns of it); a removed or banned one's connections leave the channel's room at once."""
        target = (event.target or "").lower()
        removed = event.kind in ("member_removed", "banned")
        for sid, conn in list(self.conns.items()):
            if conn.user.lower() != target:
                continue
            if event.channel not in conn.channels:
                self.sio.send_record(sid, event.channel, wire)
            elif removed:
                conn.channels.discard(event.channel)
                self.sio.leave_channel_now(sid, event.channel)
                spawn(self._presence_gone(sid, conn, event.channel))

    def _notice(self, wire: bytes) -> None:
        try:
            notice = orjson.loads(wire)
        except orjson.JSONDecodeError:
            logger.warning("dropping a malformed notice")
            return
        if isinstance(notice.get("notifications"), list):
            spawn(self.attention.deliver(notice["notifications"]))
            return
        suspended = str(notice.get("suspended", "")).lower()
        for sid, conn in list(self.conns.items()):
            if suspended and conn.user.lower() == suspended:
                spawn(self.sio.disconnect(sid))

    async def admit(self, sid: str, *, counted: bool = True) -> None:
        """Every event spends from its connection's budget; a client that keeps flooding is cut off
        (unless `counted` is False: a refused join is retried later, not flooding)."""
        conn = self.conns.get(sid)
        if conn is None or conn.events.take():
            return
        conn.refusals += counted
        if conn.refusals > MAX_REFUSALS:
            logger.warning("disconnecting a flooding client", extra={"sid": sid, "user": conn.user})
            await self.sio.disconnect(sid)
        raise ChatError("rate_limited", "Too many events; slow down")

    async def sweep_sessions(self) -> None:
        """Close sockets whose session expired, was logged out or whose user was suspended since they
        connected; forget the budgets of users gone long enough for them to be full again."""
        now = time.time()
        self.app[BUDGETS].forget_idle()
        conns = list(self.conns.items())
        # one query per few hundred sessions, not one per socket every sweep: that grows with the node's
        # connections and spends its time on the store (docs/performance.md#archiver-and-store)
        revoked = await self.app[STORE].revoked({conn.jti for _, conn in conns})
        # `investor-chat admin suspend` has no bus to reach the nodes at once: its audit entry does, here
        users = {conn.user.lower() for _, conn in conns}
        suspended = await suspended_lately(self.app[STORE], users, SUSPENSION_LOOKBACK_SECONDS)
        for sid, conn in conns:
            if conn.expires_at <= now or conn.jti in revoked or conn.user.lower() in suspended:
                await self.sio.disconnect(sid)

    async def sweep_channels(self) -> None:
        """Forget channels deleted through other nodes (their sockets left its room at once; this drops
        the channel from this node's connections, so no send reaches it any more)."""
        existing = {channel.name for channel in await self.app[STORE].list_channels()}
        for name in [name for name in self.known_channels if name not in existing]:
            await self.forget_channel(name)

    async def forget_channel(self, name: str) -> None:
        """A deleted channel: this node's connections leave it."""
        self.known_channels.discard(name)
        self.app[ACCESS].forget(name)
        for sid, conn in list(self.conns.items()):
            if name in conn.channels:
                await self._leave(sid, conn, name)

    async def sweep_presence(self) -> None:
        """Announce the presence changes no connection reported: a crashed node's users gone offline."""
        for channel, user, online in await self.app[BUS].presence_sweep():
            await self._presence(channel, user, online=online)

    def failure(self, sid: str, event: str, exc: BaseException) -> dict[str, Any]:
        """The ack of an event that failed: its ChatError, or internal_error (logged once)."""
        if not isinstance(exc, ChatError):
            logger.error("event failed", exc_info=exc, extra={"sid": sid, "event": event})
            exc = ChatError("internal_error", "Something went wrong", 500)
        self.app[METRICS].errors.labels(exc.code).inc()
        return exc.as_ack()

    def conn(self, sid: str) -> Conn:
        conn = self.conns.get(sid)
        if conn is None:
            raise ChatError("unauthorized", "Connect with a valid session first")
        return conn

    @answered
    async def join(self, sid: str, *args: Any) -> dict[str, Any]:
        data = event_payload(JoinPayload, args)
        conn = self.conn(sid)
        access = self.app[ACCESS]
        grant = await access.channel(conn.viewer, data.channel, Need.SEE)
        self.known_channels.add(grant.channel.name)
        rules = await access.rules(grant.channel.name)  # the send path checks them without a query
        if self.sio.backlog(sid) > MAX_BACKLOG:
            raise ChatError("rate_limited", "Read what was sent to you first; try again in a moment")
        store, bus = self.app[STORE], self.app[BUS]
        async with self.app[BUDGETS].reading_history(conn.user) as charge:
            if data.channel not in conn.channels:
                conn.channels.add(data.channel)
                await self.sio.join_channel(sid, data.channel)
                if await bus.presence_add(data.channel, conn.user, sid):
                    await self._presence(data.channel, conn.user, online=True)
            events = []
            if data.after is None:
                messages, more = await read_history(store, bus, data.channel, limit=HISTORY_ON_JOIN)
            else:  # a catch-up: what is new and what changed since, the oldest changes first
                messages, more = await read_changes(store, bus, data.channel, after=data.after, limit=CATCH_UP_LIMIT)
                messages.sort(key=lambda m: m.seq or 0)
                events = await read_events(store, bus, data.channel, after=data.after, limit=CATCH_UP_LIMIT)
            charge(messages)
        until = rules.muted.get(conn.user.lower())
        return {
            "ok": True,
            "channel": data.channel,
            "messages": [m.wire() for m in messages],
            "events": [e.wire() for e in events],
            "has_more": more,
            "last_seq": await last_seq(store, bus, data.channel),
            "members": await bus.members(data.channel),
            "role": grant.role,
            "muted_until": until if until is not None and until > now_iso() else None,
        }

    @answered
    async def leave(self, sid: str, *args: Any) -> dict[str, Any]:
        data = event_payload(Event, args)
        conn = self.conn(sid)
        if data.channel in conn.channels:
            await self._leave(sid, conn, data.channel)
        return {"ok": True}

    async def _leave(self, sid: str, conn: Conn, channel: str) -> None:
        conn.channels.discard(channel)
        await self.sio.leave_channel(sid, channel)
        await self._presence_gone(sid, conn, channel)

    async def _presence_gone(self, sid: str, conn: Conn, channel: str) -> None:
        if await self.app[BUS].presence_remove(channel, conn.user, sid):
            await self._presence(channel, conn.user, online=False)

    async def _presence(self, channel: str, user: str, *, online: bool) -> None:
        await self.sio.to_channel(channel, "presence", {"channel": channel, "user": user, "online": online})

    @answered
    async def delete_channel(self, sid: str, *args: Any) -> dict[str, Any]:
        data = event_payload(Event, args)
        channel = await delete_channel(self.app, self.conn(sid).viewer, data.channel)
        return {"ok": True, "channel": channel.wire()}

    @answered
    async def typing(self, sid: str, *args: Any) -> dict[str, Any]:
        data = event_payload(Event, args)
        conn = self.conn(sid)
        if data.channel not in conn.channels:
            raise await self.not_joined(conn, data.channel)
        if await self.app[BUS].allow(f"typing:{conn.user}", 2, 5):
            await self.sio.to_channel(
                data.channel, "typing", {"channel": data.channel, "user": conn.user}, skip_sid=sid
            )
        return {"ok": True}

    async def unknown(self, event: str, sid: str, *args: Any) -> dict[str, Any]:
        try:
            await self.admit(sid)  # unknown names spend from the budget too, or they would flood freely
        except ChatError as exc:
            return exc.as_ack()
        return ChatError("unknown_event", f"Unknown event {str(event)[:40]!r}").as_ack()
