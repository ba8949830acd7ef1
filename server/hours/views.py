"""HTTP endpoints of the calendar: `GET /api/v1/calendar` and the kiosk's `GET /api/v1/availability`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.auth.principal import Principal, require_role
from server.catalog.service import CATALOG, matter_in_query, matter_name
from server.db.models import Callback, Centre, Site
from server.hours.callbacks import CALLBACK_STATES, CallbackError, callback_view, list_callbacks, move_callback
from server.hours.schemas import (
    AvailabilityOut,
    CalendarOut,
    CallbackIn,
    CallbackOut,
    CallbacksOut,
    calendar_out,
)
from server.hours.service import HOURS
from server.hours.store import centre_of_site, load_calendar
from server.http.errors import ApiError
from server.http.request_body import read_model
from server.http.routing import Param, Route
from server.runtime.district_time import iso_local
from server.runtime.ids import parse_id

DEFAULT_DAYS = 14
MAX_DAYS = 62


def _days(request: web.Request) -> int:
    raw = request.query.get("days", "")
    if not raw:
        return DEFAULT_DAYS
    value = parse_id(raw)
    if value is None or not 1 <= value <= MAX_DAYS:
        raise ApiError(400, "bad_days", f"days 必须是 1 到 {MAX_DAYS} 之间的整数")
    return value


async def get_calendar(request: web.Request) -> web.Response:
    """A site's centre calendar: open now, next opening and the coming days."""
    principal = require_role(request, "kiosk", "caseworker", "supervisor", "admin")
    hours = request.app[HOURS]
    raw = request.query.get("site", "")
    site_id = parse_id(raw) if raw else None
    if raw and site_id is None:
        raise ApiError(400, "bad_site", "site 必须是整数编号")
    days = _days(request)
    async with hours.sessions() as db:
        if site_id is None:
            if principal.kiosk_id is None:
                raise ApiError(400, "missing_site", "请用 site 指明站点")
            centre_id, calendar = await hours.kiosk_calendar(principal.kiosk_id)
            centre = await db.get(Centre, centre_id) if centre_id else None
        else:
            if await db.get(Site, site_id) is None:
                raise ApiError(404, "unknown_site", "没有这个站点")
            centre = await centre_of_site(db, site_id)
            calendar = await load_calendar(db, centre.id if centre else None)
    out = calendar_out(calendar, hours.clock.now(), days, centre_id=centre.id if centre else None,
                       centre=centre.name if centre else "", site_id=site_id)
    return web.json_response(text=out.model_dump_json())


async def get_availability(request: web.Request) -> web.Response:
    """Whether this kiosk can queue a resident for a matter now (and if not, why and until when)."""
    principal = require_role(request, "kiosk")
    matter = await matter_in_query(request)
    assert principal.kiosk_id is not None
    hours = request.app[HOURS]
    found = await hours.availability(principal.kiosk_id, matter.skill)
    out = AvailabilityOut(state=found.state, est_wait_s=None if found.est_wait_s is None else round(found.est_wait_s),
                          next_open=iso_local(found.next_open), wait_limit_s=round(hours.wait_limit_s),
                          now=iso_local(hours.clock.now()) or "")
    return web.json_response(text=out.model_dump_json())


STAFF = ("caseworker", "supervisor", "admin")


async def _named(request: web.Request, items: list[dict[str, Any]]) -> list[CallbackOut]:
    catalog = await request.app[CATALOG].current()
    return [CallbackOut.model_validate({**item, "matter_name": matter_name(catalog, item["matter_id"])})
            for item in items]


def own_centre(principal: Principal) -> int | None:
    """The centre whose callbacks and appointments a staff member sees: caseworkers and centre
    supervisors their own; district staff (None) all."""
    return principal.centre_id if principal.role in {"caseworker", "supervisor"} else None


