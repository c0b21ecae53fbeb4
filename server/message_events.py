"""The Socket.IO events that write to a channel: `send` (a message, a reply or a bot command) and the
changes to a message (edit, delete, react, unreact, pin, unpin), each spending from the sender's limits."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from core.bus import BOT_STREAM, Limit, RateLimited, SeqUnseeded
from core.changes import check_emoji, not_found
from core.commands import is_command, parse_command
from core.errors import ChatError
from core.models import MAX_TEXT, ChangeKind, Command, Message, is_blank, new_id, now_iso, utcnow
from core.posting import change, find_message, publish
from server.access import Need, Rules
from server.acks import answered
from server.app_keys import ACCESS, BUS, KNOWN_USERS, METRICS, SETTINGS, STORE
from server.mentions import Unknown, mentions
from server.payloads import EditPayload, MessageRef, ReactPayload, SendPayload, event_payload
from server.stamps import RECENT_QUOTES
from server.watchlist import watch_command
from socketio_edge import Answer, ChatSocketServer, spawn

if TYPE_CHECKING:
    from server.realtime import Conn, Realtime

CHANGES: tuple[ChangeKind, ...] = ("edit", "delete", "react", "unreact", "pin", "unpin")


def _sending_too_fast() -> ChatError:
    return ChatError("rate_limited", "You are sending too fast; wait a moment")


def _unsendable(conn: Conn, data: SendPayload | EditPayload) -> ChatError | None:
    """Why `data` cannot be sent on `conn`, by what the node holds (the send path's checks, one copy)."""
    if data.channel not in conn.channels:
        return ChatError("not_joined", f"Join #{data.channel} before sending to it")
    if is_blank(data.text):
        return ChatError("empty_message", "The message is empty")
    if len(data.text) > MAX_TEXT:
        return ChatError("message_too_long", f"Messages are at most {MAX_TEXT} characters")
    return None


def _clean(text: str) -> str:
    """NUL shows nothing and cuts C strings short in the tools reading the archive: dropped."""
    return text.replace("\x00", "")


class MessageEvents:
    """What a node's connections post: handlers over the connections the Realtime holds."""

    def __init__(self, realtime: Realtime) -> None:
        self.realtime = realtime
        self.app = realtime.app
        self.conns = realtime.conns

    def register(self, sio: ChatSocketServer) -> None:
        sio.on("send", self.send)
        sio.on_immediate("send", self.send_soon)
        for kind in CHANGES:
            sio.on(kind, getattr(self, kind))

    async def admit(self, sid: str, *, counted: bool = True) -> None:
        await self.realtime.admit(sid, counted=counted)

    def failure(self, sid: str, event: str, exc: BaseException) -> dict[str, Any]:
        return self.realtime.failure(sid, event, exc)

    def _conn(self, sid: str) -> Conn:
        return self.realtime.conn(sid)

    @answered
    async def send(self, sid: str, *args: Any) -> dict[str, Any]:
        data = event_payload(SendPayload, args)
        conn = self._conn(sid)
        problem = _unsendable(conn, data)
        if problem is not None:
            if problem.code == "not_joined":
                raise await self.realtime.not_joined(conn, data.channel)
            raise problem
        rules = await self.app[ACCESS].rules(data.channel)
        refusal = rules.refusal(conn.viewer, post=True)
        if refusal is not None:
            raise refusal
        limit = self._send_limit(conn)
        if is_command(data.text):
            if not await self.app[BUS].allow(limit.key, limit.rate, limit.burst):
                raise _sending_too_fast()
            return await self._command(conn, data)
        message, dedup = self._draft(conn, data, await self._mentions(conn, _clean(data.text), rules))
        if data.reply_to is not None:
            root = await find_message(self.app[BUS], self.app[STORE], data.channel, data.reply_to)
            if root is None:
                raise not_found(data.reply_to)
            message.reply_to = root.reply_to or root.id  # a reply to a reply joins its root's thread
        if rules.slowed(conn.viewer):
            wait = await self.app[BUS].hold(f"slow:{data.channel}:{conn.user.lower()}", rules.slow_mode_s)
            if wait:
                raise ChatError(
                    "slow_mode", f"Slow mode: one message every {rules.slow_mode_s} s", retry_after=round(wait, 1)
                )
        return await self._post(message, dedup, limit)

    @answered
    async def edit(self, sid: str, *args: Any) -> dict[str, Any]:
        data = event_payload(EditPayload, args)
        conn = self._conn(sid)
        problem = _unsendable(conn, data)
        if problem is not None:
            if problem.code == "not_joined":  # a private channel is not revealed: as send answers
                raise await self.realtime.not_joined(conn, data.channel)
            raise problem
        return await self._change(sid, data, "edit", text=_clean(data.text))

    @answered
    async def delete(self, sid: str, *args: Any) -> dict[str, Any]:
        return await self._change(sid, event_payload(MessageRef, args), "delete")

    @answered
    async def react(self, sid: str, *args: Any) -> dict[str, Any]:
        data = event_payload(ReactPayload, args)
        check_emoji(data.emoji)
        return await self._change(sid, data, "react", emoji=data.emoji)

    @answered
    async def unreact(self, sid: str, *args: Any) -> dict[str, Any]:
        data = event_payload(ReactPayload, args)
        check_emoji(data.emoji)
        return await self._change(sid, data, "unreact", emoji=data.emoji)

    @answered
    async def pin(self, sid: str, *args: Any) -> dict[str, Any]:
        return await self._change(sid, event_payload(MessageRef, args), "pin")

    @answered
    async def unpin(self, sid: str, *args: Any) -> dict[str, Any]:
        return await self._change(sid, event_payload(MessageRef, args), "unpin")

    async def _change(
        self, sid: str, data: MessageRef, kind: ChangeKind, *, text: str = "", emoji: str = ""
    ) -> dict[str, Any]:
        """One change to a message of a channel the connection joined, spending from the sender's send
        limit like a message; every member gets it as `message_updated` from the live feed."""
        conn = self._conn(sid)
        if data.channel not in conn.channels:
            raise await self.realtime.not_joined(conn, data.channel)
        # deleting and pinning are for authors and moderators, muted or not; the rest is posting
        need = Need.SEE if kind in ("delete", "pin", "unpin") else Need.POST
        grant = await self.app[ACCESS].channel(conn.viewer, data.channel, need)
        mentioned = await self._mentions(conn, text, await self.app[ACCESS].rules(grant.channel.name)) if text else None
        settings = self.app[SETTINGS]
        try:
            message = await change(
                self.app[BUS], self.app[STORE], grant.channel, data.id, kind, conn.user,
                moderator=grant.moderator, edit_window=settings.edit_window, now=utcnow(), text=text, emoji=emoji,
                mentions=mentioned, limit=self._send_limit(conn),
            )  # fmt: skip
        except RateLimited:
            raise _sending_too_fast() from None
        return {"ok": True, "message": message.wire()}

    def send_soon(self, sid: str, args: list[Any], answer: Answer) -> bool:
        """`send` without a task for what most sends are (a message to a joined channel, within the
        budgets): checked in the frame's own callback, posted, and answered when the post's outcome is
        known. False, having changed nothing: `send` takes the event and answers it (errors, commands)."""
        conn = self.conns.get(sid)
        if conn is None or len(args) != 1 or type(args[0]) is not dict:
            return False
        try:
            data = SendPayload.model_validate(args[0])
        except ValidationError:
            return False
        if _unsendable(conn, data) is not None or is_command(data.text) or data.reply_to is not None:
            return False
        rules = self.app[ACCESS].cached_rules(data.channel)
        if rules is None or rules.slowed(conn.viewer) or rules.refusal(conn.viewer, post=True) is not None:
            return False  # `send` answers it, with the wait or the refusal
        try:
            mentioned = mentions(_clean(data.text), rules, conn.viewer, self.app[KNOWN_USERS])
        except Unknown:
            return False  # `send` looks the names up first
        message, dedup = self._draft(conn, data, mentioned)
        if not conn.events.take():
            return False
        limit = self._send_limit(conn)
        try:
            posting = self.app[BUS].post_soon(message, dedup, limit)
        except Exception as exc:
            answer(self.failure(sid, "send", exc))
            return True
        if posting.done():  # the memory bus posts at once: answered in this turn, no callback to schedule
            self._posted(sid, answer, message, dedup, limit, posting)
        else:
            posting.add_done_callback(functools.partial(self._posted, sid, answer, message, dedup, limit))
        return True

    def _posted(
        self,
        sid: str,
        answer: Answer,
        message: Message,
        dedup: str | None,
        limit: Limit,
        posting: asyncio.Future[tuple[Message, bool]],
    ) -> None:
        if posting.cancelled():
            return
        failed = posting.exception()
        if failed is None:
            answer(self._sent(*posting.result()))
        elif isinstance(failed, SeqUnseeded):  # the channel's first post since the bus started
            spawn(self._answer_later(sid, answer, self._post(message, dedup, limit)))
        elif isinstance(failed, RateLimited):
            answer(self.failure(sid, "send", _sending_too_fast()))
        else:
            answer(self.failure(sid, "send", failed))

    async def _answer_later(self, sid: str, answer: Answer, outcome: Awaitable[dict[str, Any]]) -> None:
        try:
            result = await outcome
        except Exception as exc:
            result = self.failure(sid, "send", exc)
        answer(result)

    def _send_limit(self, conn: Conn) -> Limit:
        settings = self.app[SETTINGS]
        return Limit(f"send:{conn.user}", settings.send_rate, settings.send_burst)

    async def _mentions(self, conn: Conn, text: str, rules: Rules) -> list[str] | None:
        """The mentions of a text to send or an edit, names this node does not know yet looked up first."""
        try:
            return mentions(text, rules, conn.viewer, self.app[KNOWN_USERS])
        except Unknown as unknown:
            await self.app[KNOWN_USERS].learn(unknown.names)
            return mentions(text, rules, conn.viewer, self.app[KNOWN_USERS])

    def _draft(self, conn: Conn, data: SendPayload, mentioned: list[str] | None) -> tuple[Message, str | None]:
        """The message to post, from what the node holds: no await."""
        text = _clean(data.text)
        recent = self.app.get(RECENT_QUOTES)
        stamps = recent.stamps(text) if recent is not None else None  # in memory: the send never waits
        message = Message(
            id=new_id(),
            channel=data.channel,
            user=conn.user,
            text=text,
            ts=now_iso(),
            stamps=stamps,
            mentions=mentioned,
        )
        return message, f"{conn.user}\x00{data.client_id}" if data.client_id else None

    async def _post(self, message: Message, dedup: str | None, limit: Limit) -> dict[str, Any]:
        try:
            # the send limit is taken by the post itself, and the post puts the message on the bus's live
            # feed, which every node (this one too) delivers to its members of the room in seq order
            posted, repeated = await publish(self.app[BUS], self.app[STORE], message, dedup, limit)
        except RateLimited:
            raise _sending_too_fast() from None
        return self._sent(posted, repeated)

    def _sent(self, posted: Message, repeated: bool) -> dict[str, Any]:
        if not repeated:
            self.app[METRICS].messages.inc()
        return {"ok": True, "message": posted.wire()}

    async def _command(self, conn: Conn, data: SendPayload) -> dict[str, Any]:
        parsed = parse_command(data.text)
        if parsed.name in ("watch", "unwatch"):  # the node's own: a watchlist needs no quote, so no bot
            self.app[METRICS].commands.inc()
            return await watch_command(self.app, conn.user, data.channel, parsed)
        command = Command(id=new_id(), channel=data.channel, user=conn.user, text=data.text.strip(), ts=now_iso())
        await self.app[BUS].append(BOT_STREAM, command.model_dump_json().encode())
        self.app[METRICS].commands.inc()
        return {"ok": True, "command": {"id": command.id, "name": parsed.name, "args": list(parsed.args)}}
