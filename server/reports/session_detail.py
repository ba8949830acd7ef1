"""`GET /api/v1/sessions/{session_id}`: one session, plus the parts other features add to it.

Features above reports (recording, ...) register a part under `DETAIL_PARTS` from their cleanup
context: a name and an async function of (app, session row) returning its JSON. Reports knows
the response shape (schemas.SessionDetailOut) but not the features.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from server.auth.centre_scope import require_own_centre
from server.auth.principal import require_role
from server.http import app_keys
from server.http.errors import ApiError
from server.http.routing import Param, Route
from server.reports import schemas
from server.reports.queries import SessionRow, session_row

DetailPart = Callable[[web.Application, SessionRow], Awaitable[Any]]
DETAIL_PARTS: web.AppKey[dict[str, DetailPart]] = web.AppKey("session_detail_parts")


def add_detail_part(app: web.Application, name: str, part: DetailPart) -> None:
    """Register a feature's part of the session detail (call before the app starts serving)."""
    app.setdefault(DETAIL_PARTS, {})[name] = part


async def get_session(request: web.Request) -> web.Response:
    """Supervisors: one session with its names, rating and the features' parts."""
    principal = require_role(request, "supervisor", "admin")
    session_id = request.match_info["session_id"]
    async with request.app[app_keys.DB_SESSIONS]() as db:
        row = await session_row(db, session_id)
        if row is None:
            raise ApiError(404, "unknown_session", "没有这个办理记录")
        await require_own_centre(db, principal, row.centre_id, row.street_id)
    body = row.as_dict()
    for name, part in request.app.get(DETAIL_PARTS, {}).items():
        body[name] = await part(request.app, row)
    return web.json_response(schemas.SessionDetailOut.model_validate(body).model_dump(mode="json"),
                             headers={"Cache-Control": "no-store"})


ROUTES: list[Route] = [
    Route("GET", "/api/v1/sessions/{session_id}", get_session,
          "One session with its names, rating and call recording (`recording`: state, chunks, bytes, duration_s, "
          "sha256)", "reports", roles=("supervisor", "admin"),
          params=(Param("session_id", location="path", description="the session (= call) id"),),
          response=schemas.SessionDetailOut, errors=(401, 403, 404)),
]
