"""Admission control for WebSocket setups: a process takes hellos at the rate it can serve them.

A reconnect storm (a process killed, a deploy, a network flap) brings every kiosk of a process
back at once. Building a welcome costs ~1.5 ms of CPU; taken all at once they would hold the
event loop for seconds, and the calls already on the process would wait with them. So each
process admits setups through a token bucket (`JINGLIN_WS_ADMIT_RATE` per second, bursts of
`JINGLIN_WS_ADMIT_BURST`) and at most `JINGLIN_WS_ADMIT_PENDING` setups in progress. A socket over
the limit gets `error` `try_again` with `retry_after_ms` and is closed with 1013 and the reason
`retry_after_ms=N` (docs/protocol.md "Admission"); refusing costs about what the bare upgrade costs.

The hint grows with the refusals of the last few seconds: N = (1 s + recent refusals / rate),
capped at 30 s, so the clients told to come back spread over the time the process needs to take
them. Clients add their own full jitter on top (web/static/common/backoff.js, server.simulate).
"""

from __future__ import annotations

import math
import time

from server.signaling.rate_limit import TokenBucket

MIN_RETRY_MS = 1000
MAX_RETRY_MS = 30_000
# Refusals are counted with this half-life: the backlog the hint spreads out.
BACKLOG_HALF_LIFE_S = 2.0


class Admission:
    """The admission rule of one process."""

    def __init__(self, rate: float, burst: float, max_pending: int) -> None:
        self.rate = rate
        self.max_pending = max_pending
        self.bucket = TokenBucket(rate, burst)
        self.pending = 0
        self.admitted = 0
        self.refused = 0
        self._backlog = 0.0
        self._backlog_at = time.monotonic()

    def try_admit(self) -> int | None:
        """Admit one setup (then call `done` when its welcome is sent or it failed), or return the
        retry hint in milliseconds."""
        if self.pending < self.max_pending and self.bucket.take():
            self.pending += 1
            self.admitted += 1
            return None
        self.refused += 1
        backlog = self._decayed_backlog() + 1
        self._backlog = backlog
        return min(MAX_RETRY_MS, max(MIN_RETRY_MS, math.ceil(1000 * (1 + backlog / self.rate))))

    def done(self) -> None:
        """An admitted setup finished (welcome sent, refused, or the socket closed)."""
        self.pending = max(0, self.pending - 1)

    def _decayed_backlog(self) -> float:
        now = time.monotonic()
        self._backlog *= 0.5 ** ((now - self._backlog_at) / BACKLOG_HALF_LIFE_S)
        self._backlog_at = now
        return self._backlog
