"""Stream a channel: each message once as new, in seq order, and every change to a message (edit, delete,
react, unreact, pin, unpin) after it, catching up with `join {channel, after}` after a reconnect or a gap
in seq (docs/protocol.md, "Never missing a message")."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import socketio

import chatkit

RESYNC = object()  # queued on every (re)connect: join again and fetch what was missed
Message = dict[str, Any]
Event = dict[str, Any]  # a Message, or a change {seq, kind, channel, by?, ts, emoji?, message}
KNOWN_MAX = 10_000  # messages remembered to tell a change from a repeat (and what a catch-up changed)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("channel", help="channel name, e.g. general")
    p.add_argument("--after", type=int, help="start after this seq (0: everything); default: the last 50")
    p.add_argument("--json", action="store_true", help="print each event (message or change) as one JSON line")
    p.add_argument("--reconnect-delay", type=float, default=1.0, help="seconds before the first reconnect")


def is_change(event: Event) -> bool:
    return "kind" in event


class Tail:
    """Hands each message of one channel to `out` once as new, in seq order, and each change to a message
    (a `message_updated`) after it. `last` is the highest seq accounted for, messages and changes alike:
    they share one counter, so a jump past `last + 1` means something was missed."""

    def __init__(self, sio: socketio.AsyncClient, channel: str, after: int | None, out: Callable[[Event], None]):
        self.sio, self.channel, self.last, self.out = sio, channel, after, out
        self.known: OrderedDict[str, Message] = OrderedDict()  # id -> the message as last handed out

    def _remember(self, message: Message) -> None:
        self.known[message["id"]] = message
        self.known.move_to_end(message["id"])
        if len(self.known) > KNOWN_MAX:
            self.known.popitem(last=False)

    def _rev(self, message_id: str) -> int:
        known = self.known.get(message_id)
        return -1 if known is None else int(known.get("rev") or known.get("seq") or 0)

    def _new(self, message: Message) -> None:
        self._remember(message)
        self.out(message)

    def _changed(self, change: Event) -> None:
        self._remember(change["message"])
        self.out(change)

    async def catch_up(self) -> None:
        """Join (again): the first time gives the recent history, later ones every message new or changed
        since `last` (rev > last), paged by rev; each is handed out once, in seq order, as new or as a change."""
        payload: dict[str, Any] = {"channel": self.channel}
        if self.last is None:
            ack = await chatkit.call(self.sio, "join", payload)
            for message in ack["messages"]:
                self._new(message)
        else:
            since = cursor = self.last
            latest: dict[str, Message] = {}  # pages come oldest change first: fold them all, then hand out
            while True:
                ack = await chatkit.call(self.sio, "join", {**payload, "after": cursor})
                for message in ack["messages"]:
                    rev = _rev_of(message)
                    if rev > _rev_of(latest.get(message["id"])):
                        latest[message["id"]] = message
                    cursor = max(cursor, rev)
                if not ack["has_more"]:
                    break
            for message in sorted(latest.values(), key=lambda m: int(m["seq"])):
                if _rev_of(message) <= self._rev(message["id"]):
                    continue  # already handed out (live, while this catch-up was on its way)
                if message["id"] not in self.known and int(message["seq"]) > since:
                    self._new(message)
                else:
                    self._changed(caught_up(self.known.get(message["id"]), message))
        self.last = max(self.last or 0, ack["last_seq"])
        chatkit.log.info("joined #%s at seq %s", self.channel, self.last)

    async def on_message(self, message: Message) -> None:
        if message.get("channel") != self.channel:
            return
        seq = message.get("seq")
        if seq is None:  # an ephemeral bot reply to this user: shown, not counted
            self.out(message)
        elif message["id"] in self.known:  # a repeat from the overlap with a catch-up
            return
        elif self.last is None or seq <= self.last + 1:  # next in line, or posted as a catch-up was answered
            self._new(message)
            self.last = max(self.last or 0, seq)
        else:  # a gap: something was missed, fetch it in order
            await self.catch_up()

    async def on_change(self, change: Event) -> None:
        if change.get("channel") != self.channel:
            return
        seq = int(change["seq"])
        if seq <= self._rev(change["message"]["id"]):
            return  # a catch-up already brought this change (or a later one)
        if self.last is None or seq <= self.last + 1:
            self._changed(change)
            self.last = max(self.last or 0, seq)
        else:
            await self.catch_up()


def _rev_of(message: Message | None) -> int:
    return -1 if message is None else int(message.get("rev") or message.get("seq") or 0)


def caught_up(before: Message | None, after: Message) -> Event:
    """A change learnt from a catch-up, shaped like `message_updated` but without `by` (not known): kind
    `delete`, `edit` (who edits is the author), or `update` when it is something else or several things
    (reactions, a pin, an edit and more) or what it was before is not known."""
    change: Event = {"seq": _rev_of(after), "kind": "update", "channel": after["channel"]}
    change["ts"] = after.get("edited_at") or after["ts"]
    if after.get("deleted"):
        change["kind"] = "delete"
    elif before is not None:
        differs = {k for k in ("text", "reactions", "pinned") if before.get(k) != after.get(k)}
        if differs == {"text"}:
            change.update(kind="edit", by=after["user"])
    change["message"] = after
    return change


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
    url: str, token: str, channel: str, out: Callable[[Event], None], *, after: int | None, reconnect_delay: float
) -> None:
    """Hand every message of `channel` after `after` (default: the last 50), and every change to one, to
    `out` until cancelled: a change is a dict with `kind` (see `Tail`)."""
    sio = socketio.AsyncClient(reconnection_delay=reconnect_delay, reconnection_delay_max=30)
    queue: asyncio.Queue[Any] = asyncio.Queue()
    sio.on("connect", lambda: queue.put_nowait(RESYNC))
    sio.on("message", lambda message: queue.put_nowait(("message", message)))
    sio.on("message_updated", lambda change: queue.put_nowait(("message_updated", change)))

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
            elif item[0] == "message":
                await tail.on_message(item[1])
            else:
                await tail.on_change(item[1])
    finally:
        await sio.disconnect()


async def run(args: argparse.Namespace) -> int:
    """Print the channel to stdout, one line (or JSON line with --json) a message or a change."""
    seqs: dict[str, int] = {}  # message id -> seq, to say which message a reply or a change is about

    def out(event: Event) -> None:
        if args.json:
            line = json.dumps(event, ensure_ascii=False)
        elif is_change(event):
            line = chatkit.show_change(event)
        else:
            if event.get("seq") is not None:
                seqs[event["id"]] = event["seq"]
            line = chatkit.show(event, root_seq=seqs.get(event.get("reply_to") or ""))
        print(line, flush=True)

    token = await chatkit.get_token(args)
    await follow(args.url, token, args.channel, out, after=args.after, reconnect_delay=args.reconnect_delay)
    return 0
