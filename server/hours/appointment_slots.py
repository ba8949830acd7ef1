"""Appointment slots of a centre's day, and the check-in window around a slot (docs/hours.md).

Pure logic on the working calendar: slots of SLOT_MINUTES tile each open period of a date (the
lunch break and closed dates have none). A centre without weekday hours (always open) takes
bookings on official working days within DEFAULT_BOOKING_HOURS, not around the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from server.hours.calendar import DayHours, WorkingCalendar
from server.runtime.district_time import DISTRICT_TZ

SLOT_MINUTES = 30
SLOT = timedelta(minutes=SLOT_MINUTES)
# How far ahead a resident may book (calendar days from today, today included).
BOOKING_DAYS = 14
# Places per slot when an administrator set none (`jinglin appointments capacity`).
DEFAULT_PER_SLOT = 2
# Check-in opens this long before the slot starts and closes this long after; a booking not
# checked in by then is a no-show.
CHECKIN_EARLY = timedelta(minutes=30)
CHECKIN_LATE = timedelta(minutes=15)
DEFAULT_BOOKING_HOURS = DayHours(time(9, 0), time(17, 0), time(12, 0), time(13, 0))


@dataclass(frozen=True)
class DaySlots:
    """The slot start times of one date, or why there are none (holiday name, closed)."""

    day: date
    starts: list[datetime]
    reason: str  # as DayPlan.reason
    holiday: str = ""


def booking_calendar(calendar: WorkingCalendar) -> WorkingCalendar:
    """The calendar bookings follow: the centre's own, or office hours on working days when it has none."""
    if not calendar.always_open:
        return calendar
    return WorkingCalendar({weekday: DEFAULT_BOOKING_HOURS for weekday in range(5)}, calendar.overrides)


def day_slots(calendar: WorkingCalendar, day: date) -> DaySlots:
    """Every slot start of a date (aware, district time), past ones included."""
    plan = booking_calendar(calendar).plan(day)
    starts: list[datetime] = []
    for opens, closes in plan.hours.periods() if plan.hours else []:
        at = datetime.combine(day, opens, DISTRICT_TZ)
        end = datetime.combine(day, closes, DISTRICT_TZ)
        while at + SLOT <= end:
            starts.append(at)
            at += SLOT
    return DaySlots(day, starts, plan.reason, plan.holiday)


def checkin_window(starts_at: datetime) -> tuple[datetime, datetime]:
    """From when until when a booking can be checked in."""
    return starts_at - CHECKIN_EARLY, starts_at + CHECKIN_LATE


def clock_text(moment: datetime) -> str:
    """HH:MM in district time."""
    return f"{moment.astimezone(DISTRICT_TZ):%H:%M}"
