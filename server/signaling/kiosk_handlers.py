"""The kiosk's own messages: `join` the line for a matter, `cancel` it."""

from __future__ import annotations

from typing import Protocol

from session_queue import FINAL_TICKET_STATES, QueueError

from server.catalog.service import CatalogService
from server.hours.callbacks import CallbackError
from server.hours.phone import PhoneError
from server.hours.service import HoursService
from server.hours.texts import closed_message
from server.protocol import messages as m
from server.protocol.addresses import KIOSK
from server.protocol.outbound import CallbackOk
from server.queueing.service import JoinError, QueueService
from server.runtime.district_time import iso_local
from server.signaling.connection import Connection
from server.signaling.handlers import HandlerTables, SignalingError, known_matter
from server.signaling.hub import Hub
from server.signaling.queue_fanout import QueueFanout


class JoinStep(Protocol):
    """A feature's part of `join` (the consent to the notice): checked before queueing, kept after."""

    async def check(self, connection: Connection, message: m.Join) -> None:
        """Raise SignalingError to refuse the join before anything is queued."""

    async def joined(self, connection: Connection, message: m.Join, session_id: str) -> None:
        """The resident holds ticket `session_id` now: for a new ticket this runs before it enters
        the live queue, so what is kept here is there when a caseworker accepts it at once."""


class KioskHandlers:
    """`join` and `cancel`."""

    def __init__(self, hub: Hub, fanout: QueueFanout, queue: QueueService, catalog: CatalogService,
                 hours: HoursService) -> None:
        self.hub = hub
        self.hours = hours
        self.fanout = fanout
        self.queue = queue
        self.catalog = catalog
        self.steps: list[JoinStep] = []

    def register(self, tables: HandlerTables) -> None:
        """Add these handlers to the kiosk's table."""
        tables.register((KIOSK,), "join", self.join)
        tables.register((KIOSK,), "cancel", self.cancel)
        tables.register((KIOSK,), "callback_request", self.callback_request)

    async def join(self, connection: Connection, message: m.Join, *, fresh_only: bool = False) -> None:
        """Put the resident in line and route the ticket's events to every tab of this kiosk
        (fresh_only: refuse with ticket_open when the kiosk already holds a ticket)."""
        matter = await known_matter(self.catalog, message.matter_id)
        if matter.mode != "both" and matter.mode != message.mode:
            raise SignalingError("bad_mode", "该事项不支持这种方式")
        for step in self.steps:
            await step.check(connection, message)
        kiosk_id = connection.principal.kiosk_id
        assert kiosk_id is not None
        if await self.queue.open_ticket_of_kiosk(kiosk_id) is None:
            closed, next_open = await self.hours.closed_until(kiosk_id)
            if closed:
                raise SignalingError("closed", closed_message(next_open, self.hours.clock.now()))
        kept: list[str] = []

        async def keep(session_id: str) -> None:
            for step in self.steps:
                await step.joined(connection, message, session_id)
            kept.append(session_id)

        try:
            ticket = await self.queue.join(kiosk_id, matter.id, matter.skill, message.mode, message.priority,
                                          fresh_only=fresh_only, before_queue=keep)
        except JoinError as exc:
            raise SignalingError(exc.code, exc.message) from None
        if ticket.session_id not in kept:
            await keep(ticket.session_id)  # the kiosk's open ticket, joined again (another tab)
        for local in list(self.hub.local.get(connection.key, ())):
            self.fanout.watch_ticket(local, ticket.session_id)
        await self.fanout.catch_up_call(connection.key, ticket.session_id)
        await self.fanout.send_ticket(connection.key, ticket.session_id)

    async def callback_request(self, connection: Connection, message: m.CallbackRequest) -> CallbackOk:
        """Leave the resident's phone number for a 回电 (never logged); the `ok` says when the call is due."""
        matter = await known_matter(self.catalog, message.matter_id)
        kiosk_id = connection.principal.kiosk_id
        assert kiosk_id is not None
        try:
            row = await self.hours.request_callback(kiosk_id, matter.id, message.phone, message.preferred)
        except PhoneError as exc:
            raise SignalingError("bad_phone", str(exc)) from None
        except CallbackError as exc:
            raise SignalingError(exc.code, exc.message) from None
        # `now` is the service clock, so the kiosk says 今天/明天 against the server's day.
        return {"type": "ok", "callback": {"id": row.id, "due_at": iso_local(row.due_at),
                                           "now": iso_local(self.hours.clock.now())}}

    async def cancel(self, connection: Connection, message: m.Cancel) -> None:
        """Leave the line."""
        kiosk_id = connection.principal.kiosk_id
        assert kiosk_id is not None
        ticket = await self.queue.open_ticket_of_kiosk(kiosk_id)
        if ticket is None:
            raise SignalingError("no_ticket", "当前没有排队号")
        try:
            await self.queue.cancel(ticket.session_id)
        except QueueError as exc:
            # The kiosk's other socket (or a double tap reaching two processes) cancelled it first:
            # for this one there is no ticket any more, as if it had asked a moment later.
            live = await self.queue.queue.ticket(ticket.session_id)
            if exc.code == "wrong_state" and (live is None or live.state in FINAL_TICKET_STATES):
                raise SignalingError("no_ticket", "当前没有排队号") from None
            raise
