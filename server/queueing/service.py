"""The server's side of the live queue: creating sessions, rebuilding after a Redis loss, the timer.

A resident joining creates the database session row first (its id is the ticket id), then the
ticket in the queue engine; the engine's transitions flow back into the database through
`QueueRecorder`. The queue's semantics live only in the engine's Lua scripts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

import redis.asyncio as aioredis
from aiohttp import web
from redis.exceptions import LockError, RedisError
from session_queue import (
    DEFAULT_PREFIX,
    KIOSK_TICKET_STATES,
    OPEN_TICKET_STATES,
    QueueConfig,
    QueueError,
    SessionQueue,
    TicketRecord,
    TicketSpec,
    Transition,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Kiosk, ServiceSession, SessionEvent, Site
from server.db.types import utcnow
from server.http import app_keys
from server.queueing.recorder import QueueRecorder
from server.runtime.district_time import DISTRICT_TZ
from server.runtime.periodic import background, run_periodically
from server.runtime.redis_keys import RedisKeys
from server.settings import Settings

log = logging.getLogger(__name__)

TIMER_INTERVAL_S = 0.5
SESSION_MODES = ("handle", "consult")

Operation = Callable[[], Awaitable[list[Transition]]]


class JoinError(ValueError):
    """A resident's join request cannot be served (unknown matter, wrong mode, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# How long a kiosk's join lock lives if its holder dies, and how long a second join waits for it.
JOIN_LOCK_TTL_S = 30
JOIN_LOCK_WAIT_S = 10
# Ending or transferring one call: held for the checks, the case number and the queue step.
CLOSE_LOCK_TTL_S = 30
CLOSE_LOCK_WAIT_S = 10
# The join counter of a kiosk outlives any "no open ticket" answer cached from it (see
# RedisKeys.kiosk_joins and server.signaling.welcome).
KIOSK_JOINS_TTL_S = 2 * 24 * 3600


@dataclass(frozen=True)
class JoinedTicket:
    """The session a kiosk holds in the queue."""

    session_id: str
    ticket_number: str
    matter_id: str
    state: str
    created_at: datetime


def queue_config(settings: Settings) -> QueueConfig:
    """Queue timings from the settings."""
    return QueueConfig(offer_timeout_s=settings.offer_timeout_s, kiosk_grace_s=settings.kiosk_grace_s,
                       wrap_up_s=settings.wrap_up_s, widen_after_s=settings.widen_after_s)


