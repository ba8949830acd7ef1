"""预约 in the database: capacity per slot, booking the last place safely, check-in, cancel, no-shows.

A booking raises the slot's counter (`appointment_slots.booked`) with one conditional UPDATE that
only succeeds below the capacity: on PostgreSQL the row lock makes a second booking re-read the
counter, on SQLite the write lock does the same, so two bookings of the last place never both win.
Codes are 6 random digits, unique per day (the unique key retries a clash).
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Appointment, AppointmentCapacity, AppointmentSlot
from server.hours.appointment_slots import (
    BOOKING_DAYS,
    CHECKIN_LATE,
    DEFAULT_PER_SLOT,
    SLOT,
    checkin_window,
    clock_text,
    day_slots,
)
from server.hours.calendar import WorkingCalendar
from server.hours.callbacks import CallbackError
from server.hours.phone import mask_phone
from server.hours.texts import when_text
from server.runtime.district_time import iso_local, local_date

APPOINTMENT_STATES = ("booked", "checked_in", "no_show", "cancelled")
CODE_DIGITS = 6
_CODE_TRIES = 8


class AppointmentError(CallbackError):
    """A refused booking, check-in or cancel, with a status, a stable code and a Chinese message."""


def centre_key(centre_id: int | None) -> int:
    """The slot counter's centre column (0 for a kiosk whose street has no centre)."""
    return centre_id or 0


async def per_slot(db: AsyncSession, centre_id: int | None, skill: str) -> int:
    """Places in one slot: the skill's own setting, else the centre's, else DEFAULT_PER_SLOT."""
    if centre_id is None:
        return DEFAULT_PER_SLOT
    rows = {row.skill: row.per_slot for row in (await db.scalars(select(AppointmentCapacity).where(
        AppointmentCapacity.centre_id == centre_id, AppointmentCapacity.skill.in_((skill, ""))))).all()}
    return rows.get(skill, rows.get("", DEFAULT_PER_SLOT))


async def set_capacity(db: AsyncSession, centre_id: int, skill: str, places: int | None) -> None:
    """Set (or with None remove) the places per slot of a centre, for one skill or ("") all."""
    await db.execute(delete(AppointmentCapacity).where(AppointmentCapacity.centre_id == centre_id,
                                                       AppointmentCapacity.skill == skill))
    if places is not None:
        db.add(AppointmentCapacity(centre_id=centre_id, skill=skill, per_slot=places))


async def taken(db: AsyncSession, centre_id: int | None, skill: str, first: datetime,
                last: datetime) -> dict[datetime, int]:
    """Places taken per slot start in [first, last)."""
    rows = (await db.scalars(select(AppointmentSlot).where(
        AppointmentSlot.centre_key == centre_key(centre_id), AppointmentSlot.skill == skill,
        AppointmentSlot.starts_at >= first, AppointmentSlot.starts_at < last))).all()
    return {row.starts_at: row.booked for row in rows}


async def bookable_days(db: AsyncSession, calendar: WorkingCalendar, centre_id: int | None, skill: str,
                        now: datetime, days: int = BOOKING_DAYS) -> list[dict[str, Any]]:
    """The coming dates with their slots: start, end, free places and state (free | full | past)."""
    capacity = await per_slot(db, centre_id, skill)
    today = local_date(now)
    plans = [day_slots(calendar, today + timedelta(days=offset)) for offset in range(days)]
    starts = [start for plan in plans for start in plan.starts]
    counts = await taken(db, centre_id, skill, starts[0], starts[-1] + SLOT) if starts else {}
    out = []
    for plan in plans:
        slots = []
        for start in plan.starts:
            free = max(0, capacity - counts.get(start, 0))
            state = "past" if start <= now else "full" if free == 0 else "free"
            slots.append({"start": iso_local(start), "end": iso_local(start + SLOT), "free": free, "state": state})
        out.append({"date": plan.day.isoformat(), "reason": plan.reason, "holiday": plan.holiday, "slots": slots})
    return out


def check_slot(calendar: WorkingCalendar, starts_at: datetime, now: datetime) -> None:
    """Refuse a slot that is past, too far ahead, on a holiday or outside the hours."""
    day = local_date(starts_at)
    plan = day_slots(calendar, day)
    if plan.holiday and not plan.starts:
        raise AppointmentError(409, "slot_closed",
                               f"{day.month}月{day.day}日是{plan.holiday}，服务中心不开放，请选其他日期")
    if starts_at not in plan.starts:
        raise AppointmentError(409, "slot_closed", "这个时间不开放预约，请选其他时段")
    if starts_at <= now:
        raise AppointmentError(409, "slot_past", "这个时段已经过了，请选其他时段")
    if (day - local_date(now)).days >= BOOKING_DAYS:
        raise AppointmentError(409, "slot_closed", f"只能预约{BOOKING_DAYS}天以内的时段")


