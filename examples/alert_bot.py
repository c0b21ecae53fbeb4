#!/usr/bin/env python3
"""A user's own bot: watches a channel and answers every message that mentions a keyword."""

from __future__ import annotations

import re
import sys
from typing import Any

import socketio

import chatkit

DEFAULT_REPLY = "@{user} noted: I am watching {keyword} for you"


class AlertBot:
    def __init__(self, sio: socketio.AsyncClient, args: Any) -> None:
        self.sio, self.args = sio, args
        words = "|".join(re.escape(k) for k in args.keyword)
        self.pattern = re.compile(rf"(?<!\w)({words})(?!\w)", re.IGNORECASE)

    async def answer(self, message: dict[str, Any]) -> None:
        own = message["user"].lower() == self.args.username.lower()
        if message.get("channel") != self.args.channel or own or message.get("bot"):
            return  # never answer itself or another bot: no loops
        match = self.pattern.search(message["text"])
        if match is None:
            return
        text = self.args.reply.format(user=message["user"], keyword=match.group(1), text=message["text"])
        # client_id from the message id: answering the same message twice posts only once
        ack = await self.sio.call(
            "send", {"channel": self.args.channel, "text": text, "client_id": f"alert-{message['id']}"}, timeout=10
        )
        if ack.get("ok"):
            print(f"answered {message['user']} at seq {message['seq']}: {text}", flush=True)
        else:
            chatkit.log.warning("reply refused: %s", ack.get("error"))


async def run(args: Any) -> int:
    token = await chatkit.get_token(args)
    sio = socketio.AsyncClient(reconnection_delay_max=30)
    bot = AlertBot(sio, args)

    async def connect() -> None:  # also after every reconnect: rooms are per connection
        await chatkit.call(sio, "join", {"channel": args.channel})
        print(f"watching #{args.channel} for {', '.join(args.keyword)}", flush=True)

    sio.on("connect", connect)
    sio.on("message", bot.answer)
    await chatkit.connect(sio, args.url, token)
    try:
        await sio.wait()
    finally:
        await sio.disconnect()
    return 0


def main() -> None:
    p = chatkit.parser("Answer messages in a channel that mention a keyword.")
    p.add_argument("channel", help="channel to watch")
    p.add_argument("--keyword", action="append", required=True, help="word to watch for (repeatable)")
    p.add_argument("--reply", default=DEFAULT_REPLY, help="answer; {user}, {keyword}, {text} are filled in")
    args = p.parse_args()
    chatkit.setup(args, p)
    sys.exit(chatkit.run("alert_bot", run(args)))


if __name__ == "__main__":
    main()
