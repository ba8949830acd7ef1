"""The consents table: the one writer of `consents`, and what the other features read of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Consent
from server.db.types import utcnow
from server.protocol.messages import ConsentView

ACCEPTED = "accepted"
DECLINED = "declined"


def consent_view(row: Consent) -> ConsentView:
    """The consent as clients see it (console `call.consent`, session detail `consent`)."""
    return ConsentView.model_validate({"version": row.version, "choice": row.choice, "at": _iso(row.at)})


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


class ConsentStore:
    """Records the answer given before queueing and reads it back."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(self, session_id: str, kiosk_id: int, version: str, choice: str) -> None:
        """Store the answer for a new ticket. A repeated `join` of the same ticket keeps the first answer:
        the resident was queued under it."""
        try:
            async with self._sessions() as session, session.begin():
                if await session.get(Consent, session_id) is None:
                    session.add(Consent(session_id=session_id, kiosk_id=kiosk_id, version=version, choice=choice,
                                        at=utcnow()))
        except IntegrityError:
            pass  # the same join raced in from another tab: the first answer stands

    async def get(self, session_id: str) -> ConsentView | None:
        """The session's consent, or None when the kiosk did not ask (an older client)."""
        async with self._sessions() as session:
            row = await session.get(Consent, session_id)
        return consent_view(row) if row else None

    async def declined(self, session_id: str) -> bool:
        """True when the resident declined: nothing may be captured in this session."""
        view = await self.get(session_id)
        return view is not None and view.choice == DECLINED
