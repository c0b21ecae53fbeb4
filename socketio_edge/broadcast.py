"""Room broadcasts encoded and framed once, then written as the same bytes to every local websocket.

python-socketio's manager sends a broadcast through two tasks, a queue hop and one encode-and-frame
per recipient; at chat fan-out that per-recipient work is most of the server's CPU. This manager keeps
its protocol (the bytes on the wire are the ones python-socketio would send) and takes its normal path
for whatever the shortcut cannot serve: polling clients, a socket with packets still queued or a
full write buffer, binary payloads and emits that expect callbacks. Two fast paths (core/fastpaths.py):
FRAME_ONCE (the shared frame and direct writes) and QUICK_RESUBSCRIBE (the Redis listener's backoff);
where one is off, python-socketio's own code serves.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import AsyncIterator
from typing import Any

import orjson
import socketio
from aiohttp import WSMsgType, web
from engineio import packet as eio_packet
from engineio.async_drivers import aiohttp as eio_aiohttp
from socketio import packet as sio_packet

from core.bus.redis_client import per_db
from core.fastpaths import FastPath, is_on
from core.retry import Backoff
from socketio_edge.rooms import SOCKETIO_CHANNEL

logger = logging.getLogger(__name__)
_TEXT_FIN = 0x80 | int(WSMsgType.TEXT)
LISTEN_RETRY_FIRST = 0.1  # seconds before the pub/sub listener's first resubscribe after a Redis loss
LISTEN_RETRY_CAP = 2.0

FRAME_ONCE = FastPath(
    name="frame-once",
    gain="a room message encoded and framed once per node, not once per recipient, which is most of a node's CPU "
    "at chat fan-out (docs/performance.md#fan-out-and-framing)",
    versions={"python-engineio": "4.15.1", "python-socketio": "5.18.1", "aiohttp": "3.14.5"},
    attributes=(
        "engineio.async_drivers.aiohttp:WebSocket.__call__",
        "engineio.async_drivers.aiohttp:WebSocket.send",
        "engineio.async_socket:AsyncSocket.send",
        "socketio.async_manager:AsyncManager.emit",
        "socketio.base_manager:BaseManager.get_participants",
        "aiohttp.web_ws:WebSocketResponse.prepare",
        "aiohttp._websocket.writer:WebSocketWriter.send_frame",
        "aiohttp.base_protocol:BaseProtocol.writing_paused",
    ),
    sources={
        "engineio.async_drivers.aiohttp:WebSocket.__call__": "71f9a94476d737c3",
        "engineio.async_drivers.aiohttp:WebSocket.send": "9acf5561b663a59f",
        "engineio.base_server:BaseServer.__init__": "a06b17502fbd9646",
        "socketio.async_manager:AsyncManager.emit": "01ccd5b82b4f955e",
        "aiohttp._websocket.writer:WebSocketWriter.__init__": "9a91e56ed2c2c11c",
        "aiohttp._websocket.writer:WebSocketWriter.send_frame": "7ab812cc70561f8e",
        "aiohttp.web_ws:WebSocketResponse._pre_start": "da55c0d7d84446a0",
        "aiohttp.base_protocol:BaseProtocol.__init__": "75048e7cc0111045",
    },
)
QUICK_RESUBSCRIBE = FastPath(
    name="quick-resubscribe",
    gain="clients back on live presence and typing within LISTEN_RETRY_CAP of a Redis restart, not after "
    "python-socketio's backoff of up to a minute (docs/performance.md#redis-bus-and-live-feed)",
    versions={"python-socketio": "5.18.1"},
    attributes=(
        "socketio.async_redis_manager:AsyncRedisManager._redis_listen_with_retries",
        "socketio.async_redis_manager:AsyncRedisManager._redis_connect",
    ),
    sources={
        "socketio.async_redis_manager:AsyncRedisManager._redis_listen_with_retries": "ad347f253fd3423a",
        "socketio.async_redis_manager:AsyncRedisManager._redis_connect": "da4530c936323c25",
        "socketio.async_redis_manager:AsyncRedisManager._listen": "3e74fdd1084b4e13",
    },
)


def frame(payload: bytes) -> bytes:
    """One unmasked final text frame (RFC 6455 §5.2), as a server sends it."""
    size = len(payload)
    if size < 126:
        return struct.pack("!BB", _TEXT_FIN, size) + payload
    if size < 65536:
        return struct.pack("!BBH", _TEXT_FIN, 126, size) + payload
    return struct.pack("!BBQ", _TEXT_FIN, 127, size) + payload


class TrackedWebSocket(eio_aiohttp.WebSocket):  # type: ignore[misc]
    """engine.io's aiohttp websocket, remembered on its engine.io socket so the manager can reach it.
    Without permessage-deflate (as socket.io's own default): one frame can then serve every client."""

    timed_by_writer = False  # socketio_edge/engine_socket.py's writer bounds its sends itself

    async def __call__(self, environ: dict[str, Any]) -> web.WebSocketResponse:
        request = environ["aiohttp.request"]
        self._sock = web.WebSocketResponse(max_msg_size=self.server.max_http_buffer_size, compress=False)
        await self._sock.prepare(request)
        self.environ = environ
        owner = getattr(self.handler, "__self__", None)  # the engine.io socket whose handler this is
        if owner is not None:
            owner.fanout_ws = self._sock
            self.writes = self.server.fanout_writes
        try:
            await self.handler(self)
        except (ValueError, TypeError, IndexError):
            # engine.io's reader dies on an undecodable frame without closing its socket: close it here,
            # or the session (and its Socket.IO connection) lingers until the ping timeout
            if owner is not None:
                await owner.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_ERROR)
                owner.queue.put_nowait(None)  # and its writer task, which would wait forever holding the request
            raise
        finally:
            if owner is not None:
                owner.fanout_ws = None
        return self._sock

    async def send(self, message: str | bytes) -> None:
        """Whatever writer sends (ours in socketio_edge/engine_socket.py, or engine.io's own on a socket upgraded from
        polling), this socket's frames held by the Coalescer leave first: nothing overtakes them. A peer
        that does not read holds a send up at most write_timeout seconds, then its connection is cut."""
        writes: Coalescer | None = getattr(self, "writes", None)
        writer = self._sock._writer
        if writes is not None and writer is not None and writer.transport is not None:
            writes.flush_for(writer.transport)
        if self.timed_by_writer:
            await super().send(message)
            return
        try:
            async with asyncio.timeout(self.server.write_timeout):
                await super().send(message)
        except TimeoutError:
            transport = self.environ["aiohttp.request"].transport
            if transport is not None:
                transport.abort()
            raise


