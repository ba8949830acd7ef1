"""Which part of each local hour of a day the acceptance centres were open (their calendars).

The staffing report gives each hour its `open_share` and its service level, and the day's service
level over the open hours only: residents who queue at night or on a holiday (the kiosk offers 预约
and 回电 then, and tickets are ended at closing) would otherwise weigh on a figure the centre can
only be judged by while it serves. Several centres (a district-wide report) count as open while any
of them is.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time

from server.hours.calendar import WorkingCalendar

HOURS = 24
DAY_S = 24 * 3600


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _periods(calendar: WorkingCalendar, day: date) -> list[tuple[int, int]]:
    """Open periods of one calendar on `day`, in seconds since local midnight."""
    if calendar.always_open and day not in calendar.overrides:
        return [(0, DAY_S)]
    hours = calendar.plan(day).hours
    if hours is None:
        return []
    return [(_seconds(start), _seconds(end)) for start, end in hours.periods()]


def _union(periods: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(periods):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def open_share_by_hour(calendars: Iterable[WorkingCalendar], day: date) -> list[float]:
    """For each local hour of `day`, the share (0-1) of it during which at least one centre was open.

    No calendar at all (no centre configured) counts as always open, as the kiosks treat it."""
    calendars = list(calendars)
    if not calendars:
        return [1.0] * HOURS
    merged = _union(p for calendar in calendars for p in _periods(calendar, day))
    shares = []
    for hour in range(HOURS):
        start, end = hour * 3600, (hour + 1) * 3600
        covered = sum(max(0, min(end, b) - max(start, a)) for a, b in merged)
        shares.append(round(covered / 3600, 4))
    return shares