def _insert_ignore(db: AsyncSession) -> Any:
    return pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert


async def take_place(db: AsyncSession, centre_id: int | None, skill: str, starts_at: datetime, capacity: int) -> bool:
    """Raise the slot's counter if a place is free; False when full. Call inside a transaction."""
    insert = _insert_ignore(db)
    # A write first: on SQLite it takes the write lock at once, so the check below is never stale.
    await db.execute(insert(AppointmentSlot).values(centre_key=centre_key(centre_id), skill=skill,
                                                    starts_at=starts_at, booked=0).on_conflict_do_nothing())
    result = await db.execute(update(AppointmentSlot).where(
        AppointmentSlot.centre_key == centre_key(centre_id), AppointmentSlot.skill == skill,
        AppointmentSlot.starts_at == starts_at, AppointmentSlot.booked < capacity)
        .values(booked=AppointmentSlot.booked + 1))
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def give_back_place(db: AsyncSession, row: Appointment) -> None:
    """Free the place a cancelled booking held."""
    await db.execute(update(AppointmentSlot).where(
        AppointmentSlot.centre_key == centre_key(row.centre_id), AppointmentSlot.skill == row.skill,
        AppointmentSlot.starts_at == row.starts_at, AppointmentSlot.booked > 0)
        .values(booked=AppointmentSlot.booked - 1))


async def book(db: AsyncSession, calendar: WorkingCalendar, *, centre_id: int | None, kiosk_id: int, matter_id: str,
               skill: str, starts_at: datetime, phone: str, now: datetime) -> Appointment:
    """Book a place in a slot (call inside a transaction: a refusal leaves nothing written)."""
    check_slot(calendar, starts_at, now)
    if not await take_place(db, centre_id, skill, starts_at, await per_slot(db, centre_id, skill)):
        raise AppointmentError(409, "slot_full", "这个时段已经约满了，请选其他时段")
    for _ in range(_CODE_TRIES):
        row = Appointment(centre_id=centre_id, kiosk_id=kiosk_id, matter_id=matter_id, skill=skill,
                          starts_at=starts_at, day=local_date(starts_at), phone=phone, state="booked", note="",
                          code=f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}", created_at=now,
                          updated_at=now)
        try:
            async with db.begin_nested():
                db.add(row)
                await db.flush()
            return row
        except IntegrityError:  # the code is already that day's: draw another
            continue
    raise AppointmentError(503, "unavailable", "暂时无法预约，请稍后再试")


async def find_for_checkin(db: AsyncSession, entered: str, now: datetime) -> Appointment:
    """Today's booking for a code (6 digits) or a phone number; refusals say what is wrong."""
    today = local_date(now)
    if len(entered) == CODE_DIGITS and entered.isascii() and entered.isdigit():
        # Only the dates a code can still mean something for: the (day, code) key narrows the read.
        rows = list((await db.scalars(select(Appointment).where(
            Appointment.day >= today - timedelta(days=7), Appointment.day < today + timedelta(days=BOOKING_DAYS),
            Appointment.code == entered).order_by(Appointment.starts_at))).all())
        todays = [row for row in rows if row.day == today]
        if not todays:
            other = next((row for row in rows if row.state == "booked"), None)
            if other is not None:
                raise AppointmentError(409, "appointment_other_day",
                                       f"这个预约码是{when_text(other.starts_at, now)}的，请在预约当天来签到")
            raise AppointmentError(404, "appointment_unknown", "没有找到这个预约码，请核对后再输入")
        return _usable(todays[0], now)
    rows = list((await db.scalars(select(Appointment).where(Appointment.phone == entered, Appointment.day == today)
                                  .order_by(Appointment.starts_at))).all())
    if not rows:
        raise AppointmentError(404, "appointment_unknown", "没有找到用这个电话的今天的预约，请核对后再输入")
    booked = [row for row in rows if row.state == "booked"]
    in_window = [row for row in booked if checkin_window(row.starts_at)[0] <= now <= checkin_window(row.starts_at)[1]]
    upcoming = [row for row in booked if row.starts_at > now]
    return _usable((in_window or upcoming or booked or rows)[0], now)