# The callback kinds each staff role works: the 回访 number left after a 1-2 star rating is the
# supervisors' (the caseworker rated may be the one complained about), so caseworkers neither
# see nor move a `followup` (docs/hours.md "回访 phone"). None: every kind.
_CASEWORKER_KINDS = ("callback",)


def callback_kinds(principal: Principal) -> tuple[str, ...] | None:
    """The callback kinds principal may see and move (None: all)."""
    return _CASEWORKER_KINDS if principal.role == "caseworker" else None


async def get_callbacks(request: web.Request) -> web.Response:
    """The centre's 回电 requests by due time; numbers masked except for the staff member who took one."""
    principal = require_role(request, *STAFF)
    state = request.query.get("state") or None
    if state is not None and state not in CALLBACK_STATES:
        raise ApiError(400, "bad_state", f"state 只能是 {', '.join(CALLBACK_STATES)}")
    hours = request.app[HOURS]
    async with hours.sessions() as db:
        items = await list_callbacks(db, hours.clock.now(), principal.user_id, state=state,
                                     centre_id=own_centre(principal), kinds=callback_kinds(principal))
    out = CallbacksOut(total=len(items), overdue=sum(i["overdue"] for i in items),
                       items=await _named(request, items))
    return web.json_response(text=out.model_dump_json())


async def post_callback(request: web.Request) -> web.Response:
    """Take a callback (its number is then shown in full to the taker), close it, or hand it back."""
    principal = require_role(request, *STAFF)
    callback_id = parse_id(request.match_info["callback_id"])
    body = await read_model(request, CallbackIn)
    hours = request.app[HOURS]
    now = hours.clock.now()
    async with hours.sessions() as db, db.begin():
        row = await db.get(Callback, callback_id) if callback_id is not None else None
        own, kinds = own_centre(principal), callback_kinds(principal)
        if row is None or (own is not None and row.centre_id != own) or (kinds is not None and row.kind not in kinds):
            raise ApiError(404, "unknown_callback", "没有这条回电请求")
        assert principal.user_id is not None
        try:
            await move_callback(db, row, body.state, body.note, principal.user_id,
                                supervisor=principal.role != "caseworker", now=now)
        except CallbackError as exc:
            raise ApiError(exc.status, exc.code, exc.message) from None
        item = callback_view(row, now, principal.user_id)
    return web.json_response(text=(await _named(request, [item]))[0].model_dump_json())


ROUTES: list[Route] = [
    Route("GET", "/api/v1/calendar", get_calendar, "A site's centre calendar: hours, holidays, next opening",
          "hours", roles=("kiosk", "caseworker", "supervisor", "admin"),
          params=(Param("site", description="site id (a kiosk may leave it out for its own site)"),
                  Param("days", description=f"how many days from today (1-{MAX_DAYS}, default {DEFAULT_DAYS})",
                        schema={"type": "integer"})),
          response=CalendarOut, errors=(400, 401, 403, 404)),
    Route("GET", "/api/v1/availability", get_availability,
          "Can the kiosk queue a resident for this matter now: queue, no_staff, long_wait or closed", "hours",
          roles=("kiosk",), params=(Param("matter", description="the matter's id", required=True),),
          response=AvailabilityOut, errors=(400, 401, 403, 404)),
    Route("GET", "/api/v1/callbacks", get_callbacks, "回电 requests of the centre, by due time (numbers masked)",
          "hours", roles=STAFF,
          params=(Param("state", description="open, taken, done or unreachable",
                        schema={"type": "string", "enum": list(CALLBACK_STATES)}),),
          response=CallbacksOut, errors=(400, 401, 403)),
    Route("POST", "/api/v1/callbacks/{callback_id}", post_callback,
          "Take (the taker then sees the full number), close (done, unreachable) or hand back a callback",
          "hours", roles=STAFF, params=(Param("callback_id", location="path", description="the callback's id"),),
          body=CallbackIn, response=CallbackOut, errors=(400, 401, 403, 404, 409, 413, 415, 422)),
]
