"""HTTP handlers of the /admin hours form: a centre's weekday hours and date overrides."""

from __future__ import annotations

from aiohttp import web

from server.admin.hours_edit import (
    CentreHoursOut,
    OverrideIn,
    WeekIn,
    centre_hours,
    drop_override,
    parse_day,
    save_override,
    save_week,
)
from server.admin.http import ADMIN_ERRORS, admin_transaction, json_out
from server.auth.principal import require_role
from server.hours.service import HOURS
from server.http.errors import ApiError
from server.http.request_body import read_model
from server.http.routing import Param, Route
from server.runtime.district_time import DISTRICT_TZ
from server.runtime.ids import parse_id

ADMIN = ("admin",)


def _centre_id(request: web.Request) -> int:
    require_role(request, "admin")  # 401/403 before anything about the centre is said
    centre_id = parse_id(request.match_info["centre_id"])
    if centre_id is None:
        raise ApiError(404, "not_found", "没有这个受理服务中心")
    return centre_id


async def admin_get_hours(request: web.Request) -> web.Response:
    """A centre's weekday hours, overrides from today on, and its next two weeks."""
    centre_id = _centre_id(request)
    async with admin_transaction(request) as (session, _):
        return json_out(await centre_hours(session, centre_id, request.app[HOURS].clock.now()))


async def admin_put_week(request: web.Request) -> web.Response:
    """Replace a centre's weekday hours (weekdays left out are closed)."""
    centre_id = _centre_id(request)
    async with admin_transaction(request) as (session, actor):  # the role is checked before the body is read
        await save_week(session, centre_id, await read_model(request, WeekIn), actor)
        return json_out(await centre_hours(session, centre_id, request.app[HOURS].clock.now()))


async def admin_put_override(request: web.Request) -> web.Response:
    """Close one date, or open it with its own hours."""
    centre_id = _centre_id(request)
    now = request.app[HOURS].clock.now()
    async with admin_transaction(request) as (session, actor):
        body = await read_model(request, OverrideIn)
        day = parse_day(request.match_info["day"], now.astimezone(DISTRICT_TZ).date())
        await save_override(session, centre_id, day, body, actor)
        return json_out(await centre_hours(session, centre_id, now))


async def admin_delete_override(request: web.Request) -> web.Response:
    """Remove a date's override: the weekday hours and holidays apply again."""
    centre_id = _centre_id(request)
    now = request.app[HOURS].clock.now()
    async with admin_transaction(request) as (session, actor):
        day = parse_day(request.match_info["day"], now.astimezone(DISTRICT_TZ).date())
        await drop_override(session, centre_id, day, actor)
        return json_out(await centre_hours(session, centre_id, now))


_CENTRE = Param("centre_id", location="path", description="the centre's id", schema={"type": "integer"})
_DAY = Param("day", location="path", description="the date, YYYY-MM-DD (today or later)")
_PATH = "/api/v1/admin/centres/{centre_id}"

ROUTES: list[Route] = [
    Route("GET", f"{_PATH}/hours", admin_get_hours, "A centre's opening hours, date overrides and next two weeks",
          "admin", roles=ADMIN, params=(_CENTRE,), response=CentreHoursOut, errors=ADMIN_ERRORS),
    Route("PUT", f"{_PATH}/hours", admin_put_week, "Replace a centre's weekday hours (lunch break optional)",
          "admin", roles=ADMIN, params=(_CENTRE,), body=WeekIn, response=CentreHoursOut, errors=ADMIN_ERRORS),
    Route("PUT", f"{_PATH}/overrides/{{day}}", admin_put_override,
          "Close a date or give it its own hours (replaces that date's override)", "admin", roles=ADMIN,
          params=(_CENTRE, _DAY), body=OverrideIn, response=CentreHoursOut, errors=ADMIN_ERRORS),
    Route("DELETE", f"{_PATH}/overrides/{{day}}", admin_delete_override, "Remove a date's override", "admin",
          roles=ADMIN, params=(_CENTRE, _DAY), response=CentreHoursOut, errors=ADMIN_ERRORS),
]
