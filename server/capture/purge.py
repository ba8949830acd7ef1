"""Retention: delete captured images older than `JINGLIN_CAPTURE_RETENTION_DAYS`.

The files go; the `captures` row stays with `purged_at` set (what was captured, when, for which
session), and so does the session record: reports and the audit trail keep working. One audit
entry per run says how many were purged. Safe to run from several processes at once: a row is
only counted by the transaction that sets its purged_at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.capture.storage import delete_files
from server.db.models import AuditLog, Capture

BATCH = 500


@dataclass
class PurgeReport:
    """What a purge run did (or, with dry_run, would do)."""

    cutoff: datetime
    captures: int = 0
    files_removed: int = 0
    dry_run: bool = False
    capture_ids: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """The `jinglin purge --json` output."""
        return {"cutoff": self.cutoff.isoformat(), "captures": self.captures, "files_removed": self.files_removed,
                "dry_run": self.dry_run}


async def mark_purged(sessions: async_sessionmaker[AsyncSession], model: Any, key: Any, expired: Any,
                      oldest_first: Any, now: datetime, delete: Callable[[str], int], *, dry_run: bool,
                      batch: int = BATCH) -> tuple[list[str], int]:
    """Set `purged_at` on the rows of `model` matching `expired`, in `oldest_first` order by batches, and
    delete each one's files with `delete(storage_name)`; returns the keys purged and the files
    removed. Only the run whose update hits the row deletes its files and counts it, so several
    processes may purge at once. With dry_run nothing is changed and the due rows are counted.
    Shared by the capture and recording purges."""
    keys: list[str] = []
    files = 0
    while True:
        async with sessions() as session, session.begin():
            rows = (await session.execute(
                select(key, model.storage_name).where(expired)
                .order_by(oldest_first)
                .limit(batch).offset(len(keys) if dry_run else 0)
            )).all()
            for row_key, storage_name in rows:
                if not dry_run:
                    marked = await session.execute(update(model).where(
                        key == row_key, model.purged_at.is_(None)).values(purged_at=now))
                    if getattr(marked, "rowcount", 0) != 1:
                        continue
                    files += delete(storage_name)
                keys.append(row_key)
        if len(rows) < batch:
            return keys, files


async def purge_expired(sessions: async_sessionmaker[AsyncSession], data_dir: Path, retention_days: int,
                        now: datetime, *, dry_run: bool = False) -> PurgeReport:
    """Delete the image files of captures created before now - retention_days; mark their rows."""
    report = PurgeReport(cutoff=now - timedelta(days=retention_days), dry_run=dry_run)
    expired = and_(Capture.purged_at.is_(None), Capture.created_at < report.cutoff)
    report.capture_ids, report.files_removed = await mark_purged(
        sessions, Capture, Capture.id, expired, Capture.created_at, now,
        lambda name: delete_files(data_dir, name), dry_run=dry_run)
    report.captures = len(report.capture_ids)
    if report.captures and not dry_run:
        async with sessions() as session, session.begin():
            session.add(AuditLog(at=now, actor="system", action="captures_purged", object_type="capture",
                                 object_id="", data={"count": report.captures, "files": report.files_removed,
                                                     "cutoff": report.cutoff.isoformat()}))
    return report
