"""Limits per principal (one kiosk, one staff account) across all its sockets in this process.

The per-connection token bucket alone let one kiosk credential open 150 sockets and send 20
messages a second on each. A principal may hold `MAX_SOCKETS` sockets (a kiosk needs one, two
while a reload overlaps; staff keep a few tabs) and all of them draw on one shared budget.
Both are counted per server process: behind a balancer of P processes the bounds are P times
these (docs/security.md).
"""

from __future__ import annotations

from collections import defaultdict

from server.signaling.connection import BURST, MESSAGES_PER_SECOND
from server.signaling.rate_limit import TokenBucket

MAX_SOCKETS = {"kiosk": 2, "caseworker": 5, "supervisor": 5, "admin": 5}
# Half as much again as one connection: a second tab adds little, 100 sockets add nothing.
PRINCIPAL_RATE = 1.5 * MESSAGES_PER_SECOND
PRINCIPAL_BURST = 1.5 * BURST


class PrincipalLimits:
    """Open sockets and the shared message budget of every principal connected here."""

    def __init__(self) -> None:
        self._open: dict[str, int] = defaultdict(int)
        self._buckets: dict[str, TokenBucket] = {}

    def admit(self, key: str, role: str) -> bool:
        """Count a new socket of principal `key`; False (and not counted) when it has too many."""
        if self._open[key] >= MAX_SOCKETS.get(role, 1):
            return False
        self._open[key] += 1
        return True

    def release(self, key: str) -> None:
        """A socket admitted by `admit` closed."""
        self._open[key] -= 1
        if self._open[key] <= 0:
            del self._open[key]
            self._buckets.pop(key, None)

    def take(self, key: str) -> bool:
        """Spend one message from the principal's shared budget; False when it is empty."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(PRINCIPAL_RATE, PRINCIPAL_BURST)
        return bucket.take()
