"""回电: a resident leaves a phone number at the kiosk; the centre's staff take, call and close it."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Callback
from server.hours.phone import mask_phone
from server.runtime.district_time import iso_local

CALLBACK_STATES = ("open", "taken", "done", "unreachable")
# Due within this long of the request, or of the next opening when the centre is closed.
DUE_AFTER = timedelta(hours=1)
# Where each state may go next (a taken callback may be handed back to the list as open).
MOVES = {"open": {"taken"}, "taken": {"done", "unreachable", "open"}, "done": set(), "unreachable": set()}
# Kiosk requests (callbacks and bookings) allowed per kiosk and minute.
REQUESTS_PER_MINUTE = 10


class CallbackError(ValueError):
    """A refused callback action, with a status, a stable code and a Chinese message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def due_time(now: datetime, next_open: datetime | None) -> datetime:
    """When the call should be made: an hour after the request, or after the centre opens."""
    return max(now, next_open or now) + DUE_AFTER


def callback_view(row: Callback, now: datetime, viewer_id: int | None) -> dict[str, Any]:
    """A callback as staff see it: the number in full only for the staff member who took it."""
    full = row.taken_by is not None and row.taken_by == viewer_id and row.state == "taken"
    return {"id": row.id, "kind": row.kind, "session_id": row.session_id, "centre_id": row.centre_id,
            "kiosk_id": row.kiosk_id, "matter_id": row.matter_id,
            "phone": row.phone if full else mask_phone(row.phone) if row.phone else "", "phone_full": full,
            "preferred": row.preferred, "state": row.state, "due_at": iso_local(row.due_at),
            "overdue": row.state in {"open", "taken"} and row.due_at < now, "taken_by": row.taken_by,
            "note": row.note, "created_at": iso_local(row.created_at), "updated_at": iso_local(row.updated_at)}


async def list_callbacks(db: AsyncSession, now: datetime, viewer_id: int | None, *, state: str | None,
                         centre_id: int | None, kinds: Collection[str] | None = None) -> list[dict[str, Any]]:
    """Callbacks by due time; `state`, `centre_id` and `kinds` (None: every kind) narrow the list."""
    query = select(Callback)
    if state is not None:
        query = query.where(Callback.state == state)
    if kinds is not None:
        query = query.where(Callback.kind.in_(tuple(kinds)))
    if centre_id is not None:
        query = query.where(Callback.centre_id == centre_id)
    rows = (await db.scalars(query.order_by(Callback.due_at, Callback.id))).all()
    return [callback_view(row, now, viewer_id) for row in rows]


# The states as the people who work the list call them (web/static/supervisor/texts.js).
_STATE_WORDS = {"open": "待回电", "taken": "已接手", "done": "已回电", "unreachable": "联系不上"}


async def move_callback(db: AsyncSession, row: Callback, to: str, note: str, actor_id: int, *,
                        supervisor: bool, now: datetime) -> None:
    """Take, close (done / unreachable) or hand back a callback, recording who and when."""
    if to not in MOVES[row.state]:
        raise CallbackError(409, "wrong_state", f"这条回电现在是“{_STATE_WORDS.get(row.state, row.state)}”，"
                                                f"不能再改为“{_STATE_WORDS.get(to, to)}”，请刷新后再看")
    if row.state == "taken" and row.taken_by != actor_id and not supervisor:
        raise CallbackError(403, "not_taker", "这条回电已由其他工作人员接手")
    row.state = to
    row.taken_by = None if to == "open" else (actor_id if to == "taken" else row.taken_by)
    if note.strip():
        row.note = (row.note + "\n" if row.note else "") + note.strip()
    row.updated_at = now


def expired_phones(before: datetime) -> ColumnElement[bool]:
    """Closed callbacks created before `before` that still hold a number (the retention purge's rows)."""
    return and_(Callback.created_at < before, Callback.phone != "", Callback.state.in_(("done", "unreachable")))


async def blank_old_phones(db: AsyncSession, before: datetime) -> int:
    """Blank the numbers of closed callbacks created before `before` (the retention purge)."""
    result = await db.execute(update(Callback).where(expired_phones(before)).values(phone=""))
    return int(getattr(result, "rowcount", 0) or 0)
