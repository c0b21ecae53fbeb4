"""Follow a user's notifications (`notification`: mentions, DMs, keywords, cashtags...) whatever channel
they are about, and fetch from the inbox those that came while the connection was away (docs/protocol.md,
"Notifications")."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import chatkit
from chatkit.api import PAGE_MAX, Api

Notification = dict[str, Any]  # {id, kind, channel?, message?, text, ts}
KNOWN_MAX = 10_000  # ids remembered to tell a repeat from a new one


class Notifications:
    """Hands each of the user's notifications to `out` once. The first `catch_up` (at the first connect) only
    notes the newest one in the inbox: what came before is the inbox's, not news. Later ones (after a
    reconnect) page the inbox back to the newest id accounted for and hand out those missed, oldest first;
    ids grow with time, which is how the inbox pages."""

    def __init__(self, api: Api, out: Callable[[Notification], None]) -> None:
        self.api, self.out = api, out
        self.newest: str | None = None  # the highest id accounted for; None until the first catch-up
        self.seen: OrderedDict[str, None] = OrderedDict()

    def _hand_out(self, notification: Notification) -> None:
        self.seen[notification["id"]] = None
        if len(self.seen) > KNOWN_MAX:
            self.seen.popitem(last=False)
        self.newest = max(self.newest or "", notification["id"])
        self.out(notification)

    async def on_notification(self, notification: Notification) -> None:
        if notification["id"] not in self.seen:  # not one a catch-up already brought
            self._hand_out(notification)

    async def catch_up(self) -> None:
        if self.newest is None:
            page = await self.api.notifications(limit=1)
            self.newest = page["notifications"][0]["id"] if page["notifications"] else ""
            chatkit.log.info("following notifications after %s", self.newest or "none")
            return
        missed: list[Notification] = []
        before: str | None = None
        while True:
            page = await self.api.notifications(before=before, limit=PAGE_MAX)
            newer = [n for n in page["notifications"] if n["id"] > self.newest]
            missed += [n for n in newer if n["id"] not in self.seen]
            before = page["next_before"]
            if before is None or len(newer) < len(page["notifications"]):
                break
        for notification in reversed(missed):
            self._hand_out(notification)
