"""The Socket.IO server of a node: python-socketio with our codec, origin check and fan-out, and its
inbound path trimmed: event frames straight to their handler task, acks written at once, reserved
event names and undecodable packets answered without tracebacks. The handlers are server/realtime.py."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

import orjson
import socketio
from socketio import packet

from core.settings import Settings
from server import fanout, lean
from server.origins import environ_origin_allowed

logger = logging.getLogger(__name__)


class _Json:
    """orjson behind the json-module interface python-socketio expects."""

    @staticmethod
    def dumps(obj: Any, **_: Any) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(data: str | bytes) -> Any:
        return orjson.loads(data)


# what python-socketio raises on a packet that does not decode (orjson's errors are ValueErrors)
MALFORMED = (ValueError, TypeError, KeyError, IndexError, AttributeError)


class ChatSocketServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio dispatches events by name, so a client could fire the server's own
    `connect`/`disconnect` handlers: those names get an unknown_event ack instead."""

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        """A packet that does not decode is a protocol violation: one log line and the socket is closed
        (a traceback per bad frame would let anyone flood the logs)."""
        try:
            await super()._handle_eio_message(eio_sid, data)
        except MALFORMED as exc:
            logger.info(
                "malformed Socket.IO packet; closing the connection",
                extra={"eio_sid": eio_sid, "error": repr(exc)[:200]},
            )
            self._binary_packet.pop(eio_sid, None)
            await self.eio.disconnect(eio_sid)

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        lean.adopt(self.eio.sockets.get(eio_sid))  # before engine.io schedules the first ping
        return await super()._handle_eio_connect(eio_sid, environ)

    async def _send_packet(self, eio_sid: str, pkt: Any) -> None:
        """Acks and other single-client packets: written at once when the socket is idle (server/fanout.py)."""
        encoded = pkt.encode()
        if isinstance(encoded, str):
            await self._send_encoded(eio_sid, encoded)
            return
        for part in encoded:  # binary attachments: several packets
            await self.eio.send(eio_sid, part)

    async def _send_encoded(self, eio_sid: str, encoded: str) -> None:
        sock = self.eio.sockets.get(eio_sid)
        if sock is None or not fanout.send_now(sock, encoded, self.manager.writes):
            await self.eio.send(eio_sid, encoded)

    def fast_event(self, eio_sid: str, text: str) -> bool:
        """An event frame of the default namespace (`42<id>[...]`), the bulk of what clients send, taken
        straight to its handler task: python-socketio would run two tasks per event (engine.io's message
        handler, then the event's) and decode the packet twice over. False: anything else, or anything
        this cannot tell apart, which then takes python-socketio's own path (and its errors)."""
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
        task = asyncio.get_running_loop().create_task(
            self._handle_event_internal(self, sid, eio_sid, data, "/", ack_id)
        )
        _EVENT_TASKS.add(task)
        task.add_done_callback(_EVENT_TASKS.discard)
        return True

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
                else {"ok": False, "error": {"code": "unknown_event", "message": f"{event!r} is reserved"}}
            )
        else:
            result = await self._trigger_event(event, namespace, sid, *data[1:])
            if result is self.not_handled:
                return
        if id is None:
            return
        args = [] if result is None else list(result) if isinstance(result, tuple) else [result]
        body = None
        if namespace == "/":
            # the ack as python-socketio encodes it (same JSON codec), without its scan for binary data
            with contextlib.suppress(TypeError):  # bytes inside: python-socketio's binary attachments
                body = orjson.dumps(args)
        if body is not None:
            await self._send_encoded(eio_sid, f"{packet.ACK}{id}{body.decode()}")
            return
        await server._send_packet(eio_sid, self.packet_class(packet.ACK, namespace=namespace, id=id, data=args))


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


def create_sio(settings: Settings) -> socketio.AsyncServer:
    # room broadcasts framed once and written to each local websocket (server/fanout.py)
    manager = fanout.create_manager(settings.bus_url, _Json)
    extra, proxies = settings.origins, settings.proxies
    sio = ChatSocketServer(
        async_mode="aiohttp",
        client_manager=manager,
        cors_allowed_origins=lambda origin, environ: environ_origin_allowed(origin, environ, extra, proxies),
        json=_Json,
        max_http_buffer_size=64 * 1024,
        ping_interval=settings.ping_interval,
        ping_timeout=settings.ping_timeout,
        logger=False,
        engineio_logger=False,
    )
    fanout.install(sio)
    lean.install(sio)
    logging.getLogger("engineio.server").addFilter(_CLIENT_NOISE)  # idempotent: one filter object
    return sio