def install(sio: socketio.AsyncServer) -> None:
    """Make this server's engine.io websockets reachable by the fan-out manager, and its pending frames
    by every engine.io writer. Nothing where the fast path is off: the manager then takes
    python-socketio's own path for every delivery."""
    if not isinstance(sio.manager, FrameOnceManager) or not sio.manager.direct:
        return
    sio.eio._async = {**sio.eio._async, "websocket": TrackedWebSocket}
    sio.eio.fanout_writes = sio.manager.writes


class Coalescer:
    """Frames bound for one socket within two turns of the event loop leave as one write: a sender's own
    message and its ack (the bus answers the post and feeds the message in one turn, the ack follows in
    the next), or several messages to one room read from the live feed. The write syscall per recipient
    is a large share of a node's CPU (docs/performance.md#fan-out-and-framing). engine.io's writer takes
    its socket's frames first (`flush_for`), so a packet queued meanwhile cannot overtake them."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending: dict[Any, list[bytes]] | None = None

    def write(self, transport: Any, data: bytes) -> None:
        pending = self._pending
        if pending is None:
            self._pending = pending = {}
            asyncio.get_running_loop().call_soon(self._next_turn)
        frames = pending.get(transport)
        if frames is None:
            pending[transport] = [data]
        else:
            frames.append(data)

    def _next_turn(self) -> None:
        asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        for transport, frames in (pending or {}).items():
            if not transport.is_closing():
                transport.write(frames[0] if len(frames) == 1 else b"".join(frames))

    def flush_for(self, transport: Any) -> None:
        """Write `transport`'s frames now: something else is about to write to it."""
        frames = self._pending.pop(transport, None) if self._pending else None
        if frames and not transport.is_closing():
            transport.write(b"".join(frames))


def _write_direct(sock: Any, data: bytes, writes: Coalescer) -> bool:
    """Write a pre-built frame (within two loop turns) if that cannot reorder it with packets already on
    their way."""
    ws = getattr(sock, "fanout_ws", None)
    if ws is None or sock.closed or sock.upgrading or not sock.upgraded:
        return False
    queue = sock.queue
    # engine.io's writer task is idle only while it waits in queue.get() on an empty queue; any other
    # moment it may hold packets taken from the queue but not yet written. Only engine_socket.py's queue
    # can tell (engine.io's asyncio.Queue would have to be asked through its private parts).
    if not queue.empty() or not getattr(queue, "consumer_waiting", False):
        return False
    writer = ws._writer
    if writer is None or writer._closing or writer.protocol._paused:
        return False  # closing, or a slow reader: let the writer task queue and drain
    transport = writer.transport
    if transport is None or transport.is_closing():
        return False
    writes.write(transport, data)
    return True


