"""What one user may take of a node, however many sockets they open: events, connects, history bytes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from core.errors import ChatError
from core.models import Message
from core.ratelimit import TokenBucket
from core.settings import Settings

HISTORY_READS = 4
WIRE_OVERHEAD = 200  # bytes a message's fields besides its text take on the wire, about


@dataclass(slots=True)
class UserBudget:
    events: TokenBucket  # Socket.IO events, shared by the user's sockets
    connects: TokenBucket  # new connections: a reconnect storm is refused
    history: TokenBucket  # bytes of history served, over Socket.IO and REST
    sockets: int = 0  # open Socket.IO connections

    def idle(self, now: float) -> bool:
        return self.sockets == 0 and all(b.idle_full(now) for b in (self.events, self.connects, self.history))


class Budgets:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._users: dict[str, UserBudget] = {}
        self._history_reads = asyncio.Semaphore(HISTORY_READS)

    def of(self, user: str) -> UserBudget:
        budget = self._users.get(user)
        if budget is None:
            s = self._settings
            budget = self._users[user] = UserBudget(
                # a send is an event too: the event budget never undercuts the send budget
                TokenBucket(max(s.event_rate, s.send_rate), max(s.event_burst, s.send_burst)),
                TokenBucket(s.connect_rate, s.connect_burst),
                TokenBucket(s.history_byte_rate, s.history_byte_burst),
            )
        return budget

    def forget_idle(self) -> None:
        """Drop the budgets of users gone long enough for them to be full again."""
        now = time.monotonic()
        for user in [user for user, budget in self._users.items() if budget.idle(now)]:
            del self._users[user]

    @contextlib.asynccontextmanager
    async def reading_history(self, user: str) -> AsyncIterator[Callable[[list[Message]], object]]:
        """A history read, one of at most HISTORY_READS at a time on the node (each holds a page of up
        to 200 messages in memory), refused while `user` is in debt: history costs its bytes, and one
        who pulled more than history_byte_rate allows waits until the debt is paid (one long catch-up
        always fits in the burst). Yields the call that charges what was read."""
        bucket = self.of(user).history
        async with self._history_reads:
            if not bucket.charge(0):
                raise ChatError("rate_limited", "Reading history too fast; wait a moment", 429)
            yield lambda messages: bucket.charge(sum(len(m.text.encode()) + WIRE_OVERHEAD for m in messages))
