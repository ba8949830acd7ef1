"""Who may read a session's acceptance records (receipt, later the signature): the session's kiosk
(where it says so), its caseworker and supervisors. Every refusal of a signed-in party is audited."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.acceptance import texts
from server.auth.centre_scope import outside_own_centre
from server.auth.principal import Principal
from server.db.models import AuditLog, ServiceSession
from server.db.types import utcnow
from server.http import app_keys
from server.http.errors import ApiError


async def audit(request: web.Request, principal: Principal, action: str, session_id: str,
                data: dict[str, Any] | None = None) -> None:
    """Write one audit line about a session."""
    async with request.app[app_keys.DB_SESSIONS]() as session, session.begin():
        session.add(AuditLog(at=utcnow(), actor=principal.actor, action=action, object_type="session",
                             object_id=session_id, data=data or {}))


async def readable_session(request: web.Request, principal: Principal, session_id: str, what: str, *,
                           kiosk: bool) -> ServiceSession:
    """The session if `principal` may read its `what`; 404 unknown, 403 (audited) another kiosk or caseworker."""
    async with request.app[app_keys.DB_SESSIONS]() as db:
        row = await db.get(ServiceSession, session_id)
        if row is None:
            raise ApiError(404, "unknown_session", texts.HTTP_ERRORS["unknown_session"])
        other_centre = await outside_own_centre(db, principal, row.centre_id, row.street_id)
    allowed = ((principal.role == "supervisor" and not other_centre)
               or (principal.role == "caseworker" and row.caseworker_id == principal.user_id)
               or (kiosk and principal.role == "kiosk" and row.kiosk_id == principal.kiosk_id))
    if not allowed:
        await audit(request, principal, f"{what}_view_denied", session_id)
        raise ApiError(403, "not_allowed", texts.HTTP_ERRORS["not_allowed"])
    return row
