"""What the kiosk and the reports ask of the calendar: is a kiosk's centre open, can a skill be served
now, when does it open next, and when is the next working day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Callback, Kiosk
from server.hours.calendar import WorkingCalendar
from server.hours.callbacks import REQUESTS_PER_MINUTE, CallbackError, due_time
from server.hours.clock import ServiceClock
from server.hours.phone import normalise_phone
from server.hours.rate_limit import within_limit
from server.hours.store import centre_of_site, load_calendar
from server.queueing.service import QueueService
from server.settings import Settings

# queue: serve now; no_staff: nobody with the skill signed in; long_wait: beyond JINGLIN_WAIT_LIMIT_S;
# closed: outside the centre's hours (no queueing).
AVAILABILITY_STATES = ("queue", "no_staff", "long_wait", "closed")
# A 回电 request for the same matter and number from the same kiosk within this long, still open,
# is the same request (a retry after a lost answer), answered with the row already kept.
SAME_REQUEST_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Availability:
    """Whether a kiosk's resident can be served for a skill now."""

    state: str
    est_wait_s: float | None
    next_open: datetime | None
    centre_id: int | None


class HoursService:
    """Calendars read from the database against the service clock."""

    def __init__(self, settings: Settings, queue: QueueService) -> None:
        self.clock = ServiceClock(settings.clock_start)
        self.wait_limit_s = settings.wait_limit_s
        self.queue = queue
        self.sessions: async_sessionmaker[AsyncSession] = queue.sessions

    async def kiosk_calendar(self, kiosk_id: int) -> tuple[int | None, WorkingCalendar]:
        """The kiosk's centre id and calendar (always open without a centre or hours)."""
        async with self.sessions() as db:
            kiosk = await db.get(Kiosk, kiosk_id)
            centre = await centre_of_site(db, kiosk.site_id) if kiosk else None
            return (centre.id if centre else None), await load_calendar(db, centre.id if centre else None)

    async def centre_calendar(self, centre_id: int | None) -> WorkingCalendar:
        """One centre's calendar."""
        async with self.sessions() as db:
            return await load_calendar(db, centre_id)

    async def next_working_day(self, centre_id: int | None, start: datetime) -> datetime:
        """The same time on the centre's next working day (the 回访 due time)."""
        return (await self.centre_calendar(centre_id)).next_working_day(start)

    async def closed_until(self, kiosk_id: int) -> tuple[bool, datetime | None]:
        """(closed now, next opening) for a kiosk's centre."""
        _, calendar = await self.kiosk_calendar(kiosk_id)
        now = self.clock.now()
        if calendar.is_open(now):
            return False, None
        return True, calendar.next_opening(now)

    async def count_kiosk_request(self, kiosk_id: int) -> None:
        """Count one phone-number request of a kiosk; CallbackError past the limit per minute."""
        if not await within_limit(self.queue.redis, self.queue.keys.kiosk_requests(kiosk_id), REQUESTS_PER_MINUTE):
            raise CallbackError(429, "too_many_requests", "操作太频繁，请一分钟后再试")

    async def request_callback(self, kiosk_id: int, matter_id: str, phone: str, preferred: str) -> Callback:
        """Store a resident's 回电 request for the kiosk's centre; returns the stored row."""
        await self.count_kiosk_request(kiosk_id)
        number = normalise_phone(phone)  # PhoneError names what is wrong
        now = self.clock.now()
        centre_id, calendar = await self.kiosk_calendar(kiosk_id)
        async with self.sessions() as db, db.begin():
            # The same request again from the same kiosk (its first answer was lost to a network
            # blip and the resident pressed once more) is the one already kept, not a second call.
            same = await db.scalar(select(Callback).where(
                Callback.kiosk_id == kiosk_id, Callback.matter_id == matter_id, Callback.phone == number,
                Callback.kind == "callback", Callback.state == "open",
                Callback.created_at >= now - SAME_REQUEST_WINDOW).order_by(Callback.id.desc()).limit(1))
            if same is not None:
                return same
            row = Callback(centre_id=centre_id, kiosk_id=kiosk_id, matter_id=matter_id, phone=number,
                           preferred=preferred.strip()[:40], state="open",
                           due_at=due_time(now, calendar.next_opening(now)), note="", created_at=now, updated_at=now)
            db.add(row)
            await db.flush()
            return row

    async def _estimated_wait(self, skill: str, eligible: int, waiting: int) -> float:
        # The queue's own estimate for a ticket joining at the back: (place) * average handle time /
        # caseworkers signed in with the skill (docs/queue.md "Estimated wait").
        keys = self.queue.queue.keys
        redis = self.queue.redis
        count = await redis.llen(keys.name("handle", skill))
        total = await redis.hget(keys.name("handle_sum"), skill)
        average = float(total) / count if count and total is not None else self.queue.queue.config.default_handle_s
        return (waiting + 1) * average / eligible

    async def availability(self, kiosk_id: int, skill: str) -> Availability:
        """What the kiosk says before it queues a resident for a skill."""
        centre_id, calendar = await self.kiosk_calendar(kiosk_id)
        now = self.clock.now()
        if not calendar.is_open(now):
            return Availability("closed", None, calendar.next_opening(now), centre_id)
        figures = await self.queue.queue.live_figures()
        eligible = figures.eligible_by_skill.get(skill, 0)
        if eligible <= 0:
            return Availability("no_staff", None, None, centre_id)
        est = await self._estimated_wait(skill, eligible, figures.waiting_by_skill.get(skill, 0))
        return Availability("long_wait" if est > self.wait_limit_s else "queue", est, None, centre_id)


HOURS: web.AppKey[HoursService] = web.AppKey("hours")
