"""The token bucket held in process memory, the one every in-process limit uses: the memory bus's
allow(), each user's budgets on a node, the quote service's upstream budget."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field


@dataclass(slots=True)
class TokenBucket:
    rate: float  # tokens added per second
    burst: int  # the most tokens the bucket holds
    tokens: float = math.inf  # not used yet: full (the first refill caps it at burst)
    updated: float = field(default_factory=time.monotonic)

    def take(self, now: float | None = None) -> bool:
        """Take one token if there is one."""
        now = time.monotonic() if now is None else now
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def charge(self, amount: float, now: float | None = None) -> bool:
        """For costs known only afterwards (bytes served): refused while the bucket is in debt, else
        `amount` is taken, even into debt."""
        now = time.monotonic() if now is None else now
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens <= 0:
            return False
        self.tokens -= amount
        return True

    def idle_full(self, now: float) -> bool:
        """True when the bucket would be full again: it can be forgotten."""
        return self.tokens + (now - self.updated) * self.rate >= self.burst


class Buckets:
    """Token buckets by key, as Bus.allow() keeps them: a bucket asked for with another rate or burst
    keeps its tokens, and once there are more than `sweep_at` the full ones are forgotten."""

    def __init__(self, sweep_at: int) -> None:
        self._sweep_at = sweep_at
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, key: str, rate: float, burst: int, now: float) -> bool:
        """Take one token from `key`'s bucket if there is one."""
        if len(self._buckets) > self._sweep_at:
            self._buckets = {k: b for k, b in self._buckets.items() if not b.idle_full(now)}
        bucket = self._buckets.get(key)
        if bucket is None or (bucket.rate, bucket.burst) != (rate, burst):
            bucket = self._buckets[key] = TokenBucket(
                rate, burst, tokens=bucket.tokens if bucket else math.inf, updated=now
            )
        return bucket.take(now)
