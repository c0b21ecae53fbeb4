#!/usr/bin/env python3
"""Post one message to a channel and print the server's acknowledgement as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from typing import Any

import chatkit
import socketio


async def run(args: Any) -> dict[str, Any]:
    token = await chatkit.get_token(args)
    sio = socketio.AsyncClient(reconnection=False)
    await chatkit.connect(sio, args.url, token)
    try:
        await chatkit.call(sio, "join", {"channel": args.channel})  # send needs a joined channel
        # client_id makes a retried send safe: the server answers with the first message
        payload = {"channel": args.channel, "text": " ".join(args.text), "client_id": uuid.uuid4().hex}
        ack: dict[str, Any] = await sio.call("send", payload, timeout=10)
        return ack
    finally:
        await sio.disconnect()


def main() -> None:
    p = chatkit.parser("Post a message (or a /command) to a channel.")
    p.add_argument("channel", help="channel name, e.g. general")
    p.add_argument("text", nargs="+", help="the message text")
    args = p.parse_args()
    chatkit.setup(args, p)
    try:
        ack = asyncio.run(run(args))
    except (chatkit.ChatError, socketio.exceptions.ConnectionError) as exc:
        sys.exit(f"say: {exc}")
    print(json.dumps(ack, ensure_ascii=False))
    sys.exit(0 if ack.get("ok") else 1)


if __name__ == "__main__":
    main()
