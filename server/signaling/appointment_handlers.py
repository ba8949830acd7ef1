"""The kiosk's appointment messages: `appointment_book` a slot, `appointment_checkin` with the code.

A check-in queues the resident through the ordinary `join` (the consent step included) with the
booked matter and priority `appointment`; if queueing is refused, the booking stands as before.
"""

from __future__ import annotations

from server.catalog.service import CatalogService
from server.hours.appointment_service import AppointmentService
from server.hours.appointments import AppointmentError
from server.hours.phone import PhoneError, mask_phone
from server.protocol import messages as m
from server.protocol.addresses import KIOSK
from server.protocol.outbound import AppointmentOk
from server.queueing.service import QueueService
from server.runtime.district_time import iso_local
from server.signaling.connection import Connection
from server.signaling.handlers import HandlerTables, SignalingError, known_matter
from server.signaling.kiosk_handlers import KioskHandlers


class AppointmentHandlers:
    """`appointment_book` and `appointment_checkin` (docs/protocol.md)."""

    def __init__(self, appointments: AppointmentService, kiosk: KioskHandlers, queue: QueueService,
                 catalog: CatalogService) -> None:
        self.appointments = appointments
        self.kiosk = kiosk
        self.queue = queue
        self.catalog = catalog

    def register(self, tables: HandlerTables) -> None:
        """Add these handlers to the kiosk's table."""
        tables.register((KIOSK,), "appointment_book", self.book)
        tables.register((KIOSK,), "appointment_checkin", self.checkin)

    async def book(self, connection: Connection, message: m.AppointmentBook) -> AppointmentOk:
        """Book the slot; the `ok` carries the appointment with its code (the number is never logged)."""
        matter = await known_matter(self.catalog, message.matter_id)
        kiosk_id = connection.principal.kiosk_id
        assert kiosk_id is not None
        try:
            row = await self.appointments.book(kiosk_id, matter.id, matter.skill, message.slot, message.phone)
        except PhoneError as exc:
            raise SignalingError("bad_phone", str(exc)) from None
        except AppointmentError as exc:
            raise SignalingError(exc.code, exc.message) from None
        return {"type": "ok", "appointment": {
            "id": row.id, "code": row.code, "matter_id": matter.id, "matter_name": matter.name,
            "starts_at": iso_local(row.starts_at), "phone": mask_phone(row.phone)}}

    async def checkin(self, connection: Connection, message: m.AppointmentCheckin) -> AppointmentOk:
        """Check in with the code (or phone number) and queue with priority `appointment`."""
        kiosk_id = connection.principal.kiosk_id
        assert kiosk_id is not None
        if await self.queue.open_ticket_of_kiosk(kiosk_id) is not None:
            raise SignalingError("ticket_open", "本机已经有排队号，请先办完或取消后再签到")
        try:
            row = await self.appointments.claim(kiosk_id, message.code)
        except AppointmentError as exc:
            raise SignalingError(exc.code, exc.message) from None
        matter = (await self.catalog.current()).by_id(row.matter_id)
        try:
            if matter is None:
                raise SignalingError("unknown_matter", "预约的事项已下线，请到窗口咨询")
            join = m.Join(type="join", matter_id=matter.id, mode="consult" if matter.mode == "consult" else "handle",
                          priority="appointment", consent=message.consent)
            # Refused if the kiosk's other socket queued it meanwhile: the booking is not spent on it.
            await self.kiosk.join(connection, join, fresh_only=True)
        except BaseException:
            await self.appointments.release(row.id)
            raise
        ticket = await self.queue.open_ticket_of_kiosk(kiosk_id)
        if ticket is not None:
            await self.appointments.checked_in(row.id, ticket.session_id)
        return {"type": "ok", "appointment": {
            "id": row.id, "matter_id": matter.id, "matter_name": matter.name, "starts_at": iso_local(row.starts_at)}}
