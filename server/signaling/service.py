"""What each client message does, and what happens when a connection comes and goes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from redis.exceptions import RedisError
from session_queue import QueueError
from sqlalchemy.exc import SQLAlchemyError

from server.catalog.service import CatalogService
from server.db.models import Centre, FollowUp, Kiosk, Rating, ServiceSession, Site, Street, User
from server.db.types import utcnow
from server.protocol import messages as m
from server.protocol.addresses import CASEWORKER_PREFIX, caseworker_address, kiosk_address
from server.queueing.service import QueueService
from server.runtime import redis_keys
from server.settings import Settings
from server.signaling.connection import HEARTBEAT_S, Connection
from server.signaling.hub import Hub
from server.signaling.ice import ice_servers
from server.signaling.keepalive import KeepAlive

log = logging.getLogger(__name__)

RESUME_TTL_S = 600
# `ping` may come often: presence (TTL 45 s) and a kiosk's last_seen_at need not be refreshed as often.
# last_seen_at stands in for presence when Redis cannot be read (kiosk health: seen within 45 s =
# online), so with a heartbeat every 20 s a connected kiosk's row is never more than ~35 s old.
PRESENCE_TOUCH_EVERY_S = 5.0
LAST_SEEN_EVERY_S = 15.0
OPEN_TICKET_STATES = ("waiting", "offered", "in_call", "wrap_up", "requeued")
OUTCOME_LABELS = {"accepted": "受理", "completed": "办结", "answered": "咨询已答复", "incomplete": "材料不全"}


ExtraHandler = Callable[[Connection, Any], Awaitable[dict[str, Any] | None]]


class SignalingError(Exception):
    """A refused client message: `code` and a Chinese message go back to the client."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def next_working_day(start: datetime) -> datetime:
    """The same time on the next Monday-to-Friday day (follow-ups are due within one working day)."""
    due = start + timedelta(days=1)
    while due.weekday() >= 5:
        due += timedelta(days=1)
    return due


