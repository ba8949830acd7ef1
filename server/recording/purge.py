"""Retention: delete recordings older than `JINGLIN_RECORDING_RETENTION_DAYS`.

A recording whose session has a follow-up (回访 of a bad rating, a complaint) that is not
resolved is kept until the follow-up is resolved: the recording is what the complaint is checked
against. The chunk files go; the `recordings` row stays with `purged_at` set. One audit entry per
run. Safe to run from several processes: a row is only counted by the transaction that marks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Exists, and_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.capture.purge import mark_purged
from server.db.models import AuditLog, FollowUp, Recording
from server.recording.storage import delete_recording

BATCH = 200
OPEN_FOLLOWUP_STATES = ("open", "contacted")


@dataclass
class RecordingPurgeReport:
    """What a purge run did (or, with dry_run, would do)."""

    cutoff: datetime
    recordings: int = 0
    files_removed: int = 0
    kept_for_followup: int = 0
    dry_run: bool = False
    session_ids: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """The `recordings` part of `jinglin purge --json`."""
        return {"cutoff": self.cutoff.isoformat(), "recordings": self.recordings,
                "files_removed": self.files_removed, "kept_for_followup": self.kept_for_followup,
                "dry_run": self.dry_run}


def _open_followup() -> Exists:
    return select(FollowUp.id).where(FollowUp.session_id == Recording.session_id,
                                     FollowUp.state.in_(OPEN_FOLLOWUP_STATES)).exists()


async def purge_recordings(sessions: async_sessionmaker[AsyncSession], data_dir: Path, retention_days: int,
                           now: datetime, *, dry_run: bool = False) -> RecordingPurgeReport:
    """Delete the chunk files of recordings started before now - retention_days; mark their rows."""
    report = RecordingPurgeReport(cutoff=now - timedelta(days=retention_days), dry_run=dry_run)
    expired = and_(Recording.purged_at.is_(None), Recording.started_at < report.cutoff)
    async with sessions() as session:
        report.kept_for_followup = len((await session.scalars(
            select(Recording.session_id).where(expired, _open_followup()))).all())
    report.session_ids, report.files_removed = await mark_purged(
        sessions, Recording, Recording.session_id, and_(expired, ~_open_followup()), Recording.started_at, now,
        lambda name: delete_recording(data_dir, name), dry_run=dry_run, batch=BATCH)
    report.recordings = len(report.session_ids)
    if report.recordings and not dry_run:
        async with sessions() as session, session.begin():
            session.add(AuditLog(at=now, actor="system", action="recordings_purged", object_type="recording",
                                 object_id="", data={"count": report.recordings, "files": report.files_removed,
                                                     "kept_for_followup": report.kept_for_followup,
                                                     "cutoff": report.cutoff.isoformat()}))
    return report
