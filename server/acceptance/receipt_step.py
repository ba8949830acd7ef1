"""The acceptance's part of `end_call`: the server issues the case number at 受理, and the receipt is
kept when the call ends with 受理 or 材料不全."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from matters_catalog.loader import Catalog
from server.acceptance import texts
from server.acceptance.receipts import RECEIPT_OUTCOMES, ReceiptStore
from server.db.models import Receipt, ServiceSession
from server.protocol import messages as m
from server.signaling.connection import Connection
from server.signaling.handlers import SignalingError


def _refuse(code: str) -> SignalingError:
    return SignalingError(code, texts.END_ERRORS[code])


class ReceiptStep:
    """Issues the case number before the outcome is recorded; keeps the receipt after."""

    def __init__(self, receipts: ReceiptStore, sessions: async_sessionmaker[AsyncSession], typed_allowed: bool,
                 catalog: Callable[[], Awaitable[Catalog]]) -> None:
        self.receipts = receipts
        self.sessions = sessions
        self.typed_allowed = typed_allowed
        self.catalog = catalog

    async def before_end(self, connection: Connection, message: m.EndCall) -> m.EndCall:
        """材料不全 names at least one material, each of the matter's checklist (the receipt lists
        them); a typed number only when JINGLIN_CASE_NUMBER_TYPED allows it and no receipt carries
        it yet; otherwise the server issues one for 受理."""
        if message.outcome == "incomplete":
            message = await self._checked_missing(message)
        typed = message.case_number.strip()
        if typed:
            if not self.typed_allowed:
                raise _refuse("case_number_typed")
            async with self.sessions() as session:
                if await session.scalar(select(Receipt.session_id).where(Receipt.case_number == typed)):
                    raise SignalingError("case_number_taken", texts.END_ERRORS["case_number_taken"])
            return message
        if message.outcome != "accepted":
            return message
        centre_id = connection.principal.centre_id
        if centre_id is None:
            raise _refuse("no_centre")
        return message.model_copy(update={"case_number": await self.receipts.issue_case_number(centre_id)})

    async def _checked_missing(self, message: m.EndCall) -> m.EndCall:
        """message with its `missing` names trimmed and each once, or missing_required /
        unknown_material when it names none or one the session's matter does not ask for."""
        names = list(dict.fromkeys(name.strip() for name in message.missing if name.strip()))
        if not names:
            raise _refuse("missing_required")
        async with self.sessions() as session:
            matter_id = await session.scalar(select(ServiceSession.matter_id)
                                             .where(ServiceSession.id == message.ticket_id))
        matter = (await self.catalog()).by_id(matter_id) if matter_id is not None else None
        # A matter retired since the call was answered has no checklist left to check against.
        if matter is not None and not set(names) <= {material.name for material in matter.materials}:
            raise _refuse("unknown_material")
        return message.model_copy(update={"missing": names})

    async def ended(self, connection: Connection, message: m.EndCall) -> None:
        """Keep the receipt of 受理 and 材料不全."""
        if message.outcome in RECEIPT_OUTCOMES:
            await self.receipts.record(message.ticket_id, message.outcome, message.case_number.strip() or None,
                                       message.missing, await self.catalog())
