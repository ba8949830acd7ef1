"""Reading and editing centres' calendars in the database (the CLI and the API share these)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import CalendarOverride, Centre, CentreHours, Site
from server.hours.calendar import DayHours, Override, WorkingCalendar, parse_hhmm

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class HoursError(ValueError):
    """A bad calendar edit, with a message for the person who made it."""


def _text(value: object) -> str | None:
    return None if value is None else value.strftime("%H:%M")  # type: ignore[attr-defined]


def _hours(opens: str | None, closes: str | None, lunch_start: str | None, lunch_end: str | None) -> DayHours:
    assert opens is not None and closes is not None
    return DayHours(parse_hhmm(opens), parse_hhmm(closes), parse_hhmm(lunch_start) if lunch_start else None,
                    parse_hhmm(lunch_end) if lunch_end else None)


async def load_calendar(db: AsyncSession, centre_id: int | None) -> WorkingCalendar:
    """The centre's calendar (always open when it has no weekday hours or is unknown)."""
    if centre_id is None:
        return WorkingCalendar(None)
    rows = (await db.scalars(select(CentreHours).where(CentreHours.centre_id == centre_id))).all()
    week = {row.weekday: _hours(row.opens, row.closes, row.lunch_start, row.lunch_end) for row in rows} or None
    overrides = {
        row.day: Override(_hours(row.opens, row.closes, row.lunch_start, row.lunch_end) if row.is_open else None,
                          row.note)
        for row in (await db.scalars(select(CalendarOverride).where(CalendarOverride.centre_id == centre_id))).all()
    }
    return WorkingCalendar(week, overrides)


async def load_calendars(db: AsyncSession, centre_ids: list[int] | None = None) -> dict[int, WorkingCalendar]:
    """The calendars of these centres (all centres when None), read in three queries."""
    centres = select(Centre.id) if centre_ids is None else select(Centre.id).where(Centre.id.in_(centre_ids))
    ids = list((await db.scalars(centres)).all())
    weeks: dict[int, dict[int, DayHours]] = {}
    for row in (await db.scalars(select(CentreHours).where(CentreHours.centre_id.in_(ids)))).all():
        weeks.setdefault(row.centre_id, {})[row.weekday] = _hours(row.opens, row.closes, row.lunch_start,
                                                                  row.lunch_end)
    overrides: dict[int, dict[date, Override]] = {}
    for day in (await db.scalars(select(CalendarOverride).where(CalendarOverride.centre_id.in_(ids)))).all():
        hours = _hours(day.opens, day.closes, day.lunch_start, day.lunch_end) if day.is_open else None
        overrides.setdefault(day.centre_id, {})[day.day] = Override(hours, day.note)
    return {cid: WorkingCalendar(weeks.get(cid), overrides.get(cid, {})) for cid in ids}


async def centre_of_site(db: AsyncSession, site_id: int) -> Centre | None:
    """The acceptance centre of a site's street (None for an unknown site or a street without one)."""
    site = await db.get(Site, site_id)
    if site is None:
        return None
    return await db.scalar(select(Centre).where(Centre.street_id == site.street_id))


async def centre_of_street(db: AsyncSession, street_id: int | None) -> int | None:
    """The id of a street's acceptance centre."""
    if street_id is None:
        return None
    return await db.scalar(select(Centre.id).where(Centre.street_id == street_id))


async def _centre(db: AsyncSession, centre_id: int) -> Centre:
    centre = await db.get(Centre, centre_id)
    if centre is None:
        raise HoursError(f"no centre with id {centre_id}")
    return centre


def parse_weekdays(text: str) -> list[int]:
    """Weekdays from "mon-fri", "sat", "mon,wed,fri" or "all"."""
    if text.strip().lower() == "all":
        return list(range(7))
    days: list[int] = []
    for part in text.lower().split(","):
        first, _, last = part.strip().partition("-")
        try:
            start = WEEKDAY_NAMES.index(first)
            end = WEEKDAY_NAMES.index(last) if last else start
        except ValueError:
            raise HoursError(f"星期“{part.strip()}”无效，请写 mon-fri、sat、mon,wed 或 all") from None
        if end < start:
            raise HoursError(f"星期范围“{part.strip()}”前后颠倒，请写成 mon-fri 这样从前到后的顺序")
        days.extend(range(start, end + 1))
    return sorted(set(days))


async def set_week(db: AsyncSession, centre_id: int, weekdays: list[int], hours: DayHours | None) -> None:
    """Set (or with None clear) the hours of these weekdays."""
    await _centre(db, centre_id)
    await db.execute(delete(CentreHours).where(CentreHours.centre_id == centre_id,
                                               CentreHours.weekday.in_(weekdays)))
    if hours is None:
        return
    for weekday in weekdays:
        db.add(CentreHours(centre_id=centre_id, weekday=weekday, opens=_text(hours.opens), closes=_text(hours.closes),
                           lunch_start=_text(hours.lunch_start), lunch_end=_text(hours.lunch_end)))


async def set_override(db: AsyncSession, centre_id: int, day: date, hours: DayHours | None, note: str) -> None:
    """Close a date (hours None) or open it with these hours, replacing any earlier override."""
    await _centre(db, centre_id)
    await remove_override(db, centre_id, day)
    db.add(CalendarOverride(centre_id=centre_id, day=day, is_open=hours is not None,
                            opens=_text(hours.opens) if hours else None, closes=_text(hours.closes) if hours else None,
                            lunch_start=_text(hours.lunch_start) if hours else None,
                            lunch_end=_text(hours.lunch_end) if hours else None, note=note[:200]))


async def remove_override(db: AsyncSession, centre_id: int, day: date) -> None:
    """Drop a date's override: the weekday hours and holidays apply again."""
    await db.execute(delete(CalendarOverride).where(CalendarOverride.centre_id == centre_id,
                                                    CalendarOverride.day == day))
