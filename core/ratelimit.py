"""A token bucket held in process memory: the memory bus's limits and each connection's event budget."""

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
