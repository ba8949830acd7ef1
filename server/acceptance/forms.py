"""The form_versions table: the one writer of `form_versions`, and what the session detail reads of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.acceptance.form_check import Filled, shown_to_resident
from server.db.models import Capture, FormVersion
from server.db.types import utcnow
from server.protocol.messages import FormLastView

SENT = "sent"
CONFIRMED = "confirmed"
SIGNED = "signed"  # set by the signature (signatures.py)
REPLIES = ("confirmed", "change_requested")


def _iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at else None


class FormStore:
    """Keeps every version sent and the resident's one answer to each."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(self, session_id: str, caseworker_id: int, filled: Filled) -> int | None:
        """Store the next version; its number, or None when another send took the same number first."""
        try:
            async with self._sessions() as session, session.begin():
                last = await session.scalar(select(func.max(FormVersion.version))
                                            .where(FormVersion.session_id == session_id))
                version = (last or 0) + 1
                session.add(FormVersion(session_id=session_id, version=version, fields=filled, sent_by=caseworker_id,
                                        sent_at=utcnow(), state=SENT))
        except IntegrityError:
            return None  # two sends at once: the unique (session, version) lets one win
        return version

    async def latest(self, session_id: str) -> FormVersion | None:
        """The last version sent in a session, or None."""
        async with self._sessions() as session:
            return await session.scalar(select(FormVersion).where(FormVersion.session_id == session_id)
                                        .order_by(FormVersion.version.desc()).limit(1))

    async def reply(self, session_id: str, version: int, choice: str) -> bool:
        """Record the answer to a version still waiting for one; False when it was answered already."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(FormVersion).where(FormVersion.session_id == session_id, FormVersion.version == version,
                                          FormVersion.state == SENT).values(state=choice, replied_at=utcnow()))
        return bool(getattr(result, "rowcount", 0))

    async def captured(self, session_id: str) -> list[str]:
        """Names of the materials captured and accepted in the session, in capture order."""
        async with self._sessions() as session:
            names = await session.scalars(select(Capture.material_name).where(
                Capture.session_id == session_id, Capture.state == "accepted").order_by(Capture.created_at))
        return list(dict.fromkeys(names))

    async def detail(self, session_id: str) -> dict[str, Any] | None:
        """The session detail's `form`: the last version (ID numbers masked), its state, when confirmed."""
        row = await self.latest(session_id)
        if row is None:
            return None
        confirmed_at = _iso(row.replied_at) if row.state in ("confirmed", "signed") else None
        return {"version": row.version, "fields": shown_to_resident(row.fields), "state": row.state,
                "sent_at": _iso(row.sent_at), "confirmed_at": confirmed_at}

    async def last_view(self, session_id: str, caseworker: bool) -> FormLastView | None:
        """The call view's `form_last`: for the caseworker always; for the kiosk while it awaits an answer
        (`sent`) or, once confirmed, the resident's signature (`confirmed`: the kiosk shows the signing area)."""
        row = await self.latest(session_id)
        if row is None or (not caseworker and row.state not in (SENT, CONFIRMED)):
            return None
        fields = row.fields if caseworker else shown_to_resident(row.fields)
        materials = [] if caseworker else await self.captured(session_id)
        return FormLastView.model_validate({"version": row.version, "state": row.state, "materials": materials,
                                            "fields": [{k: f[k] for k in ("key", "label", "type", "value")}
                                                       for f in fields]})
