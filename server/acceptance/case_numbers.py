"""Server-issued 受理编号: one counter row per centre and district day, bumped by one atomic upsert.

`INSERT … ON CONFLICT DO UPDATE SET seq = seq + 1 … RETURNING seq` is a single statement on both
SQLite (3.35+) and PostgreSQL, so two processes accepting at the same moment never read the same
sequence; the unique constraint on `receipts.case_number` stands behind it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import CaseCounter
from server.runtime.district_time import local_date


def district_day(moment: datetime) -> str:
    """The district's calendar day of a moment, as YYYYMMDD."""
    return local_date(moment).strftime("%Y%m%d")


async def next_sequence(session: AsyncSession, centre_id: int, day: str) -> int:
    """Bump and return the centre's sequence for the day (1 for its first 受理). Call inside a transaction."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(CaseCounter).values(centre_id=centre_id, day=day, seq=1)
    statement = statement.on_conflict_do_update(index_elements=[CaseCounter.centre_id, CaseCounter.day],
                                                set_={"seq": CaseCounter.seq + 1})
    return int((await session.execute(statement.returning(CaseCounter.seq))).scalar_one())


def format_case_number(template: str, centre_id: int, day: str, seq: int) -> str:
    """The case number from JINGLIN_CASE_NUMBER_FORMAT (checked at start-up: see settings)."""
    return template.format(centre=centre_id, date=day, seq=seq)
