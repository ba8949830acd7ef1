"""同屏确认 over signaling: the caseworker's `form_send` and the kiosk's `form_reply`.

A sent form is checked field by field, stored as a new version, shown on the kiosk (`form`, ID
numbers masked) and reported to the caseworker (`form_status` sent); the resident's answer to the
version shown is recorded once and reported (`form_status` confirmed | change_requested).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from session_queue import TicketStatus

from matters_catalog.forms import matter_form
from matters_catalog.loader import Catalog
from server.acceptance import texts
from server.acceptance.form_check import check_form, shown_to_resident
from server.acceptance.forms import SENT, SIGNED, FormStore
from server.protocol import messages as m
from server.protocol import outbound as out
from server.protocol.addresses import CASEWORKER, KIOSK, caseworker_address, kiosk_address
from server.signaling.connection import Connection
from server.signaling.handlers import Handler, SignalingError


def _refuse(code: str, answer: str | None = None) -> SignalingError:
    return SignalingError(code, texts.FORM_ERRORS[code], {"answer": answer} if answer else None)


class FormStep:
    """The two form messages; a refused one writes nothing and sends nothing to the other member."""

    def __init__(self, store: FormStore, ticket: Callable[[str], Awaitable[TicketStatus | None]],
                 send_to: Callable[[Iterable[str], out.ServerMessage], Awaitable[None]],
                 catalog: Callable[[], Awaitable[Catalog]]) -> None:
        self.store = store
        self.ticket = ticket
        self.send_to = send_to
        self.catalog = catalog

    def register(self, register: Callable[[tuple[str, ...], str, Handler], None]) -> None:
        """Install the handlers into the signaling service."""
        register((CASEWORKER,), "form_send", self.on_form_send)
        register((KIOSK,), "form_reply", self.on_form_reply)

    async def _live(self, connection: Connection, call_id: str) -> TicketStatus:
        live = await self.ticket(call_id)
        principal = connection.principal
        member = live is not None and live.state == "in_call" and (
            (principal.role == KIOSK and live.kiosk_id == str(principal.kiosk_id))
            or (principal.role == CASEWORKER and live.caseworker_id == str(principal.user_id)))
        if live is None or not member:
            raise _refuse("not_in_call")
        return live

    async def on_form_send(self, connection: Connection, message: m.FormSend) -> None:
        """Caseworker: check, store as the next version, show it on the kiosk."""
        live = await self._live(connection, message.call_id)
        matter = (await self.catalog()).by_id(live.matter_id)
        fields = matter_form(matter).fields if matter else []
        if not fields:
            raise _refuse("no_form")
        latest = await self.store.latest(live.id)
        if latest is not None and latest.state == SIGNED:
            raise _refuse("form_signed")  # the signature binds the signed version: no later one
        filled = check_form(fields, message.values)
        user_id = connection.principal.user_id
        version = await self.store.add(live.id, int(user_id or 0), filled)
        if version is None:
            raise _refuse("form_busy")
        materials = await self.store.captured(live.id)
        await self.send_to([kiosk_address(live.kiosk_id)],
                           out.form(live.id, version, shown_to_resident(filled), materials))
        await self.send_to([caseworker_address(str(live.caseworker_id))], out.form_status(live.id, version, SENT))

    async def on_form_reply(self, connection: Connection, message: m.FormReply) -> None:
        """Kiosk: the answer to the version on screen (only the last one sent, only once)."""
        live = await self._live(connection, message.call_id)
        latest = await self.store.latest(live.id)
        if latest is None or latest.version != message.version:
            raise _refuse("form_version_unknown")
        if not await self.store.reply(live.id, message.version, message.choice):
            answered = await self.store.latest(live.id)
            kept = answered.state if answered is not None and answered.version == message.version else None
            if kept == message.choice or (kept == SIGNED and message.choice == "confirmed"):
                # The same answer again: the kiosk's first try reached us after it gave up waiting
                # (a network blip) and the resident tapped once more. It stands; say so.
                return
            # The answer that stands goes with the refusal, so the kiosk follows it (on to the
            # signature, or back to the call while the caseworker revises the form) instead of
            # staying on a form that can no longer be answered.
            raise _refuse("form_already_answered", kept)
        await self.send_to([caseworker_address(str(live.caseworker_id))],
                           out.form_status(live.id, message.version, message.choice))
