"""Writes every queue transition to the database: session rows, session events, caseworker events.

The live queue is in Redis; these rows are the record of truth for reports, the event feed and the
rebuild after a Redis loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from session_queue import Transition
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import CaseworkerEvent, ServiceSession, SessionEvent, User

# Ticket states after which nothing more happens to the session.
FINAL_STATES = frozenset({"done", "cancelled", "abandoned"})


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _apply_ticket_transition(row: ServiceSession, tr: Transition, centre_of: dict[int, int | None]) -> None:
    """Move the session row to the transition's state and fill the matching timestamp."""
    at = _at(tr.ts)
    row.state = tr.to_state
    if tr.to_state == "offered" and row.offered_at is None:
        row.offered_at = at
    elif tr.to_state == "in_call":
        if row.answered_at is None:
            row.answered_at = at
        if tr.caseworker_id is not None:
            row.caseworker_id = int(tr.caseworker_id)
            row.centre_id = centre_of.get(row.caseworker_id)
    elif tr.to_state == "wrap_up":
        row.ended_at = at
    elif tr.to_state == "requeued":
        row.requeue_count += 1
    if tr.to_state in FINAL_STATES:
        row.ended_at = row.ended_at or at
        row.closed_at = at


class QueueRecorder:
    """The queue engine's sink: one database transaction per batch of transitions."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __call__(self, transitions: Sequence[Transition]) -> None:
        """Record a batch (the engine calls this after each operation)."""
        async with self._sessions() as session, session.begin():
            caseworker_ids = {int(t.caseworker_id) for t in transitions if t.caseworker_id is not None}
            centre_of: dict[int, int | None] = {}
            for user_id in caseworker_ids:
                user = await session.get(User, user_id)
                centre_of[user_id] = user.centre_id if user else None
            for tr in transitions:
                if tr.entity == "ticket" and tr.ticket_id is not None:
                    await self._record_ticket(session, tr, centre_of)
                elif tr.entity == "caseworker" and tr.caseworker_id is not None:
                    session.add(CaseworkerEvent(user_id=int(tr.caseworker_id), at=_at(tr.ts),
                                                from_state=tr.from_state, to_state=tr.to_state,
                                                reason=str(tr.extra.get("reason") or tr.kind)[:80]))

    async def _record_ticket(self, session: AsyncSession, tr: Transition, centre_of: dict[int, int | None]) -> None:
        assert tr.ticket_id is not None
        row = await session.get(ServiceSession, tr.ticket_id)
        if row is None:
            # A ticket unknown to the database cannot be reported on; the engine only knows
            # tickets the server created, so this means the row was deleted by hand.
            return
        if tr.from_state != tr.to_state:
            _apply_ticket_transition(row, tr, centre_of)
        data = {"fence": tr.fence, **tr.extra}
        if tr.caseworker_id is not None:
            data["caseworker_id"] = int(tr.caseworker_id)
        session.add(SessionEvent(session_id=tr.ticket_id, at=_at(tr.ts), kind=tr.kind, from_state=tr.from_state,
                                 to_state=tr.to_state, actor=tr.actor, data=data))
