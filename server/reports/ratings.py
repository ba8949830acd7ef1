"""The resident's 好差评 after a call (`rate` from the kiosk), and the follow-up a bad one opens."""

from __future__ import annotations

from datetime import timedelta

from session_queue import SessionQueue
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Callback, FollowUp, Rating, ServiceSession
from server.db.types import utcnow
from server.hours.callbacks import CallbackError
from server.hours.phone import PhoneError, normalise_phone
from server.hours.service import HoursService
from server.protocol import messages as m
from server.protocol.addresses import KIOSK
from server.signaling.connection import Connection
from server.signaling.handlers import SignalingError
from server.signaling.service import SignalingService

# Scores at or below this open a follow-up (回访) for a supervisor.
FOLLOW_UP_AT_OR_BELOW = 2
# A phone number for the 回访 is taken this long after the rating (the resident is still at the kiosk).
FOLLOWUP_PHONE_WINDOW = timedelta(minutes=15)
# A session may be rated once its call has ended (the live queue's state or the recorded one).
ENDED = frozenset({"wrap_up", "done"})


class Ratings:
    """The kiosk's `rate` handler."""

    def __init__(self, queue: SessionQueue, sessions: async_sessionmaker[AsyncSession], hours: HoursService) -> None:
        self.queue = queue
        self.hours = hours
        self.sessions = sessions

    def register(self, signaling: SignalingService) -> None:
        """Add `rate` to the kiosk's handler table."""
        signaling.register((KIOSK,), "rate", self.rate)
        signaling.register((KIOSK,), "followup_phone", self.followup_phone)

    async def rate(self, connection: Connection, message: m.Rate) -> None:
        """Record a rating of the kiosk's just-ended session; a bad one opens a follow-up."""
        # The queue publishes the end of a call before its database row is updated, so a quick
        # kiosk may rate first: the live state counts as well as the recorded one.
        live = await self.queue.ticket(message.session_id)
        try:
            await self._store_rating(connection, message, live is not None and live.state in ENDED)
        except IntegrityError:
            # The same rating from the kiosk's other socket got there first (one row per session).
            raise SignalingError("already_rated", "这次服务已经评价过了") from None

    async def _store_rating(self, connection: Connection, message: m.Rate, ended_live: bool) -> None:
        async with self.sessions() as session, session.begin():
            row = await session.get(ServiceSession, message.session_id)
            if (row is None or row.kiosk_id != connection.principal.kiosk_id or row.answered_at is None
                    or not (row.state in ENDED or ended_live)):
                raise SignalingError("not_rateable", "只能评价本终端刚结束的服务")
            if await session.get(Rating, row.id) is not None:
                raise SignalingError("already_rated", "这次服务已经评价过了")
            now = utcnow()
            # Due within one working day of the centre's calendar (holidays and 调休 included),
            # on the service clock like every due time the calendar decides (docs/hours.md).
            due = await self.hours.next_working_day(row.centre_id, self.hours.clock.now())
            session.add(Rating(session_id=row.id, score=message.score, comment=message.comment.strip(),
                               created_at=now))
            if message.score <= FOLLOW_UP_AT_OR_BELOW:
                session.add(FollowUp(session_id=row.id, centre_id=row.centre_id, state="open",
                                     due_at=due, created_at=now, updated_at=now))

    async def followup_phone(self, connection: Connection, message: m.FollowupPhone) -> None:
        """Keep the number a resident left for the 回访 of their 1-2 star rating (never logged).

        Stored as a callback of kind `followup`, due when the follow-up is, so supervisors and the
        centre's staff take and close it like any 回电 (docs/hours.md).
        """
        kiosk_id = connection.principal.kiosk_id
        assert kiosk_id is not None
        try:
            await self.hours.count_kiosk_request(kiosk_id)
            number = normalise_phone(message.phone)
        except PhoneError as exc:
            raise SignalingError("bad_phone", str(exc)) from None
        except CallbackError as exc:
            raise SignalingError(exc.code, exc.message) from None
        try:
            await self._store_followup_phone(kiosk_id, message, number)
        except IntegrityError:
            # The same number from the kiosk's other socket got there first (one per session).
            raise SignalingError("already_left", "这次服务已经留过电话了") from None

    async def _store_followup_phone(self, kiosk_id: int, message: m.FollowupPhone, number: str) -> None:
        now = utcnow()
        async with self.sessions() as session, session.begin():
            row = await session.get(ServiceSession, message.session_id)
            followup = await session.scalar(select(FollowUp).where(FollowUp.session_id == message.session_id))
            rating = await session.get(Rating, message.session_id)
            if row is None or row.kiosk_id != kiosk_id or followup is None or rating is None:
                raise SignalingError("not_followup", "只有本终端评价为不满意的服务才能留电话回访")
            if rating.created_at + FOLLOWUP_PHONE_WINDOW < now:
                raise SignalingError("too_late", "这次评价已过去太久，请到服务中心窗口说明")
            if await session.scalar(select(Callback.id).where(Callback.session_id == row.id)) is not None:
                raise SignalingError("already_left", "这次服务已经留过电话了")
            # Due on the centre's next working day like the follow-up, on the service clock like
            # every callback (so `overdue` means the same in every list and alert).
            service_now = self.hours.clock.now()
            due = await self.hours.next_working_day(followup.centre_id, service_now)
            session.add(Callback(kind="followup", session_id=row.id, centre_id=followup.centre_id, kiosk_id=kiosk_id,
                                 matter_id=row.matter_id, phone=number, preferred="", state="open",
                                 due_at=due, note="", created_at=service_now, updated_at=service_now))
