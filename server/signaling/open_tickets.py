"""A kiosk's open ticket for its `welcome`, without a database query per reconnect.

Most kiosks hold no ticket when they reconnect. Once this process has read from the database that
a kiosk has none, it keeps that answer together with the kiosk's join counter in Redis
(`RedisKeys.kiosk_joins`, bumped by `QueueService.join` before it writes a ticket row, and read
in the welcome's one Redis round trip, with the queue's epoch marker, which is new after every
rebuild): while both are unchanged, no ticket row can have
been written since, so the answer still holds. Answers expire after `TTL_S` anyway, and are not
trusted right after Redis lost its state. Reads that do reach the database are coalesced: the
welcomes of a reconnect storm share one query per event-loop turn.
"""

from __future__ import annotations

import time

from server.queueing.service import JoinedTicket, QueueService
from server.runtime.coalesce import Coalescer

TTL_S = 300.0
MAX_ENTRIES = 100_000


class OpenTickets:
    """Open tickets of kiosks, with "none" remembered per join counter."""

    def __init__(self, queue: QueueService, ttl_s: float = TTL_S) -> None:
        self.ttl_s = ttl_s
        self._lookups: Coalescer[int, JoinedTicket] = Coalescer(queue.open_tickets_of_kiosks)
        # kiosk id -> (monotonic expiry, the join counter when the database said "none").
        self._none: dict[int, tuple[float, tuple[object, object]]] = {}

    async def of(self, kiosk_id: int, joins: tuple[object, object], trusted: bool = True) -> JoinedTicket | None:
        """The kiosk's open ticket; `joins` is (the queue's epoch marker, the kiosk's join counter) as
        read just now: a Redis that lost its state has a new epoch, so nothing cached before counts."""
        known = self._none.get(kiosk_id)
        if trusted and known is not None and known[1] == joins and known[0] > time.monotonic():
            return None
        ticket = await self._lookups.get(kiosk_id)
        if ticket is None:
            if len(self._none) >= MAX_ENTRIES:
                self._none.clear()
            self._none[kiosk_id] = (time.monotonic() + self.ttl_s, joins)
        else:
            self._none.pop(kiosk_id, None)
        return ticket
