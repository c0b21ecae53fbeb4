"""Retention (docs/protocol.md#retention-and-legal-hold): once a day among all replicas, the content of what the
journal holds past its channel's retention is redacted, its hash kept so the chain still verifies, except
what a legal hold covers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from core.bus import RateLimits
from core.models import AuditEntry, Hold, iso, ordered_id, utcnow
from core.store import Store
from core.worker import run_steps

logger = logging.getLogger(__name__)
DAY_KEY = "retention:day"  # the bus's token bucket that hands out one run a day among replicas
DAY = 86400.0
TICK = 300.0  # seconds between asks for the day's token: a run starts at most this late
PAGE = 500  # entries found, then redacted, per store call


@dataclass
class RedactionReport:
    """What one run did: `channels` with a retention looked at, `held_channels` of them skipped whole under a
    hold, `redacted` entries redacted now (`by_channel` where any were), `held` expired entries a hold on
    their user kept."""

    channels: int = 0
    held_channels: int = 0
    redacted: int = 0
    held: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)


@dataclass
class HoldScope:
    """What the standing holds cover: everything, whole channels, or users' records (lower-cased names),
    everywhere (under None) or in given channels."""

    everything: bool = False
    channels: set[str] = field(default_factory=set)
    users: dict[str | None, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, holds: Iterable[Hold]) -> HoldScope:
        scope = cls()
        for hold in holds:
            if hold.users is None:
                if hold.channels is None:
                    scope.everything = True
                scope.channels.update(hold.channels or ())
                continue
            places: list[str | None] = list(hold.channels) if hold.channels is not None else [None]
            for place in places:
                scope.users.setdefault(place, set()).update(user.lower() for user in hold.users)
        return scope

    def whole(self, channel: str) -> bool:
        return self.everything or channel in self.channels

    def users_in(self, channel: str) -> set[str]:
        return self.users.get(None, set()) | self.users.get(channel, set())


async def redact_expired(store: Store, *, now: datetime, default_days: int | None) -> RedactionReport:
    """Redact, in every journaled channel (deleted ones included) with a retention (its own, else
    `default_days`; neither: kept forever), the entries stamped more than that many days before `now`,
    except those under a hold; then write the `retention.run` audit entry, if any channel had a retention."""
    scope = HoldScope.of(await store.holds())
    own = {channel.name: channel.retention_days for channel in await store.list_channels()}
    report = RedactionReport()
    for channel in await store.journal_channels():
        days = own.get(channel) or default_days
        if days is None:
            continue
        report.channels += 1
        if scope.whole(channel):
            report.held_channels += 1
            continue
        redacted = await _redact_channel(store, channel, now, days, scope.users_in(channel), report)
        if redacted:
            report.by_channel[channel] = redacted
            report.redacted += redacted
    if report.channels:  # with no retention anywhere there was nothing to do, and nothing to log daily
        await store.add_audit(_audited(report, now, default_days))
    return report


async def _redact_channel(
    store: Store, channel: str, now: datetime, days: int, held: set[str], report: RedactionReport
) -> int:
    before, at = iso(now - timedelta(days=days)), iso(now)
    redacted, after = 0, 0
    while page := await store.journal_expired(channel, before, after=after, limit=PAGE):
        seqs = [seq for seq, user in page if user.lower() not in held]
        report.held += len(page) - len(seqs)
        if seqs:
            redacted += await store.journal_redact(channel, seqs, at)
        if len(page) < PAGE:
            break
        after = page[-1][0]
    return redacted


def _audited(report: RedactionReport, now: datetime, default_days: int | None) -> AuditEntry:
    """The run's audit entry, stamped when it ran (the log pages by real time, whatever clock a test moves)."""
    ran = utcnow()
    details = {**asdict(report), "now": iso(now), "default_days": default_days}
    return AuditEntry(id=ordered_id(ran.timestamp()), ts=iso(ran), actor=None, action="retention.run", details=details)


class Retention:
    """Run by every archiver replica (standalone: inside the node): `run` until stopped asks for the day's
    token every `tick` and redacts when given it."""

    def __init__(
        self,
        bus: RateLimits,
        store: Store,
        default_days: int | None,
        *,
        clock: Callable[[], datetime] = utcnow,
        tick: float = TICK,
    ) -> None:
        self.bus = bus
        self.store = store
        self.default_days = default_days
        self.clock = clock
        self.tick = tick
        self._due = False  # the day's token taken and its run not done yet: a failed run is retried, not lost

    async def run(self, stop: asyncio.Event) -> None:
        await run_steps(lambda: self._step(stop), stop, failed="retention run failed", log=logger)

    async def _step(self, stop: asyncio.Event) -> int:
        if not self._due and not await self.bus.allow(DAY_KEY, 1 / DAY, 1):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.tick)
            return 0
        self._due = True
        report = await redact_expired(self.store, now=self.clock(), default_days=self.default_days)
        self._due = False
        logger.info("retention run: %s", report, extra={"redacted": report.redacted, "held": report.held})
        return report.redacted
