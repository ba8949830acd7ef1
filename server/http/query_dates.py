"""Dates and instants in query strings (`?from=`, `?to=`, `?date=`): one parser, one range.

A date far outside the service's life (year 1 or 9999) parses, but the day after it or its UTC
instant overflows Python's datetime, which surfaced as a 500 on report and audit queries. Dates
are therefore held to QUERY_DAYS: wide enough for any record the district keeps, narrow enough
that a day's bounds, a week's start and a range's end are always representable.
"""

from __future__ import annotations

from datetime import date, datetime

from aiohttp import web

from server.http.errors import ApiError
from server.runtime.district_time import DISTRICT_TZ

EARLIEST_QUERY_DAY = date(2000, 1, 1)
LATEST_QUERY_DAY = date(2099, 12, 31)
_RANGE_TEXT = f"{EARLIEST_QUERY_DAY.isoformat()} 至 {LATEST_QUERY_DAY.isoformat()}"


def query_day(request: web.Request, name: str, default: date) -> date:
    """The query parameter name as a date YYYY-MM-DD within QUERY_DAYS (default when absent or
    empty); 400 bad_date otherwise."""
    raw = request.query.get(name)
    if not raw:
        return default
    try:
        day = date.fromisoformat(raw) if len(raw) == 10 and raw.isascii() else None
    except ValueError:
        day = None
    if day is None:
        raise ApiError(400, "bad_date", f"{name} 必须是 YYYY-MM-DD 格式的日期，收到 {raw[:20]!r}")
    _within(name, day)
    return day


def query_instant(request: web.Request, name: str) -> datetime | None:
    """The query parameter name as an ISO date or date-time (a bare date or a time without an
    offset is district time), on a day within QUERY_DAYS; None when absent; 400 bad_date otherwise."""
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw) if raw.isascii() else None
    except ValueError:
        value = None
    if value is None:
        raise ApiError(400, "bad_date", f"{name} 必须是 ISO 日期或时间")
    _within(name, value.date())
    return value if value.tzinfo else value.replace(tzinfo=DISTRICT_TZ)


def _within(name: str, day: date) -> None:
    if not EARLIEST_QUERY_DAY <= day <= LATEST_QUERY_DAY:
        raise ApiError(400, "bad_date", f"{name} 必须在 {_RANGE_TEXT} 之间")
