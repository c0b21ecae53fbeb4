"""Waiting between retries of something that keeps failing (a lost Redis, a store that is down)."""

from __future__ import annotations

import asyncio

from redis.backoff import ExponentialBackoff


class Backoff:
    """`first` seconds, doubling up to `cap`, from `first` again after a success. redis-py's
    ExponentialBackoff gives the sequence (its client already retries commands with its siblings);
    this adds the count of failures in a row that it leaves to its caller."""

    def __init__(self, first: float, cap: float) -> None:
        self.cap = cap
        self._delays = ExponentialBackoff(cap=cap, base=first)
        self._failures = 0

    @property
    def delay(self) -> float:
        """Seconds the next wait() sleeps."""
        return self._delays.compute(self._failures)

    async def wait(self) -> None:
        """Sleep after one more failure; the next wait sleeps longer, up to `cap`."""
        delay = self.delay
        self._failures += 1
        await asyncio.sleep(delay)

    def reset(self) -> None:
        """It worked: the next failure waits `first` again."""
        self._failures = 0