class QueueService:
    """Joins, rebuilds and timers around one `SessionQueue`."""

    def __init__(self, redis: aioredis.Redis, sessions: async_sessionmaker[AsyncSession], config: QueueConfig,
                 *, prefix: str = DEFAULT_PREFIX) -> None:
        self.redis = redis
        self.sessions = sessions
        self.keys = RedisKeys(prefix)
        self.recorder = QueueRecorder(sessions)
        self.queue = SessionQueue(redis, config, prefix=prefix, sink=self.recorder, batch=True)
        self._rebuild_lock = asyncio.Lock()

    async def _next_ticket_number(self, now: datetime) -> str:
        day = now.astimezone(DISTRICT_TZ).date()
        key = self.keys.ticket_counter(day)
        if not await self.redis.exists(key):
            # A new day, or Redis lost its data (a restart of the embedded one): go on after the
            # day's highest number in the database, so no number is handed out twice in a day.
            # Processes racing here compute the same start; NX keeps the first, INCR stays unique.
            await self.redis.set(key, await self._highest_number(day), nx=True,
                                 ex=int(timedelta(days=2).total_seconds()))
        number = await self.redis.incr(key)
        return f"A{number:04d}"

    async def _highest_number(self, day: date) -> int:
        """The highest ticket number issued on the district day `day` (0 for none)."""
        start = datetime.combine(day, time.min, DISTRICT_TZ)
        async with self.sessions() as session:
            issued = (await session.scalars(select(ServiceSession.ticket_number).where(
                ServiceSession.created_at >= start, ServiceSession.created_at < start + timedelta(days=1)))).all()
        return max((int(n[1:]) for n in issued if n and n[1:].isdigit()), default=0)

    async def open_ticket_of_kiosk(self, kiosk_id: int) -> JoinedTicket | None:
        """The ticket the kiosk's resident still holds (waiting or in a call), if any.

        A ticket in wrap-up is over for the resident: the next resident may join. The live queue
        is asked too, because it publishes the end of a call before the database row follows.
        """
        return (await self.open_tickets_of_kiosks([kiosk_id])).get(kiosk_id)

    async def open_tickets_of_kiosks(self, kiosk_ids: list[int]) -> dict[int, JoinedTicket]:
        """`open_ticket_of_kiosk` for many kiosks in one query (the welcomes of a reconnect storm)."""
        async with self.sessions() as session:
            rows = (await session.scalars(
                select(ServiceSession)
                .where(ServiceSession.kiosk_id.in_(kiosk_ids), ServiceSession.state.in_(KIOSK_TICKET_STATES))
                .order_by(ServiceSession.created_at)
            )).all()
        newest = {row.kiosk_id: row for row in rows}  # ordered by time: the last one per kiosk wins
        found = {}
        for kiosk_id, row in newest.items():
            ticket = await self._still_open(row)
            if ticket is not None:
                found[kiosk_id] = ticket
        return found

    async def _still_open(self, row: ServiceSession) -> JoinedTicket | None:
        live = await self.queue.ticket(row.id)
        if live is None:
            # Redis may have restarted empty since the last queue operation: rebuild now (a no-op
            # unless the epoch marker is gone), so that whoever asks next (a kiosk's `welcome`)
            # finds the ticket in the live queue too.
            await self.rebuild_from_database()
            live = await self.queue.ticket(row.id)
        if live is None and row.state == "waiting" and await self.restore_orphan(row):
            live = await self.queue.ticket(row.id)
        if live is not None and live.state not in KIOSK_TICKET_STATES:
            return None
        return _joined(row)

    async def join(self, kiosk_id: int, matter_id: str, skill: str, mode: str,
                   priority: str = "normal", *, fresh_only: bool = False,
                   before_queue: Callable[[str], Awaitable[None]] | None = None) -> JoinedTicket:
        """Put a kiosk's resident in line for a matter; idempotent while the kiosk has an open ticket
        (fresh_only: refused with ticket_open instead, as an appointment's check-in must not be
        spent on a ticket taken for something else). before_queue(session_id) runs for a new
        ticket once its row is written and before it enters the live queue, where it may be
        offered and accepted at once: what the call needs from the join is kept by then."""
        if mode not in SESSION_MODES:
            raise JoinError("bad_mode", "mode must be handle or consult")
        if priority not in self.queue.config.priority_weights:
            raise JoinError("bad_priority", f"unknown priority class {priority!r}")
        # One join of a kiosk at a time, across processes: its two sockets (its screen and a
        # reload) may send the same join at once, and each would find no open ticket and write
        # one. The lock expires by itself should its holder die.
        lock = self.redis.lock(self.keys.kiosk_join_lock(kiosk_id), timeout=JOIN_LOCK_TTL_S,
                               blocking_timeout=JOIN_LOCK_WAIT_S)
        if not await lock.acquire():
            raise JoinError("unavailable", "正在处理，请稍后重试")
        try:
            return await self._join_unlocked(kiosk_id, matter_id, skill, mode, priority, fresh_only, before_queue)
        finally:
            # Expired meanwhile, or Redis failing now: the lock lapses by itself, and the join
            # that was made stands.
            with contextlib.suppress(LockError, RedisError):
                await lock.release()

    async def _join_unlocked(self, kiosk_id: int, matter_id: str, skill: str, mode: str, priority: str,
                             fresh_only: bool, before_queue: Callable[[str], Awaitable[None]] | None) -> JoinedTicket:
        existing = await self.open_ticket_of_kiosk(kiosk_id)
        if existing is not None:
            if fresh_only:
                raise JoinError("ticket_open", "本机已经有排队号，请先办完或取消后再签到")
            return existing
        now = utcnow()
        # Before the row: a welcome that cached "no open ticket" for this kiosk reads it afresh.
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.incr(self.keys.kiosk_joins(kiosk_id))
            pipe.expire(self.keys.kiosk_joins(kiosk_id), KIOSK_JOINS_TTL_S)
            pipe.delete(self.keys.kiosk_no_ticket(kiosk_id))
            await pipe.execute()
        async with self.sessions() as session, session.begin():
            kiosk = await session.get(Kiosk, kiosk_id)
            site = await session.get(Site, kiosk.site_id) if kiosk else None
            if kiosk is None or site is None:
                raise JoinError("unknown_kiosk", "no such kiosk")
            row = ServiceSession(id=uuid.uuid4().hex, ticket_number=await self._next_ticket_number(now),
                                 kiosk_id=kiosk.id, site_id=site.id, street_id=site.street_id, matter_id=matter_id,
                                 skill=skill, mode=mode, priority=priority, state="waiting", created_at=now)
            session.add(row)
        spec = _ticket_spec(row)
        try:
            if before_queue is not None:
                await before_queue(row.id)
            await self.call(lambda: self.queue.enqueue(spec))
        except QueueError as exc:
            # A rebuild triggered by this very call already restored the ticket from its row.
            if exc.code != "duplicate_ticket":
                await self._withdraw(row.id)
                raise
        except BaseException:
            await self._withdraw(row.id)
            raise
        return _joined(row)

    async def restore_orphan(self, row: ServiceSession) -> bool:
        """Enqueue a waiting session whose ticket never reached the live queue (its process died
        between the row and the ticket), with its original time so it keeps its place.

        Only a row without a single recorded event qualifies: any other gap between the row and
        the live queue is the outbox's to repair. Returns False when nothing was enqueued.
        """
        async with self.sessions() as session:
            if await session.scalar(select(SessionEvent.id).where(SessionEvent.session_id == row.id).limit(1)):
                return False
        spec = _ticket_spec(row)
        try:
            await self.call(lambda: self.queue.enqueue(spec))
        except QueueError as exc:
            if exc.code == "duplicate_ticket":
                return False
            raise
        log.warning("orphan session enqueued again")
        return True

    async def _withdraw(self, session_id: str) -> None:
        """Close a session whose ticket never reached the queue, so no rebuild resurrects it."""
        async with self.sessions() as session, session.begin():
            row = await session.get(ServiceSession, session_id)
            if row is not None and row.state == "waiting":
                row.state = "cancelled"
                row.closed_at = utcnow()

    async def call(self, operation: Operation) -> list[Transition]:
        """Run an engine operation; after a Redis loss, rebuild from the database and retry once."""
        try:
            return await operation()
        except QueueError as exc:
            if exc.code != "needs_rebuild":
                raise
        await self.rebuild_from_database()
        return await operation()

    async def rebuild_from_database(self) -> int:
        """Refill an empty live queue from the open sessions in the database; returns how many."""
        async with self._rebuild_lock:
            if not await self.queue.needs_rebuild():
                return 0
            async with self.sessions() as session:
                rows = (await session.scalars(
                    select(ServiceSession).where(ServiceSession.state.in_(OPEN_TICKET_STATES))
                )).all()
            records = [TicketRecord(**asdict(_ticket_spec(r)), state=r.state) for r in rows]
            await self.queue.rebuild(records)
            # The day's ticket counter, lost with Redis, is restored by the next join
            # (_next_ticket_number), from every ticket of the day, ended ones included.
            log.info("live queue rebuilt from the database", extra={"open_sessions": len(records)})
            return len(records)

    # -- typed operations: the only way features change the queue (and the session rows) ------

    async def cancel(self, ticket_id: str, reason: str = "") -> None:
        """The resident leaves the line; with a `reason` the server ends the ticket (recorded)."""
        await self.call(lambda: self.queue.cancel(ticket_id, reason))

    async def kiosk_disconnected(self, ticket_id: str) -> None:
        """The kiosk of a waiting ticket went away: its grace period starts."""
        await self.call(lambda: self.queue.kiosk_disconnected(ticket_id))

    async def kiosk_reconnected(self, ticket_id: str) -> None:
        """The kiosk of a ticket is back within its grace period."""
        await self.call(lambda: self.queue.kiosk_reconnected(ticket_id))

    async def sign_in(self, caseworker_id: str, street_id: str, skills: list[str], *, available: bool,
                      reason: str = "") -> None:
        """Sign a caseworker in to the queue, available or on a break (with its reason)."""
        await self.call(lambda: self.queue.caseworker_login(caseworker_id, street_id, skills, available=available))
        if not available and reason:
            await self.call(lambda: self.queue.set_break(caseworker_id, reason))

    async def set_available(self, caseworker_id: str) -> None:
        """A signed-in caseworker takes offers again."""
        await self.call(lambda: self.queue.set_available(caseworker_id))

    async def set_break(self, caseworker_id: str, reason: str) -> None:
        """A signed-in caseworker pauses."""
        await self.call(lambda: self.queue.set_break(caseworker_id, reason))

    async def set_offline(self, caseworker_id: str) -> None:
        """A caseworker signs out of the queue."""
        await self.call(lambda: self.queue.set_offline(caseworker_id))

    async def caseworker_disconnected(self, caseworker_id: str) -> None:
        """A caseworker's screen is gone: an offer is withdrawn, a held call's ticket requeued."""
        await self.call(lambda: self.queue.caseworker_disconnected(caseworker_id))

    async def accept(self, caseworker_id: str, ticket_id: str, fence: int) -> None:
        """Take the offered ticket."""
        await self.call(lambda: self.queue.accept(caseworker_id, ticket_id, fence))

    async def reject(self, caseworker_id: str, ticket_id: str, fence: int) -> None:
        """Decline the offered ticket; it keeps its place."""
        await self.call(lambda: self.queue.reject(caseworker_id, ticket_id, fence))

    async def finish_wrap_up(self, caseworker_id: str) -> None:
        """End wrap-up early."""
        await self.call(lambda: self.queue.finish_wrap_up(caseworker_id))

    async def held_fence(self, caseworker_id: str, ticket_id: str) -> int:
        """The fence of a call this caseworker holds; QueueError when it holds no such call."""
        live = await self.queue.ticket(ticket_id)
        if live is None:
            raise QueueError("unknown_ticket", "没有这个排队号")
        if live.caseworker_id != caseworker_id or live.state != "in_call":
            raise QueueError("not_holder", "这个通话不由你受理")
        return live.fence

    @contextlib.asynccontextmanager
    async def closing_call(self, ticket_id: str) -> AsyncIterator[None]:
        """Hold the call's close lock: one end or transfer of a call at a time, across processes.

        A caseworker's two consoles (or a double click reaching two processes) may send end_call
        and transfer at once; each would pass the holder check, and the loser's outcome, case
        number or transfer would be written though the queue refused its step. Under the lock the
        second one finds the call already over (`not_holder`). Whoever ends a call checks that it
        holds it inside this block."""
        lock = self.redis.lock(self.keys.call_close_lock(ticket_id), timeout=CLOSE_LOCK_TTL_S,
                               blocking_timeout=CLOSE_LOCK_WAIT_S)
        if not await lock.acquire():
            raise QueueError("unavailable", "正在处理，请稍后重试")
        try:
            yield
        finally:
            with contextlib.suppress(LockError, RedisError):
                await lock.release()

    async def end_call(self, caseworker_id: str, ticket_id: str, outcome: str, *, case_number: str = "",
                       notes: str = "") -> None:
        """Record the outcome of a call the caseworker holds, then end it (wrap-up follows); call
        inside closing_call.

        The outcome is written first so every listener of the end transition can read it, and put
        back should the queue refuse the end.
        """
        fence = await self.held_fence(caseworker_id, ticket_id)
        before = await self.recorder.record_outcome(ticket_id, outcome, case_number=case_number or None, notes=notes)
        try:
            await self.call(lambda: self.queue.end_call(caseworker_id, ticket_id, fence, outcome=outcome))
        except QueueError:
            await self.recorder.restore_outcome(ticket_id, before)
            raise

    async def end_abandoned_call(self, ticket_id: str) -> bool:
        """End a live call whose kiosk never came back; False when it is no longer live."""
        async with self.closing_call(ticket_id):
            live = await self.queue.ticket(ticket_id)
            if live is None or live.state != "in_call" or not live.caseworker_id:
                return False
            caseworker_id = live.caseworker_id
            await self.call(lambda: self.queue.end_call(caseworker_id, ticket_id, live.fence, outcome="abandoned"))
            await self.recorder.record_outcome(ticket_id, "abandoned")
        return True

    async def transfer(self, caseworker_id: str, ticket_id: str, skill: str, note: str) -> None:
        """转办: send a held call's ticket to the front of another skill's line, noting why."""
        async with self.closing_call(ticket_id):
            fence = await self.held_fence(caseworker_id, ticket_id)
            await self.call(lambda: self.queue.transfer(caseworker_id, ticket_id, fence, skill))
            await self.recorder.record_transfer(ticket_id, skill, note)

    async def tick(self) -> None:
        """Fire due offers, grace periods, wrap-ups and widening once (the timer's step)."""
        try:
            await self.call(self.queue.tick)
        except QueueError as exc:
            log.warning("queue tick refused", extra={"code": exc.code})

    async def run_timer(self, stop: asyncio.Event, interval_s: float = TIMER_INTERVAL_S) -> None:
        """Tick until `stop` is set."""
        await run_periodically(self.tick, stop, interval_s, name="queue tick")


def _ticket_spec(row: ServiceSession) -> TicketSpec:
    """The live-queue ticket of a session row, with the row's own time (a `TicketRecord` adds the state)."""
    return TicketSpec(id=row.id, kiosk_id=str(row.kiosk_id), street_id=str(row.street_id), matter_id=row.matter_id,
                      skill=row.skill, priority=row.priority, created_at=row.created_at.timestamp())


def _joined(row: ServiceSession) -> JoinedTicket:
    return JoinedTicket(session_id=row.id, ticket_number=row.ticket_number, matter_id=row.matter_id,
                        state=row.state, created_at=row.created_at)


QUEUE: web.AppKey[QueueService] = web.AppKey("queue")


async def queue_context(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: the queue service, a rebuild if Redis is empty, and the timer task."""
    settings = app[app_keys.SETTINGS]
    service = QueueService(app[app_keys.REDIS], app[app_keys.DB_SESSIONS], queue_config(settings),
                           prefix=settings.redis_prefix)
    app[QUEUE] = service
    try:
        await service.rebuild_from_database()
    except (RedisError, OSError) as exc:
        log.warning("queue rebuild deferred: redis unavailable", extra={"error": type(exc).__name__})
    async with background(service.run_timer, name="queue timer"):
        yield
