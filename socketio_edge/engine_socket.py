"""Per-connection memory: engine.io's websocket sockets, trimmed to what a chat connection needs.

Most of a connected client's server memory is live objects engine.io holds for it: an asyncio.Queue
(four deques), a task sleeping until each ping, and for every received frame a new task plus a
wait_for timer; its writer polls its queue through wait_for too. Here (with the slim
queue of socketio_edge/outbox.py): the ping and its pong deadline as loop timers, and the websocket read in
the connection's own task, with no timer per frame (a peer that misses its pong has its read stopped).
A pong counts only for a ping that was written: a client that never reads cannot stay alive by
sending pongs blindly. A write waits for a slow reader at most `write_timeout` seconds. Polling clients, and websockets
upgraded from polling, keep engine.io's own code.
The protocol on the wire is unchanged. A fast path (core/fastpaths.py): off, engine.io's own sockets serve.
What it saves per connection: docs/performance.md#per-connection-memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web_ws
from aiohttp._websocket.reader import WebSocketDataQueue
from engineio import exceptions, packet
from engineio.async_socket import AsyncSocket

from core.fastpaths import FastPath, is_on

logger = logging.getLogger(__name__)
LEAN_SOCKETS = FastPath(
    name="lean-sockets",
    gain="far fewer live objects per connected client than engine.io's sockets; no task or timer per received frame "
    "(docs/performance.md#per-connection-memory)",
    versions={"python-engineio": "4.15.1", "aiohttp": "3.14.5"},
    attributes=(
        "engineio.async_socket:AsyncSocket._websocket_handler",
        "engineio.async_socket:AsyncSocket.schedule_ping",
        "engineio.async_socket:AsyncSocket.receive",
        "engineio.async_socket:AsyncSocket.close",
    ),
    sources={
        "engineio.async_socket:AsyncSocket._websocket_handler": "27f120df4d717a24",
        "engineio.async_socket:AsyncSocket.schedule_ping": "fe316639159cd70d",
        "engineio.async_socket:AsyncSocket._send_ping": "67db82a704ea49d0",
        "engineio.async_socket:AsyncSocket.poll": "826f58a9f3606db2",
    },
)


INLINE_FRAMES = FastPath(
    name="inline-frames",
    gain="an event frame handled in the callback that parsed it while its connection's reader waits for the next: "
    "no future, wake-up and task step per received frame (docs/performance.md#inbound-event-path)",
    versions={"aiohttp": "3.14.5"},
    attributes=("aiohttp.web_ws:WebSocketDataQueue", "aiohttp.web_ws:WebSocketResponse._post_start"),
    sources={
        "aiohttp.web_ws:WebSocketResponse._post_start": "5537cb3f2ecae6ed",  # makes the queue by that name
        "aiohttp._websocket.reader_py:WebSocketDataQueue.feed_data": "2f38295087b8809f",
        "aiohttp._websocket.reader_py:WebSocketDataQueue.read": "65859996dced2f99",
    },
)


class InlineQueue(WebSocketDataQueue):
    """aiohttp's queue of a websocket's received messages (made by WebSocketResponse once installed),
    which first offers a text frame to `take` when nothing is queued ahead of it and the connection's
    reader is waiting for the next message: handled there, the frame never wakes the reader. Anything
    `take` declines is queued as usual, so the reader sees the rest in order."""

    take: Callable[[str], bool] | None = None
    waiting = False  # the reader is suspended in receive(): nothing it holds can be ahead of this frame

    def feed_data(self, data: Any, size: int) -> None:
        take = self.take
        if take is None or not self.waiting or self._buffer or data.type is not WSMsgType.TEXT or not take(data.data):
            super().feed_data(data, size)


def _offer(fast: Callable[[str, str], bool], sock: LeanSocket, text: str) -> bool:
    """An event frame to `fast` from inside aiohttp's parser: an error there would break the parser's
    callback, so it ends this connection alone, as it would have ended its reader."""
    if not text.startswith("42"):
        return False
    try:
        return fast(sock.sid, text)
    except Exception:
        logger.exception("event handler failed", extra={"eio_sid": sock.sid})
        sock.cut_off()
        return True


def _ping(sock: LeanSocket) -> None:
    if not sock.closing and not sock.closed:
        sock.last_ping = stamp = time.time()
        sock.ping_written = False
        sock.queue.put_nowait(packet.Packet(packet.PING))
        sock.deadline = asyncio.get_running_loop().call_later(sock.server.ping_timeout, _pong_due, sock, stamp)


def _pong_due(sock: LeanSocket, stamp: float) -> None:
    """No pong within the ping timeout (engine.io's rule): the peer is gone or deaf. Stopping its reader
    closes the socket. Polling sockets have no reader here: engine.io checks them on each poll."""
    if sock.last_ping == stamp and sock.reader is not None and not sock.closed:
        sock.reader.cancel()


class LeanSocket(AsyncSocket):  # type: ignore[misc]
    """engine.io's socket with the trims above; instances are switched to it at connect."""

    last_ping: float | None
    connected: bool
    upgraded: bool
    reader: asyncio.Task[Any] | None = None  # the task reading a websocket that connected directly
    ws_request: Any = None  # the aiohttp request of this socket's websocket, once it has one
    timer: asyncio.TimerHandle | None = None  # the next ping
    deadline: asyncio.TimerHandle | None = None  # the pong's deadline
    ping_written = True  # the last ping has left through _write (only _write's sockets track it)

    def schedule_ping(self) -> None:
        """A pong: the next ping is due. It counts only for a ping that is out, and on our own writer
        only once that ping was written: a client that never reads cannot keep itself alive."""
        if self.last_ping and (self.reader is None or self.ping_written):
            self.last_ping = None
            self.timer = asyncio.get_running_loop().call_later(self.server.ping_interval, _ping, self)

    async def close(self, *args: Any, **kwargs: Any) -> None:
        """engine.io's close, and the ping timers cancelled: they would keep the closed socket (and its
        request) in memory until they fired, up to a ping interval later."""
        for timer in (self.timer, self.deadline):
            if timer is not None:
                timer.cancel()
        self.timer = self.deadline = None
        await super().close(*args, **kwargs)

    def cut_off(self) -> None:
        """Drop the websocket's connection at once: a writer held up by a peer that does not read is
        released, and so is the reader."""
        request = self.ws_request
        if request is not None and request.transport is not None:
            request.transport.abort()

    async def _websocket_handler(self, ws: Any) -> None:
        self.ws_request = ws.environ["aiohttp.request"]
        if self.connected:  # an upgrade from polling: engine.io's own handshake and loop
            await super()._websocket_handler(ws)
            return
        self.connected = True
        self.upgraded = True
        ws.timed_by_writer = True  # _write bounds its sends itself
        writer = asyncio.ensure_future(self._write(ws))
        self.reader = asyncio.current_task()
        sock = ws._sock
        fast = getattr(self.server, "fast_message", None)
        queue = getattr(sock, "_reader", None)  # made by prepare(), which has run
        inline = queue if isinstance(queue, InlineQueue) and fast is not None else None
        if inline is not None and fast is not None:
            inline.take = functools.partial(_offer, fast, self)
        while True:
            try:
                if inline is not None:
                    inline.waiting = True
                # no timeout: aiohttp would start and cancel a timer per frame; a peer that goes silent
                # misses its next pong and _pong_due stops this read
                message = await sock.receive()
            except (asyncio.CancelledError, Exception):
                # aiohttp cancels the handler when the peer drops; like engine.io's loop, carry on to the
                # close below, which runs the disconnect handlers
                break
            finally:
                if inline is not None:
                    inline.waiting = False
            if message.type is WSMsgType.BINARY:  # our protocol never uses binary
                self.cut_off()
                break
            if message.type is not WSMsgType.TEXT:
                break  # closed or broken (pings are answered by aiohttp)
            if fast is not None and message.data.startswith("42") and fast(self.sid, message.data):
                continue  # an event, handed to its handler task
            # an undecodable frame raises out of here: socketio_edge/broadcast.py closes the socket
            pkt = packet.Packet(encoded_packet=message.data)
            try:
                await self.receive(pkt)
            except exceptions.UnknownPacketError:
                pass
            except (exceptions.SocketIsClosedError, asyncio.CancelledError):
                break  # closed, or stopped by _pong_due
            except Exception:
                self.server.logger.exception("Unknown receive error")
        self.reader = None
        self.queue.put_nowait(None)  # the writer's end
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)

    async def _write(self, ws: Any) -> None:
        """Packets from the queue to the socket. A peer that stops reading holds a write up: past
        write_timeout its connection is cut, which ends the reader too."""
        queue = self.queue
        while True:
            pkt = await queue.get()
            queue.task_done()
            if pkt is None:
                break
            packets = [pkt]
            while not queue.empty():
                more = queue.get_nowait()
                queue.task_done()
                if more is None:
                    queue.put_nowait(None)
                    break
                packets.append(more)
            try:  # socketio_edge/broadcast.py's websocket writes its frames held around the queue first
                async with asyncio.timeout(self.server.write_timeout):  # one timer a batch, not one per packet
                    for each in packets:
                        await ws.send(each.encode())
                        if each.packet_type == packet.PING:
                            self.ping_written = True
            except TimeoutError:
                self.server.logger.info("cutting off a client that stopped reading", extra={"eio_sid": self.sid})
                self.cut_off()
                break
            except Exception:
                break
        await ws.close()


def install(sio: Any, fast_event: Callable[[str, str], bool] | None) -> None:
    """Slim queues for every engine.io socket of this server (LeanSocket is set per socket at connect),
    and `fast_event(eio_sid, text) -> bool`, if given, offered each text frame that holds a Socket.IO
    event before engine.io's own path. Nothing, where the fast path is off."""
    if not is_on(LEAN_SOCKETS):
        return
    sio.eio.lean = True
    sio.eio.fast_message = fast_event
    if fast_event is not None and is_on(INLINE_FRAMES):
        # the name WebSocketResponse makes its queue by; InlineQueue is aiohttp's own until a reader sets `take`
        web_ws.WebSocketDataQueue = InlineQueue  # type: ignore[attr-defined]


def adopt(sock: AsyncSocket | None) -> None:
    """Switch a just-created engine.io socket to LeanSocket (before its first ping is scheduled)."""
    if sock is not None and type(sock) is AsyncSocket and getattr(sock.server, "lean", False):
        sock.__class__ = LeanSocket
