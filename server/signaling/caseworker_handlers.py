"""The caseworker's queue messages: status, accept/reject an offer, end or transfer a call, wrap-up."""

from __future__ import annotations

from typing import Protocol

from server.catalog.service import CatalogService
from server.protocol import messages as m
from server.protocol.addresses import CASEWORKER
from server.queueing.service import QueueService
from server.signaling.connection import Connection
from server.signaling.handlers import HandlerTables, SignalingError
from server.signaling.hub import Hub


class EndStep(Protocol):
    """A feature's part of `end_call` (case numbers, the receipt): before the outcome is recorded, and after."""

    async def before_end(self, connection: Connection, message: m.EndCall) -> m.EndCall:
        """Refuse (SignalingError) or return the message to record, e.g. with a server-issued case number."""

    async def ended(self, connection: Connection, message: m.EndCall) -> None:
        """The outcome is recorded and the call ended."""


class CaseworkerHandlers:
    """`set_status`, `accept`, `reject`, `end_call`, `transfer`, `finish_wrap_up`."""

    def __init__(self, hub: Hub, queue: QueueService, catalog: CatalogService) -> None:
        self.hub = hub
        self.queue = queue
        self.catalog = catalog
        self.end_steps: list[EndStep] = []

    def register(self, tables: HandlerTables) -> None:
        """Add these handlers to the caseworker's table."""
        for message_type, handler in (("set_status", self.set_status), ("accept", self.accept),
                                      ("reject", self.reject), ("end_call", self.end_call),
                                      ("transfer", self.transfer), ("finish_wrap_up", self.finish_wrap_up)):
            tables.register((CASEWORKER,), message_type, handler)

    async def set_status(self, connection: Connection, message: m.SetStatus) -> None:
        """Available, on a break or offline; remembered on every tab for a sign-in after a queue reset."""
        cw = str(connection.principal.user_id)
        status = await self.queue.queue.caseworker(cw)
        for local in self.hub.local.get(connection.key, ()):
            local.desired_status = None if message.status == "offline" else message.status
            local.desired_reason = message.reason
        if message.status == "offline":
            if status is not None:
                await self.queue.set_offline(cw)
            return
        if not connection.skills or connection.street_id is None:
            raise SignalingError("invalid_argument", "账号没有所属中心或技能，请联系管理员")
        if status is None or status.state == "offline":
            await self.queue.sign_in(cw, str(connection.street_id), connection.skills,
                                     available=message.status == "available", reason=message.reason)
        elif message.status == "available":
            await self.queue.set_available(cw)
        else:
            await self.queue.set_break(cw, message.reason or "break")

    async def accept(self, connection: Connection, message: m.Accept) -> None:
        """Take the offered ticket."""
        await self.queue.accept(str(connection.principal.user_id), message.ticket_id, message.fence)

    async def reject(self, connection: Connection, message: m.Reject) -> None:
        """Decline the offered ticket."""
        await self.queue.reject(str(connection.principal.user_id), message.ticket_id, message.fence)

    async def end_call(self, connection: Connection, message: m.EndCall) -> None:
        """Record the outcome and end the call (one end or transfer of a call at a time)."""
        async with self.queue.closing_call(message.ticket_id):
            message = await self._end_call(connection, message)
        for step in self.end_steps:
            await step.ended(connection, message)

    async def _end_call(self, connection: Connection, message: m.EndCall) -> m.EndCall:
        """The checks, the end steps' changes (a case number issued) and the end; the message as ended."""
        # Only the call's holder gets past this: a stranger's end_call, or the second of two sent at
        # once, must not issue a case number.
        await self.queue.held_fence(str(connection.principal.user_id), message.ticket_id)
        for step in self.end_steps:
            message = await step.before_end(connection, message)
        if message.outcome == "accepted" and not message.case_number.strip():
            raise SignalingError("case_number_required", "受理需要填写受理编号")
        notes = message.notes.strip()
        if message.missing:
            notes = (notes + "\n" if notes else "") + "缺少材料：" + "、".join(message.missing)
        await self.queue.end_call(str(connection.principal.user_id), message.ticket_id, message.outcome,
                                  case_number=message.case_number.strip(), notes=notes)
        return message

    async def transfer(self, connection: Connection, message: m.Transfer) -> None:
        """转办 to another skill's line."""
        catalog = await self.catalog.current()
        if message.skill not in {matter.skill for matter in catalog.matters}:
            raise SignalingError("unknown_skill", "没有这个业务技能")
        await self.queue.transfer(str(connection.principal.user_id), message.ticket_id, message.skill,
                                  message.note.strip())

    async def finish_wrap_up(self, connection: Connection, message: m.FinishWrapUp) -> None:
        """End wrap-up early."""
        await self.queue.finish_wrap_up(str(connection.principal.user_id))
