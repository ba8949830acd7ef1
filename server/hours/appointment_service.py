"""What the kiosk asks of appointments: the bookable slots, a booking, a check-in (docs/hours.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from server.db.models import Appointment
from server.hours import appointments as store
from server.hours.appointments import AppointmentError
from server.hours.callbacks import REQUESTS_PER_MINUTE
from server.hours.phone import PhoneError, normalise_phone
from server.hours.rate_limit import within_limit
from server.hours.service import HoursService
from server.http.query_dates import EARLIEST_QUERY_DAY, LATEST_QUERY_DAY

# Check-in attempts (right or wrong) per kiosk and minute: with a million codes a day and a handful
# booked, this keeps guessing someone's code at one kiosk hopeless.
CHECKINS_PER_MINUTE = 10


def parse_slot(text: str) -> datetime:
    """A slot's ISO start time with its offset (as `data-slot` carries it)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise AppointmentError(400, "slot_closed", "预约时段无效，请重新选择") from None
    # Also a time far outside the service's years: its local date would overflow the calendar.
    if moment.tzinfo is None or not EARLIEST_QUERY_DAY <= moment.date() <= LATEST_QUERY_DAY:
        raise AppointmentError(400, "slot_closed", "预约时段无效，请重新选择")
    return moment


class AppointmentService:
    """Bookings and check-ins against the kiosk's centre calendar and the service clock."""

    def __init__(self, hours: HoursService) -> None:
        self.hours = hours

    async def slots(self, kiosk_id: int, skill: str) -> tuple[int | None, list[dict[str, Any]]]:
        """The kiosk's centre id and its bookable days for a skill."""
        centre_id, calendar = await self.hours.kiosk_calendar(kiosk_id)
        async with self.hours.sessions() as db:
            return centre_id, await store.bookable_days(db, calendar, centre_id, skill, self.hours.clock.now())

    async def book(self, kiosk_id: int, matter_id: str, skill: str, slot: str, phone: str) -> Appointment:
        """Book a slot for the resident; refusals raise AppointmentError or PhoneError, writing nothing."""
        queue = self.hours.queue
        if not await within_limit(queue.redis, queue.keys.kiosk_requests(kiosk_id), REQUESTS_PER_MINUTE):
            raise AppointmentError(429, "too_many_requests", "操作太频繁，请一分钟后再试")
        number = normalise_phone(phone)
        starts_at = parse_slot(slot)
        centre_id, calendar = await self.hours.kiosk_calendar(kiosk_id)
        now = self.hours.clock.now()
        async with self.hours.sessions() as db, db.begin():
            return await store.book(db, calendar, centre_id=centre_id, kiosk_id=kiosk_id, matter_id=matter_id,
                                    skill=skill, starts_at=starts_at, phone=number, now=now)

    async def claim(self, kiosk_id: int, entered: str) -> Appointment:
        """Find today's booking for a code or phone number and mark it checked in at this kiosk."""
        queue = self.hours.queue
        if not await within_limit(queue.redis, queue.keys.kiosk_checkins(kiosk_id), CHECKINS_PER_MINUTE):
            raise AppointmentError(429, "too_many_requests", "尝试次数太多，请一分钟后再试")
        text = "".join(entered.split())
        if not (len(text) == store.CODE_DIGITS and text.isascii() and text.isdigit()):
            try:
                text = normalise_phone(text)
            except PhoneError:
                raise AppointmentError(400, "appointment_unknown",
                                       "请输入6位预约码，或预约时留的电话号码") from None
        now = self.hours.clock.now()
        async with self.hours.sessions() as db, db.begin():
            row = await store.find_for_checkin(db, text, now)
            if not await store.claim(db, row, kiosk_id, now):
                raise AppointmentError(409, "appointment_used", "这个预约已经签到过了，请留意叫号")
            return row

    async def checked_in(self, appointment_id: int, session_id: str) -> None:
        """Keep the ticket the check-in queued."""
        async with self.hours.sessions() as db, db.begin():
            row = await db.get(Appointment, appointment_id)
            if row is not None:
                row.session_id = session_id

    async def release(self, appointment_id: int) -> None:
        """The check-in could not queue: the booking stands as before."""
        async with self.hours.sessions() as db, db.begin():
            await store.release_claim(db, appointment_id, self.hours.clock.now())

    async def sweep_no_shows(self) -> int:
        """Record the bookings nobody checked in for (called by the sweeper)."""
        async with self.hours.sessions() as db, db.begin():
            return await store.mark_no_shows(db, self.hours.clock.now())


APPOINTMENTS: web.AppKey[AppointmentService] = web.AppKey("appointments")
