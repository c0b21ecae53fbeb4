"""`investor-chat tail CHANNEL` and `investor-chat say CHANNEL TEXT`: the chat from a shell, no server settings."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import uuid
from collections.abc import Sequence
from typing import Any

import aiohttp
import socketio

logger = logging.getLogger(__name__)
MODES = ("tail", "say")
RESYNC = "resync"  # queued on every (re)connect: join again with `after` to fetch what was missed


class ClientError(Exception):
    """An error from the server, shown to the user as `code: message`."""


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=os.environ.get("CHAT_URL", "http://127.0.0.1:8080"), help="server (CHAT_URL)")
    common.add_argument("--username", default=os.environ.get("CHAT_USERNAME"), help="account (CHAT_USERNAME)")
    common.add_argument("--password", default=os.environ.get("CHAT_PASSWORD"), help="password (CHAT_PASSWORD)")
    common.add_argument("--register", action="store_true", help="create the account first (logs in if it exists)")
    parser = argparse.ArgumentParser(prog="investor-chat", description="Talk to a running investor-chat server.")
    modes = parser.add_subparsers(dest="mode", required=True)
    tail = modes.add_parser("tail", parents=[common], help="stream a channel, reconnecting and catching up")
    tail.add_argument("channel")
    tail.add_argument("--after", type=int, help="start after this seq (0: everything); default: the last 50")
    say = modes.add_parser("say", parents=[common], help="post a message and print its acknowledgement")
    say.add_argument("channel")
    say.add_argument("text", nargs="+")
    args = parser.parse_args(argv)
    if not args.username or not args.password:
        parser.error("give --username and --password, or set CHAT_USERNAME and CHAT_PASSWORD")
    args.url = args.url.rstrip("/")
    return args


def _failure(body: Any) -> ClientError:
    error = body.get("error") if isinstance(body, dict) else None
    return ClientError(f"{error['code']}: {error['message']}" if isinstance(error, dict) else repr(body))


async def log_in(args: argparse.Namespace) -> str:
    creds = {"username": args.username, "password": args.password}
    async with aiohttp.ClientSession() as http:
        for path, ok in (("/api/register", 201), ("/api/login", 200)):
            if path == "/api/register" and not args.register:
                continue
            async with http.post(args.url + path, json=creds) as resp:
                body = await resp.json()
            if resp.status == ok:
                return str(body["token"])
            if path == "/api/login" or body.get("error", {}).get("code") != "username_taken":
                raise _failure(body)
    raise AssertionError("unreachable")


async def call(sio: socketio.AsyncClient, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    ack: dict[str, Any] = await sio.call(event, payload, timeout=10)
    if not ack.get("ok"):
        raise _failure(ack)
    return ack


def render(message: dict[str, Any]) -> str:
    seq = message.get("seq", "-")
    return f"{message['ts'][11:19]} #{message['channel']} [{seq}] {message['user']}: {message['text']}"


class Tail:
    """Prints each message of one channel once, in seq order, catching up after gaps and reconnects."""

    def __init__(self, sio: socketio.AsyncClient, channel: str, after: int | None) -> None:
        self.sio, self.channel, self.last = sio, channel, after

    def show(self, message: dict[str, Any]) -> None:
        print(render(message), flush=True)
        if message.get("seq") is not None:
            self.last = message["seq"]

    async def catch_up(self) -> None:
        more = True
        while more:
            payload: dict[str, Any] = {"channel": self.channel}
            if self.last is not None:
                payload["after"] = self.last
            ack = await call(self.sio, "join", payload)
            for message in ack["messages"]:
                if self.last is None or message["seq"] > self.last:
                    self.show(message)
            more = "after" in payload and ack["has_more"]
        self.last = max(self.last or 0, ack["last_seq"])

    async def on_message(self, message: dict[str, Any]) -> None:
        seq = message.get("seq")
        if message.get("channel") != self.channel or (seq is not None and self.last is not None and seq <= self.last):
            return
        if seq is not None and self.last is not None and seq > self.last + 1:
            await self.catch_up()  # a gap in seq: fetch the missing ones in order
        else:
            self.show(message)


async def tail(args: argparse.Namespace, token: str) -> None:
    sio = socketio.AsyncClient(reconnection_delay_max=30)
    queue: asyncio.Queue[Any] = asyncio.Queue()
    sio.on("connect", lambda: queue.put_nowait(RESYNC))
    sio.on("message", queue.put_nowait)
    sio.on("disconnect", lambda reason="": queue.put_nowait(reason) if reason == sio.reason.SERVER_DISCONNECT else None)
    await sio.connect(args.url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    state = Tail(sio, args.channel, args.after)
    try:
        while True:
            item = await queue.get()
            if item == RESYNC:
                await state.catch_up()
            elif isinstance(item, str):  # the server said goodbye; the client does not retry those itself
                await asyncio.sleep(1)
                await sio.connect(args.url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
            else:
                await state.on_message(item)
    finally:
        await sio.disconnect()


async def say(args: argparse.Namespace, token: str) -> dict[str, Any]:
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(args.url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    try:
        await call(sio, "join", {"channel": args.channel})
        payload = {"channel": args.channel, "text": " ".join(args.text), "client_id": uuid.uuid4().hex}
        ack: dict[str, Any] = await sio.call("send", payload, timeout=10)
        return ack
    finally:
        await sio.disconnect()


async def run(args: argparse.Namespace) -> int:
    token = await log_in(args)
    if args.mode == "tail":
        await tail(args, token)
        return 0
    ack = await say(args, token)
    print(json.dumps(ack, ensure_ascii=False), flush=True)
    return 0 if ack.get("ok") else 1


def main(argv: Sequence[str]) -> int:
    """Run a client mode; the exit status: 0 done, 1 refused by the server or unreachable."""
    args = parse_args(argv)
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 0
    except (ClientError, aiohttp.ClientError, socketio.exceptions.ConnectionError) as exc:
        print(f"investor-chat {args.mode}: {exc}", file=sys.stderr)
        return 1
