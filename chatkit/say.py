"""Post one message (or a /command) to a channel and print the server's acknowledgement as JSON."""

from __future__ import annotations

import argparse
import json
import uuid
from typing import Any

import socketio

import chatkit


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("channel", help="channel name, e.g. general")
    p.add_argument("text", nargs="+", help="the message text")
    p.add_argument("--reply-to", metavar="ID", help="reply to this message id (a reply to a reply joins its thread)")


async def say(url: str, token: str, channel: str, text: str, *, reply_to: str | None = None) -> dict[str, Any]:
    """The ack of `send`, whether the server took the message or not."""
    sio = socketio.AsyncClient(reconnection=False)
    await chatkit.connect(sio, url, token)
    try:
        await chatkit.call(sio, "join", {"channel": channel})  # send needs a joined channel
        # client_id makes a retried send safe: the server answers with the first message
        payload = {"channel": channel, "text": text, "client_id": uuid.uuid4().hex}
        if reply_to is not None:
            payload["reply_to"] = reply_to
        ack: dict[str, Any] = await sio.call("send", payload, timeout=10)
        return ack
    finally:
        await sio.disconnect()


async def run(args: argparse.Namespace) -> int:
    """Print the ack; the exit status 1 when it is an error."""
    token = await chatkit.get_token(args)
    ack = await say(args.url, token, args.channel, " ".join(args.text), reply_to=args.reply_to)
    print(json.dumps(ack, ensure_ascii=False), flush=True)
    return 0 if ack.get("ok") else 1
