"""The district's time zone: local days for ticket numbers, reports and "today" everywhere.

Shanghai keeps UTC+8 all year (no daylight saving time), so a fixed offset is exact and needs no
time-zone database on the host.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

DISTRICT_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def local_date(moment: datetime) -> date:
    """The district's calendar day of an aware moment."""
    return moment.astimezone(DISTRICT_TZ).date()
