"""The kiosk's own messages: `join` the line for a matter, `cancel` it."""

from __future__ import annotations

from server.catalog.service import CatalogService
from server.protocol import messages as m
from server.protocol.addresses import KIOSK
from server.queueing.service import QueueService
from server.signaling.connection import Connection
from server.signaling.handlers import HandlerTables, SignalingError
from server.signaling.hub import Hub
from server.signaling.queue_fanout import QueueFanout


class KioskHandlers:
    """`join` and `cancel`."""

    def __init__(self, hub: Hub, fanout: QueueFanout, queue: QueueService, catalog: CatalogService) -> None:
        self.hub = hub
        self.fanout = fanout
        self.queue = queue
        self.catalog = catalog

    def register(self, tables: HandlerTables) -> None:
        """Add these handlers to the kiosk's table."""
        tables.register((KIOSK,), "join", self.join)
        tables.register((KIOSK,), "cancel", self.cancel)

    async def join(self, connection: Connection, message: m.Join) -> None:
        """Put the resident in line and route the ticket's events to every tab of this kiosk."""
        matter = (await self.catalog.current()).by_id(message.matter_id)
        if matter is None:
            raise SignalingError("unknown_matter", "没有这个事项")
        if matter.mode != "both" and matter.mode != message.mode:
            raise SignalingError("bad_mode", "该事项不支持这种方式")
        kiosk_id = connection.principal.kiosk_id
        assert kiosk_id is not None
        ticket = await self.queue.join(kiosk_id, matter.id, matter.skill, message.mode, message.priority)
        for local in list(self.hub.local.get(connection.key, ())):
            self.fanout.watch_ticket(local, ticket.session_id)
        await self.fanout.catch_up_call(connection.key, ticket.session_id)
        await self.fanout.send_ticket(connection.key, ticket.session_id)

    async def cancel(self, connection: Connection, message: m.Cancel) -> None:
        """Leave the line."""
        kiosk_id = connection.principal.kiosk_id
        assert kiosk_id is not None
        ticket = await self.queue.open_ticket_of_kiosk(kiosk_id)
        if ticket is None:
            raise SignalingError("no_ticket", "当前没有排队号")
        await self.queue.cancel(ticket.session_id)
