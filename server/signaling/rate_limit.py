"""A token bucket: bursts are fine, sustained floods are not."""

from __future__ import annotations

import time


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def take(self) -> bool:
        """Spend one token; False when the bucket is empty."""
        self._refill()
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def available(self) -> int:
        """Whole tokens that may be spent now."""
        self._refill()
        return int(self.tokens)

    def spend(self, count: int) -> None:
        """Spend `count` tokens known to be there (`available`)."""
        self.tokens -= count

    def seconds_until_token(self) -> float:
        """How long until one whole token is there (0 when one is)."""
        self._refill()
        return max(0.0, (1 - self.tokens) / self.rate)
