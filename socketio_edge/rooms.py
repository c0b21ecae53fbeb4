"""Where Socket.IO deliveries go: the room of a channel, the room of one user's connections, and the
Redis channel python-socketio's managers share across nodes. Named here only, for the nodes and the bot."""

from __future__ import annotations

from typing import Any

import socketio

from core.bus.redis_client import per_db

# python-socketio's pub/sub channel (+ ":<db>"): presence, typing, private replies and room closes
SOCKETIO_CHANNEL = "socketio"


def channel_room(channel: str) -> str:
    return f"channel:{channel}"


def user_room(user: str) -> str:
    return f"user:{user}"


class RemoteEmitter:
    """Emits to the rooms of every node from a process that serves no clients (the bot), through the
    nodes' Redis manager channel: python-socketio's write-only manager, untouched."""

    def __init__(self, bus_url: str) -> None:
        channel = per_db(bus_url, SOCKETIO_CHANNEL)
        self._manager = socketio.AsyncRedisManager(bus_url, channel=channel, write_only=True)

    async def private_message(self, user: str, message: Any) -> None:
        """A `message` event to every connection of `user`, on whichever node."""
        await self._manager.emit("message", message, room=user_room(user), namespace="/")
