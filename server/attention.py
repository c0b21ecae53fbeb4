"""What asks for a user's attention on every device: read marks (`read`, `read_state`) and notifications
(`notification`), which the notifier (archiver/notifier.py) hands every node through a notice on the bus."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.posting import last_seq
from server.access import Need
from server.acks import answered
from server.app_keys import ACCESS, BUS, STORE
from server.payloads import ReadPayload, event_payload

if TYPE_CHECKING:
    from server.realtime import Realtime


class Attention:
    def __init__(self, realtime: Realtime) -> None:
        self.realtime = realtime
        self.app = realtime.app
        self.sio = realtime.sio

    async def admit(self, sid: str, *, counted: bool = True) -> None:
        await self.realtime.admit(sid, counted=counted)

    def failure(self, sid: str, event: str, exc: BaseException) -> dict[str, Any]:
        return self.realtime.failure(sid, event, exc)

    @answered
    async def read(self, sid: str, *args: Any) -> dict[str, Any]:
        """The user has seen the channel up to `seq`: the mark only moves forward, never past the channel's
        last seq, and the user's other connections hear of it (`read_state`) when it moved."""
        data = event_payload(ReadPayload, args)
        conn = self.realtime.conn(sid)
        grant = await self.app[ACCESS].channel(conn.viewer, data.channel, Need.SEE)
        name = grant.channel.name
        seen = min(data.seq, await last_seq(self.app[STORE], self.app[BUS], name))
        mark = await self.app[STORE].mark_read(conn.user, name, seen)
        if mark == seen and seen > 0:
            await self.sio.to_users([conn.user], "read_state", {"channel": name, "seq": mark}, skip_sid=sid)
        return {"ok": True, "channel": name, "seq": mark}

    async def deliver(self, notifications: list[Any]) -> None:
        """A notice's notifications ({user, notification}) to this node's connections of each user."""
        for item in notifications:
            if isinstance(item, dict) and isinstance(item.get("user"), str):
                await self.sio.to_users([item["user"]], "notification", item.get("notification"), here_only=True)
