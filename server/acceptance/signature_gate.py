"""The signature's part of `end_call`: 受理 is refused while the matter's form requires a signature
(`signature_required` of forms.yaml or of the matter's own form level in the catalog) and the session
has none. Installed before the case number step, so a refused 受理 burns no number."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from matters_catalog.forms import FormBook, matter_form
from matters_catalog.loader import Catalog
from server.acceptance import texts
from server.acceptance.signatures import SignatureStore
from server.db.models import ServiceSession
from server.protocol import messages as m
from server.signaling.connection import Connection
from server.signaling.handlers import SignalingError


class SignatureGate:
    """Refuses 受理 without the required signature; does nothing after the call ended."""

    def __init__(self, signatures: SignatureStore, sessions: async_sessionmaker[AsyncSession],
                 catalog: Callable[[], Awaitable[Catalog]], forms: Callable[[], FormBook]) -> None:
        self.signatures = signatures
        self.sessions = sessions
        self.catalog = catalog
        self.forms = forms

    async def before_end(self, connection: Connection, message: m.EndCall) -> m.EndCall:
        """Let everything but 受理 through; 受理 only when no signature is required or one is stored."""
        if message.outcome != "accepted":
            return message
        async with self.sessions() as session:
            row = await session.get(ServiceSession, message.ticket_id)
        matter = (await self.catalog()).by_id(row.matter_id) if row else None
        if matter is None or not matter_form(matter, self.forms()).signature_required:
            return message
        if await self.signatures.get(message.ticket_id) is None:
            raise SignalingError("signature_required", texts.END_ERRORS["signature_required"])
        return message

    async def ended(self, connection: Connection, message: m.EndCall) -> None:
        """Nothing to do once the call has ended."""

