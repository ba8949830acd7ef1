"""The audit log: one writer for administration actions, a filtered reader and the CSV export.

Entries carry ids, never names, phone numbers or passwords: the log itself must hold no personal
data beyond who (by id) did what.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from matters_catalog.cells import guard_formula
from server.admin.schemas import AuditEntryOut
from server.db.models import AuditLog

MAX_ROWS = 5000
CSV_COLUMNS = ("id", "at", "actor", "action", "object_type", "object_id", "data")


def record(session: AsyncSession, actor: str, action: str, object_type: str = "", object_id: object = "",
           **data: Any) -> None:
    """Add one audit entry to the caller's transaction."""
    session.add(AuditLog(actor=actor[:60], action=action[:40], object_type=object_type[:30],
                         object_id=str(object_id)[:40], data=data))


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to read; every field narrows, None means any."""

    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 200


def _query(where: AuditFilter) -> Select[AuditLog]:
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(min(max(where.limit, 1), MAX_ROWS))
    if where.actor:
        query = query.where(AuditLog.actor == where.actor)
    if where.action:
        query = query.where(AuditLog.action == where.action)
    if where.object_type:
        query = query.where(AuditLog.object_type == where.object_type)
    if where.since is not None:
        query = query.where(AuditLog.at >= where.since)
    if where.until is not None:
        query = query.where(AuditLog.at < where.until)
    return query


async def read_entries(session: AsyncSession, where: AuditFilter) -> list[AuditEntryOut]:
    """The newest entries matching the filter, newest first."""
    rows = (await session.scalars(_query(where))).all()
    return [AuditEntryOut(id=row.id, at=row.at.isoformat(), actor=row.actor, action=row.action,
                          object_type=row.object_type, object_id=row.object_id, data=row.data or {})
            for row in rows]


def entries_csv(entries: Sequence[AuditEntryOut]) -> str:
    """The entries as CSV (UTF-8 with BOM so spreadsheet programs open the Chinese right)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        # An object id may be a username, which may start with "-": kept as text (guard_formula).
        writer.writerow([entry.id, entry.at, entry.actor, entry.action, entry.object_type,
                         guard_formula(str(entry.object_id or "")),
                         json.dumps(entry.data, ensure_ascii=False, sort_keys=True)])
    return out.getvalue()
