"""The calendar and availability as the API and the CLI show them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.hours.calendar import WorkingCalendar, holiday_years
from server.protocol.free_text import MASKED
from server.runtime.district_time import DISTRICT_TZ, iso_local


class CalendarDayOut(BaseModel):
    """One date: open or not, its open periods ("09:00-12:00") and why."""

    date: str
    open: bool
    periods: list[str]
    reason: str  # hours | weekend | no_hours | holiday | makeup | override | always_open
    holiday: str = ""
    note: str = ""


class CalendarOut(BaseModel):
    """A centre's calendar from today on, as kiosks and staff read it."""

    site_id: int | None = None
    centre_id: int | None
    centre: str = ""
    always_open: bool
    open_now: bool
    next_open: str | None
    holiday_years: list[int]
    days: list[CalendarDayOut]


class AvailabilityOut(BaseModel):
    """Whether the kiosk can queue a resident for a matter now (docs/hours.md)."""

    state: str  # queue | no_staff | long_wait | closed
    est_wait_s: int | None
    next_open: str | None
    wait_limit_s: int
    now: str  # the service clock, so the kiosk says 今天/明天 against the server's day


def calendar_days(calendar: WorkingCalendar, first: date, count: int) -> list[CalendarDayOut]:
    """The plan of `count` dates from `first`."""
    out = []
    for offset in range(count):
        day = first + timedelta(days=offset)
        plan = calendar.plan(day)
        override = calendar.overrides.get(day)
        periods = [f"{start:%H:%M}-{end:%H:%M}" for start, end in plan.hours.periods()] if plan.hours else []
        if plan.reason == "always_open":
            periods = ["00:00-24:00"]
        out.append(CalendarDayOut(date=day.isoformat(), open=plan.hours is not None, periods=periods,
                                  reason=plan.reason, holiday=plan.holiday, note=override.note if override else ""))
    return out


def calendar_out(calendar: WorkingCalendar, now: datetime, days: int, *, centre_id: int | None,
                 centre: str = "", site_id: int | None = None) -> CalendarOut:
    """The whole answer of `GET /api/v1/calendar` and `jinglin hours show`."""
    first, last = holiday_years()
    return CalendarOut(site_id=site_id, centre_id=centre_id, centre=centre, always_open=calendar.always_open,
                       open_now=calendar.is_open(now), next_open=iso_local(calendar.next_opening(now)),
                       holiday_years=[first, last],
                       days=calendar_days(calendar, now.astimezone(DISTRICT_TZ).date(), days))


class CallbackOut(BaseModel):
    """One 回电 request; `phone` is masked (138****1234) unless `phone_full` (the taker's own)."""

    id: int
    kind: str  # callback (回电 asked for at the kiosk) | followup (回访 number after a 1-2 star rating)
    session_id: str | None  # the rated session of a `followup`
    centre_id: int | None
    kiosk_id: int
    matter_id: str
    matter_name: str = ""  # the catalog's name of the matter (the id when it left the catalog)
    phone: str
    phone_full: bool
    preferred: str
    state: str  # open | taken | done | unreachable
    due_at: str | None
    overdue: bool
    taken_by: int | None
    note: str
    created_at: str | None
    updated_at: str | None


class CallbacksOut(BaseModel):
    """Callbacks by due time."""

    total: int
    overdue: int
    items: list[CallbackOut]


class CallbackIn(BaseModel):
    """Take, close or hand back a callback."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["open", "taken", "done", "unreachable"]
    # Listed to every caseworker of the centre: ID and phone numbers typed here are masked, as
    # in every other free-text field (docs/security.md).
    note: Annotated[str, MASKED] = Field(default="", max_length=500)
