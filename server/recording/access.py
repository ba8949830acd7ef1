"""Who may upload to and replay a session's recording; every refusal that matters is audited."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from session_queue import WAITING_TICKET_STATES

from server.auth.centre_scope import outside_own_centre
from server.auth.principal import Principal
from server.db.models import AuditLog, Consent, ServiceSession
from server.db.types import utcnow
from server.http import app_keys
from server.http.errors import ApiError
from server.recording.texts import ERRORS
from server.signaling.context import SIGNALING

LIVE_STATES = ("in_call", "wrap_up")


async def audit(request: web.Request, principal: Principal, action: str, session_id: str,
                data: dict[str, Any]) -> None:
    """One audit entry about a session's recording (who is the principal's id, never a name)."""
    async with request.app[app_keys.DB_SESSIONS]() as session, session.begin():
        session.add(AuditLog(at=utcnow(), actor=principal.actor, action=action, object_type="recording",
                             object_id=session_id, data=data))


async def session_row(request: web.Request, session_id: str) -> ServiceSession:
    """The session, or 404."""
    async with request.app[app_keys.DB_SESSIONS]() as session:
        row = await session.get(ServiceSession, session_id)
    if row is None:
        raise ApiError(404, "unknown_session", ERRORS["unknown_session"])
    return row


async def live_state(request: web.Request, session_id: str) -> tuple[str | None, str | None]:
    """(state, caseworker id) of the session's ticket in the live queue; (None, None) when it left."""
    ticket = await request.app[SIGNALING].queue.ticket(session_id)
    if ticket is None:
        return None, None
    return ticket.state, ticket.caseworker_id


async def require_uploader(request: web.Request, principal: Principal, session_id: str) -> bool:
    """The session's caseworker while the call is live or in wrap-up (after a 转办, the caseworker's
    wrap-up), for a resident who did not decline the notice: 404, 403 or 409 otherwise. True when
    the principal holds the call now (in it: a recording closed by the caseworker before a 转办 is
    continued by the one who took it)."""
    row = await session_row(request, session_id)
    state, holder = await live_state(request, session_id)
    # An offered ticket names the caseworker it is offered to, who holds no call yet: the call is
    # still the one who had it (a 转办 offered straight to a free caseworker).
    live_holder = holder if state in LIVE_STATES else None
    mine = live_holder == str(principal.user_id) if live_holder is not None else row.caseworker_id == principal.user_id
    if not mine:
        await audit(request, principal, "recording_upload_denied", session_id, {"reason": "not_your_session"})
        raise ApiError(403, "not_your_session", ERRORS["not_your_session"])
    if await _declined(request, session_id):
        # The console does not record such a call (shouldRecord); nor does the server store one.
        await audit(request, principal, "recording_upload_denied", session_id, {"reason": "consent_declined"})
        raise ApiError(403, "consent_declined", ERRORS["consent_declined"])
    if state not in LIVE_STATES and not await _transferred_by(request, principal, row, state):
        raise ApiError(409, "not_live", ERRORS["not_live"])
    return state == "in_call" and live_holder == str(principal.user_id)


async def _declined(request: web.Request, session_id: str) -> bool:
    """Whether the resident declined the notice before queueing (docs/acceptance.md)."""
    async with request.app[app_keys.DB_SESSIONS]() as db:
        consent = await db.get(Consent, session_id)
    return consent is not None and consent.choice == "declined"


async def _transferred_by(request: web.Request, principal: Principal, row: ServiceSession, state: str | None) -> bool:
    """True when the principal transferred this call and is in the wrap-up that follows (a 转办 puts
    the caseworker, not the ticket, in wrap-up): the last seconds of the recording still arrive."""
    if row.caseworker_id != principal.user_id or state not in WAITING_TICKET_STATES:
        return False
    status = await request.app[SIGNALING].queue.caseworker(str(principal.user_id))
    return status is not None and status.state == "wrap_up"


async def require_session_caseworker(request: web.Request, principal: Principal, session_id: str) -> ServiceSession:
    """The session's caseworker (live or not): closing and resuming need no live call."""
    row = await session_row(request, session_id)
    _, holder = await live_state(request, session_id)
    if row.caseworker_id != principal.user_id and holder != str(principal.user_id):
        raise ApiError(403, "not_your_session", ERRORS["not_your_session"])
    return row


async def require_viewer(request: web.Request, principal: Principal, session_id: str) -> ServiceSession:
    """Supervisors; the session's caseworker only when JINGLIN_RECORDING_CASEWORKER_REPLAY is on."""
    row = await session_row(request, session_id)
    async with request.app[app_keys.DB_SESSIONS]() as db:
        other_centre = await outside_own_centre(db, principal, row.centre_id, row.street_id)
    if principal.role == "supervisor" and not other_centre:
        return row
    allowed = (principal.role == "caseworker" and request.app[app_keys.SETTINGS].recording_caseworker_replay
               and row.caseworker_id == principal.user_id)
    if not allowed:
        await audit(request, principal, "recording_view_denied", session_id, {})
        raise ApiError(403, "not_allowed", ERRORS["not_allowed"])
    return row
