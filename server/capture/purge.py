"""Retention: delete captured images older than `JINGLIN_CAPTURE_RETENTION_DAYS`.

The files go; the `captures` row stays with `purged_at` set (what was captured, when, for which
session), and so does the session record: reports and the audit trail keep working. One audit
entry per run says how many were purged. Safe to run from several processes at once: a row is
only counted by the transaction that sets its purged_at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
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


async def purge_expired(sessions: async_sessionmaker[AsyncSession], data_dir: Path, retention_days: int,
                        now: datetime, *, dry_run: bool = False) -> PurgeReport:
    """Delete the image files of captures created before now - retention_days; mark their rows."""
    report = PurgeReport(cutoff=now - timedelta(days=retention_days), dry_run=dry_run)
    while True:
        async with sessions() as session, session.begin():
            rows = (await session.execute(
                select(Capture.id, Capture.storage_name)
                .where(Capture.purged_at.is_(None), Capture.created_at < report.cutoff)
                .order_by(Capture.created_at).limit(BATCH).offset(report.captures if dry_run else 0)
            )).all()
            if not rows:
                break
            for capture_id, storage_name in rows:
                if not dry_run:
                    # Only the run whose update hits the row deletes its files and counts it.
                    marked = await session.execute(update(Capture).where(
                        Capture.id == capture_id, Capture.purged_at.is_(None)).values(purged_at=now))
                    if getattr(marked, "rowcount", 0) != 1:
                        continue
                    report.files_removed += delete_files(data_dir, storage_name)
                report.captures += 1
                report.capture_ids.append(capture_id)
        if len(rows) < BATCH:
            break
    if report.captures and not dry_run:
        async with sessions() as session, session.begin():
            session.add(AuditLog(at=now, actor="system", action="captures_purged", object_type="capture",
                                 object_id="", data={"count": report.captures, "files": report.files_removed,
                                                     "cutoff": report.cutoff.isoformat()}))
    return report
