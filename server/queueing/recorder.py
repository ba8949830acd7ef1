"""Writes every queue transition to the database: session rows, session events, caseworker events.

The live queue is in Redis; these rows are the record of truth for reports, the event feed and the
rebuild after a Redis loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from session_queue import FINAL_TICKET_STATES, Transition
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import CaseworkerEvent, ServiceSession, SessionEvent, User


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
    if tr.to_state in FINAL_TICKET_STATES:
        row.ended_at = row.ended_at or at
        row.closed_at = at


def ticket_event_key(session_id: str, kind: str, to_state: str | None, at: datetime) -> tuple[str, str, str, int]:
    """Identity of a recorded ticket transition: what the outbox reconciler compares."""
    return session_id, kind, to_state or "", round(at.timestamp() * 1000)


def caseworker_event_key(user_id: int, to_state: str, reason: str, at: datetime) -> tuple[int, str, str, int]:
    """Identity of a recorded caseworker transition."""
    return user_id, to_state, reason, round(at.timestamp() * 1000)


def _reason(tr: Transition) -> str:
    return str(tr.extra.get("reason") or tr.kind)[:80]


@dataclass(frozen=True)
class RecordedOutcome:
    """A session row's outcome, case number and notes as they were before an end was recorded."""

    outcome: str | None
    case_number: str | None
    notes: str