def send_one(sock: Any, encoded: str, writes: Coalescer) -> None:
    """One encoded Socket.IO packet to one client (an ack, say), in order with what went to it before:
    written at once when nothing can be ahead of it, saving engine.io's queue hop and writer task
    wake-up, else through engine.io's queue, as `deliver` does. Never suspends."""
    if sock.closed:
        return
    if not _write_direct(sock, frame(("4" + encoded).encode()), writes):
        sock.queue.put_nowait(eio_packet.Packet(eio_packet.MESSAGE, encoded))


class FrameOnceManager(socketio.AsyncManager):  # type: ignore[misc]
    """socketio.AsyncManager whose callback-free emits encode and frame once per call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.direct = is_on(FRAME_ONCE)  # else every emit takes python-socketio's own path
        self.writes = Coalescer()
        self.direct_writes = 0  # deliveries written as the shared frame
        self.queued_writes = 0  # deliveries that took engine.io's own path

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        room = to or room
        if callback is not None or namespace not in self.rooms or not self.direct:
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs)
            return
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        encoded = self.server.packet_class(sio_packet.EVENT, namespace=namespace, data=[event, *args]).encode()
        if isinstance(encoded, list):  # binary attachments travel as several packets
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, **kwargs)
            return
        self.deliver(encoded, namespace, room, skip_sid)

    def deliver(self, encoded: str, namespace: str, room: Any, skip_sid: Any = None) -> None:
        """Send one encoded Socket.IO packet to the room's local members: the same frame written to
        each idle websocket, engine.io's queue for the others. Never suspends, so calls stay in order."""
        self._deliver(("4" + encoded).encode(), namespace, room, skip_sid)

    def _deliver(self, message: bytes, namespace: str, room: Any, skip_sid: Any = None) -> None:
        """deliver() of an engine.io MESSAGE packet already encoded: '4' and the Socket.IO packet."""
        prebuilt = frame(message)
        queued: eio_packet.Packet | None = None  # for the sockets engine.io's writer serves: made once, if any
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        sockets = self.server.eio.sockets
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid in skip:
                continue
            sock = sockets.get(eio_sid)
            if sock is None or sock.closed:
                continue
            if _write_direct(sock, prebuilt, self.writes):
                self.direct_writes += 1
            else:
                # engine.io's own path: its writer task frames it (the queue is unbounded)
                queued = queued or eio_packet.Packet(eio_packet.MESSAGE, message[1:].decode())
                sock.queue.put_nowait(queued)
                self.queued_writes += 1

    def deliver_message(self, channel_room: str, wire: bytes, event: str = "message") -> None:
        """A record from the bus's live feed (a posted message, or a change as `message_updated`), its wire
        JSON spliced into the packet as is. Never suspends: records reach every socket's queue in the order
        of the feed."""
        if "/" not in self.rooms:
            return
        if self.direct:  # the wire JSON spliced in as bytes: no decode, no packet object
            self._deliver(b'42["' + event.encode() + b'",' + wire + b"]", "/", channel_room)
            return
        # python-socketio's own path: encode per recipient and put on each socket's engine.io queue,
        # which never suspends on an unbounded queue, so the feed's order holds
        pkt = self.server.packet_class(sio_packet.EVENT, namespace="/", data=[event, orjson.loads(wire)])
        for _, eio_sid in self.get_participants("/", channel_room):
            sock = self.server.eio.sockets.get(eio_sid)
            if sock is not None and not sock.closed:
                sock.queue.put_nowait(eio_packet.Packet(eio_packet.MESSAGE, pkt.encode()))
                self.queued_writes += 1


class FrameOnceRedisManager(socketio.AsyncRedisManager, FrameOnceManager):  # type: ignore[misc]
    """The Redis message queue, delivering locally through FrameOnceManager.emit."""

    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:
        """python-socketio's listener, with a short capped backoff: its 1 s doubling to 60 s would keep
        this node's clients off live presence and typing for up to a minute after a Redis restart."""
        if not is_on(QUICK_RESUBSCRIBE):
            async for message in super()._redis_listen_with_retries():
                yield message
            return
        retry = Backoff(LISTEN_RETRY_FIRST, LISTEN_RETRY_CAP)
        while True:
            try:
                # a fresh connection and subscription each round, as upstream does
                self._redis_connect()
                await self.pubsub.subscribe(self.channel)
                retry.reset()
                async for message in self.pubsub.listen():
                    yield message
            except Exception as exc:  # upstream's listener catches everything too: it must not end
                logger.warning("Redis pub/sub listener lost; resubscribing in %.1f s: %s", retry.delay, exc)
                await retry.wait()


def create_manager(bus_url: str, json: Any) -> socketio.AsyncManager:
    if bus_url.startswith(("redis:", "rediss:")):
        return FrameOnceRedisManager(bus_url, channel=per_db(bus_url, SOCKETIO_CHANNEL), json=json)
    return FrameOnceManager()
