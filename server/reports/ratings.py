"""The resident's 好差评 after a call (`rate` from the kiosk), and the follow-up a bad one opens."""

from __future__ import annotations

from datetime import datetime, timedelta

from session_queue import SessionQueue
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import FollowUp, Rating, ServiceSession
from server.db.types import utcnow
from server.protocol import messages as m
from server.protocol.addresses import KIOSK
from server.signaling.connection import Connection
from server.signaling.handlers import SignalingError
from server.signaling.service import SignalingService

# Scores at or below this open a follow-up (回访) for a supervisor.
FOLLOW_UP_AT_OR_BELOW = 2


def next_working_day(start: datetime) -> datetime:
    """The same time on the next Monday-to-Friday day (follow-ups are due within one working day)."""
    due = start + timedelta(days=1)
    while due.weekday() >= 5:
        due += timedelta(days=1)
    return due


class Ratings:
    """The kiosk's `rate` handler."""

    def __init__(self, queue: SessionQueue, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.queue = queue
        self.sessions = sessions

    def register(self, signaling: SignalingService) -> None:
        """Add `rate` to the kiosk's handler table."""
        signaling.register((KIOSK,), "rate", self.rate)

    async def rate(self, connection: Connection, message: m.Rate) -> None:
        """Record a rating of the kiosk's just-ended session; a bad one opens a follow-up."""
        # The queue publishes the end of a call before its database row is updated, so a quick
        # kiosk may rate first: the live state counts as well as the recorded one.
        live = await self.queue.ticket(message.session_id)
        ended = {"wrap_up", "done"}
        async with self.sessions() as session, session.begin():
            row = await session.get(ServiceSession, message.session_id)
            if (row is None or row.kiosk_id != connection.principal.kiosk_id or row.answered_at is None
                    or not (row.state in ended or (live is not None and live.state in ended))):
                raise SignalingError("not_rateable", "只能评价本终端刚结束的服务")
            if await session.get(Rating, row.id) is not None:
                raise SignalingError("already_rated", "这次服务已经评价过了")
            now = utcnow()
            session.add(Rating(session_id=row.id, score=message.score, comment=message.comment.strip(),
                               created_at=now))
            if message.score <= FOLLOW_UP_AT_OR_BELOW:
                session.add(FollowUp(session_id=row.id, centre_id=row.centre_id, state="open",
                                     due_at=next_working_day(now), created_at=now, updated_at=now))
