"""The Socket.IO server of a node: python-socketio with our codec, origin check and fan-out, and its
inbound path trimmed: event frames straight to their handler task, acks written at once, reserved
event names and undecodable packets answered without tracebacks. The handlers are server/realtime.py.
The inbound trims are a fast path (EVENT_FRAMES, core/fastpaths.py); the protections (PROTECTIONS) are
not optional: a python-socketio without the methods they extend stops the server at start-up."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
import socketio
from aiohttp import web
from socketio import packet

from core.errors import ChatError
from core.fastpaths import FastPath, is_on, require
from core.models import record_event
from core.settings import Settings
from socketio_edge import broadcast, engine_socket, outbox
from socketio_edge.rooms import channel_room, user_room

logger = logging.getLogger(__name__)


class _Json:
    """orjson behind the json-module interface python-socketio expects."""

    @staticmethod
    def dumps(obj: Any, **_: Any) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(data: str | bytes) -> Any:
        return orjson.loads(data)


EVENT_FRAMES = FastPath(
    name="event-frames",
    gain="an event frame decoded once and handled without python-socketio's two tasks per event; with "
    "an immediate handler, an ordinary send takes no task at all (docs/performance.md#inbound-event-path)",
    versions={"python-socketio": "5.18.1"},
    attributes=(
        "socketio.async_server:AsyncServer._handle_event_internal",
        "socketio.base_manager:BaseManager.sid_from_eio_sid",
        "socketio.base_manager:BaseManager.is_connected",
    ),
    sources={
        "socketio.async_server:AsyncServer._handle_eio_message": "bef50fc0e1635921",
        "socketio.async_server:AsyncServer._handle_event": "65178105ef8b593d",
        "socketio.async_server:AsyncServer._handle_event_internal": "472e8b723a12d507",
        "socketio.async_server:AsyncServer._send_packet": "a00022b42c1c29e9",
        "socketio.packet:Packet.decode": "61ad7904b539f472",
    },
)
# Not speed: a client must not fire the server's own connect/disconnect handlers, nor fill its logs.
PROTECTIONS = FastPath(
    name="socketio-protections",
    gain="socketio_edge/server.py's ChatSocketServer",
    versions={"python-socketio": "5.18.1", "python-engineio": "4.15.1"},
    attributes=(
        "socketio.async_server:AsyncServer._handle_eio_message",
        "socketio.async_server:AsyncServer._handle_eio_connect",
        "socketio.async_server:AsyncServer._handle_event_internal",
        "socketio.async_server:AsyncServer._trigger_event",
        "socketio.async_server:AsyncServer._send_packet",
        "socketio.async_server:AsyncServer._handle_eio_disconnect",
        "socketio.base_server:BaseServer.reserved_events",
        "engineio.async_server:AsyncServer.create_queue",
    ),
    sources={
        "socketio.async_server:AsyncServer._handle_eio_message": "bef50fc0e1635921",
        "socketio.async_server:AsyncServer._handle_eio_connect": "76704886d944a7e6",
        "socketio.async_server:AsyncServer._handle_event_internal": "472e8b723a12d507",
        "socketio.async_server:AsyncServer._trigger_event": "01ba90cfa09ba43e",
        "engineio.async_socket:AsyncSocket._websocket_handler": "27f120df4d717a24",
    },
)

# Socket.IO BINARY_EVENT and BINARY_ACK: a packet announcing binary attachments
_BINARY_TYPES = (str(packet.BINARY_EVENT), str(packet.BINARY_ACK))
# what python-socketio raises on a packet that does not decode (orjson's errors are ValueErrors)
MALFORMED = (ValueError, TypeError, KeyError, IndexError, AttributeError)


class ChatSocketServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio dispatches events by name, so a client could fire the server's own
    `connect`/`disconnect` handlers: those names get an unknown_event ack instead."""

    def __init__(self, *args: Any, settings: Settings, address_of: AddressOf, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._address_of = address_of
        self._immediate: dict[str, Immediate] = {}
        self._settings = settings
        self._addresses: dict[str, str] = {}  # engine.io session -> the client's address
        self._per_address: Counter[str] = Counter()
        self._login_due: dict[str, asyncio.TimerHandle] = {}  # engine.io session -> its connect_timeout

    # What the rest of the server uses: rooms are named in socketio_edge/rooms.py only.

    async def join_channel(self, sid: str, channel: str) -> None:
        await self.enter_room(sid, channel_room(channel))

    async def leave_channel(self, sid: str, channel: str) -> None:
        await self.leave_room(sid, channel_room(channel))

    async def join_user(self, sid: str, user: str) -> None:
        """Add the connection to its user's room, where private messages reach every connection of theirs."""
        await self.enter_room(sid, user_room(user))

    async def to_channel(self, channel: str, event: str, data: Any, *, skip_sid: str | None = None) -> None:
        """`event` to the channel's members on every node (python-socketio's manager)."""
        await self.emit(event, data, room=channel_room(channel), skip_sid=skip_sid)

    async def to_everyone(self, event: str, data: Any) -> None:
        await self.emit(event, data)

    async def to_users(
        self, users: list[str], event: str, data: Any, *, skip_sid: str | None = None, here_only: bool = False
    ) -> None:
        """`event` to every connection of each of `users` (their names as registered), on every node (a
        private channel's news), or only on this one (`here_only`: a notice every node got already)."""
        if users:
            rooms = [user_room(user) for user in users]
            await self.emit(event, data, room=rooms, skip_sid=skip_sid, ignore_queue=here_only)

    async def private_message(self, user: str, message: Any) -> None:
        """A `message` event to every connection of `user`, on every node."""
        await self.emit("message", message, room=user_room(user))

    async def close_channel(self, channel: str) -> None:
        """Every node's sockets leave the channel's room: no more deliveries from it."""
        await self.close_room(channel_room(channel))

    def deliver(self, channel: str, wire: bytes) -> None:
        """A record of the bus's live feed to this node's members of the channel, framed once for all of
        them (broadcast.py): a posted message as `message`, a change as `message_updated`, a channel event
        as `channel_event`."""
        self.manager.deliver_message(channel_room(channel), wire, record_event(wire))

    def send_record(self, sid: str, channel: str, wire: bytes) -> None:
        """A record of the live feed to one connection of this node outside the channel's room (the target
        of a channel event: an added member, a removed one)."""
        spawn(self.emit(record_event(wire), orjson.loads(wire), to=sid))

    def leave_channel_now(self, sid: str, channel: str) -> None:
        """leave_channel without a wait: a removed member's connection gets nothing more from the channel,
        not even a record the live feed hands over in the same turn of the loop."""
        self.manager.basic_leave_room(sid, "/", channel_room(channel))

    async def close_all(self) -> None:
        """Disconnect every client, then stop: open websockets would otherwise hold a shutdown up."""
        for sock in list(self.eio.sockets.values()):
            # wait=False: waiting for the send queue to drain hangs on a socket whose writer has gone
            await sock.close(wait=False, reason=self.eio.reason.SERVER_DISCONNECT)
        self.eio.sockets.clear()
        await self.shutdown()

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        """A packet that does not decode is a protocol violation: one log line and the socket is closed
        (a traceback per bad frame would let anyone flood the logs). So is anything binary: our protocol
        never uses it, and python-socketio would hold attachments a packet announces until they came."""
        if not isinstance(data, str) or data[:1] in _BINARY_TYPES:
            self.drop(eio_sid, "binary Socket.IO packet")
            return
        try:
            await super()._handle_eio_message(eio_sid, data)
        except MALFORMED as exc:
            self._binary_packet.pop(eio_sid, None)
            self.drop(eio_sid, f"a connection that sent a malformed packet ({repr(exc)[:200]})")

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        """A new Engine.IO session: refused past the address's share of the node, closed unless it logs
        in (Socket.IO connect) within connect_timeout, and closed if it lets too much queue up unread."""
        address = self._address_of(environ["aiohttp.request"])
        if self._per_address[address] >= self._settings.max_sockets_per_address:
            logger.warning("too many connections from one address", extra={"address": address})
            return False  # engine.io answers 401
        self._addresses[eio_sid] = address
        self._per_address[address] += 1
        sock = self.eio.sockets.get(eio_sid)
        if sock is not None:
            if isinstance(sock.queue, outbox.Outbox):
                sock.queue.on_overflow = functools.partial(self._overflowed, eio_sid)
            engine_socket.adopt(sock)  # before engine.io schedules the first ping
        loop = asyncio.get_running_loop()
        self._login_due[eio_sid] = loop.call_later(self._settings.connect_timeout, self._check_logged_in, eio_sid)
        return await super()._handle_eio_connect(eio_sid, environ)

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any = None) -> None:
        due = self._login_due.pop(eio_sid, None)
        if due is not None:
            due.cancel()
        address = self._addresses.pop(eio_sid, None)
        if address is not None:
            self._per_address[address] -= 1
            if self._per_address[address] <= 0:
                del self._per_address[address]
        await super()._handle_eio_disconnect(eio_sid, reason)

    def backlog(self, sid: str) -> int:
        """Bytes waiting to reach the client of `sid`: its queue, and its connection's write buffer
        where socketio_edge/engine_socket.py knows the connection."""
        sock = self.eio.sockets.get(self.manager.eio_sid_from_sid(sid, "/"))
        if sock is None:
            return 0
        request = getattr(sock, "ws_request", None)
        transport = request.transport if request is not None else None
        buffered = transport.get_write_buffer_size() if transport is not None else 0
        return int(getattr(sock.queue, "queued", 0)) + buffered

    def _check_logged_in(self, eio_sid: str) -> None:
        self._login_due.pop(eio_sid, None)
        sock = self.eio.sockets.get(eio_sid)
        if sock is not None and not sock.closed and self.manager.sid_from_eio_sid(eio_sid, "/") is None:
            self.drop(eio_sid, "a connection that did not log in in time")

    def _overflowed(self, eio_sid: str) -> None:
        """More queued for a client than it reads: what was queued is already dropped, and so is it."""
        self.drop(eio_sid, "a connection that does not read")

    def drop(self, eio_sid: str, why: str) -> None:
        """Close a connection at once, without the close handshake a hostile peer would never finish:
        socketio_edge/engine_socket.py's sockets drop the TCP connection too, then the session ends as usual."""
        logger.info("dropping %s", why, extra={"eio_sid": eio_sid})
        sock = self.eio.sockets.get(eio_sid)
        cut_off = getattr(sock, "cut_off", None)
        if cut_off is not None:
            cut_off()
        spawn(self.eio.disconnect(eio_sid))

    async def _send_packet(self, eio_sid: str, pkt: Any) -> None:
        """Acks and other single-client packets: written at once when the socket is idle (broadcast.py)."""
        if not self.manager.direct:
            await super()._send_packet(eio_sid, pkt)
            return
        encoded = pkt.encode()
        if isinstance(encoded, str):
            self._send_one(eio_sid, encoded)
            return
        for part in encoded:  # binary attachments: several packets
            await self.eio.send(eio_sid, part)

    def _send_one(self, eio_sid: str, encoded: str) -> None:
        sock = self.eio.sockets.get(eio_sid)
        if sock is not None:  # else the client is gone
            broadcast.send_one(sock, encoded, self.manager.writes)

    def fast_event(self, eio_sid: str, text: str) -> bool:
        """An event frame of the default namespace (`42<id>[...]`), the bulk of what clients send, taken
        straight to its immediate handler, or else to its handler task: python-socketio would run two
        tasks per event (engine.io's message handler, then the event's) and decode the packet twice over.
        False: anything else, or anything this cannot tell apart, which then takes python-socketio's own
        path (and its errors)."""
        head = _EVENT_HEAD.match(text)
        if head is None or eio_sid in self._binary_packet:
            return False
        try:
            data = orjson.loads(text[head.end() - 1 :])
        except orjson.JSONDecodeError:
            return False
        if type(data) is not list or not data or type(data[0]) is not str:
            return False
        sid = self.manager.sid_from_eio_sid(eio_sid, "/")
        if sid is None or not self.manager.is_connected(sid, "/"):
            return False
        ack_id = int(head[1]) if head[1] else None
        immediate = self._immediate.get(data[0])
        if immediate is not None:
            answer = _no_answer if ack_id is None else functools.partial(self._answer, eio_sid, ack_id)
            if immediate(sid, data[1:], answer):
                return True
        spawn(self._handle_event_internal(self, sid, eio_sid, data, "/", ack_id))
        return True

    def on_immediate(self, event: str, handler: Immediate) -> None:
        """A handler that takes the common case of `event` without a task (see Immediate); the event's
        `on` handler takes the rest."""
        self._immediate[event] = handler

    def _answer(self, eio_sid: str, ack_id: int, result: Any) -> None:
        """An immediate handler's ack."""
        self._ack(eio_sid, ack_id, [result])

    def _ack(self, eio_sid: str, ack_id: int, args: list[Any]) -> None:
        """An ack of the default namespace as python-socketio encodes it (the same JSON codec), written at
        once, without its scan for binary data; python-socketio's own packet path for bytes inside."""
        try:
            frame = f"{packet.ACK}{ack_id}{orjson.dumps(args).decode()}"
        except TypeError:  # bytes: python-socketio sends them as binary attachments
            spawn(self._send_packet(eio_sid, self.packet_class(packet.ACK, namespace="/", id=ack_id, data=args)))
            return
        self._send_one(eio_sid, frame)

    async def _handle_event_internal(
        self, server: Any, sid: str, eio_sid: str, data: list[Any], namespace: str, id: int | None
    ) -> None:
        event = data[0] if data else None
        if event in self.reserved_events:
            # answered (and budgeted, so a flood of them is cut off too) by the catch-all handler
            catch_all = self.handlers.get(namespace, {}).get("*")
            result: Any = (
                await catch_all(event, sid, *data[1:])
                if catch_all
                else ChatError("unknown_event", f"{event!r} is reserved").as_ack()
            )
        else:
            result = await self._trigger_event(event, namespace, sid, *data[1:])
            if result is self.not_handled:
                return
        if id is None:
            return
        args = [] if result is None else list(result) if isinstance(result, tuple) else [result]
        if namespace == "/":
            self._ack(eio_sid, id, args)
            return
        await server._send_packet(eio_sid, self.packet_class(packet.ACK, namespace=namespace, id=id, data=args))


