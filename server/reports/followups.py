"""Follow-ups (回访) of bad ratings: listing with the session's facts, and moving them forward.

States only move forward: open → contacted → resolved (open → resolved directly is allowed: a
resident reached at once). Resolving needs a note. Notes are appended with time and author, so
the item keeps its own history; every change is also written to the audit log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from server.db.models import AuditLog, Centre, FollowUp, Matter, Rating, ServiceSession, Site, Street, User
from server.runtime.district_time import DISTRICT_TZ, iso_local

FOLLOWUP_STATES = ("open", "contacted", "resolved")
_NEXT = {"open": {"contacted", "resolved"}, "contacted": {"resolved"}, "resolved": set()}


class FollowUpError(Exception):
    """A refused change: `status` and `code` map to the JSON error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _view(row: Any, now: datetime) -> dict[str, Any]:
    f, s, score, comment, matter, site, street, centre, caseworker = row
    return {
        "id": f.id, "session_id": f.session_id, "state": f.state, "note": f.note,
        "due_at": iso_local(f.due_at), "created_at": iso_local(f.created_at), "updated_at": iso_local(f.updated_at),
        "overdue": f.state != "resolved" and f.due_at < now,
        "rating": score, "comment": comment or "", "ticket_number": s.ticket_number, "matter_id": s.matter_id,
        "matter": matter, "site": site, "street": street, "centre_id": f.centre_id, "centre": centre,
        "caseworker": caseworker, "outcome": s.outcome, "case_number": s.case_number,
        "session_created_at": iso_local(s.created_at),
    }


def _query() -> Any:
    cw = aliased(User)
    return (select(FollowUp, ServiceSession, Rating.score, Rating.comment, Matter.name, Site.name, Street.name,
                   Centre.name, cw.display_name)
            .join(ServiceSession, ServiceSession.id == FollowUp.session_id)
            .join(Matter, Matter.id == ServiceSession.matter_id)
            .join(Site, Site.id == ServiceSession.site_id)
            .join(Street, Street.id == ServiceSession.street_id)
            .outerjoin(Rating, Rating.session_id == FollowUp.session_id)
            .outerjoin(Centre, Centre.id == FollowUp.centre_id)
            .outerjoin(cw, cw.id == ServiceSession.caseworker_id))


async def list_followups(db: AsyncSession, now: datetime, *, state: str | None = None,
                         centre_id: int | None = None) -> list[dict[str, Any]]:
    """Follow-ups, unresolved first and then by due time."""
    query = _query()
    if state is not None:
        query = query.where(FollowUp.state == state)
    if centre_id is not None:
        query = query.where(FollowUp.centre_id == centre_id)
    rows = (await db.execute(query.order_by(FollowUp.due_at, FollowUp.id))).all()
    items = [_view(row, now) for row in rows]
    items.sort(key=lambda item: item["state"] == "resolved")  # stable: keeps due order inside each part
    return items


async def update_followup(db: AsyncSession, followup_id: int, state: str, note: str, actor: str,
                          now: datetime, signed: str | None = None) -> dict[str, Any]:
    """Move a follow-up to `state`, appending `note` signed with `signed` (a name staff read; the
    audit `actor` when None); returns its new view. The audit entry names `actor` (`supervisor:85`,
    as every other entry does)."""
    followup = await db.get(FollowUp, followup_id)
    if followup is None:
        raise FollowUpError(404, "unknown_followup", "没有这个回访事项")
    if state != followup.state and state not in _NEXT[followup.state]:
        raise FollowUpError(409, "bad_transition", f"回访状态不能从 {followup.state} 改为 {state}")
    note = note.strip()
    if state == "resolved" and not note and followup.state != "resolved":
        raise FollowUpError(422, "note_required", "办结回访需要填写说明")
    if state == followup.state and not note:
        raise FollowUpError(409, "no_change", "没有需要保存的变化")
    if note:
        stamp = now.astimezone(DISTRICT_TZ).strftime("%Y-%m-%d %H:%M")
        line = f"[{stamp} {signed or actor}] {note}"
        followup.note = f"{followup.note}\n{line}" if followup.note else line
    previous = followup.state
    followup.state = state
    followup.updated_at = now
    db.add(AuditLog(at=now, actor=actor, action="followup_update", object_type="followup",
                    object_id=str(followup.id), data={"from": previous, "to": state}))
    await db.flush()
    row = (await db.execute(_query().where(FollowUp.id == followup_id))).one()
    return _view(row, now)