class SignalingService:
    """Client message handlers over the hub, the queue service and the database."""

    def __init__(self, settings: Settings, hub: Hub, queue: QueueService, catalog: CatalogService) -> None:
        self.settings = settings
        self.hub = hub
        self.queue_service = queue
        self.queue = queue.queue
        self.sessions = queue.sessions
        self.catalog = catalog
        self._gone_timers: dict[str, asyncio.Task[None]] = {}
        # Presence, last-seen times and session checks of every connection, batched per process.
        self.keepalive = KeepAlive(hub, self.sessions)
        # Subsystems (capture, ...) register handlers for their own message types here.
        self.extra_handlers: dict[str, ExtraHandler] = {}

    # -- connection lifecycle ---------------------------------------------------------------

    async def welcome(self, connection: Connection, resume: str | None) -> dict[str, Any]:
        """Register the connection and build its `welcome` with the whole current state."""
        principal = connection.principal
        resumed = False
        if resume:
            owner = await self.hub.redis.get(redis_keys.resume_token(resume))
            owner_key = owner.decode() if isinstance(owner, bytes) else owner
            resumed = owner_key == connection.key
        token = secrets.token_urlsafe(24)
        await self.hub.redis.set(redis_keys.resume_token(token), connection.key, ex=RESUME_TTL_S)
        # Redis may have come back empty a moment ago: rebuild before reading the live state, or
        # a kiosk holding a ticket would be told it has none.
        await self.queue_service.rebuild_from_database()
        timer = self._gone_timers.pop(connection.key, None)
        if timer is not None:
            timer.cancel()
        self.hub.add(connection)
        await self.hub.presence.touch(connection.key, connection.id)
        await self.hub.announce(connection.key)
        base: dict[str, Any] = {"v": m.PROTOCOL_VERSION, "role": principal.role, "resume_token": token,
                                "resumed": resumed, "heartbeat_s": HEARTBEAT_S,
                                "ice_servers": [s.model_dump(exclude_none=True)
                                                for s in ice_servers(self.settings, principal.actor)]}
        if principal.role == "kiosk":
            base.update(await self._kiosk_welcome(connection, fresh=not resumed))
        elif principal.role == "caseworker":
            base.update(await self._caseworker_welcome(connection, fresh=not resumed))
        else:
            base["state"] = {}
        return m.out("welcome", **base)

    async def _kiosk_welcome(self, connection: Connection, fresh: bool) -> dict[str, Any]:
        kiosk_id = connection.principal.kiosk_id
        assert kiosk_id is not None
        async with self.sessions() as session:
            kiosk = await session.get(Kiosk, kiosk_id)
            site = await session.get(Site, kiosk.site_id) if kiosk else None
            street = await session.get(Street, site.street_id) if site else None
            if kiosk is not None:
                kiosk.last_seen_at = utcnow()
                await session.commit()
        ticket = await self.queue_service.open_ticket_of_kiosk(kiosk_id)
        state: dict[str, Any] = {"ticket": None, "call": None}
        if ticket is not None:
            self.hub.watch_ticket(connection, ticket.session_id)
            live = await self.queue.ticket(ticket.session_id)
            if live is not None and live.kiosk_gone:
                await self.queue_service.call(lambda: self.queue.kiosk_reconnected(ticket.session_id))
            view = await self.hub.views.ticket(ticket.session_id)
            if view is not None:
                state["ticket"] = view.model_dump(mode="json")
                connection.last_ticket_view = state["ticket"]
            if live is not None and live.state == "in_call" and live.caseworker_id:
                peer = caseworker_address(live.caseworker_id)
                connection.call_peers[ticket.session_id] = peer
                call = await self.hub.views.call(ticket.session_id, "answerer",
                                                 peer_online=await self.hub.presence.is_present(peer))
                state["call"] = call.model_dump(mode="json") if call else None
                await self.hub.send_to([peer], m.out("peer", call_id=ticket.session_id, online=True, fresh=fresh))
        kiosk_info = {"id": kiosk_id, "site": site.name if site else "", "street": street.name if street else ""}
        return {"kiosk": kiosk_info, "state": state}

    async def _caseworker_welcome(self, connection: Connection, fresh: bool) -> dict[str, Any]:
        user_id = connection.principal.user_id
        assert user_id is not None
        async with self.sessions() as session:
            user = await session.get(User, user_id)
            centre = await session.get(Centre, user.centre_id) if user and user.centre_id else None
            assert user is not None
            connection.skills = [s.skill for s in user.skills]
            connection.street_id = centre.street_id if centre else None
            user_info = {"id": user.id, "username": user.username, "display_name": user.display_name,
                         "centre_id": user.centre_id, "centre": centre.name if centre else None,
                         "skills": connection.skills}
        agent = await self.hub.views.agent(user_id)
        state: dict[str, Any] = {"agent": agent.model_dump(mode="json"), "offer": None, "call": None}
        if agent.state == "offered" and agent.ticket_id:
            offer = await self.hub.views.offer(agent.ticket_id)
            state["offer"] = offer.model_dump(mode="json") if offer else None
        if agent.state == "in_call" and agent.ticket_id:
            live = await self.queue.ticket(agent.ticket_id)
            if live is not None:
                peer = kiosk_address(live.kiosk_id)
                connection.call_peers[agent.ticket_id] = peer
                call = await self.hub.views.call(agent.ticket_id, "offerer",
                                                 peer_online=await self.hub.presence.is_present(peer))
                state["call"] = call.model_dump(mode="json") if call else None
                await self.hub.send_to([peer], m.out("peer", call_id=agent.ticket_id, online=True, fresh=fresh))
        return {"user": user_info, "state": state}

    async def heartbeat(self, connection: Connection) -> None:
        """Keep the connection's presence fresh on `ping` (the keep-alive sweep does so every interval).

        Cheap enough for a client that pings often: presence is refreshed at most every
        PRESENCE_TOUCH_EVERY_S per connection, a kiosk's `last_seen_at` written at most every
        LAST_SEEN_EVERY_S per kiosk (one SQLite write per ping made writers queue up)."""
        now = time.monotonic()
        if now - connection.presence_touched_at >= PRESENCE_TOUCH_EVERY_S:
            await self.hub.presence.touch(connection.key, connection.id)
            connection.presence_touched_at = now
        kiosk_id = connection.principal.kiosk_id
        if connection.principal.role == "kiosk" and kiosk_id is not None:
            written = self.keepalive.last_seen_written
            if now - written.get(kiosk_id, -LAST_SEEN_EVERY_S) < LAST_SEEN_EVERY_S:
                return
            written[kiosk_id] = now
            async with self.sessions() as session, session.begin():
                kiosk = await session.get(Kiosk, kiosk_id)
                if kiosk is not None:
                    kiosk.last_seen_at = utcnow()

    async def closed(self, connection: Connection) -> None:
        """A connection ended: if it was the principal's last, apply the drop rules."""
        self.hub.remove(connection)
        await self.hub.presence.leave(connection.key, connection.id)
        if await self.hub.presence.is_present(connection.key):
            return
        principal = connection.principal
        if principal.role == "kiosk":
            await self._kiosk_gone(connection)
        elif principal.role == "caseworker":
            await self._caseworker_gone(connection)

    async def _kiosk_gone(self, connection: Connection) -> None:
        async with self.sessions() as session, session.begin():
            kiosk = await session.get(Kiosk, connection.principal.kiosk_id)
            if kiosk is not None:
                kiosk.last_seen_at = utcnow()
        if connection.ticket_id is None:
            return
        live = await self.queue.ticket(connection.ticket_id)
        if live is None:
            return
        if live.state in ("waiting", "offered"):
            await self.queue_service.call(lambda: self.queue.kiosk_disconnected(live.id))
        elif live.state == "in_call" and live.caseworker_id:
            gone = m.out("peer", call_id=live.id, online=False, fresh=False)
            await self.hub.send_to([caseworker_address(live.caseworker_id)], gone)
            self._later(connection.key, lambda: self._end_abandoned_call(connection.key, live.id))

    async def _caseworker_gone(self, connection: Connection) -> None:
        user_id = connection.principal.user_id
        status = await self.queue.caseworker(str(user_id))
        if status is None or status.state == "offline":
            return
        if status.state == "offered":
            # Nobody should wait on an offer to a person whose screen is gone.
            await self.queue_service.call(lambda: self.queue.caseworker_disconnected(str(user_id)))
            return
        if status.state == "in_call" and status.ticket_id:
            live = await self.queue.ticket(status.ticket_id)
            if live is not None:
                gone = m.out("peer", call_id=live.id, online=False, fresh=False)
                await self.hub.send_to([kiosk_address(live.kiosk_id)], gone)
        self._later(connection.key, lambda: self._caseworker_really_gone(connection.key, str(user_id)))

    def _later(self, key: str, rule: Callable[[], Awaitable[None]]) -> None:
        """Run a drop rule after the reconnect window unless the principal comes back first."""
        async def wait_then_run() -> None:
            await asyncio.sleep(self.settings.call_reconnect_s)
            if not await self.hub.presence.is_present(key):
                try:
                    await rule()
                except (QueueError, RedisError, OSError, SQLAlchemyError) as exc:
                    log.warning("drop rule failed", extra={"principal": key, "error": type(exc).__name__})

        previous = self._gone_timers.pop(key, None)
        if previous is not None:
            previous.cancel()
        task = asyncio.create_task(wait_then_run(), name=f"gone:{key}")
        self._gone_timers[key] = task
        task.add_done_callback(lambda t: self._gone_timers.pop(key, None) if self._gone_timers.get(key) is t else None)

    async def _end_abandoned_call(self, kiosk_key: str, ticket_id: str) -> None:
        live = await self.queue.ticket(ticket_id)
        if live is None or live.state != "in_call" or not live.caseworker_id:
            return
        cw = live.caseworker_id
        await self.queue_service.call(lambda: self.queue.end_call(cw, ticket_id, live.fence, outcome="abandoned"))
        async with self.sessions() as session, session.begin():
            row = await session.get(ServiceSession, ticket_id)
            if row is not None:
                row.outcome = "abandoned"
        log.info("call ended: kiosk gone", extra={"session_id": ticket_id})

    async def _caseworker_really_gone(self, key: str, caseworker_id: str) -> None:
        await self.queue_service.call(lambda: self.queue.caseworker_disconnected(caseworker_id))
        log.info("caseworker gone; held ticket requeued", extra={"caseworker_id": caseworker_id})

    async def watch_queue_resets(self, stop: asyncio.Event, interval_s: float = 1.0) -> None:
        """Sign connected caseworkers in to the queue again after Redis lost its state.

        A rebuild restores tickets but not caseworker states; a console whose socket stayed open
        would otherwise sit "available" while the queue has forgotten it. Each process watches the
        queue's epoch marker and, when it changes, signs its own caseworkers in again with the
        status they last asked for.
        """
        seen: bytes | str | None = None
        while not stop.is_set():
            try:
                epoch = await self.hub.redis.get(self.queue.keys.epoch)
                if epoch is None:
                    await self.queue_service.rebuild_from_database()
                    epoch = await self.hub.redis.get(self.queue.keys.epoch)
                if seen is not None and epoch is not None and epoch != seen:
                    await self._sign_in_again()
                seen = epoch if epoch is not None else seen
            except (RedisError, OSError, SQLAlchemyError, QueueError) as exc:
                log.warning("queue reset watch failed", extra={"error": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)

    async def _sign_in_again(self) -> None:
        for key, connections in list(self.hub.local.items()):
            if not key.startswith(CASEWORKER_PREFIX):
                continue
            connection = next((c for c in connections if c.desired_status), None)
            if connection is not None and connection.skills and connection.street_id is not None:
                await self._sign_in(key.split(":", 1)[1], connection)

    async def _sign_in(self, cw: str, connection: Connection) -> None:
        if await self.queue.caseworker(cw) is not None:
            return
        available = connection.desired_status == "available"
        await self.queue_service.call(lambda: self.queue.caseworker_login(
            cw, str(connection.street_id), connection.skills, available=available))
        if not available and connection.desired_reason:
            await self.queue_service.call(lambda: self.queue.set_break(cw, connection.desired_reason))
        log.info("caseworker signed in to the queue again after a reset", extra={"caseworker_id": cw})

    async def shutdown(self) -> None:
        """Cancel pending drop timers (another process or a restart applies the rules again)."""
        for task in list(self._gone_timers.values()):
            task.cancel()

    # -- client messages --------------------------------------------------------------------

    async def handle(self, connection: Connection, message: Any) -> dict[str, Any] | None:
        """Carry out one validated message; return an extra reply, or None. Raises SignalingError."""
        handler = self.extra_handlers.get(message.type) or getattr(self, f"_on_{message.type}", None)
        if handler is None:
            raise SignalingError("unavailable", "这项功能尚未开通")
        try:
            result: dict[str, Any] | None = await handler(connection, message)
            return result
        except QueueError as exc:
            raise SignalingError(exc.code, exc.message or exc.code) from None

    async def _on_ping(self, connection: Connection, message: m.Ping) -> dict[str, Any]:
        await self.heartbeat(connection)
        return m.out("pong", ts=utcnow().timestamp())

    async def _on_join(self, connection: Connection, message: m.Join) -> None:
        matter = (await self.catalog.current()).by_id(message.matter_id)
        if matter is None:
            raise SignalingError("unknown_matter", "没有这个事项")
        if matter.mode != "both" and matter.mode != message.mode:
            raise SignalingError("bad_mode", "该事项不支持这种方式")
        kiosk_id = connection.principal.kiosk_id
        assert kiosk_id is not None
        ticket = await self.queue_service.join(kiosk_id, matter.id, matter.skill, message.mode, message.priority)
        for local in list(self.hub.local.get(connection.key, ())):
            self.hub.watch_ticket(local, ticket.session_id)
        await self.hub.catch_up_call(connection.key, ticket.session_id)
        await self.hub.send_ticket(connection.key, ticket.session_id)

    async def _on_cancel(self, connection: Connection, message: m.Cancel) -> None:
        kiosk_id = connection.principal.kiosk_id
        assert kiosk_id is not None
        ticket = await self.queue_service.open_ticket_of_kiosk(kiosk_id)
        if ticket is None:
            raise SignalingError("no_ticket", "当前没有排队号")
        await self.queue_service.call(lambda: self.queue.cancel(ticket.session_id))

    async def _on_signal(self, connection: Connection, message: m.Signal) -> None:
        peer = connection.call_peers.get(message.call_id) or await self._call_peer(connection, message.call_id)
        if peer is None:
            raise SignalingError("not_in_call", "不在这个通话中")
        sender = "kiosk" if connection.principal.role == "kiosk" else "caseworker"
        await self.hub.relay(peer, m.out("signal", call_id=message.call_id, **{"from": sender},
                                         data=message.data.model_dump(exclude_none=True)))

    async def _call_peer(self, connection: Connection, call_id: str) -> str | None:
        """The other member of a live call this connection belongs to (checked against the queue)."""
        live = await self.queue.ticket(call_id)
        if live is None or live.state != "in_call" or not live.caseworker_id:
            return None
        principal = connection.principal
        if principal.role == "kiosk" and live.kiosk_id == str(principal.kiosk_id):
            peer = caseworker_address(live.caseworker_id)
        elif principal.role == "caseworker" and live.caseworker_id == str(principal.user_id):
            peer = kiosk_address(live.kiosk_id)
        else:
            return None
        connection.call_peers[call_id] = peer
        return peer

    async def _on_rate(self, connection: Connection, message: m.Rate) -> None:
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
            if message.score <= 2:
                session.add(FollowUp(session_id=row.id, centre_id=row.centre_id, state="open",
                                     due_at=next_working_day(now), created_at=now, updated_at=now))

    async def _caseworker_id(self, connection: Connection) -> str:
        return str(connection.principal.user_id)

    async def _on_set_status(self, connection: Connection, message: m.SetStatus) -> None:
        cw = await self._caseworker_id(connection)
        status = await self.queue.caseworker(cw)
        for local in self.hub.local.get(connection.key, ()):
            local.desired_status = None if message.status == "offline" else message.status
            local.desired_reason = message.reason
        if message.status == "offline":
            if status is not None:
                await self.queue_service.call(lambda: self.queue.set_offline(cw))
            return
        if not connection.skills or connection.street_id is None:
            raise SignalingError("invalid_argument", "账号没有所属中心或技能，请联系管理员")
        if status is None or status.state == "offline":
            available = message.status == "available"
            await self.queue_service.call(lambda: self.queue.caseworker_login(
                cw, str(connection.street_id), connection.skills, available=available))
            if not available and message.reason:
                await self.queue_service.call(lambda: self.queue.set_break(cw, message.reason))
        elif message.status == "available":
            await self.queue_service.call(lambda: self.queue.set_available(cw))
        else:
            await self.queue_service.call(lambda: self.queue.set_break(cw, message.reason or "break"))

    async def _on_accept(self, connection: Connection, message: m.Accept) -> None:
        cw = await self._caseworker_id(connection)
        await self.queue_service.call(lambda: self.queue.accept(cw, message.ticket_id, message.fence))

    async def _on_reject(self, connection: Connection, message: m.Reject) -> None:
        cw = await self._caseworker_id(connection)
        await self.queue_service.call(lambda: self.queue.reject(cw, message.ticket_id, message.fence))

    async def _held_fence(self, cw: str, ticket_id: str) -> int:
        live = await self.queue.ticket(ticket_id)
        if live is None:
            raise SignalingError("unknown_ticket", "没有这个排队号")
        if live.caseworker_id != cw or live.state != "in_call":
            raise SignalingError("not_holder", "这个通话不由你受理")
        return live.fence

    async def _on_end_call(self, connection: Connection, message: m.EndCall) -> None:
        if message.outcome == "accepted" and not message.case_number.strip():
            raise SignalingError("case_number_required", "受理需要填写受理编号")
        cw = await self._caseworker_id(connection)
        fence = await self._held_fence(cw, message.ticket_id)
        # The outcome is written first so every listener of the end transition can read it.
        notes = message.notes.strip()
        if message.missing:
            notes = (notes + "\n" if notes else "") + "缺少材料：" + "、".join(message.missing)
        async with self.sessions() as session, session.begin():
            row = await session.get(ServiceSession, message.ticket_id)
            if row is not None:
                row.outcome = message.outcome
                row.case_number = message.case_number.strip() or None
                row.notes = notes
        await self.queue_service.call(lambda: self.queue.end_call(cw, message.ticket_id, fence,
                                                                  outcome=message.outcome))

    async def _on_transfer(self, connection: Connection, message: m.Transfer) -> None:
        catalog = await self.catalog.current()
        if message.skill not in {matter.skill for matter in catalog.matters}:
            raise SignalingError("unknown_skill", "没有这个业务技能")
        cw = await self._caseworker_id(connection)
        fence = await self._held_fence(cw, message.ticket_id)
        await self.queue_service.call(lambda: self.queue.transfer(cw, message.ticket_id, fence, message.skill))
        async with self.sessions() as session, session.begin():
            row = await session.get(ServiceSession, message.ticket_id)
            if row is not None:
                row.skill = message.skill
                note = f"转办至 {message.skill}" + (f"：{message.note.strip()}" if message.note.strip() else "")
                row.notes = (row.notes + "\n" if row.notes else "") + note

    async def _on_finish_wrap_up(self, connection: Connection, message: m.FinishWrapUp) -> None:
        cw = await self._caseworker_id(connection)
        await self.queue_service.call(lambda: self.queue.finish_wrap_up(cw))