class QueueRecorder:
    """The queue engine's sink: one database transaction per batch of transitions."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __call__(self, transitions: Sequence[Transition]) -> None:
        """Record a batch (the engine calls this after each operation)."""
        async with self._sessions() as session, session.begin():
            centre_of = await self._centres(session, transitions)
            for tr in transitions:
                if tr.entity == "ticket" and tr.ticket_id is not None:
                    row = await session.get(ServiceSession, tr.ticket_id)
                    if row is not None:
                        self._record_ticket(session, row, tr, centre_of, move_state=True)
                elif tr.entity == "caseworker" and tr.caseworker_id is not None:
                    self._record_caseworker(session, tr)

    async def record_missing(self, transitions: Sequence[Transition]) -> int:
        """Record the transitions the database lacks (after a process died before writing them).

        A transition counts as recorded when an event with the same subject, kind/reason, target
        state and millisecond exists. A late one is added to the history, but moves the session's
        state only when nothing newer has been recorded for that session, so replaying an old step
        never undoes a later one. Returns how many were added.
        """
        if not transitions:
            return 0
        async with self._sessions() as session, session.begin():
            ticket_ids = {t.ticket_id for t in transitions if t.entity == "ticket" and t.ticket_id is not None}
            user_ids = {int(t.caseworker_id) for t in transitions
                        if t.entity == "caseworker" and t.caseworker_id is not None}
            seen_tickets: set[tuple[str, str, str, int]] = set()
            latest: dict[str, datetime] = {}
            if ticket_ids:
                rows = await session.execute(
                    select(SessionEvent.session_id, SessionEvent.kind, SessionEvent.to_state, SessionEvent.at)
                    .where(SessionEvent.session_id.in_(ticket_ids)))
                for session_id, kind, to_state, at in rows:
                    seen_tickets.add(ticket_event_key(session_id, kind, to_state, at))
                    if session_id not in latest or at > latest[session_id]:
                        latest[session_id] = at
            seen_caseworkers: set[tuple[int, str, str, int]] = set()
            if user_ids:
                since = _at(min(t.ts for t in transitions) - 1)
                cw_rows = await session.execute(
                    select(CaseworkerEvent.user_id, CaseworkerEvent.to_state, CaseworkerEvent.reason,
                           CaseworkerEvent.at)
                    .where(CaseworkerEvent.user_id.in_(user_ids), CaseworkerEvent.at >= since))
                seen_caseworkers = {caseworker_event_key(user_id, to_state, reason, at)
                                    for user_id, to_state, reason, at in cw_rows}
            centre_of = await self._centres(session, transitions)
            added = 0
            for tr in transitions:
                at = _at(tr.ts)
                if tr.entity == "ticket" and tr.ticket_id is not None:
                    key = ticket_event_key(tr.ticket_id, tr.kind, tr.to_state, at)
                    if key in seen_tickets:
                        continue
                    row = await session.get(ServiceSession, tr.ticket_id)
                    if row is None:
                        continue
                    newest = latest.get(tr.ticket_id)
                    self._record_ticket(session, row, tr, centre_of, move_state=newest is None or newest <= at,
                                        recovered=True)
                    seen_tickets.add(key)
                    latest[tr.ticket_id] = max(at, newest) if newest else at
                    added += 1
                elif tr.entity == "caseworker" and tr.caseworker_id is not None:
                    ckey = caseworker_event_key(int(tr.caseworker_id), tr.to_state, _reason(tr), at)
                    if ckey in seen_caseworkers:
                        continue
                    self._record_caseworker(session, tr)
                    seen_caseworkers.add(ckey)
                    added += 1
            return added

    @staticmethod
    async def _centres(session: AsyncSession, transitions: Sequence[Transition]) -> dict[int, int | None]:
        caseworker_ids = {int(t.caseworker_id) for t in transitions if t.caseworker_id is not None}
        centre_of: dict[int, int | None] = {}
        for user_id in caseworker_ids:
            user = await session.get(User, user_id)
            centre_of[user_id] = user.centre_id if user else None
        return centre_of

    @staticmethod
    def _record_caseworker(session: AsyncSession, tr: Transition) -> None:
        assert tr.caseworker_id is not None
        session.add(CaseworkerEvent(user_id=int(tr.caseworker_id), at=_at(tr.ts), from_state=tr.from_state,
                                    to_state=tr.to_state, reason=_reason(tr)))

    @staticmethod
    def _record_ticket(session: AsyncSession, row: ServiceSession, tr: Transition, centre_of: dict[int, int | None],
                       *, move_state: bool, recovered: bool = False) -> None:
        assert tr.ticket_id is not None
        if move_state and tr.from_state != tr.to_state:
            _apply_ticket_transition(row, tr, centre_of)
        data = {"fence": tr.fence, **tr.extra}
        if tr.caseworker_id is not None:
            data["caseworker_id"] = int(tr.caseworker_id)
        if recovered:
            data["recovered"] = True
        session.add(SessionEvent(session_id=tr.ticket_id, at=_at(tr.ts), kind=tr.kind, from_state=tr.from_state,
                                 to_state=tr.to_state, actor=tr.actor, data=data))

    async def record_outcome(self, session_id: str, outcome: str, *, case_number: str | None = None,
                             notes: str | None = None) -> RecordedOutcome:
        """The outcome a caseworker (or the drop rules) gave a call, with its case number and notes;
        returns what the row held before, for restore_outcome should the end be refused."""
        async with self._sessions() as session, session.begin():
            row = await session.get(ServiceSession, session_id)
            if row is None:
                return RecordedOutcome(None, None, "")
            before = RecordedOutcome(row.outcome, row.case_number, row.notes or "")
            row.outcome = outcome
            if case_number is not None or notes is not None:
                row.case_number = case_number
                # After what the row holds already (a 转办's line): the history stays whole.
                row.notes = "\n".join(part for part in (before.notes, notes or "") if part)
            return before

    async def restore_outcome(self, session_id: str, before: RecordedOutcome) -> None:
        """Put back what record_outcome replaced: the queue refused the end it was written for."""
        async with self._sessions() as session, session.begin():
            row = await session.get(ServiceSession, session_id)
            if row is not None:
                row.outcome, row.case_number, row.notes = before.outcome, before.case_number, before.notes

    async def record_transfer(self, session_id: str, skill: str, note: str) -> None:
        """A 转办: the session now needs another skill; the note says why."""
        async with self._sessions() as session, session.begin():
            row = await session.get(ServiceSession, session_id)
            if row is not None:
                row.skill = skill
                line = f"转办至 {skill}" + (f"：{note}" if note else "")
                row.notes = (row.notes + "\n" if row.notes else "") + line