def _usable(row: Appointment, now: datetime) -> Appointment:
    if row.state == "checked_in":
        raise AppointmentError(409, "appointment_used", "这个预约已经签到过了，请留意叫号")
    if row.state == "cancelled":
        raise AppointmentError(409, "appointment_cancelled", "这个预约已被服务中心取消，请重新预约或排队")
    opens, closes = checkin_window(row.starts_at)
    if now < opens:
        raise AppointmentError(409, "appointment_too_early",
                               f"还没到签到时间：您预约的是{when_text(row.starts_at, now)}，"
                               f"请在 {clock_text(opens)} 以后签到")
    if now > closes or row.state == "no_show":
        raise AppointmentError(409, "appointment_too_late",
                               f"已过签到时间（预约 {clock_text(row.starts_at)}，{clock_text(closes)} 前签到），"
                               "请重新排队或再预约")
    return row


async def claim(db: AsyncSession, row: Appointment, kiosk_id: int, now: datetime) -> bool:
    """Mark a booking checked in at a kiosk; False when another check-in won (one state change only)."""
    result = await db.execute(update(Appointment).where(Appointment.id == row.id, Appointment.state == "booked")
                              .values(state="checked_in", checkin_kiosk_id=kiosk_id, updated_at=now))
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def release_claim(db: AsyncSession, appointment_id: int, now: datetime) -> None:
    """Undo a check-in whose queueing failed: the booking stands as before."""
    await db.execute(update(Appointment).where(Appointment.id == appointment_id, Appointment.state == "checked_in")
                     .values(state="booked", checkin_kiosk_id=None, session_id=None, updated_at=now))


async def cancel(db: AsyncSession, row: Appointment, actor_id: int, note: str, now: datetime) -> None:
    """A supervisor cancels a booking (its place is freed; the phone number stays for the call)."""
    if row.state != "booked":
        raise AppointmentError(409, "wrong_state", "只能取消尚未签到的预约")
    result = await db.execute(update(Appointment).where(Appointment.id == row.id, Appointment.state == "booked")
                              .values(state="cancelled", cancelled_by=actor_id, updated_at=now,
                                      note=((row.note + "\n") if row.note else "") + note.strip()))
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        raise AppointmentError(409, "wrong_state", "只能取消尚未签到的预约")
    await give_back_place(db, row)
    await db.refresh(row)


async def list_day(db: AsyncSession, day: date, centre_id: int | None) -> list[Appointment]:
    """A date's appointments by start time (one centre's, or every centre's for None)."""
    query = select(Appointment).where(Appointment.day == day)
    if centre_id is not None:
        query = query.where(Appointment.centre_id == centre_id)
    return list((await db.scalars(query.order_by(Appointment.starts_at, Appointment.id))).all())


def appointment_view(row: Appointment, *, full_phone: bool, matter_name: str = "") -> dict[str, Any]:
    """An appointment as staff see it; the number masked unless `full_phone`."""
    return {"id": row.id, "centre_id": row.centre_id, "kiosk_id": row.kiosk_id, "matter_id": row.matter_id,
            "matter_name": matter_name, "skill": row.skill, "starts_at": iso_local(row.starts_at),
            "ends_at": iso_local(row.starts_at + SLOT), "day": row.day.isoformat(), "code": row.code,
            "phone": row.phone if full_phone else mask_phone(row.phone) if row.phone else "",
            "phone_full": full_phone and bool(row.phone), "state": row.state, "session_id": row.session_id,
            "checkin_kiosk_id": row.checkin_kiosk_id, "cancelled_by": row.cancelled_by, "note": row.note,
            "created_at": iso_local(row.created_at), "updated_at": iso_local(row.updated_at)}


async def mark_no_shows(db: AsyncSession, now: datetime) -> int:
    """Bookings whose check-in window has closed become `no_show`; returns how many."""
    result = await db.execute(update(Appointment).where(Appointment.state == "booked",
                                                        Appointment.starts_at < now - CHECKIN_LATE)
                              .values(state="no_show", updated_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


def expired_phones(before: datetime) -> ColumnElement[bool]:
    """Appointments no longer booked whose slot started before `before` and that still hold a number."""
    return and_(Appointment.starts_at < before, Appointment.phone != "", Appointment.state != "booked")


async def blank_old_phones(db: AsyncSession, before: datetime) -> int:
    """Blank the numbers of appointments whose slot started before `before` (the retention purge)."""
    result = await db.execute(update(Appointment).where(expired_phones(before)).values(phone=""))
    return int(getattr(result, "rowcount", 0) or 0)
