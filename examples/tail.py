#!/usr/bin/env python3
"""Stream a channel to the terminal; after a reconnect (or a gap in seq) catch up with `join {channel, after}`."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import chatkit
import socketio

RESYNC = object()  # queued on every (re)connect: join again and fetch what was missed


class Tail:
    """Prints each message of one channel exactly once, in seq order."""

    def __init__(self, sio: socketio.AsyncClient, channel: str, after: int | None, as_json: bool) -> None:
        self.sio, self.channel, self.last, self.as_json = sio, channel, after, as_json

    def print(self, message: dict[str, Any]) -> None:
        print(json.dumps(message, ensure_ascii=False) if self.as_json else chatkit.show(message), flush=True)

    async def catch_up(self) -> None:
        """Join (again): the first time shows the recent history, later ones everything after `last`."""
        while True:
            payload: dict[str, Any] = {"channel": self.channel}
            if self.last is not None:
                payload["after"] = self.last
            ack = await chatkit.call(self.sio, "join", payload)
            for message in ack["messages"]:
                if self.last is None or message["seq"] > self.last:
                    self.print(message)
                    self.last = message["seq"]
            if "after" not in payload or not ack["has_more"]:
                break
        if self.last is None or ack["last_seq"] > self.last:
            self.last = ack["last_seq"]
        chatkit.log.info("joined #%s at seq %s", self.channel, self.last)

    async def on_message(self, message: dict[str, Any]) -> None:
        if message.get("channel") != self.channel:
            return
        seq = message.get("seq")
        if seq is None:  # an ephemeral bot reply to this user: shown, not counted
            self.print(message)
        elif self.last is None or seq == self.last + 1:
            self.print(message)
            self.last = seq
        elif seq > self.last + 1:  # a gap: something was missed, fetch it in order
            await self.catch_up()


async def reconnect(sio: socketio.AsyncClient, args: Any, token: str) -> None:
    """Reconnect after the server closed the session, until it takes (the server may be restarting)."""
    while not sio.connected:
        await asyncio.sleep(args.reconnect_delay)
        try:
            await chatkit.connect(sio, args.url, token)
        except ValueError:  # the client's own reconnection got there first; wait for it
            continue
        except socketio.exceptions.ConnectionError as exc:
            chatkit.log.warning("reconnect failed (%s); retrying", exc)


async def run(args: Any) -> None:
    token = await chatkit.get_token(args)
    sio = socketio.AsyncClient(reconnection_delay=args.reconnect_delay, reconnection_delay_max=30)
    queue: asyncio.Queue[Any] = asyncio.Queue()
    sio.on("connect", lambda: queue.put_nowait(RESYNC))
    sio.on("message", queue.put_nowait)

    @sio.event
    def disconnect(reason: str = "") -> None:
        chatkit.log.warning("disconnected (%s); reconnecting", reason)
        if reason == sio.reason.SERVER_DISCONNECT:  # the client gives up on these by itself
            queue.put_nowait(reason)

    await chatkit.connect(sio, args.url, token)
    tail = Tail(sio, args.channel, args.after, args.json)
    try:
        while True:
            item = await queue.get()
            if item is RESYNC:
                await tail.catch_up()
            elif isinstance(item, str):
                await reconnect(sio, args, token)
            else:
                await tail.on_message(item)
    finally:
        await sio.disconnect()


def main() -> None:
    p = chatkit.parser("Stream a channel's messages to the terminal.")
    p.add_argument("channel", help="channel name, e.g. general")
    p.add_argument("--after", type=int, help="start after this seq (0: everything); default: the last 50")
    p.add_argument("--json", action="store_true", help="print each message as one JSON line")
    p.add_argument("--reconnect-delay", type=float, default=1.0, help="seconds before the first reconnect")
    args = p.parse_args()
    chatkit.setup(args, p)
    chatkit.run_forever("tail", run(args))


if __name__ == "__main__":
    main()
