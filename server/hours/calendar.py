"""A centre's working calendar: weekday hours, date overrides and mainland China's public holidays.

Pure logic on district-local dates and times (docs/hours.md). Holidays and the 调休 make-up working
days come from the `chinese-calendar` package, which covers 2004 to its last published year; after
that, Monday to Friday count as working days until an override or a newer package says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import chinese_calendar

from server.runtime.district_time import DISTRICT_TZ

# How far ahead "next opening" and "next working day" look before giving up (a centre closed for
# longer has no next opening to show).
SEARCH_DAYS = 60

# The package names holidays in English; residents read them in Chinese.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


@dataclass(frozen=True)
class DayHours:
    """Opening hours of one day, with an optional lunch break inside them."""

    opens: time
    closes: time
    lunch_start: time | None = None
    lunch_end: time | None = None

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValueError("opening time must be before closing time")
        if (self.lunch_start is None) != (self.lunch_end is None):
            raise ValueError("a lunch break needs a start and an end")
        if self.lunch_start is not None and self.lunch_end is not None and not (
                self.opens < self.lunch_start < self.lunch_end < self.closes):
            raise ValueError("the lunch break must lie inside the opening hours")

    def periods(self) -> list[tuple[time, time]]:
        """The open periods of the day, in order (two when there is a lunch break)."""
        if self.lunch_start is None or self.lunch_end is None:
            return [(self.opens, self.closes)]
        return [(self.opens, self.lunch_start), (self.lunch_end, self.closes)]


@dataclass(frozen=True)
class Override:
    """An administrator's word on one date: closed (hours None) or open with these hours."""

    hours: DayHours | None
    note: str = ""


@dataclass(frozen=True)
class DayPlan:
    """What the calendar says about one date, and why."""

    day: date
    hours: DayHours | None
    reason: str  # hours | weekend | no_hours | holiday | makeup | override | always_open
    holiday: str = ""


def holiday_years() -> tuple[int, int]:
    """The first and last year the installed holiday data covers."""
    return _YEARS


_YEARS = (min(day.year for day in chinese_calendar.holidays), max(day.year for day in chinese_calendar.holidays))


def official_day(day: date) -> tuple[bool, str]:
    """(is a working day, holiday name) under the State Council's schedule.

    Outside the package's years: Monday to Friday are working days, no holiday is known.
    """
    first, last = holiday_years()
    if not first <= day.year <= last:
        return day.weekday() < 5, ""
    if day in chinese_calendar.workdays:
        return True, ""
    name = chinese_calendar.holidays.get(day)
    if name is not None:
        return False, HOLIDAY_NAMES.get(str(name), str(name))
    return day.weekday() < 5, ""


@dataclass
class WorkingCalendar:
    """One centre's calendar. `week` maps weekday (0 = Monday) to hours; None means no hours are
    configured and the centre is always open (demo and pre-calendar installations)."""

    week: dict[int, DayHours] | None
    overrides: dict[date, Override] = field(default_factory=dict)

    @property
    def always_open(self) -> bool:
        """True when no weekday hours are configured."""
        return self.week is None

    def plan(self, day: date) -> DayPlan:
        """Hours of one date: an override first, then holidays, make-up days and the weekday."""
        override = self.overrides.get(day)
        if override is not None:
            return DayPlan(day, override.hours, "override")
        if self.week is None:
            return DayPlan(day, DayHours(time(0, 0), time(23, 59, 59)), "always_open")
        working, holiday = official_day(day)
        if holiday:
            return DayPlan(day, None, "holiday", holiday)
        if working and day.weekday() >= 5:
            # A make-up Saturday or Sunday works the hours of the centre's own day if it has them,
            # else those of its first working weekday.
            hours = self.week.get(day.weekday()) or next(
                (self.week[wd] for wd in sorted(self.week) if wd < 5), None)
            return DayPlan(day, hours, "makeup")
        hours = self.week.get(day.weekday())
        if hours is not None:
            return DayPlan(day, hours, "hours")
        # A Saturday or Sunday off is the weekend; a weekday the centre does not open is its own rule.
        return DayPlan(day, None, "weekend" if day.weekday() >= 5 else "no_hours")

    def is_open(self, moment: datetime) -> bool:
        """True when the centre serves at this moment."""
        if self.week is None and moment.astimezone(DISTRICT_TZ).date() not in self.overrides:
            return True
        local = moment.astimezone(DISTRICT_TZ)
        hours = self.plan(local.date()).hours
        if hours is None:
            return False
        now = local.time()
        return any(start <= now < end for start, end in hours.periods())

    def next_opening(self, moment: datetime) -> datetime | None:
        """The moment service starts next (`moment` itself when open); None beyond SEARCH_DAYS."""
        if self.is_open(moment):
            return moment
        local = moment.astimezone(DISTRICT_TZ)
        for offset in range(SEARCH_DAYS + 1):
            day = local.date() + timedelta(days=offset)
            hours = self.plan(day).hours
            if hours is None:
                continue
            for start, _end in hours.periods():
                at = datetime.combine(day, start, DISTRICT_TZ)
                if at > local:
                    return at
        return None

    def closes_at(self, moment: datetime) -> datetime | None:
        """When the current open period ends (None when closed now or always open)."""
        if self.week is None and moment.astimezone(DISTRICT_TZ).date() not in self.overrides:
            return None
        local = moment.astimezone(DISTRICT_TZ)
        hours = self.plan(local.date()).hours
        for start, end in hours.periods() if hours else []:
            if start <= local.time() < end:
                return datetime.combine(local.date(), end, DISTRICT_TZ)
        return None

    def is_working_day(self, day: date) -> bool:
        """A day the centre opens at all (official working days when no hours are configured)."""
        if self.week is None and day not in self.overrides:
            return official_day(day)[0]
        return self.plan(day).hours is not None

    def next_working_day(self, moment: datetime) -> datetime:
        """The same local time on the next working day (follow-ups are due within one)."""
        local = moment.astimezone(DISTRICT_TZ)
        for offset in range(1, SEARCH_DAYS + 1):
            candidate = local + timedelta(days=offset)
            if self.is_working_day(candidate.date()):
                return candidate
        return local + timedelta(days=1)


def parse_hhmm(text: str) -> time:
    """A time of day from "HH:MM" (ValueError with a plain message otherwise)."""
    try:
        hour, minute = text.strip().split(":")
        return time(int(hour), int(minute))
    except ValueError:
        raise ValueError(f"{text!r} is not a time such as 09:00") from None


def hours_from_text(opens: str, closes: str, lunch: str = "") -> DayHours:
    """DayHours from "09:00", "17:00" and an optional "12:00-13:00"."""
    lunch_start = lunch_end = None
    if lunch.strip():
        first, _, second = lunch.partition("-")
        lunch_start, lunch_end = parse_hhmm(first), parse_hhmm(second)
    return DayHours(parse_hhmm(opens), parse_hhmm(closes), lunch_start, lunch_end)
