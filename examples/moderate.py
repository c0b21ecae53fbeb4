#!/usr/bin/env python3
"""A moderation bot: in the channels it watches, mutes for some minutes anyone who posts a banned phrase
(or edits a message into one), ignoring letter case, and says what it did.

It must be an owner or moderator of those channels (or a site admin): elsewhere the server refuses its
mutes with `forbidden`, which it reports and goes on. It never acts on itself, nor on the channel's owners
and moderators, whose roles it reads from the member list when a phrase turns up.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import aiohttp
import socketio

import chatkit
from chatkit.api import DEFAULT_MUTE_MINUTES, Api

STAFF = ("owner", "moderator")
MAX_MINUTES = 525_600  # a year


def minutes(text: str) -> int:
    """A mute's length in minutes, as the server takes it: 1 to a year."""
    if not text.isdigit() or not 1 <= int(text) <= MAX_MINUTES:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of minutes from 1 to {MAX_MINUTES}")
    return int(text)


def phrases_of(args: argparse.Namespace) -> list[str]:
    """The --phrase flags and the lines of --phrases-file (blank lines and # comments left out)."""
    phrases = list(args.phrase or ())
    if args.phrases_file:
        lines = Path(args.phrases_file).read_text(encoding="utf-8").splitlines()
        phrases += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return phrases


class Moderator:
    def __init__(self, api: Api, args: argparse.Namespace, phrases: list[str]) -> None:
        self.api, self.args, self.phrases = api, args, phrases
        self.me = args.username.lower()
        self.channels = {channel.lower() for channel in args.channel}

    async def join(self, sio: socketio.AsyncClient) -> None:
        """Join every channel (again after a reconnect: rooms are per connection) and say in which role."""
        admin = "admin" in (await self.api.me())["roles"]
        for channel in self.args.channel:
            ack = await chatkit.call(sio, "join", {"channel": channel})
            role = ack.get("role") or ("site admin" if admin else "no role")
            if role in STAFF or admin:
                print(f"watching #{channel} as {role}", flush=True)
            else:
                print(f"watching #{channel} as {role}: not a moderator there, its mutes will be refused", flush=True)

    def banned_phrase(self, text: str) -> str | None:
        folded = text.casefold()
        return next((phrase for phrase in self.phrases if phrase.casefold() in folded), None)

    async def check(self, channel: str, user: str, text: str, seq: int) -> None:
        """Mute `user` when `text` holds a banned phrase, unless it is this bot or the channel's staff."""
        if channel not in self.channels or user.lower() == self.me:
            return
        phrase = self.banned_phrase(text)
        if phrase is None:
            return
        try:
            staff = {m["username"].lower() for m in await self.api.members(channel) if m["role"] in STAFF}
            if user.lower() in staff:
                print(f"left {user} alone in #{channel} (an owner or moderator) at seq {seq}", flush=True)
                return
            muted = await self.api.mute(channel, user, self.args.minutes, f"posted {phrase[:100]!r}")
        except chatkit.ChatError as exc:
            why = "this account is not an owner or moderator there" if exc.code == "forbidden" else "refused"
            print(f"could not mute {user} in #{channel}: {why} ({exc})", flush=True)
            return
        print(f"muted {user} in #{channel} until {muted['until']} for {phrase!r} at seq {seq}", flush=True)

    async def on_message(self, message: dict[str, Any]) -> None:
        if message.get("seq") is not None and not message.get("bot"):  # not the stock bot's, not private
            await self.check(message["channel"], message["user"], message["text"], message["seq"])

    async def on_change(self, change: dict[str, Any]) -> None:
        if change["kind"] == "edit":
            await self.check(change["channel"], change["by"], change["message"]["text"], change["seq"])


async def run(args: argparse.Namespace, phrases: list[str]) -> int:
    async with aiohttp.ClientSession() as http:
        api = Api(http, args.url, await chatkit.log_in(http, args))
        bot = Moderator(api, args, phrases)
        sio = socketio.AsyncClient(reconnection_delay_max=30)
        sio.on("message", bot.on_message)
        sio.on("message_updated", bot.on_change)
        await chatkit.connect(sio, args.url, api.token)
        try:
            await bot.join(sio)  # a channel that is not there (or bans it) ends the script here

            async def rejoin() -> None:
                await bot.join(sio)

            sio.on("connect", rejoin)  # from now on, on every reconnect
            await sio.wait()
        finally:
            await sio.disconnect()
    return 0


def main() -> None:
    p = chatkit.parser("Mute users who post a banned phrase in the channels watched.")
    p.add_argument("channel", nargs="+", help="channels to watch (this account moderates them)")
    p.add_argument("--phrase", action="append", help="a banned phrase, any letter case (repeatable)")
    p.add_argument("--phrases-file", metavar="FILE", help="banned phrases, one a line (# starts a comment)")
    p.add_argument("--minutes", type=minutes, default=DEFAULT_MUTE_MINUTES, help="how long a mute lasts, 1-525600")
    args = p.parse_args()
    chatkit.setup(args, p)
    try:
        phrases = phrases_of(args)
    except OSError as exc:
        p.error(f"cannot read --phrases-file: {exc}")
    if not phrases:
        p.error("give at least one --phrase or a --phrases-file with some")
    sys.exit(chatkit.run("moderate", run(args, phrases)))


if __name__ == "__main__":
    main()
