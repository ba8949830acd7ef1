"""The acceptance's part of `end_call`: the server issues the case number at 受理, and the receipt is
kept when the call ends with 受理 or 材料不全."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from matters_catalog.loader import Catalog
from server.acceptance import texts
from server.acceptance.receipts import RECEIPT_OUTCOMES, ReceiptStore
from server.db.models import Receipt
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
        """A typed number only when JINGLIN_CASE_NUMBER_TYPED allows it and no receipt carries it yet;
        otherwise the server issues one for 受理."""
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

    async def ended(self, connection: Connection, message: m.EndCall) -> None:
        """Keep the receipt of 受理 and 材料不全."""
        if message.outcome in RECEIPT_OUTCOMES:
            await self.receipts.record(message.ticket_id, message.outcome, message.case_number.strip() or None,
                                       message.missing, await self.catalog())
