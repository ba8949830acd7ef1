"""The consent's part of the kiosk's `join`, of the call view and of the capture gate."""

from __future__ import annotations

from server.acceptance import texts
from server.acceptance.consents import ConsentStore
from server.acceptance.notices import notice_book
from server.protocol import messages as m
from server.signaling.connection import Connection
from server.signaling.handlers import SignalingError


class ConsentStep:
    """Checks the notice version a `join` answers and keeps the answer with the new ticket."""

    def __init__(self, store: ConsentStore) -> None:
        self.store = store

    async def check(self, connection: Connection, message: m.Join) -> None:
        """Refuse an answer to a notice version that was never published (nothing is queued)."""
        if message.consent is not None and message.consent.version not in notice_book().versions:
            raise SignalingError("unknown_notice", texts.SIGNAL_ERRORS["unknown_notice"])

    async def joined(self, connection: Connection, message: m.Join, session_id: str) -> None:
        """Store the answer with the ticket (a join without one comes from a client that shows no notice)."""
        kiosk_id = connection.principal.kiosk_id
        if message.consent is not None and kiosk_id is not None:
            await self.store.record(session_id, kiosk_id, message.consent.version, message.consent.choice)

    async def capture_refusal(self, session_id: str) -> tuple[str, str] | None:
        """Why nothing may be captured in this session (declined consent), or None."""
        if await self.store.declined(session_id):
            return "consent_declined", texts.SIGNAL_ERRORS["consent_declined"]
        return None
