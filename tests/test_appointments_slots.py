"""Appointment slots on real dates (春节 2026 and its make-up Saturdays, an override), the check-in
window, and two bookings of the last place at once on SQLite and PostgreSQL: only one wins."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from server.db.engine import make_engine, make_session_factory
from server.db.migrate import upgrade_database
from server.db.models import Appointment, AppointmentSlot
from server.hours.appointment_slots import checkin_window, day_slots
from server.hours.appointments import AppointmentError, book, check_slot, per_slot, set_capacity
from server.hours.calendar import DayHours, Override, WorkingCalendar, hours_from_text
from server.runtime.district_time import DISTRICT_TZ
from tests.district import add_street

WEEK = {weekday: hours_from_text("09:00", "17:00", "12:00-13:00") for weekday in range(5)}


def _at(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), DISTRICT_TZ)


def test_slots_follow_the_calendar_on_real_dates() -> None:
    calendar = WorkingCalendar(dict(WEEK), {date(2026, 3, 4): Override(DayHours(time(9), time(10)), "半天")})
    monday = day_slots(calendar, date(2026, 3, 2))
    assert len(monday.starts) == 14  # 09:00-12:00 and 13:00-17:00 in half hours
    assert monday.starts[0] == _at(date(2026, 3, 2), "09:00") and monday.starts[-1] == _at(date(2026, 3, 2), "16:30")
    assert _at(date(2026, 3, 2), "12:00") not in monday.starts  # the lunch break
    spring = day_slots(calendar, date(2026, 2, 17))
    assert (spring.starts, spring.reason, spring.holiday) == ([], "holiday", "春节")
    makeup = day_slots(calendar, date(2026, 2, 14))  # the Saturday worked before 春节 2026
    assert makeup.reason == "makeup" and len(makeup.starts) == 14
    assert day_slots(calendar, date(2026, 2, 28)).starts != []  # the make-up Saturday after it
    assert day_slots(calendar, date(2026, 3, 7)).starts == []  # an ordinary Saturday
    assert [f"{s:%H:%M}" for s in day_slots(calendar, date(2026, 3, 4)).starts] == ["09:00", "09:30"]
    always = WorkingCalendar(None)  # no hours configured: office hours on official working days
    assert len(day_slots(always, date(2026, 2, 14)).starts) == 14 and day_slots(always, date(2026, 2, 16)).starts == []


def test_a_slot_is_checked_against_the_calendar_and_the_clock() -> None:
    calendar = WorkingCalendar(dict(WEEK))
    now = _at(date(2026, 2, 13), "15:10")
    check_slot(calendar, _at(date(2026, 2, 14), "09:00"), now)  # the make-up Saturday is bookable
    for slot, code, words in [
        (_at(date(2026, 2, 16), "09:00"), "slot_closed", "2月16日是春节"),
        (_at(date(2026, 2, 13), "15:00"), "slot_past", "已经过了"),
        (_at(date(2026, 2, 13), "12:30"), "slot_closed", "不开放预约"),
        (_at(date(2026, 2, 13), "16:45"), "slot_closed", "不开放预约"),
        (_at(date(2026, 3, 2), "09:00"), "slot_closed", "14天以内"),
    ]:
        with pytest.raises(AppointmentError) as caught:
            check_slot(calendar, slot, now)
        assert caught.value.code == code and words in caught.value.message, slot
    opens, closes = checkin_window(_at(date(2026, 3, 2), "10:30"))
    assert (opens, closes) == (_at(date(2026, 3, 2), "10:00"), _at(date(2026, 3, 2), "10:45"))


async def test_only_one_of_two_bookings_gets_the_last_place(database_url: str) -> None:
    await upgrade_database(database_url)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        async with sessions() as db, db.begin():
            street = await add_street(db, sites=1)
            await set_capacity(db, street.centre_id, "", 3)
            await set_capacity(db, street.centre_id, "police", 2)
        async with sessions() as db:
            assert await per_slot(db, street.centre_id, "police") == 2
            assert await per_slot(db, street.centre_id, "civil") == 3
        calendar = WorkingCalendar(dict(WEEK))
        now = _at(date(2026, 3, 2), "08:00")
        slot = _at(date(2026, 3, 2), "10:30")

        async def one(n: int) -> str:
            try:
                async with sessions() as db, db.begin():
                    row = await book(db, calendar, centre_id=street.centre_id, kiosk_id=street.kiosk_ids[0],
                                     matter_id="m", skill="police", starts_at=slot, phone=f"1381234{n:04d}", now=now)
                    await asyncio.sleep(0.05)  # hold the transaction open while the others try
                    return row.code
            except AppointmentError as exc:
                return exc.code

        results = await asyncio.gather(*(one(n) for n in range(6)))
        assert sorted(r for r in results if r == "slot_full") == ["slot_full"] * 4, results
        codes = [r for r in results if r != "slot_full"]
        assert len(set(codes)) == 2 and all(len(c) == 6 and c.isdigit() for c in codes)
        async with sessions() as db:
            assert await db.scalar(select(func.count()).select_from(Appointment)) == 2
            assert await db.scalar(select(AppointmentSlot.booked)) == 2
            later = slot + timedelta(minutes=30)
            assert await db.scalar(select(func.count()).select_from(AppointmentSlot).where(
                AppointmentSlot.starts_at == later)) == 0
    finally:
        await engine.dispose()
