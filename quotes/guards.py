"""Guards around the quote providers: a circuit breaker per provider and an upstream call budget."""

from __future__ import annotations

import time
from collections.abc import Callable

from core.ratelimit import TokenBucket

Clock = Callable[[], float]


class CircuitBreaker:
    """Opens after `threshold` consecutive provider failures; after `cooldown` seconds it lets one
    trial call through (half-open): a success closes it, a failure opens it again."""

    def __init__(self, threshold: int, cooldown: float, clock: Clock = time.monotonic) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_at: float | None = None

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        return "open" if self._clock() - self._opened_at < self.cooldown else "half-open"

    def allow(self) -> bool:
        """May a call go to the provider now? In half-open state only one trial at a time."""
        state = self.state
        if state == "closed":
            return True
        if state == "open":
            return False
        now = self._clock()
        # A trial that never reported back (cancelled) stops blocking after one cool-down.
        if self._trial_at is not None and now - self._trial_at < self.cooldown:
            return False
        self._trial_at = now
        return True

    def succeeded(self) -> None:
        self._failures = 0
        self._opened_at = self._trial_at = None

    def failed(self) -> None:
        self._failures += 1
        half_open = self._trial_at is not None
        self._trial_at = None
        if half_open or self._failures >= self.threshold:
            self._opened_at = self._clock()


class Budget:
    """A token bucket of upstream calls: `per_minute` calls a minute, all of them usable at once."""

    def __init__(self, per_minute: int, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._bucket = TokenBucket(per_minute / 60.0, per_minute, updated=clock())

    def take(self) -> bool:
        return self._bucket.take(self._clock())
