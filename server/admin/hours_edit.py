"""A centre's opening hours and date overrides as the /admin form edits them (docs/hours.md).

The same tables the `jinglin hours` commands write (`server/hours/store.py`), with the whole input
checked first and every problem named in Chinese, so a refused edit writes nothing. Each edit is
audited in its transaction; the audit carries the centre's id, the dates and the hours, never notes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.admin import audit
from server.admin.errors import AdminError, invalid, not_found
from server.db.models import CalendarOverride, Centre, CentreHours
from server.hours.calendar import DayHours
from server.hours.schemas import CalendarOut, calendar_out
from server.hours.store import load_calendar, remove_override, set_override, set_week
from server.http.query_dates import LATEST_QUERY_DAY
from server.protocol.plain_text import PLAIN_TEXT
from server.runtime.district_time import DISTRICT_TZ

WEEKDAY_LABELS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PREVIEW_DAYS = 14
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$", re.ASCII)


class HoursIn(BaseModel):
    """Opening hours of one day: "09:00" to "17:00", with an optional lunch break."""

    model_config = ConfigDict(extra="forbid")

    opens: str = Field(default="", max_length=8)
    closes: str = Field(default="", max_length=8)
    lunch_start: str = Field(default="", max_length=8)
    lunch_end: str = Field(default="", max_length=8)


class WeekdayIn(HoursIn):
    """One open weekday (0 = Monday)."""

    weekday: StrictInt = Field(ge=0, le=6)  # strict: true or "4" is no weekday


class WeekIn(BaseModel):
    """The centre's open weekdays; a weekday left out is closed (none at all: always open)."""

    model_config = ConfigDict(extra="forbid")

    days: list[WeekdayIn] = Field(max_length=7)
    # The week the form was read with (CentreHoursOut.week_version): when the stored week has
    # changed since (another tab, another admin), the save is refused rather than undo that.
    base_week: str | None = Field(default=None, max_length=64)


class OverrideIn(HoursIn):
    """One date closed (`closed`), or open with its own hours; `note` says why (e.g. 年终盘点)."""

    closed: bool
    note: Annotated[str, PLAIN_TEXT] = Field(default="", max_length=200)


class WeekdayOut(BaseModel):
    """A weekday's hours ("" for no lunch break)."""

    weekday: int
    opens: str
    closes: str
    lunch_start: str
    lunch_end: str


class OverrideOut(BaseModel):
    """A date's override."""

    date: str
    closed: bool
    opens: str
    closes: str
    lunch_start: str
    lunch_end: str
    note: str


class CentreHoursOut(BaseModel):
    """What the hours form shows: the week, the overrides from today on, and the coming days."""

    centre_id: int
    centre: str
    week: list[WeekdayOut]
    week_version: str = Field(description="the stored week's fingerprint: send it back as base_week")
    overrides: list[OverrideOut]
    calendar: CalendarOut


def _time(text: str, what: str, problems: list[str]) -> time | None:
    match = _HHMM.match(text.strip())
    if match is None:
        problems.append(f"{what}“{text.strip()}”不是 时:分 格式（如 09:00）" if text.strip() else f"请填写{what}")
        return None
    return time(int(match.group(1)), int(match.group(2)))


def check_hours(body: HoursIn, label: str, problems: list[str]) -> DayHours | None:
    """The day's hours, or None with what is wrong added to `problems` (in Chinese)."""
    before = len(problems)
    opens = _time(body.opens, f"{label}的开门时间", problems)
    closes = _time(body.closes, f"{label}的关门时间", problems)
    lunch_start = lunch_end = None
    if body.lunch_start.strip() or body.lunch_end.strip():
        if not (body.lunch_start.strip() and body.lunch_end.strip()):
            problems.append(f"{label}的午休需要同时填写开始和结束时间（不休息就都不填）")
        else:
            lunch_start = _time(body.lunch_start, f"{label}的午休开始时间", problems)
            lunch_end = _time(body.lunch_end, f"{label}的午休结束时间", problems)
    if len(problems) > before or opens is None or closes is None:
        return None
    if opens >= closes:
        problems.append(f"{label}的关门时间必须晚于开门时间")
        return None
    if lunch_start is not None and lunch_end is not None and not (opens < lunch_start < lunch_end < closes):
        problems.append(f"{label}的午休必须在开放时间之内，且结束晚于开始")
        return None
    return DayHours(opens, closes, lunch_start, lunch_end)


def refuse(problems: list[str]) -> AdminError:
    """422 naming the first of the problems (all of them in its details)."""
    return invalid(problems[0] if len(problems) == 1 else f"有 {len(problems)} 处需要修改：{problems[0]}", problems)


def _text(value: time | None) -> str:
    return value.strftime("%H:%M") if value else ""


def span_text(hours: DayHours | None) -> str:
    """Hours as the audit log writes them: `09:00-17:00 lunch 12:00-13:00`, or `closed`."""
    if hours is None:
        return "closed"
    lunch = f" lunch {_text(hours.lunch_start)}-{_text(hours.lunch_end)}" if hours.lunch_start else ""
    return f"{_text(hours.opens)}-{_text(hours.closes)}{lunch}"


async def centre_or_404(db: AsyncSession, centre_id: int) -> Centre:
    """The centre, or 404 in Chinese."""
    centre = await db.get(Centre, centre_id)
    if centre is None:
        raise not_found("没有这个受理服务中心")
    return centre


