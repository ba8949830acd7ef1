"""The signaling service: one process's handler tables, welcomes, departures and keep-alive.

Handlers live in their own modules (`call_handlers`, `kiosk_handlers`, `caseworker_handlers`) and
other features add theirs with `register` (capture, ratings): every client message takes the same
path through `HandlerTables.dispatch`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from server.catalog.service import CatalogService
from server.hours.appointment_service import AppointmentService
from server.hours.service import HoursService
from server.protocol.outbound import ServerMessage, Welcome
from server.queueing.service import QueueService
from server.runtime.turn_gate import TurnGate
from server.settings import Settings
from server.signaling.admission import Admission
from server.signaling.appointment_handlers import AppointmentHandlers
from server.signaling.call_handlers import CallHandlers
from server.signaling.caseworker_handlers import CaseworkerHandlers, EndStep
from server.signaling.connection import Connection
from server.signaling.departures import Departures
from server.signaling.handlers import Handler, HandlerTables
from server.signaling.hub import Hub
from server.signaling.keepalive import KeepAlive
from server.signaling.kiosk_handlers import JoinStep, KioskHandlers
from server.signaling.principal_limits import PrincipalLimits
from server.signaling.queue_fanout import QueueFanout
from server.signaling.resets import watch_queue_resets
from server.signaling.views import ViewBuilder
from server.signaling.welcome import Welcomer

# Closed connections cleaned up in one loop turn (server/runtime/turn_gate.py); the rest wait.
CLOSES_PER_TURN = 16


class SignalingService:
    """What other features see of signaling: the hub, `register`, and the connection lifecycle."""

    def __init__(self, settings: Settings, hub: Hub, queue: QueueService, catalog: CatalogService) -> None:
        self.settings = settings
        self.hub = hub
        self.queue_service = queue
        self.queue = queue.queue
        self.sessions = queue.sessions
        self.catalog = catalog
        # Presence, last-seen times and session checks of every connection, batched per process.
        self.keepalive = KeepAlive(hub, self.sessions)
        self.departures = Departures(settings, hub, queue, self.keepalive.saw_kiosk)
        self.fanout = QueueFanout(hub, queue.queue, ViewBuilder(queue.queue, queue.sessions, catalog))
        self.welcomer = Welcomer(settings, hub, self.fanout, queue, self.departures, self.keepalive.saw_kiosk)
        self.handlers = HandlerTables()
        self.limits = PrincipalLimits()
        self.admission = Admission(settings.ws_admit_rate, settings.ws_admit_burst, settings.ws_admit_pending)
        self.close_gate = TurnGate(CLOSES_PER_TURN)
        CallHandlers(hub, self.queue, self.keepalive).register(self.handlers)
        self.hours = HoursService(settings, queue)
        self.kiosk_handlers = KioskHandlers(hub, self.fanout, queue, catalog, self.hours)
        self.kiosk_handlers.register(self.handlers)
        self.appointments = AppointmentService(self.hours)
        AppointmentHandlers(self.appointments, self.kiosk_handlers, queue, catalog).register(self.handlers)
        self.caseworker_handlers = CaseworkerHandlers(hub, queue, catalog)
        self.caseworker_handlers.register(self.handlers)

    def register(self, roles: tuple[str, ...], message_type: str, handler: Handler) -> None:
        """Handle `message_type` from these roles (for features outside signaling)."""
        self.handlers.register(roles, message_type, handler)

    def add_join_step(self, step: JoinStep) -> None:
        """Run a feature's step in every kiosk `join` (for features outside signaling)."""
        self.kiosk_handlers.steps.append(step)

    def add_end_step(self, step: EndStep) -> None:
        """Run a feature's step in every `end_call` (for features outside signaling)."""
        self.caseworker_handlers.end_steps.append(step)

    async def welcome(self, connection: Connection, resume: str | None) -> Welcome:
        """Register a connection that said hello and build its `welcome`."""
        return await self.welcomer.welcome(connection, resume)

    async def handle(self, connection: Connection, message: Any) -> ServerMessage | None:
        """Carry out one validated message; return an extra reply, or None. Raises SignalingError."""
        return await self.handlers.dispatch(connection, message)

    async def closed(self, connection: Connection) -> None:
        """A connection ended."""
        await self.departures.closed(connection)

    async def watch_queue_resets(self, stop: asyncio.Event, interval_s: float = 1.0) -> None:
        """Background task: sign caseworkers in again after the queue lost its state."""
        await watch_queue_resets(self.hub, self.queue_service, stop, interval_s)

    async def shutdown(self) -> None:
        """Cancel pending drop timers (another process or a restart applies the rules again)."""
        self.departures.shutdown()
