"""The supervisor's HTTP endpoints and their route table (`ROUTES`; see docs/supervisor.md).

Every endpoint is for supervisors and admins: others get 403, signed-out callers 401. Dates are
Asia/Shanghai local days `YYYY-MM-DD`; a missing date means today, a bad one is a 400.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from server.auth.centre_scope import OTHER_CENTRE_MESSAGE
from server.auth.principal import current_principal, require_role
from server.db.models import AuditLog, FollowUp
from server.db.types import utcnow
from server.http import app_keys
from server.http.errors import ApiError
from server.http.query_dates import query_day
from server.http.request_body import read_model
from server.http.routing import Param, Route
from server.queueing.service import QUEUE
from server.reports import export, feed, followups, kiosks, live, schemas, staffing
from server.reports.metrics import measure
from server.reports.queries import (
    GROUPINGS,
    MAX_RANGE_DAYS,
    SessionFilter,
    SessionRow,
    group_measures,
    local_day_bounds,
    session_rows,
)
from server.runtime.district_time import DISTRICT_TZ
from server.runtime.ids import parse_id

ROLES = ("supervisor", "admin")
DEFAULT_TARGET_SL = 0.8


def _json(model: type[BaseModel], data: dict[str, Any]) -> web.Response:
    # Validating the answer through its published model keeps the OpenAPI document true.
    return web.json_response(text=model.model_validate(data).model_dump_json(by_alias=True))


def _number(request: web.Request, name: str, default: float, low: float, high: float) -> float:
    """A plain decimal number (ASCII digits, an optional fraction: no sign, exponent, spaces or
    full-width digits) within low..high; 400 bad_<name> otherwise."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    value = float(raw) if _DECIMAL.fullmatch(raw) else float("nan")
    if not low <= value <= high:  # also refuses NaN
        raise ApiError(400, f"bad_{name}", f"{name} 必须是 {low} 到 {high} 之间的数")
    return value


