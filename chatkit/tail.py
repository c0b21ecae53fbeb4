"""Stream a channel: each message once as new, in seq order, every change to a message (edit, delete,
react, unreact, pin, unpin) after it, and every channel event (members, moderation, settings) at its place,
catching up with `join {channel, after}` after a reconnect or a gap in seq (docs/protocol.md, "Never
missing a message"); and with --notifications, or instead of a channel, the user's notifications from
every channel (chatkit/notifications.py)."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import socketio

import chatkit
from chatkit.api import Api
from chatkit.notifications import Notifications

RESYNC = object()  # queued on every (re)connect: join again and fetch what was missed
Message = dict[str, Any]
# a Message, a change {seq, kind, channel, by?, ts, emoji?, message}, or a channel event {seq, channel, kind,
# by, ts, target?, role?, until?, reason?, changes?}
Event = dict[str, Any]
KNOWN_MAX = 10_000  # messages (and events) remembered to tell a change from a repeat
EVENTS_PER_JOIN = 200  # a join {after} answers at most this many channel events: a full list may go on


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("channel", nargs="?", help="channel name, e.g. general (optional with --notifications)")
    p.add_argument("--after", type=int, help="start after this seq (0: everything); default: the last 50")
    p.add_argument(
        "--notifications",
        action="store_true",
        help="print the user's notifications too (mentions, DMs, keywords, cashtags), from every channel",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print each event (message, change, channel event or notification) as one JSON line",
    )
    p.add_argument("--reconnect-delay", type=float, default=1.0, help="seconds before the first reconnect")


def check(args: argparse.Namespace, p: argparse.ArgumentParser) -> None:
    """Exit 2 (argparse's way) when there is nothing to follow."""
    if args.channel is None and not args.notifications:
        p.error("give a CHANNEL, --notifications, or both")


def is_change(event: Event) -> bool:
    """A change to a message (`message_updated`, or one learnt from a catch-up)."""
    return "message" in event


def is_channel_event(event: Event) -> bool:
    """A membership, moderation or settings event (`channel_event`)."""
    return "kind" in event and "message" not in event


class Tail:
    """Hands each message of one channel to `out` once as new, in seq order, each change to a message (a
    `message_updated`) after it, and each channel event at its seq. `last` is the highest seq accounted for,
    messages, changes and channel events alike: they share one counter, so a jump past `last + 1` means
    something was missed. `me` is the user: when an event removes or bans it, it joins again (a public
    channel takes it back; a private one or a ban answers an error, which ends the tail)."""

    def __init__(
        self, sio: socketio.AsyncClient, channel: str, after: int | None, out: Callable[[Event], None], me: str = ""
    ):
        self.sio, self.channel, self.last, self.out, self.me = sio, channel, after, out, me.lower()
        self.known: OrderedDict[str, Message] = OrderedDict()  # id -> the message as last handed out
        self.event_seqs: OrderedDict[int, None] = OrderedDict()  # the seqs of the channel events handed out

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

    def _event(self, event: Event) -> None:
        self.event_seqs[int(event["seq"])] = None
        if len(self.event_seqs) > KNOWN_MAX:
            self.event_seqs.popitem(last=False)
        self.out(event)

    def _changed(self, change: Event) -> None:
        self._remember(change["message"])
        self.out(change)

    async def catch_up(self) -> None:
        """Join (again): the first time gives the recent history, later ones every message new or changed
        since `last` (rev > last), paged by rev, and the channel events since; each is handed out once, in
        seq order, a message as new or as a change, an event at its own seq."""
        payload: dict[str, Any] = {"channel": self.channel}
        if self.last is None:
            ack = await chatkit.call(self.sio, "join", payload)
            for message in ack["messages"]:
                self._new(message)
        else:
            since = cursor = self.last
            latest: dict[str, Message] = {}  # pages come oldest change first: fold them all, then hand out
            events: dict[int, Event] = {}
            while True:
                ack = await chatkit.call(self.sio, "join", {**payload, "after": cursor})
                for message in ack["messages"]:
                    if _rev_of(message) > _rev_of(latest.get(message["id"])):
                        latest[message["id"]] = message
                events.update((int(e["seq"]), e) for e in ack.get("events", ()))
                # each list is complete up to its highest seq when it was cut short; the next page starts
                # where the shorter of them stops
                complete_to = []
                if ack["has_more"]:
                    complete_to.append(max((_rev_of(m) for m in ack["messages"]), default=cursor))
                if len(ack.get("events", ())) >= EVENTS_PER_JOIN:
                    complete_to.append(max(int(e["seq"]) for e in ack["events"]))
                if not complete_to:
                    break
                cursor = min(complete_to)
            self._hand_out(since, latest, events)
        self.last = max(self.last or 0, ack["last_seq"])
        chatkit.log.info("joined #%s at seq %s", self.channel, self.last)

    def _hand_out(self, since: int, latest: dict[str, Message], events: dict[int, Event]) -> None:
        """What a catch-up gathered, in seq order: a message by its own seq (new, or as a change when it
        was handed out before), an event by its seq."""
        records: list[tuple[int, Event]] = [(int(m["seq"]), m) for m in latest.values()]
        records += [(seq, e) for seq, e in events.items() if seq > since]
        for _, record in sorted(records, key=lambda r: r[0]):
            if is_channel_event(record):
                self._event(record)
            elif _rev_of(record) <= self._rev(record["id"]):
                continue  # already handed out (live, while this catch-up was on its way)
            elif record["id"] not in self.known and int(record["seq"]) > since:
                self._new(record)
            else:
                self._changed(caught_up(self.known.get(record["id"]), record))

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

    async def on_event(self, event: Event) -> None:
        """A `channel_event`: handed out at its seq like a message; one removing or banning this user
        joins again (see the class)."""
        seq = int(event["seq"])
        if event.get("channel") != self.channel or seq in self.event_seqs:
            return  # another channel's (this user was added there), or a repeat from a catch-up's overlap
        if self.last is not None and seq > self.last + 1:
            await self.catch_up()  # a gap: the catch-up brings this event too, in order
            return
        self._event(event)
        self.last = max(self.last or 0, seq)
        if event["kind"] in ("member_removed", "banned") and str(event.get("target", "")).lower() == self.me:
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


async def reconnect(sio: socketio.AsyncClient, url: str, token: str, delay: float, refusals: list[Any]) -> None:
    """Reconnect after the server closed the session, until it takes (the server may be restarting); a
    refusal of the session itself (`unauthorized`: logged out, expired, the account suspended) is final and
    raised as ChatError. `refusals` collects the `connect_error`s of the attempts."""
    while not sio.connected:
        await asyncio.sleep(delay)
        refusals.clear()
        try:
            await chatkit.connect(sio, url, token)
        except ValueError:  # the client's own reconnection got there first; wait for it
            continue
        except socketio.exceptions.ConnectionError as exc:
            refused = next((r for r in refusals if isinstance(r, dict)), None)  # not the transport's (a str)
            if refused is not None and refused.get("code") == "unauthorized":
                raise chatkit.ChatError(refused) from None
            chatkit.log.warning("reconnect failed (%s); retrying", exc)


async def follow(
    url: str,
    token: str,
    channel: str | None,
    out: Callable[[Event], None],
    *,
    after: int | None,
    reconnect_delay: float,
    me: str = "",
    inbox: Notifications | None = None,
) -> None:
    """Hand every message of `channel` after `after` (default: the last 50), every change to one and every
    channel event to `out` until cancelled: a change is a dict with `message`, a channel event one with
    `kind` and no `message` (see `Tail`; `me`, the user's name, lets it join again when removed). With
    `inbox`, the user's notifications go to its own function as well, those missed while away included;
    `channel` None follows them alone."""
    sio = socketio.AsyncClient(reconnection_delay=reconnect_delay, reconnection_delay_max=30)
    queue: asyncio.Queue[Any] = asyncio.Queue()
    refusals: list[Any] = []
    sio.on("connect", lambda: queue.put_nowait(RESYNC))
    sio.on("connect_error", refusals.append)
    tail = Tail(sio, channel, after, out, me) if channel is not None else None
    handlers: dict[str, Callable[[Event], Awaitable[None]]] = {}
    if tail is not None:
        handlers.update(message=tail.on_message, message_updated=tail.on_change, channel_event=tail.on_event)
    if inbox is not None:
        handlers["notification"] = inbox.on_notification
    for name in handlers:
        sio.on(name, lambda record, name=name: queue.put_nowait((name, record)))

    def disconnected(reason: str = "") -> None:
        chatkit.log.warning("disconnected (%s); reconnecting", reason)
        if reason == sio.reason.SERVER_DISCONNECT:  # the client gives up on these by itself
            queue.put_nowait(reason)

    sio.on("disconnect", disconnected)
    await chatkit.connect(sio, url, token)
    try:
        while True:
            item = await queue.get()
            if item is RESYNC:
                for follower in (tail, inbox):
                    if follower is not None:
                        await follower.catch_up()
            elif isinstance(item, str):
                await reconnect(sio, url, token, reconnect_delay, refusals)
            else:
                await handlers[item[0]](item[1])
    finally:
        await sio.disconnect()


async def run(args: argparse.Namespace) -> int:
    """Print the channel to stdout, one line (or JSON line with --json) a message, a change or a channel
    event; with --notifications each notification too, one line: time, kind, channel and its text."""
    seqs: dict[str, int] = {}  # message id -> seq, to say which message a reply or a change is about

    def out(event: Event) -> None:
        if args.json:
            line = json.dumps(event, ensure_ascii=False)
        elif is_change(event):
            line = chatkit.show_change(event)
        elif is_channel_event(event):
            line = chatkit.show_event(event)
        else:
            if event.get("seq") is not None:
                seqs[event["id"]] = event["seq"]
            line = chatkit.show(event, root_seq=seqs.get(event.get("reply_to") or ""))
        print(line, flush=True)

    def notified(notification: Event) -> None:
        line = json.dumps(notification, ensure_ascii=False) if args.json else chatkit.show_notification(notification)
        print(line, flush=True)

    async with aiohttp.ClientSession() as http:
        token = await chatkit.log_in(http, args)
        inbox = Notifications(Api(http, args.url, token), notified) if args.notifications else None
        await follow(
            args.url,
            token,
            args.channel,
            out,
            after=args.after,
            reconnect_delay=args.reconnect_delay,
            me=args.username,
            inbox=inbox,
        )
    return 0
