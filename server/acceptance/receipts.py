"""The 受理回执: the only writer of `receipts` and `case_counters`.

At 受理 the server issues the case number (unless a typed one is allowed and given); when the call
ends with 受理 or 材料不全 the receipt is kept with the session: matter, centre and its phone, the
promised processing, the case number or the missing materials with what each must show (一次性告知).
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from matters_catalog.loader import Catalog
from matters_catalog.schema import Matter as CatalogMatter
from server.acceptance import texts
from server.acceptance.case_numbers import district_day, format_case_number, next_sequence
from server.db.models import Centre, Matter, Receipt, ServiceSession
from server.db.types import utcnow

RECEIPT_OUTCOMES = ("accepted", "incomplete")


class MissingMaterial(BaseModel):
    """One material still missing, and what it must show when brought (一次性告知)."""

    name: str
    must_show: str


class ReceiptView(BaseModel):
    """The receipt as the kiosk shows it and the PDF prints it (`GET /api/v1/sessions/{id}/receipt`)."""

    session_id: str
    outcome: str
    case_number: str | None
    matter_name: str
    centre_name: str
    centre_phone: str
    promise: str
    missing: list[MissingMaterial]
    issued_at: str
    qr_text: str
    """What the QR code holds: the case number (受理), else the session id (for enquiries)."""


def receipt_view(row: Receipt) -> ReceiptView:
    """The stored receipt as clients see it."""
    return ReceiptView(session_id=row.session_id, outcome=row.outcome, case_number=row.case_number,
                       matter_name=row.matter_name, centre_name=row.centre_name, centre_phone=row.centre_phone,
                       promise=row.promise, missing=[MissingMaterial(**item) for item in row.missing],
                       issued_at=row.created_at.isoformat().replace("+00:00", "Z"),
                       qr_text=row.case_number or row.session_id)


def must_show(document_type: str) -> str:
    """What a material of this document type must show to be accepted."""
    return texts.MUST_SHOW.get(document_type, texts.MUST_SHOW["other"])


class ReceiptStore:
    """Issues case numbers and keeps receipts."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], case_number_format: str) -> None:
        self._sessions = sessions
        self._format = case_number_format

    async def issue_case_number(self, centre_id: int) -> str:
        """The next case number of the centre for today (district time)."""
        day = district_day(utcnow())
        async with self._sessions() as session, session.begin():
            seq = await next_sequence(session, centre_id, day)
        return format_case_number(self._format, centre_id, day, seq)

    async def record(self, session_id: str, outcome: str, case_number: str | None, missing: list[str],
                     catalog: Catalog) -> None:
        """Keep the receipt of a session that ended with 受理 or 材料不全 (written once)."""
        async with self._sessions() as session, session.begin():
            row = await session.get(ServiceSession, session_id)
            if row is None or await session.get(Receipt, session_id) is not None:
                return
            centre = await session.get(Centre, row.centre_id) if row.centre_id is not None else None
            matter = catalog.by_id(row.matter_id)
            # A matter retired since the call keeps its name and promise in the database.
            stored: Matter | CatalogMatter | None = matter or await session.get(Matter, row.matter_id)
            types = {m.name: str(m.document_type) for m in (matter.materials if matter else [])}
            session.add(Receipt(
                session_id=session_id, outcome=outcome, case_number=case_number if outcome == "accepted" else None,
                matter_name=stored.name if stored else row.matter_id,
                centre_name=centre.name if centre else "", centre_phone=centre.phone if centre else "",
                promise=texts.PROMISE_ON_THE_SPOT if stored and stored.on_the_spot else texts.PROMISE_LATER,
                missing=[{"name": name, "must_show": must_show(types.get(name, "other"))}
                         for name in (missing if outcome == "incomplete" else [])],
                created_at=utcnow()))

    async def get(self, session_id: str) -> ReceiptView | None:
        """The session's receipt, or None."""
        async with self._sessions() as session:
            row = await session.get(Receipt, session_id)
        return receipt_view(row) if row else None