# The client's address for an aiohttp request; whether a request's Origin (None: not a browser) may connect.
AddressOf = Callable[[web.Request], str]
OriginAllowed = Callable[[str | None, web.Request], bool]
# An event's ack, given the handler's result.
Answer = Callable[[Any], None]
# Called with the sid, the event's arguments and its Answer; True: it took the event and answers it
# (now or from a callback), False: it changed nothing and the event goes to its `on` handler.
Immediate = Callable[[str, list[Any], Answer], bool]


def _no_answer(_: Any) -> None:
    """The event asked for no ack."""


def spawn(work: Coroutine[Any, Any, None]) -> None:
    """Run `work` as a task that nothing awaits, kept alive until it ends."""
    task = asyncio.get_running_loop().create_task(work)
    _EVENT_TASKS.add(task)
    task.add_done_callback(_EVENT_TASKS.discard)


# engine.io MESSAGE, Socket.IO EVENT, no namespace, an optional ack id (python-socketio reads up to 100
# digits; longer ones are left to it), then the JSON array of the event
_EVENT_HEAD = re.compile(r"42([0-9]{0,20})\[")
_EVENT_TASKS: set[asyncio.Task[None]] = set()  # the loop keeps only weak references to tasks


class _ClientNoise(logging.Filter):
    """engine.io logs a traceback for every frame of an unknown packet type and keeps the socket:
    anyone could fill the logs with them, so they are dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.msg == "Unknown receive error"
            and record.exc_info is not None
            and isinstance(record.exc_info[1], IndexError)
        )


_CLIENT_NOISE = _ClientNoise()


def create_sio(settings: Settings, *, origin_allowed: OriginAllowed, address_of: AddressOf) -> ChatSocketServer:
    """The node's Socket.IO server, its fast paths installed where they are on. `origin_allowed` decides
    a browser connect's Origin (None for scripts), `address_of` whose share of the node a connect takes."""
    require(PROTECTIONS)
    # room broadcasts framed once and written to each local websocket (socketio_edge/broadcast.py)
    manager = broadcast.create_manager(settings.bus_url, _Json)
    sio = ChatSocketServer(
        settings=settings,
        address_of=address_of,
        async_mode="aiohttp",
        client_manager=manager,
        cors_allowed_origins=lambda origin, environ: origin_allowed(origin, environ["aiohttp.request"]),
        json=_Json,
        max_http_buffer_size=64 * 1024,
        ping_interval=settings.ping_interval,
        ping_timeout=settings.ping_timeout,
        logger=False,
        engineio_logger=False,
        # python-socketio runs each event in a task of its own, so one client's sends could reach the bus
        # out of order; event-frames keeps them in order itself, the stock path handles them one by one
        async_handlers=is_on(EVENT_FRAMES),
    )
    outbox.install(sio.eio, settings.socket_queue_bytes)
    sio.eio.write_timeout = (
        settings.write_timeout
    )  # per server, read by the writers of engine_socket.py and broadcast.py
    broadcast.install(sio)
    engine_socket.install(sio, sio.fast_event if is_on(EVENT_FRAMES) else None)
    logging.getLogger("engineio.server").addFilter(_CLIENT_NOISE)  # idempotent: one filter object
    return sio
