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


def local(moment: datetime | None) -> datetime | None:
    """The district's local time of an aware moment."""
    return None if moment is None else moment.astimezone(DISTRICT_TZ)


def iso_local(moment: datetime | None) -> str | None:
    """ISO 8601 with the +08:00 offset: unambiguous for machines and readable for people."""
    value = local(moment)
    return None if value is None else value.isoformat(timespec="seconds")
