"""HTTP endpoints of appointments: the kiosk's bookable slots, the day's list for staff, a supervisor's cancel."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from server.auth.principal import Principal, require_role
from server.catalog.service import CATALOG, matter_in_query, matter_name
from server.db.models import Appointment
from server.hours import appointments as store
from server.hours.appointment_service import APPOINTMENTS
from server.hours.appointment_slots import SLOT_MINUTES
from server.hours.appointments import AppointmentError, appointment_view
from server.hours.views import own_centre
from server.http.errors import ApiError
from server.http.query_dates import query_day
from server.http.request_body import read_model
from server.http.routing import Param, Route
from server.protocol.free_text import MASKED
from server.runtime.district_time import iso_local, local_date
from server.runtime.ids import parse_id


class SlotOut(BaseModel):
    """One slot: ISO start and end, free places and `free` | `full` | `past`."""

    start: str
    end: str
    free: int
    state: str


class SlotDayOut(BaseModel):
    """One date's slots (none on a holiday or a closed day: `reason` and `holiday` say why)."""

    date: str
    reason: str
    holiday: str
    slots: list[SlotOut]


class SlotsOut(BaseModel):
    """The kiosk's bookable days for a matter, from today on."""

    centre_id: int | None
    matter_id: str
    slot_minutes: int
    now: str
    days: list[SlotDayOut]


class AppointmentOut(BaseModel):
    """One appointment as staff see it; `phone` masked (138****1234) unless `phone_full`."""

    id: int
    centre_id: int | None
    kiosk_id: int
    matter_id: str
    matter_name: str
    skill: str
    starts_at: str | None
    ends_at: str | None
    day: str
    code: str
    phone: str
    phone_full: bool
    state: str  # booked | checked_in | no_show | cancelled
    session_id: str | None
    checkin_kiosk_id: int | None
    cancelled_by: int | None
    note: str
    created_at: str | None
    updated_at: str | None


class AppointmentsOut(BaseModel):
    """A date's appointments by start time."""

    date: str
    total: int
    items: list[AppointmentOut]


class CancelIn(BaseModel):
    """A supervisor's cancel, with an optional note (the reason told to the resident)."""

    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, MASKED] = Field(default="", max_length=500)


STAFF = ("caseworker", "supervisor", "admin")
CANCELLERS = ("supervisor", "admin")


def _full_phone(principal: Principal, row: Appointment) -> bool:
    # The supervisors who cancel a booking call the resident to say so: they see the number in full.
    return principal.role in CANCELLERS and row.state == "cancelled"


async def get_slots(request: web.Request) -> web.Response:
    """The kiosk's centre's slots for a matter's skill, today and the coming days."""
    principal = require_role(request, "kiosk")
    matter = await matter_in_query(request)
    assert principal.kiosk_id is not None
    service = request.app[APPOINTMENTS]
    centre_id, days = await service.slots(principal.kiosk_id, matter.skill)
    out = SlotsOut(centre_id=centre_id, matter_id=matter.id, slot_minutes=SLOT_MINUTES,
                   now=iso_local(service.hours.clock.now()) or "", days=[SlotDayOut.model_validate(d) for d in days])
    return web.json_response(text=out.model_dump_json())


async def get_appointments(request: web.Request) -> web.Response:
    """A date's appointments of the centre (today by default), numbers masked."""
    principal = require_role(request, *STAFF)
    service = request.app[APPOINTMENTS]
    day = query_day(request, "date", local_date(service.hours.clock.now()))
    catalog = await request.app[CATALOG].current()
    async with service.hours.sessions() as db:
        rows = await store.list_day(db, day, own_centre(principal))
    items = [AppointmentOut.model_validate(appointment_view(
        row, full_phone=_full_phone(principal, row), matter_name=matter_name(catalog, row.matter_id))) for row in rows]
    out = AppointmentsOut(date=day.isoformat(), total=len(items), items=items)
    return web.json_response(text=out.model_dump_json())


async def post_cancel(request: web.Request) -> web.Response:
    """A supervisor cancels a booking: the place is freed, the number kept (and shown) for the call."""
    principal = require_role(request, *CANCELLERS)
    appointment_id = parse_id(request.match_info["appointment_id"])
    body = await read_model(request, CancelIn) if request.body_exists else CancelIn()
    service = request.app[APPOINTMENTS]
    now = service.hours.clock.now()
    catalog = await request.app[CATALOG].current()
    async with service.hours.sessions() as db, db.begin():
        row = await db.get(Appointment, appointment_id) if appointment_id is not None else None
        own = own_centre(principal)
        if row is None or (own is not None and row.centre_id != own):
            raise ApiError(404, "unknown_appointment", "没有这个预约")
        assert principal.user_id is not None
        try:
            await store.cancel(db, row, principal.user_id, body.note, now)
        except AppointmentError as exc:
            raise ApiError(exc.status, exc.code, exc.message) from None
        item = appointment_view(row, full_phone=True, matter_name=matter_name(catalog, row.matter_id))
    return web.json_response(text=AppointmentOut.model_validate(item).model_dump_json())


ROUTES: list[Route] = [
    Route("GET", "/api/v1/appointments/slots", get_slots,
          "The kiosk's appointment slots for a matter: today and the next days, free places per slot", "hours",
          roles=("kiosk",), params=(Param("matter", description="the matter's id", required=True),),
          response=SlotsOut, errors=(400, 401, 403, 404)),
    Route("GET", "/api/v1/appointments", get_appointments,
          "A date's appointments of the centre, by start time (numbers masked)", "hours", roles=STAFF,
          params=(Param("date", description="YYYY-MM-DD (default: today)"),),
          response=AppointmentsOut, errors=(400, 401, 403)),
    Route("POST", "/api/v1/appointments/{appointment_id}/cancel", post_cancel,
          "Cancel a booking (its place is freed; the number is kept and shown for the call)", "hours",
          roles=CANCELLERS, params=(Param("appointment_id", location="path", description="the appointment's id"),),
          body=CancelIn, response=AppointmentOut, errors=(400, 401, 403, 404, 409, 413, 415, 422)),
]