async def centre_hours(db: AsyncSession, centre_id: int, now: datetime) -> CentreHoursOut:
    """The form's view of a centre: weekday hours, overrides from today on, the next two weeks."""
    centre = await centre_or_404(db, centre_id)
    today = now.astimezone(DISTRICT_TZ).date()
    week = (await db.scalars(select(CentreHours).where(CentreHours.centre_id == centre_id)
                             .order_by(CentreHours.weekday))).all()
    overrides = (await db.scalars(select(CalendarOverride).where(CalendarOverride.centre_id == centre_id,
                                                                 CalendarOverride.day >= today)
                                  .order_by(CalendarOverride.day))).all()
    calendar = await load_calendar(db, centre_id)
    days = _week_out(week)
    return CentreHoursOut(
        centre_id=centre.id, centre=centre.name, week=days, week_version=_fingerprint(days),
        overrides=[OverrideOut(date=row.day.isoformat(), closed=not row.is_open, opens=row.opens or "",
                               closes=row.closes or "", lunch_start=row.lunch_start or "",
                               lunch_end=row.lunch_end or "", note=row.note) for row in overrides],
        calendar=calendar_out(calendar, now, PREVIEW_DAYS, centre_id=centre.id, centre=centre.name))


_WEEK_CHANGED = "这个中心的开放时间在您打开后已被修改（可能在另一个窗口），请重新选择中心后再改"


def _week_out(rows: Sequence[CentreHours]) -> list[WeekdayOut]:
    return [WeekdayOut(weekday=row.weekday, opens=row.opens or "", closes=row.closes or "",
                       lunch_start=row.lunch_start or "", lunch_end=row.lunch_end or "") for row in rows]


def _fingerprint(days: list[WeekdayOut]) -> str:
    """A short digest of the week as stored: equal weeks, equal fingerprints."""
    text = json.dumps([day.model_dump() for day in days], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


async def save_week(db: AsyncSession, centre_id: int, body: WeekIn, actor: str) -> None:
    """Replace the centre's weekday hours with these (checked whole first: nothing half written);
    409 when body.base_week names a week other than the one stored."""
    await centre_or_404(db, centre_id)
    if body.base_week is not None:
        stored = (await db.scalars(select(CentreHours).where(CentreHours.centre_id == centre_id)
                                   .order_by(CentreHours.weekday))).all()
        if _fingerprint(_week_out(stored)) != body.base_week:
            raise AdminError(409, "conflict", _WEEK_CHANGED)
    problems: list[str] = []
    plan: dict[int, DayHours] = {}
    for day in body.days:
        label = WEEKDAY_LABELS[day.weekday]
        if day.weekday in plan:
            problems.append(f"{label}填写了两次")
            continue
        hours = check_hours(day, label, problems)
        if hours is not None:
            plan[day.weekday] = hours
    if problems:
        raise refuse(problems)
    await set_week(db, centre_id, list(range(7)), None)
    for weekday, hours in sorted(plan.items()):
        await set_week(db, centre_id, [weekday], hours)
    audit.record(db, actor, "hours_set", "centre", centre_id,
                 week={WEEKDAY_KEYS[w]: span_text(plan.get(w)) for w in range(7)})


def parse_day(text: str, today: date) -> date:
    """A date of the form's override (today or later, up to LATEST_QUERY_DAY as every date the
    product takes); 422 in Chinese otherwise."""
    try:
        day = date.fromisoformat(text) if len(text) == 10 and text.isascii() else None
    except ValueError:
        day = None
    if day is None:
        raise invalid(f"日期“{text[:20]}”无效，请按 2026-02-16 这样的格式填写")
    if day < today:
        raise invalid("不能修改已经过去的日期")
    if day > LATEST_QUERY_DAY:
        raise invalid(f"日期不能晚于 {LATEST_QUERY_DAY.isoformat()}")
    return day


async def save_override(db: AsyncSession, centre_id: int, day: date, body: OverrideIn, actor: str) -> None:
    """Close a date, or open it with its own hours, replacing an earlier override of that date."""
    await centre_or_404(db, centre_id)
    hours = None
    if body.closed and any((body.opens, body.closes, body.lunch_start, body.lunch_end)):
        # Closed and open at once: which one was meant is not ours to guess.
        raise refuse([f"{day.month}月{day.day}日设为全天不开放时，不要再填写开放时间"])
    if not body.closed:
        problems: list[str] = []
        hours = check_hours(body, f"{day.month}月{day.day}日", problems)
        if problems:
            raise refuse(problems)
    await set_override(db, centre_id, day, hours, body.note.strip())
    audit.record(db, actor, "override_set", "centre", centre_id, date=day.isoformat(), hours=span_text(hours))


async def drop_override(db: AsyncSession, centre_id: int, day: date, actor: str) -> None:
    """Remove a date's override; 404 when the date has none."""
    await centre_or_404(db, centre_id)
    found = await db.scalar(select(CalendarOverride.day).where(CalendarOverride.centre_id == centre_id,
                                                               CalendarOverride.day == day))
    if found is None:
        raise not_found(f"{day.isoformat()} 没有单独设置")
    await remove_override(db, centre_id, day)
    audit.record(db, actor, "override_removed", "centre", centre_id, date=day.isoformat())
