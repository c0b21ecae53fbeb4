"""Stream a channel: each message once, in seq order, catching up with `join {channel, after}` after a
reconnect or a gap in seq (docs/protocol.md, "Never missing a message")."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from typing import Any

import socketio

import chatkit

RESYNC = object()  # queued on every (re)connect: join again and fetch what was missed
Message = dict[str, Any]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("channel", help="channel name, e.g. general")
    p.add_argument("--after", type=int, help="start after this seq (0: everything); default: the last 50")
    p.add_argument("--json", action="store_true", help="print each message as one JSON line")
    p.add_argument("--reconnect-delay", type=float, default=1.0, help="seconds before the first reconnect")


class Tail:
    """Hands each message of one channel to `out` exactly once, in seq order."""

    def __init__(self, sio: socketio.AsyncClient, channel: str, after: int | None, out: Callable[[Message], None]):
        self.sio, self.channel, self.last, self.out = sio, channel, after, out

    async def catch_up(self) -> None:
        """Join (again): the first time gives the recent history, later ones everything after `last`."""
        while True:
            payload: dict[str, Any] = {"channel": self.channel}
            if self.last is not None:
                payload["after"] = self.last
            ack = await chatkit.call(self.sio, "join", payload)
            for message in ack["messages"]:
                if self.last is None or message["seq"] > self.last:
                    self.out(message)
                    self.last = message["seq"]
            if "after" not in payload or not ack["has_more"]:
                break
        if self.last is None or ack["last_seq"] > self.last:
            self.last = ack["last_seq"]
        chatkit.log.info("joined #%s at seq %s", self.channel, self.last)

    async def on_message(self, message: Message) -> None:
        if message.get("channel") != self.channel:
            return
        seq = message.get("seq")
        if seq is None:  # an ephemeral bot reply to this user: shown, not counted
            self.out(message)
        elif self.last is None or seq == self.last + 1:
            self.out(message)
            self.last = seq
        elif seq > self.last + 1:  # a gap: something was missed, fetch it in order
            await self.catch_up()


async def reconnect(sio: socketio.AsyncClient, url: str, token: str, delay: float) -> None:
    """Reconnect after the server closed the session, until it takes (the server may be restarting)."""
    while not sio.connected:
        await asyncio.sleep(delay)
        try:
            await chatkit.connect(sio, url, token)
        except ValueError:  # the client's own reconnection got there first; wait for it
            continue
        except socketio.exceptions.ConnectionError as exc:
            chatkit.log.warning("reconnect failed (%s); retrying", exc)


async def follow(
    url: str, token: str, channel: str, out: Callable[[Message], None], *, after: int | None, reconnect_delay: float
) -> None:
    """Hand every message of `channel` after `after` (default: the last 50) to `out`, until cancelled."""
    sio = socketio.AsyncClient(reconnection_delay=reconnect_delay, reconnection_delay_max=30)
    queue: asyncio.Queue[Any] = asyncio.Queue()
    sio.on("connect", lambda: queue.put_nowait(RESYNC))
    sio.on("message", queue.put_nowait)

    def disconnected(reason: str = "") -> None:
        chatkit.log.warning("disconnected (%s); reconnecting", reason)
        if reason == sio.reason.SERVER_DISCONNECT:  # the client gives up on these by itself
            queue.put_nowait(reason)

    sio.on("disconnect", disconnected)
    await chatkit.connect(sio, url, token)
    tail = Tail(sio, channel, after, out)
    try:
        while True:
            item = await queue.get()
            if item is RESYNC:
                await tail.catch_up()
            elif isinstance(item, str):
                await reconnect(sio, url, token, reconnect_delay)
            else:
                await tail.on_message(item)
    finally:
        await sio.disconnect()


async def run(args: argparse.Namespace) -> int:
    """Print the channel to stdout, one line (or JSON line with --json) a message."""

    def out(message: Message) -> None:
        print(json.dumps(message, ensure_ascii=False) if args.json else chatkit.show(message), flush=True)

    token = await chatkit.get_token(args)
    await follow(args.url, token, args.channel, out, after=args.after, reconnect_delay=args.reconnect_delay)
    return 0
