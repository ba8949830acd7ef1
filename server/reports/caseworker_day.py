"""What a signed-in caseworker sees of their own day, and the skill vocabulary."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from matters_catalog.loader import load_skills
from server.auth.principal import require_role
from server.catalog.service import CATALOG
from server.db.models import Matter, ServiceSession, SessionEvent, Site
from server.http import app_keys
from server.runtime.district_time import DISTRICT_TZ


class SkillOut(BaseModel):
    """A skill of the vocabulary and how many active matters need it."""

    id: str
    name: str
    department: str
    matters: int


class SkillsOut(BaseModel):
    """The skill vocabulary (used for 转办 and for accounts)."""

    skills: list[SkillOut]


class MySessionOut(BaseModel):
    """One session the caseworker handled today."""

    id: str
    ticket_number: str
    matter_id: str
    matter_name: str
    site: str
    state: str
    outcome: str | None
    case_number: str | None
    answered_at: datetime | None
    ended_at: datetime | None


class MySessionsOut(BaseModel):
    """Today's sessions of the signed-in caseworker, newest first."""

    sessions: list[MySessionOut]


async def list_skills(request: web.Request) -> web.Response:
    """The skill vocabulary with Chinese names (staff only)."""
    require_role(request, "caseworker", "supervisor", "admin")
    catalog = await request.app[CATALOG].current()
    counts: dict[str, int] = {}
    for matter in catalog.matters:
        counts[matter.skill] = counts.get(matter.skill, 0) + 1
    skills = [SkillOut(id=s.id, name=s.name, department=s.department, matters=counts.get(s.id, 0))
              for s in (catalog.skills or load_skills())]
    return web.json_response(text=SkillsOut(skills=skills).model_dump_json())


def _mine(row: ServiceSession, matter_name: str, site_name: str, user_id: int,
          handoff: str | None) -> MySessionOut:
    # Passed on (转办, or this caseworker's console gone) and not ended by them since: the outcome
    # is how they let it go, not what a later caseworker made of it.
    passed_on = handoff is not None or row.caseworker_id != user_id
    return MySessionOut(id=row.id, ticket_number=row.ticket_number, matter_id=row.matter_id,
                        matter_name=matter_name, site=site_name, state=row.state,
                        outcome=(handoff or "transfer") if passed_on else row.outcome,
                        case_number=None if passed_on else row.case_number,
                        answered_at=row.answered_at, ended_at=row.ended_at)


async def my_sessions(request: web.Request) -> web.Response:
    """Sessions the signed-in caseworker answered today (Shanghai time), transferred ones included.

    A session transferred (转办) to another skill belongs to its new caseworker once accepted, so
    it is found through this caseworker's own `accept` event and shown with outcome `transfer`.
    """
    principal = require_role(request, "caseworker")
    assert principal.user_id is not None
    start = datetime.now(DISTRICT_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    # correlated, so it reads only each candidate session's events (index on session_id, at)
    accepted_by_me = exists().where(SessionEvent.session_id == ServiceSession.id, SessionEvent.kind == "accept",
                                    SessionEvent.at >= start,
                                    SessionEvent.data["caseworker_id"].as_integer() == principal.user_id)
    async with request.app[app_keys.DB_SESSIONS]() as session:
        rows = (await session.execute(
            select(ServiceSession, Matter.name, Site.name)
            .join(Matter, Matter.id == ServiceSession.matter_id)
            .join(Site, Site.id == ServiceSession.site_id)
            .where(or_(ServiceSession.caseworker_id == principal.user_id, accepted_by_me),
                   ServiceSession.answered_at >= start)
            .order_by(ServiceSession.answered_at.desc())
            .limit(500)
        )).all()
        handoffs = await _handoffs(session, [row.id for row, _, _ in rows], principal.user_id)
    sessions = [_mine(row, matter_name, site_name, principal.user_id, handoffs.get(row.id))
                for row, matter_name, site_name in rows]
    return web.json_response(text=MySessionsOut(sessions=sessions).model_dump_json())


# How a call of this caseworker's left them without an outcome of theirs: their 转办, or their
# console gone past the reconnect window (the ticket back in line), by the queue's event kind.
_HANDOFF_KINDS = {"transfer": "transfer", "caseworker_dropped": "dropped", "caseworker_offline": "dropped"}


async def _handoffs(session: AsyncSession, session_ids: list[str], user_id: int) -> dict[str, str]:
    """For each session, how the caseworker's own last call in it ended when it was not by their
    end_call: "transfer" or "dropped" (one query over the sessions' accept and hand-off events)."""
    if not session_ids:
        return {}
    events = (await session.execute(
        select(SessionEvent.session_id, SessionEvent.kind, SessionEvent.data)
        .where(SessionEvent.session_id.in_(session_ids),
               SessionEvent.kind.in_(["accept", *_HANDOFF_KINDS]))
        .order_by(SessionEvent.session_id, SessionEvent.at, SessionEvent.id)
    )).all()
    handoffs: dict[str, str] = {}
    mine: set[str] = set()  # sessions whose latest accept was this caseworker's
    for session_id, kind, data in events:
        if kind == "accept":
            accepted_by = (data or {}).get("caseworker_id")
            if str(accepted_by) == str(user_id):
                mine.add(session_id)
                handoffs.pop(session_id, None)
            else:
                mine.discard(session_id)
        elif session_id in mine:
            handoffs[session_id] = _HANDOFF_KINDS[kind]
            mine.discard(session_id)
    return handoffs
