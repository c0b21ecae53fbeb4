"""A small client for investor-chat over HTTP and Socket.IO: flags, logging in, connecting, calls, errors.

What a user's own script needs and nothing of the server: `investor-chat tail|say` and the scripts in
examples/ are built from it; chatkit/api.py holds the REST calls (members, moderation, search, the
notifications inbox), chatkit/notifications.py follows a user's notifications.
"""

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

log = logging.getLogger("chatkit")


class ChatError(Exception):
    """An error answer from the server: {"error": {"code", "message"}} or a failed ack. `error` keeps what
    some codes carry besides: `until` (ISO time) of `muted`, `retry_after` (seconds) of `slow_mode`."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = str(error.get("code"))
        self.error = error

    @classmethod
    def from_body(cls, body: Any) -> ChatError:
        """The error a REST body or an ack carries; anything else is shown as it came."""
        error = body.get("error") if isinstance(body, dict) else None
        return cls(error if isinstance(error, dict) else {"code": "bad_answer", "message": repr(body)})


def connection_flags() -> argparse.ArgumentParser:
    """The flags every client takes, defaulting to CHAT_URL/CHAT_USERNAME/CHAT_PASSWORD (a parent parser)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--url", default=os.environ.get("CHAT_URL", "http://127.0.0.1:8080"), help="server (CHAT_URL)")
    p.add_argument("--username", default=os.environ.get("CHAT_USERNAME"), help="account (CHAT_USERNAME)")
    p.add_argument("--password", default=os.environ.get("CHAT_PASSWORD"), help="password (CHAT_PASSWORD)")
    p.add_argument("--register", action="store_true", help="create the account first (logs in if it exists)")
    p.add_argument("-v", "--verbose", action="store_true", help="log connection details to stderr")
    return p


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the connection flags."""
    return argparse.ArgumentParser(description=description, parents=[connection_flags()])


def setup(args: argparse.Namespace, p: argparse.ArgumentParser) -> None:
    """Check the credentials were given (exit 2 otherwise) and configure logging."""
    if not args.username or not args.password:
        p.error("give --username and --password, or set CHAT_USERNAME and CHAT_PASSWORD")
    args.url = args.url.rstrip("/")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(message)s"
    )


async def post_json(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with http.post(url, json=body) as resp:
        return resp.status, await resp.json()


async def log_in(http: aiohttp.ClientSession, args: argparse.Namespace) -> str:
    """A session token for the account; registers it first with --register."""
    creds = {"username": args.username, "password": args.password}
    if args.register:
        status, body = await post_json(http, f"{args.url}/api/register", creds)
        if status == 201:
            return str(body["token"])
        error = ChatError.from_body(body)
        if error.code != "username_taken":
            raise error
    status, body = await post_json(http, f"{args.url}/api/login", creds)
    if status != 200:
        raise ChatError.from_body(body)
    return str(body["token"])


async def get_token(args: argparse.Namespace) -> str:
    async with aiohttp.ClientSession() as http:
        return await log_in(http, args)


async def connect(sio: socketio.AsyncClient, url: str, token: str) -> None:
    """Connect with the token; the client's own reconnection takes over after the first success."""
    await sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)


