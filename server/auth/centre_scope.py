"""A centre supervisor's reach: the sessions of their own centre.

A supervisor account with a centre sees the sessions that centre answered, and the sessions of its
street that no centre has answered yet (waiting, or given up before an answer): the same rule as
the `centre` filter of the session lists (server/reports/queries.py). A supervisor without a
centre, and an admin, see the whole district.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.db.models import Centre
from server.http.errors import ApiError

OTHER_CENTRE_MESSAGE = "只能查看本中心的数据"


async def outside_own_centre(db: AsyncSession, principal: Principal, centre_id: int | None,
                             street_id: int | None) -> bool:
    """Whether principal is a centre supervisor and a session answered by centre_id (None: not
    answered) on street_id lies outside their centre."""
    if principal.role != "supervisor" or principal.centre_id is None:
        return False
    if centre_id is not None:
        return centre_id != principal.centre_id
    home = await db.scalar(select(Centre.street_id).where(Centre.id == principal.centre_id))
    return street_id is None or street_id != home


async def require_own_centre(db: AsyncSession, principal: Principal, centre_id: int | None,
                             street_id: int | None) -> None:
    """403 other_centre when outside_own_centre."""
    if await outside_own_centre(db, principal, centre_id, street_id):
        raise ApiError(403, "other_centre", OTHER_CENTRE_MESSAGE)
