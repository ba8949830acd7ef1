"""Ends waiting tickets that cannot be served, so nobody waits forever (docs/hours.md "Sweeper").

Every SWEEP_INTERVAL_S one process (a short Redis lock) looks at the waiting tickets: a ticket
whose centre has closed is ended with reason `centre_closed`; one whose skill has had nobody
signed in for JINGLIN_NO_STAFF_GRACE_S with reason `no_staff`. The kiosk is told first
(`service_notice`), so it shows the notice with the next opening instead of a bare start screen.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from session_queue import QueueError
from sqlalchemy import select

from server.db.models import ServiceSession
from server.hours.appointments import mark_no_shows
from server.hours.service import HoursService
from server.runtime.district_time import iso_local
from server.runtime.periodic import run_periodically
from server.runtime.redis_keys import RedisKeys

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 15.0
Notify = Callable[[int, dict[str, Any]], Awaitable[None]]


class Sweeper:
    """One sweep loop per process; the Redis lock keeps two processes from sweeping at once."""

    def __init__(self, hours: HoursService, keys: RedisKeys, notify: Notify, no_staff_grace_s: float) -> None:
        self.hours = hours
        self.keys = keys
        self.notify = notify
        self.grace_s = no_staff_grace_s
        # A grace much shorter than the usual interval (a small centre's setting, or a test) is
        # honoured by sweeping more often: a quarter of the grace, at least once a second.
        self.interval_s = min(SWEEP_INTERVAL_S, max(1.0, no_staff_grace_s / 4))
        # Since when (monotonic) each skill has had nobody signed in, as this process saw it.
        self.unstaffed_since: dict[str, float] = {}

    async def sweep(self) -> int:
        """One round; returns how many tickets it ended (0 when another process holds the lock)."""
        redis = self.hours.queue.redis
        if not await redis.set(self.keys.hours_sweep_lock, "1", nx=True, ex=max(1, int(self.interval_s) - 1)):
            return 0
        async with self.hours.sessions() as db, db.begin():
            await mark_no_shows(db, self.hours.clock.now())  # bookings nobody checked in for
        async with self.hours.sessions() as db:
            rows = (await db.scalars(select(ServiceSession).where(ServiceSession.state == "waiting"))).all()
        if not rows:
            self.unstaffed_since.clear()
            return 0
        eligible = (await self.hours.queue.queue.live_figures()).eligible_by_skill
        now_mono = time.monotonic()
        for skill in {row.skill for row in rows}:
            if eligible.get(skill, 0) > 0:
                self.unstaffed_since.pop(skill, None)
            else:
                self.unstaffed_since.setdefault(skill, now_mono)
        ended = 0
        closed_of: dict[int, tuple[bool, datetime | None]] = {}  # one calendar read per kiosk a round
        for row in rows:
            if row.kiosk_id not in closed_of:
                closed_of[row.kiosk_id] = await self.hours.closed_until(row.kiosk_id)
            reason, next_open = self._reason(row, closed_of[row.kiosk_id], now_mono)
            if reason and await self._end(row, reason, next_open):
                ended += 1
        return ended

    def _reason(self, row: ServiceSession, closed_now: tuple[bool, datetime | None],
                now_mono: float) -> tuple[str, str | None]:
        closed, next_open = closed_now
        if closed:
            return "centre_closed", iso_local(next_open)
        since = self.unstaffed_since.get(row.skill)
        if since is not None and now_mono - since >= self.grace_s:
            return "no_staff", None
        return "", None

    async def _end(self, row: ServiceSession, reason: str, next_open: str | None) -> bool:
        live = await self.hours.queue.queue.ticket(row.id)
        if live is None or live.state != "waiting":  # offered or answered since the read: leave it be
            return False
        try:
            await self.hours.queue.cancel(row.id, reason)
        except QueueError as exc:
            log.info("sweep skipped a ticket", extra={"code": exc.code})
            return False
        await self.notify(row.kiosk_id, {"type": "service_notice", "reason": reason, "session_id": row.id,
                                         "matter_id": row.matter_id, "next_open": next_open,
                                         "now": iso_local(self.hours.clock.now())})
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep every `interval_s` until `stop` is set."""
        await run_periodically(self.sweep, stop, self.interval_s, name="hours sweep")


SWEEPER: web.AppKey[Sweeper] = web.AppKey("hours_sweeper")
