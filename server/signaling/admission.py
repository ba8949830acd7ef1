"""Admission control for WebSocket setups: a process takes hellos at the rate it can serve them.

A reconnect storm (a process killed, a deploy, a network flap) brings every kiosk of a process
back at once. Building a welcome costs ~1.5 ms of CPU; taken all at once they would hold the
event loop for seconds, and the calls already on the process would wait with them. So each
process admits setups through a token bucket (`JINGLIN_WS_ADMIT_RATE` per second, bursts of
`JINGLIN_WS_ADMIT_BURST`) and at most `JINGLIN_WS_ADMIT_PENDING` setups in progress. A socket over
the limit gets `error` `try_again` with `retry_after_ms` and is closed with 1013 and the reason
`retry_after_ms=N` (docs/protocol.md "Admission"); refusing costs about what the bare upgrade costs.

The hint is a place in a virtual queue: each refused socket is given the next free return slot,
slots `1 / (SLOT_SHARE · rate)` apart and at least 1 s ahead, so the refused clients come back
spread at the rate the process admits them (a little below it, leaving room for sockets arriving
for the first time) instead of all together after the same wait, to be refused again. Clients add
a small jitter of their own after the hint (web/static/common/backoff.js, server.simulate).

Under `jinglin serve` the rate is kept one step earlier, by the listener
(server/signaling/listener.py): it takes new connections from the kernel's accept queue only as
the bucket allows (`paced`), so a storm waits there at no CPU cost instead of being upgraded only
to be refused. Sockets it takes beyond the rate because that queue would hold them too long
(`excess`) are the ones refused here, with slots behind the queue's wait (`queue_wait_s`).
"""

from __future__ import annotations

import math
import time

from server.signaling.rate_limit import TokenBucket

MIN_RETRY_MS = 1000
MAX_RETRY_MS = 30_000
# Return slots are handed out at this share of the admission rate: the rest of the bucket is for
# sockets that arrive for the first time while the refused ones come back.
SLOT_SHARE = 0.9


class Admission:
    """The admission rule of one process."""

    def __init__(self, rate: float, burst: float, max_pending: int) -> None:
        self.rate = rate
        self.max_pending = max_pending
        self.bucket = TokenBucket(rate, burst)
        self.pending = 0
        self.admitted = 0
        self.refused = 0
        # The monotonic time of the last return slot handed out.
        self._last_slot = 0.0
        # Set by the paced listener: connections are taken at the rate before they get here.
        self.paced = False
        # Connections the listener took beyond the rate, to be told when to come back.
        self.excess = 0
        # The listener's estimate of how long a new connection now waits in the accept queue.
        self.queue_wait_s = 0.0

    def try_admit(self) -> int | None:
        """Admit one setup (then call `done` when its welcome is sent or it failed), or return the
        retry hint in milliseconds."""
        if self.paced:
            # The listener spent the bucket's token when it took the connection, and took none
            # while `max_pending` setups were in progress.
            if self.excess == 0:
                self._admit()
                return None
            self.excess -= 1
        elif self.pending < self.max_pending and self.bucket.take():
            self._admit()
            return None
        self.refused += 1
        return self._next_slot_ms()

    def _admit(self) -> None:
        self.pending += 1
        self.admitted += 1

    def accept_allowance(self) -> int:
        """How many new connections the listener may take now: the bucket's whole tokens, while
        fewer than `max_pending` setups are in progress."""
        if self.pending >= self.max_pending:
            return 0
        return min(self.bucket.available(), self.max_pending - self.pending)

    def done(self) -> None:
        """An admitted setup finished (welcome sent, refused, or the socket closed)."""
        self.pending = max(0, self.pending - 1)

    def _next_slot_ms(self) -> int:
        now = time.monotonic()
        # Not before the sockets already waiting in the accept queue have been taken.
        earliest = now + max(MIN_RETRY_MS / 1000, self.queue_wait_s)
        slot = max(earliest, self._last_slot + 1 / (SLOT_SHARE * self.rate))
        latest = now + MAX_RETRY_MS / 1000
        if slot <= latest:
            self._last_slot = slot
        # Past the cap the queue is full: the slot is not taken, the client hears the cap.
        return min(MAX_RETRY_MS, max(MIN_RETRY_MS, math.ceil(1000 * (slot - now))))