async def call(sio: socketio.AsyncClient, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Emit an event and return its successful ack; a failed ack raises ChatError."""
    ack: dict[str, Any] = await sio.call(event, payload, timeout=10)
    if not ack.get("ok"):
        raise ChatError.from_body(ack)
    return ack


async def mark_read(sio: socketio.AsyncClient, channel: str, seq: int) -> int:
    """Move the user's read mark of `channel` to `seq` (`read`); the mark the server keeps, which never goes
    back: a lower `seq` than the stored one answers the stored one. The user's other connections get it as
    `read_state`, so every device counts unread messages alike."""
    ack = await call(sio, "read", {"channel": channel, "seq": seq})
    return int(ack["seq"])


def show(message: dict[str, Any], *, root_seq: int | None = None) -> str:
    """One message as a terminal line: time, channel, seq, user and text; a reply says to which message
    (`root_seq`, when the caller knows it), an edited one says so, a deleted one shows no text."""
    seq = message.get("seq", "-")
    tag = " (only you)" if message.get("ephemeral") else ""
    if message.get("reply_to"):
        tag += f" ↪ #{root_seq}" if root_seq is not None else " (reply)"
    text = "(deleted)" if message.get("deleted") else message["text"]
    if message.get("edited_at") and not message.get("deleted"):
        text += " (edited)"
    return f"{message['ts'][11:19]} #{message['channel']} [{seq}] {message['user']}{tag}: {text}"


def reactions(message: dict[str, Any]) -> str:
    """A message's reactions as `🐂 2 👍 1`, or `none`."""
    return " ".join(f"{r['emoji']} {r['count']}" for r in message.get("reactions") or ()) or "none"


def show_change(change: dict[str, Any]) -> str:
    """One change to a message (a `message_updated`) as a terminal line: `[12] alice edited #3: new text`,
    `[13] alice deleted #3`, `[14] bob reacted 🐂 to #3`; without `by` (learnt from a catch-up) the
    message's state is shown instead."""
    message, by, kind = change["message"], change.get("by"), change["kind"]
    ref, emoji = f"#{message['seq']}", change.get("emoji", "")
    if kind == "edit":
        what = f"{by or message['user']} edited {ref}: {message['text']}"
    elif kind == "delete":
        what = f"{by} deleted {ref}" if by else f"{message['user']}'s {ref} was deleted"
    elif kind == "react":
        what = f"{by} reacted {emoji} to {ref}"
    elif kind == "unreact":
        what = f"{by} took back {emoji} on {ref}"
    elif kind in ("pin", "unpin"):
        what = f"{by} {kind}ned {ref}"
    else:  # "update": several changes (or unknown ones) folded into what the message is now
        pinned = ", pinned" if message.get("pinned") else ""
        edited = " (edited)" if message.get("edited_at") else ""
        what = f"{message['user']}'s {ref} changed (reactions {reactions(message)}{pinned}): {message['text']}{edited}"
    return f"{change['ts'][11:19]} #{change['channel']} [{change['seq']}] {what}"


def show_event(event: dict[str, Any]) -> str:
    """One channel event (a `channel_event`: membership, moderation, settings) as a terminal line:
    `[15] bob muted carol until 14:05 (spam)`, `[16] alice added dave as member`, `[17] alice set slow mode
    30 s`. Times are UTC, as everywhere in these lines; an end on another day shows its date."""
    by, target, kind = event["by"], event.get("target", ""), event["kind"]
    if kind == "member_added":
        what = f"{by} added {target} as {event.get('role', 'member')}"
    elif kind == "member_removed":
        what = f"{target} left" if target.lower() == by.lower() else f"{by} removed {target}"
    elif kind == "role_changed":
        what = f"{by} made {target} {event.get('role')}"
    elif kind == "muted":
        until = event.get("until") or ""
        when = until[11:16] if until[:10] == event["ts"][:10] else f"{until[:10]} {until[11:16]}"
        what = f"{by} muted {target} until {when}"
    elif kind == "settings_changed":
        what = f"{by} " + " and ".join(_setting(k, v) for k, v in (event.get("changes") or {}).items())
    else:  # unmuted, banned, unbanned, and a kind this client does not know yet
        what = f"{by} {kind} {target}".rstrip()
    if event.get("reason"):
        what += f" ({event['reason']})"
    return f"{event['ts'][11:19]} #{event['channel']} [{event['seq']}] {what}"


def show_notification(notification: dict[str, Any]) -> str:
    """One `notification` as a terminal line: time, kind, channel and the server's text,
    `14:05:03 mention #desk: alice mentioned you in #desk: buy $TSLA`. A direct message's channel is left
    out: its name is a hash (`dm-…`), and the text says who wrote."""
    channel = notification.get("channel") or ""
    where = f" #{channel}" if channel and not channel.startswith("dm-") else ""
    return f"{notification['ts'][11:19]} {notification['kind']}{where}: {notification['text']}"


def _setting(name: str, value: Any) -> str:
    if name == "slow_mode_s":
        return f"set slow mode {value} s" if value else "turned slow mode off"
    if name == "topic":
        return f"set the topic: {value}" if value else "cleared the topic"
    return f"set {name} to {value}"


def run(name: str, main: Coroutine[Any, Any, int]) -> int:
    """Run a client to its end; the exit status: its own, 0 on Ctrl-C, 1 (said in one line) when the
    server refused or could not be reached."""
    try:
        return asyncio.run(main)
    except KeyboardInterrupt:
        return 0
    except (ChatError, aiohttp.ClientError, socketio.exceptions.ConnectionError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
