"""What happens when a principal's last connection closes: the drop rules of docs/protocol.md.

A kiosk waiting in line keeps its place for the grace period (the queue's rule); a kiosk or a
caseworker gone from a live call has `call_reconnect_s` to come back before the call is ended or
its ticket requeued. Each rule waits in a timer that a hello from the same principal cancels.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError
from session_queue import QueueError
from sqlalchemy.exc import SQLAlchemyError

from server.protocol import outbound as out
from server.protocol.addresses import CASEWORKER, KIOSK, caseworker_address, kiosk_address
from server.queueing.service import QueueService
from server.settings import Settings
from server.signaling.connection import Connection
from server.signaling.hub import Hub

log = logging.getLogger(__name__)

# A caseworker whose console closes while an offer rings has this long to come back (a reload)
# before the offer is withdrawn and they are signed out of the queue.
OFFER_RELOAD_S = 5.0


class Departures:
    """The drop rules and their pending timers in this process."""

    def __init__(self, settings: Settings, hub: Hub, queue: QueueService, saw_kiosk: Callable[[int], None]) -> None:
        self.settings = settings
        # Writes a kiosk's last_seen_at with the keep-alive's next tick (batched, off the hot path).
        self.saw_kiosk = saw_kiosk
        self.hub = hub
        self.queue = queue
        self._timers: dict[str, asyncio.Task[None]] = {}

    def came_back(self, key: str) -> None:
        """A connection of this principal said hello: its pending drop rule is void."""
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()

    async def closed(self, connection: Connection) -> None:
        """A connection ended: if it was the principal's last, apply the drop rules."""
        self.hub.remove(connection)
        if await self.hub.presence.leave_and_count(connection.key, connection.id):
            return
        role = connection.principal.role
        if role == KIOSK:
            await self._kiosk_gone(connection)
        elif role == CASEWORKER:
            await self._caseworker_gone(connection)

    async def _kiosk_gone(self, connection: Connection) -> None:
        if connection.principal.kiosk_id is not None:
            self.saw_kiosk(connection.principal.kiosk_id)
        if connection.ticket_id is None:
            return
        live = await self.queue.queue.ticket(connection.ticket_id)
        if live is None:
            return
        if live.state in ("waiting", "offered"):
            await self.queue.kiosk_disconnected(live.id)
        elif live.state == "in_call" and live.caseworker_id:
            if await self.hub.presence.is_present(connection.key):
                return  # back already (its welcome told the caseworker): no stale "offline" after it
            gone = out.peer(live.id, online=False, fresh=False)
            await self.hub.send_to([caseworker_address(live.caseworker_id)], gone)
            self._later(connection.key, lambda: self._end_abandoned_call(live.id))

    async def _caseworker_gone(self, connection: Connection) -> None:
        user_id = str(connection.principal.user_id)
        status = await self.queue.queue.caseworker(user_id)
        if status is None or status.state == "offline":
            return
        if status.state == "offered":
            # Nobody should wait long on an offer to a person whose screen is gone, but a reload
            # (a few seconds) comes back into the offer, still ringing, as docs/agent.md says.
            self._later(connection.key, lambda: self._offered_caseworker_gone(user_id), delay_s=OFFER_RELOAD_S)
            return
        if status.state == "in_call" and status.ticket_id:
            live = await self.queue.queue.ticket(status.ticket_id)
            if live is not None and not await self.hub.presence.is_present(connection.key):
                await self.hub.send_to([kiosk_address(live.kiosk_id)], out.peer(live.id, online=False, fresh=False))
        self._later(connection.key, lambda: self._caseworker_really_gone(user_id))

    async def _offered_caseworker_gone(self, user_id: str) -> None:
        status = await self.queue.queue.caseworker(user_id)
        if status is not None and status.state == "offered":
            await self.queue.caseworker_disconnected(user_id)  # the offer goes back to the front
            log.info("caseworker gone while offered; offer withdrawn", extra={"caseworker_id": user_id})

    def _later(self, key: str, rule: Callable[[], Awaitable[None]], *, delay_s: float | None = None) -> None:
        """Run a drop rule after the reconnect window (or `delay_s`) unless the principal comes back first."""
        wait_s = self.settings.call_reconnect_s if delay_s is None else delay_s

        async def wait_then_run() -> None:
            await asyncio.sleep(wait_s)
            if not await self.hub.presence.is_present(key):
                try:
                    await rule()
                except (QueueError, RedisError, OSError, SQLAlchemyError) as exc:
                    log.warning("drop rule failed", extra={"principal": key, "error": type(exc).__name__})

        self.came_back(key)
        task = asyncio.create_task(wait_then_run(), name=f"gone:{key}")
        self._timers[key] = task
        task.add_done_callback(lambda t: self._timers.pop(key, None) if self._timers.get(key) is t else None)

    async def _end_abandoned_call(self, ticket_id: str) -> None:
        live = await self.queue.queue.ticket(ticket_id)
        if live is not None and live.state in ("waiting", "offered") and not live.kiosk_gone:
            # Sent back to the queue (transferred, or its caseworker gone) while the kiosk was
            # away and still is: its waiting grace starts now, as for a kiosk that drops while
            # waiting, rather than the ticket being offered on and on to nobody.
            await self.queue.kiosk_disconnected(ticket_id)
            log.info("kiosk gone after its call went back to the queue", extra={"session_id": ticket_id})
            return
        if await self.queue.end_abandoned_call(ticket_id):
            log.info("call ended: kiosk gone", extra={"session_id": ticket_id})

    async def _caseworker_really_gone(self, caseworker_id: str) -> None:
        await self.queue.caseworker_disconnected(caseworker_id)
        log.info("caseworker gone past the reconnect window; signed out of the queue (a held call goes back "
                 "to the front of the line)", extra={"caseworker_id": caseworker_id})

    def shutdown(self) -> None:
        """Cancel pending drop timers (another process or a restart applies the rules again)."""
        for task in list(self._timers.values()):
            task.cancel()
