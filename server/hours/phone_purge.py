"""The daily purge of residents' phone numbers left for 回电, 回访 and 预约.

A number is kept as long as the captured images of the same time are (`JINGLIN_CAPTURE_RETENTION_DAYS`,
docs/capture.md), and only once it has served: closed callbacks (done / unreachable) and
appointments no longer booked. Every server process runs this once a day (the first a minute after
start, like the image purge), and `jinglin purge` runs the same steps at once; blanking is
idempotent, so processes running it together do no harm.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.hours import appointments, callbacks
from server.runtime.periodic import run_periodically

FIRST_PURGE_DELAY_S = 60.0
PURGE_INTERVAL_S = 24 * 3600

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PhonesBlanked:
    """How many numbers one purge blanked."""

    callbacks: int
    appointments: int


async def blank_expired_phones(sessions: async_sessionmaker[AsyncSession], retention_days: int,
                               now: datetime) -> PhonesBlanked:
    """Blank the numbers of closed callbacks and past appointments older than the retention."""
    before = now - timedelta(days=retention_days)
    async with sessions() as db, db.begin():
        return PhonesBlanked(await callbacks.blank_old_phones(db, before),
                             await appointments.blank_old_phones(db, before))


async def run_daily_phone_purge(sessions: async_sessionmaker[AsyncSession], retention_days: int,
                                stop: asyncio.Event, now: Callable[[], datetime],
                                first_delay_s: float = FIRST_PURGE_DELAY_S, interval_s: float = PURGE_INTERVAL_S
                                ) -> None:
    """`blank_expired_phones` after `first_delay_s`, then every `interval_s`, until `stop`."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), first_delay_s)
        return

    async def purge() -> None:
        blanked = await blank_expired_phones(sessions, retention_days, now())
        # Counts only: never a number.
        log.info("phone purge", extra={"callbacks": blanked.callbacks, "appointments": blanked.appointments})

    await run_periodically(purge, stop, interval_s, name="phone purge")
