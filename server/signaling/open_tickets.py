"""A kiosk's open ticket for its `welcome`, without a database query per reconnect.

Most kiosks hold no ticket when they reconnect. Once this process has read from the database that
a kiosk has none, it keeps that answer together with the kiosk's join counter in Redis
(`RedisKeys.kiosk_joins`, bumped by `QueueService.join` before it writes a ticket row, and read
in the welcome's one Redis round trip, with the queue's epoch marker, which is new after every
rebuild): while both are unchanged, no ticket row can have
been written since, so the answer still holds. Answers expire after `TTL_S` anyway, and are not
trusted right after Redis lost its state. Reads that do reach the database are coalesced: the
welcomes of a reconnect storm share one query per event-loop turn.

The answer is shared between processes too (`RedisKeys.kiosk_no_ticket`: the epoch and join
counter it was read at, read in the same welcome round trip): when a process dies, its kiosks'
first connects to the others are a failover's whole cost, and without it each of them would ask
the database again (a quarter of such a connect's CPU, measured). `QueueService.join` deletes the
marker with the same round trip that bumps the counter, and a marker is only believed when both
its epoch and its counter equal what the welcome read now, so a marker written late by a process
that read the database before a join does not match the counter after it.
"""

from __future__ import annotations

import time

from server.queueing.service import JoinedTicket, QueueService
from server.runtime.coalesce import Coalescer
from server.runtime.redis_keys import RedisKeys

TTL_S = 300.0
# The shared marker is believed only at the epoch and join counter it names, so its lifetime in
# Redis does not decide whether it is right, only whether it is still there when a process dies:
# kept for a day, it covers kiosks connected since the morning (with 300 s, as the local answer,
# the markers of the 6,000-kiosk run had all gone by the kill, and every moved kiosk read the
# database). A marker costs Redis ~100 bytes per kiosk.
SHARED_TTL_S = 86_400
MAX_ENTRIES = 100_000


class OpenTickets:
    """Open tickets of kiosks, with "none" remembered per join counter."""

    def __init__(self, queue: QueueService, ttl_s: float = TTL_S) -> None:
        self.ttl_s = ttl_s
        self.redis = queue.redis
        self.keys: RedisKeys = queue.keys
        self._lookups: Coalescer[int, JoinedTicket] = Coalescer(queue.open_tickets_of_kiosks)
        # kiosk id -> (monotonic expiry, the join counter when the database said "none").
        self._none: dict[int, tuple[float, tuple[object, object]]] = {}

    async def of(self, kiosk_id: int, joins: tuple[object, object], trusted: bool = True,
                 shared: object = None) -> JoinedTicket | None:
        """The kiosk's open ticket; `joins` is (the queue's epoch marker, the kiosk's join counter) as
        read just now: a Redis that lost its state has a new epoch, so nothing cached before counts.
        `shared` is the kiosk's `kiosk_no_ticket` marker as read in the same round trip."""
        known = self._none.get(kiosk_id)
        if trusted and known is not None and known[1] == joins and known[0] > time.monotonic():
            return None
        if trusted and joins[0] is not None and _text(shared) == marker(joins):
            self._remember_none(kiosk_id, joins)
            return None
        ticket = await self._lookups.get(kiosk_id)
        if ticket is None:
            self._remember_none(kiosk_id, joins)
            if trusted and joins[0] is not None:
                await self.redis.set(self.keys.kiosk_no_ticket(kiosk_id), marker(joins), ex=SHARED_TTL_S)
        else:
            self._none.pop(kiosk_id, None)
        return ticket

    def _remember_none(self, kiosk_id: int, joins: tuple[object, object]) -> None:
        if len(self._none) >= MAX_ENTRIES:
            self._none.clear()
        self._none[kiosk_id] = (time.monotonic() + self.ttl_s, joins)


def _text(value: object) -> str | None:
    return value.decode() if isinstance(value, bytes) else value if isinstance(value, str) else None


def marker(joins: tuple[object, object]) -> str:
    """The shared "no ticket" marker for (epoch, join counter) as read from Redis."""
    epoch, count = (_text(v) for v in joins)
    return f"{epoch}|{count if count is not None else '-'}"
