"""The one place that extends python-socketio and python-engineio: everything else uses what this exports.

Each module says what of the libraries it replaces or extends, and each replacement is a fast path of
core/fastpaths.py, pinned to the versions it was measured on, checked at start-up, with the libraries'
own code serving wherever one is off (CHAT_FAST_PATHS=off serves everything stock):

- server.py: python-socketio's AsyncServer, its inbound path trimmed (EVENT_FRAMES) and its protections
  against hostile clients (PROTECTIONS, not optional); the public methods the chat's handlers call.
- broadcast.py: python-socketio's manager emit and engine.io's websocket send: a room message framed
  once per node (FRAME_ONCE), and the Redis manager's resubscribe backoff (QUICK_RESUBSCRIBE).
- engine_socket.py: engine.io's AsyncSocket, slimmed to what a chat connection needs (LEAN_SOCKETS), and its
  received event frames handled in the callback that parsed them (INLINE_FRAMES).
- outbox.py: engine.io's unbounded per-socket queue, bounded in bytes.
- rooms.py: the names of rooms and of the Redis channel the nodes' managers share; the bot's emitter.

docs/architecture.md gives the boundary's reasons and its numbers.
"""

from socketio.exceptions import ConnectionRefusedError as _Refused

from socketio_edge.broadcast import FRAME_ONCE, QUICK_RESUBSCRIBE
from socketio_edge.engine_socket import INLINE_FRAMES, LEAN_SOCKETS
from socketio_edge.rooms import RemoteEmitter
from socketio_edge.server import (
    EVENT_FRAMES,
    PROTECTIONS,
    AddressOf,
    Answer,
    ChatSocketServer,
    OriginAllowed,
    create_sio,
    spawn,
)

FAST_PATHS = (EVENT_FRAMES, PROTECTIONS, FRAME_ONCE, QUICK_RESUBSCRIBE, LEAN_SOCKETS, INLINE_FRAMES)


def refusal(message: str, data: dict[str, str | float]) -> Exception:
    """What a connect handler raises to refuse a client: its connect_error carries exactly `data`."""
    refused: Exception = _Refused(message)
    refused.error_args = data  # type: ignore[attr-defined]  # python-socketio sends it as connect_error data
    return refused


__all__ = [
    "FAST_PATHS",
    "AddressOf",
    "Answer",
    "ChatSocketServer",
    "OriginAllowed",
    "RemoteEmitter",
    "create_sio",
    "refusal",
    "spawn",
]
