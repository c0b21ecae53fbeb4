"""Every Socket.IO event answers an ack: its result, its ChatError, or internal_error (logged once)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

# Events whose refusals do not count towards a connection's flood limit: a client opening many channels
# joins and leaves in bursts, is answered rate_limited and retries later; that is not a flood to cut off.
UNCOUNTED_REFUSALS = frozenset({"join", "leave"})


class Answering(Protocol):
    """What holds event handlers: it admits an event against the connection's budget, and words a failure."""

    async def admit(self, sid: str, *, counted: bool = True) -> None: ...

    def failure(self, sid: str, event: str, exc: BaseException) -> dict[str, Any]: ...


Handler = Callable[..., Awaitable[dict[str, Any]]]


def answered(handler: Handler) -> Handler:
    """The handler, budgeted, answering its result, its ChatError or internal_error as the event's ack."""

    @functools.wraps(handler)
    async def wrapper(self: Answering, sid: str, *args: Any) -> dict[str, Any]:
        try:
            await self.admit(sid, counted=handler.__name__ not in UNCOUNTED_REFUSALS)
            return await handler(self, sid, *args)
        except Exception as exc:
            return self.failure(sid, handler.__name__, exc)

    return wrapper
