"""What every example shares: flags and CHAT_* environment, logging in over REST, connecting Socket.IO."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Coroutine
from typing import Any

import aiohttp
import socketio

log = logging.getLogger("examples")


class ChatError(Exception):
    """An error answer from the server: {"error": {"code", "message"}} or a failed ack."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = str(error.get("code"))


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the connection flags, defaulting to CHAT_URL/CHAT_USERNAME/CHAT_PASSWORD."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--url", default=os.environ.get("CHAT_URL", "http://127.0.0.1:8080"), help="server (CHAT_URL)")
    p.add_argument("--username", default=os.environ.get("CHAT_USERNAME"), help="account (CHAT_USERNAME)")
    p.add_argument("--password", default=os.environ.get("CHAT_PASSWORD"), help="password (CHAT_PASSWORD)")
    p.add_argument("--register", action="store_true", help="create the account first (logs in if it exists)")
    p.add_argument("-v", "--verbose", action="store_true", help="log connection details to stderr")
    return p


def setup(args: argparse.Namespace, p: argparse.ArgumentParser) -> None:
    if not args.username or not args.password:
        p.error("give --username and --password, or set CHAT_USERNAME and CHAT_PASSWORD")
    args.url = args.url.rstrip("/")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(message)s"
    )


async def post_json(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with http.post(url, json=body) as resp:
        return resp.status, await resp.json()


async def log_in(http: aiohttp.ClientSession, args: argparse.Namespace) -> str:
    """A session token for the account; registers it first with --register."""
    creds = {"username": args.username, "password": args.password}
    if args.register:
        status, body = await post_json(http, f"{args.url}/api/register", creds)
        if status == 201:
            return str(body["token"])
        if body["error"]["code"] != "username_taken":
            raise ChatError(body["error"])
    status, body = await post_json(http, f"{args.url}/api/login", creds)
    if status != 200:
        raise ChatError(body["error"])
    return str(body["token"])


async def get_token(args: argparse.Namespace) -> str:
    async with aiohttp.ClientSession() as http:
        return await log_in(http, args)


async def call(sio: socketio.AsyncClient, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Emit an event and return its successful ack; a failed ack raises ChatError."""
    ack: dict[str, Any] = await sio.call(event, payload, timeout=10)
    if not ack.get("ok"):
        raise ChatError(ack.get("error") or {"code": "bad_ack", "message": repr(ack)})
    return ack


async def connect(sio: socketio.AsyncClient, url: str, token: str) -> None:
    """Connect with the token; the client's own reconnection takes over after the first success."""
    await sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)


def show(message: dict[str, Any]) -> str:
    """One message as a terminal line: time, seq, user and text."""
    seq = message.get("seq", "-")
    tag = " (only you)" if message.get("ephemeral") else ""
    return f"{message['ts'][11:19]} #{message['channel']} [{seq}] {message['user']}{tag}: {message['text']}"


def run_forever(name: str, main: Coroutine[Any, Any, None]) -> None:
    """Run a long-lived script: Ctrl-C ends it quietly, a chat or connection error in one line."""
    try:
        asyncio.run(main)
    except KeyboardInterrupt:
        pass
    except (ChatError, socketio.exceptions.ConnectionError) as exc:
        sys.exit(f"{name}: {exc}")
