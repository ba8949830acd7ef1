"""The supervisor's view of a day's recordings: every answered session with its recording state,
and how many of them have no complete recording (a missing or partial record is worth a look)."""

from __future__ import annotations

from datetime import date

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy import select

from server.auth.principal import require_role
from server.db.models import Recording
from server.db.types import utcnow
from server.http import app_keys
from server.http.query_dates import query_day
from server.http.routing import Param, Route
from server.recording.access import LIVE_STATES
from server.recording.service import summarise
from server.reports.queries import SessionFilter, local_day_bounds, session_rows
from server.reports.schemas import RecordingSummaryOut
from server.runtime.district_time import DISTRICT_TZ, iso_local


class RecordedSessionOut(BaseModel):
    """One answered session of the day and its recording."""

    id: str
    ticket_number: str
    matter: str
    caseworker: str | None
    state: str
    answered_at: str | None
    recording: RecordingSummaryOut


class RecordingsDayOut(BaseModel):
    """A local day's answered sessions with their recordings; `without_complete` counts the ended
    ones whose recording is not complete (live calls are not counted yet)."""

    date: str
    sessions: int
    without_complete: int
    items: list[RecordedSessionOut]


def _day(request: web.Request) -> date:
    return query_day(request, "date", utcnow().astimezone(DISTRICT_TZ).date())


async def get_recordings_day(request: web.Request) -> web.Response:
    """Supervisors: a day's answered sessions with their recording state (default today)."""
    principal = require_role(request, "supervisor", "admin")
    # A centre supervisor sees their own centre's sessions (server/auth/centre_scope.py).
    own = principal.centre_id if principal.role == "supervisor" else None
    day = _day(request)
    enabled = request.app[app_keys.SETTINGS].recording_enabled
    start, end = local_day_bounds(day, day)
    async with request.app[app_keys.DB_SESSIONS]() as db:
        answered = await session_rows(db, start, end, SessionFilter(centre_id=own))
        rows = [r for r in answered if r.answered_at is not None]
        ids = [r.id for r in rows]
        recordings = {r.session_id: r for r in (await db.scalars(
            select(Recording).where(Recording.session_id.in_(ids)))).all()} if ids else {}
    items = []
    for row in rows:
        summary = summarise(recordings.get(row.id), row.state in LIVE_STATES, enabled)
        items.append(RecordedSessionOut(
            id=row.id, ticket_number=row.ticket_number, matter=row.matter, caseworker=row.caseworker,
            state=row.state, answered_at=iso_local(row.answered_at) if row.answered_at else None,
            recording=summary))
    without = sum(1 for item in items if item.state not in LIVE_STATES and item.recording.state != "complete")
    body = RecordingsDayOut(date=day.isoformat(), sessions=len(items), without_complete=without, items=items)
    return web.json_response(body.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


ROUTES: list[Route] = [
    Route("GET", "/api/v1/recordings", get_recordings_day,
          "Supervisors: a day's answered sessions with their recording state, and how many lack a complete "
          "recording", "recording", roles=("supervisor", "admin"),
          params=(Param("date", description="local day YYYY-MM-DD; default today",
                        schema={"type": "string", "format": "date"}),),
          response=RecordingsDayOut, errors=(400, 401, 403)),
]
