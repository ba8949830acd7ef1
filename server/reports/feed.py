"""The session event feed: every recorded ticket transition in id order, resumable by cursor.

The cursor is the last event id a reader has seen. Ids are allocated when a row is inserted but
become visible when its transaction commits, so on PostgreSQL two concurrent writers can make id
12 visible after id 13; a reader that had already moved past 13 would never see 12. The feed
therefore holds back events younger than `SETTLE_S`: writers commit within milliseconds, so after
that the order of visibility is the order of ids.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import SessionEvent
from server.runtime.district_time import iso_local

SETTLE_S = 2.0
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


async def events_after(db: AsyncSession, after: int, limit: int, now: datetime) -> tuple[list[dict[str, Any]], int]:
    """Up to `limit` events with id > `after`, and the cursor to pass next time."""
    settled = now - timedelta(seconds=SETTLE_S)
    fetched = (await db.scalars(select(SessionEvent).where(SessionEvent.id > after)
                                .order_by(SessionEvent.id).limit(limit))).all()
    # Stop at the first unsettled event (not skip it): everything after it waits for the next call.
    rows = []
    for event in fetched:
        if event.at > settled:
            break
        rows.append(event)
    events = [{"id": e.id, "session_id": e.session_id, "at": iso_local(e.at), "kind": e.kind,
               "from_state": e.from_state, "to_state": e.to_state, "actor": e.actor, "data": e.data} for e in rows]
    return events, rows[-1].id if rows else after