def _whole(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """A whole number in ASCII digits within low..high; 400 bad_<name> otherwise."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    value = int(raw) if _DIGITS.fullmatch(raw) else None
    if value is None or not low <= value <= high:
        raise ApiError(400, f"bad_{name}", f"{name} 必须是 {low} 到 {high} 之间的整数")
    return value


_DECIMAL = re.compile(r"[0-9]{1,9}(\.[0-9]{0,9})?|\.[0-9]{1,9}")
_DIGITS = re.compile(r"[0-9]{1,9}")


def _int(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if not raw:
        return None
    value = parse_id(raw)
    if value is None:
        raise ApiError(400, f"bad_{name}", f"{name} 必须是整数编号")
    return value


def _centre(request: web.Request) -> int | None:
    """The centre filter a request may use: a centre supervisor (one with a centre) sees only their
    own centre (403 for another); a district supervisor and an admin see any, or all."""
    requested = _int(request, "centre")
    principal = current_principal(request)
    if principal is None or principal.role != "supervisor" or principal.centre_id is None:
        return requested
    if requested not in (None, principal.centre_id):
        raise ApiError(403, "other_centre", OTHER_CENTRE_MESSAGE)
    return principal.centre_id


def _filter(request: web.Request) -> SessionFilter:
    return SessionFilter(centre_id=_centre(request), street_id=_int(request, "street"),
                         department=request.query.get("department") or None,
                         matter_id=request.query.get("matter") or None)


def _today() -> date:
    return utcnow().astimezone(DISTRICT_TZ).date()


def _range(request: web.Request) -> tuple[date, date]:
    first = query_day(request, "from", _today())
    last = query_day(request, "to", first)
    if last < first:
        raise ApiError(400, "bad_range", "结束日期（to）不能早于开始日期（from）")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise ApiError(400, "bad_range", f"一次最多查询 {MAX_RANGE_DAYS} 天")
    return first, last


async def _rows(request: web.Request, first: date, last: date) -> list[SessionRow]:
    start, end = local_day_bounds(first, last)
    async with request.app[app_keys.DB_SESSIONS]() as db:
        return await session_rows(db, start, end, _filter(request))


def _threshold(request: web.Request) -> float:
    return request.app[app_keys.SETTINGS].sl_threshold_s


# -- handlers -----------------------------------------------------------------------------------


async def get_live_stats(request: web.Request) -> web.Response:
    """Live queue, caseworkers, today's measures, kiosks and alerts (filters optional)."""
    require_role(request, *ROLES)
    opts = live.LiveOptions(where=_filter(request), threshold_s=_threshold(request),
                            wait_alert_s=_number(request, "wait_alert_s", live.DEFAULT_WAIT_ALERT_S, 1, 86400),
                            abandon_alert=_number(request, "abandon_alert", live.DEFAULT_ABANDON_ALERT, 0, 1),
                            callbacks_now=live.service_now(request.app))
    app = request.app
    data = await live.live_stats(app[app_keys.DB_SESSIONS], app[app_keys.REDIS], app[QUEUE].queue, opts)
    return _json(schemas.LiveOut, data)


async def get_sessions(request: web.Request) -> web.Response:
    """Sessions created in the local days from..to."""
    require_role(request, *ROLES)
    first, last = _range(request)
    rows = await _rows(request, first, last)
    return _json(schemas.SessionsOut, {"from": first.isoformat(), "to": last.isoformat(), "total": len(rows),
                                       "sessions": [r.as_dict() for r in rows]})


async def _export(request: web.Request, suffix: str) -> web.Response:
    principal = require_role(request, *ROLES)
    first, last = _range(request)
    rows = await _rows(request, first, last)
    async with request.app[app_keys.DB_SESSIONS]() as db, db.begin():
        db.add(AuditLog(actor=principal.actor, action="sessions_exported", object_type="sessions",
                        object_id=f"{first:%Y%m%d}-{last:%Y%m%d}", data={"rows": len(rows), "format": suffix}))
    body = export.sessions_csv(rows) if suffix == "csv" else export.sessions_xlsx(rows)
    kind = "text/csv" if suffix == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = f"sessions-{first:%Y%m%d}-{last:%Y%m%d}.{suffix}"
    return web.Response(body=body, content_type=kind, charset="utf-8" if suffix == "csv" else None,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def get_sessions_csv(request: web.Request) -> web.Response:
    """The sessions of from..to as CSV (the API's fields as columns)."""
    return await _export(request, "csv")


async def get_sessions_xlsx(request: web.Request) -> web.Response:
    """The sessions of from..to as an XLSX workbook."""
    return await _export(request, "xlsx")


async def get_summary(request: web.Request) -> web.Response:
    """Measures over from..to, in total and grouped `by` a dimension."""
    require_role(request, *ROLES)
    by = request.query.get("by") or "matter"
    if by not in GROUPINGS:
        raise ApiError(400, "bad_by", f"by 只能是 {', '.join(GROUPINGS)}")
    first, last = _range(request)
    rows = await _rows(request, first, last)
    threshold = _threshold(request)
    groups = [{"key": key, "label": label, **m.as_dict()} for (key, label), m in group_measures(rows, by, threshold)]
    return _json(schemas.SummaryOut, {"from": first.isoformat(), "to": last.isoformat(), "by": by,
                                      "threshold_s": threshold,
                                      "total": measure((r.facts for r in rows), threshold).as_dict(),
                                      "groups": groups})


async def get_staffing(request: web.Request) -> web.Response:
    """Per local hour of one day: arrivals, handle time, Erlang C need and caseworkers on duty."""
    require_role(request, *ROLES)
    day = query_day(request, "date", _today())
    target = _number(request, "target", DEFAULT_TARGET_SL, 0.01, 0.99)
    threshold = _threshold(request)
    default_handle = request.app[QUEUE].queue.config.default_handle_s
    start, end = local_day_bounds(day, day)
    where = _filter(request)
    async with request.app[app_keys.DB_SESSIONS]() as db:
        rows = await session_rows(db, start, end, where)
        hours, open_hours = await staffing.staffing_day(db, day, rows, threshold_s=threshold, target_sl=target,
                                                        default_handle_s=default_handle,
                                                        centre_ids=await staffing.centres_of(db, where))
    return _json(schemas.StaffingOut, {"date": day.isoformat(), "threshold_s": threshold, "target_sl": target,
                                       "default_handle_s": default_handle, "hours": [h.as_dict() for h in hours],
                                       "open_hours": open_hours})


async def get_followups(request: web.Request) -> web.Response:
    """Follow-ups of bad ratings, unresolved first; `state` and `centre` narrow the list."""
    require_role(request, *ROLES)
    state = request.query.get("state") or None
    if state is not None and state not in followups.FOLLOWUP_STATES:
        raise ApiError(400, "bad_state", f"state 只能是 {', '.join(followups.FOLLOWUP_STATES)}")
    # Due times are the calendar's, so overdue is judged on the service clock (docs/hours.md).
    now = live.service_now(request.app) or utcnow()
    async with request.app[app_keys.DB_SESSIONS]() as db:
        items = await followups.list_followups(db, now, state=state, centre_id=_centre(request))
    return _json(schemas.FollowUpsOut, {"total": len(items), "open": sum(i["state"] != "resolved" for i in items),
                                        "overdue": sum(i["overdue"] for i in items), "items": items})


async def post_followup(request: web.Request) -> web.Response:
    """Move a follow-up forward with a note."""
    principal = require_role(request, *ROLES)
    followup_id = parse_id(request.match_info["followup_id"])
    if followup_id is None:
        raise ApiError(404, "unknown_followup", "没有这个回访事项")
    body = await read_model(request, schemas.FollowUpIn)
    async with request.app[app_keys.DB_SESSIONS]() as db, db.begin():
        own = _centre(request)
        followup = await db.get(FollowUp, followup_id)
        if own is not None and followup is not None and followup.centre_id != own:
            raise ApiError(403, "other_centre", "只能处理本中心的回访")
        try:
            item = await followups.update_followup(db, followup_id, body.state, body.note, principal.actor,
                                                   utcnow(), signed=principal.username)
        except followups.FollowUpError as exc:
            raise ApiError(exc.status, exc.code, exc.message) from None
    return _json(schemas.FollowUpOut, item)


async def get_events(request: web.Request) -> web.Response:
    """Recorded ticket transitions after a cursor, in order (docs/integration.md)."""
    require_role(request, *ROLES)
    after = _int(request, "after") or 0
    limit = _whole(request, "limit", feed.DEFAULT_LIMIT, 1, feed.MAX_LIMIT)
    async with request.app[app_keys.DB_SESSIONS]() as db:
        events, cursor = await feed.events_after(db, after, limit, utcnow())
    return _json(schemas.EventsOut, {"events": events, "next": cursor})


async def get_kiosks_health(request: web.Request) -> web.Response:
    """Every kiosk: online or not, last seen, camera health and its daily trend."""
    require_role(request, *ROLES)
    async with request.app[app_keys.DB_SESSIONS]() as db:
        items = await kiosks.kiosk_health(db, request.app[app_keys.REDIS], request.app[app_keys.REDIS_KEYS])
    online = sum(k["online"] for k in items)
    return _json(schemas.KiosksHealthOut, {"total": len(items), "online": online, "offline": len(items) - online,
                                           "declining": sum(k["trend_direction"] == "declining" for k in items),
                                           "kiosks": items})


# -- route table --------------------------------------------------------------------------------

_DATE = {"type": "string", "format": "date"}
_FILTERS = (
    Param("centre", description="only this centre (its answered tickets and its street's waiting ones)",
          schema={"type": "integer"}),
    Param("street", description="only kiosks of this street", schema={"type": "integer"}),
    Param("department", description="only matters of this department, e.g. 公安"),
    Param("matter", description="only this matter id"),
)
_RANGE = (
    Param("from", description="first local day (Asia/Shanghai), YYYY-MM-DD; default today", schema=_DATE),
    Param("to", description="last local day, inclusive; default `from`", schema=_DATE),
)
_ERRORS = (400, 401, 403)
_TAG = "reports"


def _route(method: str, path: str, handler: Any, summary: str, **extra: Any) -> Route:
    return Route(method, path, handler, summary, _TAG, roles=ROLES, **extra)


ROUTES: list[Route] = [
    _route("GET", "/api/v1/stats/live", get_live_stats, "Live queue, caseworkers, today's measures and alerts",
           params=(*_FILTERS,
                   Param("wait_alert_s", description="alert when the longest wait exceeds this (s), default 300",
                         schema={"type": "number"}),
                   Param("abandon_alert", description="alert when today's abandonment rate exceeds this, "
                         "default 0.1", schema={"type": "number"})),
           response=schemas.LiveOut, errors=_ERRORS),
    _route("GET", "/api/v1/sessions", get_sessions, "Sessions created in a range of local days",
           params=(*_RANGE, *_FILTERS), response=schemas.SessionsOut, errors=_ERRORS),
    _route("GET", "/api/v1/reports/sessions.csv", get_sessions_csv, "Sessions export as CSV (UTF-8 with BOM)",
           params=(*_RANGE, *_FILTERS), response_content_type="text/csv", errors=_ERRORS),
    _route("GET", "/api/v1/reports/sessions.xlsx", get_sessions_xlsx, "Sessions export as an XLSX workbook",
           params=(*_RANGE, *_FILTERS),
           response_content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           errors=_ERRORS),
    _route("GET", "/api/v1/reports/summary", get_summary, "Queue measures in total and per group",
           params=(*_RANGE,
                   Param("by", description="grouping dimension, default matter",
                         schema={"type": "string", "enum": list(GROUPINGS)}),
                   *_FILTERS),
           response=schemas.SummaryOut, errors=_ERRORS),
    _route("GET", "/api/v1/reports/staffing", get_staffing,
           "Erlang C staffing hint per hour: arrivals, handle time, needed and on-duty caseworkers",
           params=(Param("date", description="local day, YYYY-MM-DD; default today", schema=_DATE),
                   Param("target", description="service-level target between 0 and 1, default 0.8",
                         schema={"type": "number"}),
                   *_FILTERS),
           response=schemas.StaffingOut, errors=_ERRORS),
    _route("GET", "/api/v1/followups", get_followups, "Follow-ups (回访) of bad ratings",
           params=(Param("state", description="only this state",
                         schema={"type": "string", "enum": list(followups.FOLLOWUP_STATES)}),
                   Param("centre", description="only this centre's follow-ups", schema={"type": "integer"})),
           response=schemas.FollowUpsOut, errors=_ERRORS),
    _route("POST", "/api/v1/followups/{followup_id}", post_followup,
           "Move a follow-up forward (open → contacted → resolved) with a note",
           params=(Param("followup_id", location="path", description="the follow-up's id",
                         schema={"type": "integer"}),),
           body=schemas.FollowUpIn, response=schemas.FollowUpOut, errors=(400, 401, 403, 404, 409, 413, 415, 422)),
    _route("GET", "/api/v1/events", get_events, "Session event feed after a cursor (docs/integration.md)",
           params=(Param("after", description="last event id seen; 0 or absent for the start",
                         schema={"type": "integer"}),
                   Param("limit", description="at most this many events (1-1000, default 100)",
                         schema={"type": "integer"})),
           response=schemas.EventsOut, errors=_ERRORS),
    _route("GET", "/api/v1/kiosks/health", get_kiosks_health, "Kiosks online/offline and camera-health trend",
           response=schemas.KiosksHealthOut, errors=(401, 403)),
]
