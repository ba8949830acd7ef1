"""`jinglin purge` also purges call recordings past `JINGLIN_RECORDING_RETENTION_DAYS`, and
`jinglin rotate-key` re-encrypts their chunks with the captures.

The command belongs to capture (server/capture/cli.py); this module, registered after it, adds
the recording purge as one of its steps, run after the capture purge and printed after it. `--json` gains a `recordings`
object (see docs/recording.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from server.capture.cli import PURGE_STEPS, PurgeStep, with_database
from server.capture.rotate import ROTATIONS, RotationReport, rotate_each
from server.db.types import utcnow
from server.recording.purge import RecordingPurgeReport, purge_recordings
from server.recording.storage import ChunkError, ChunkStore, chunk_files
from server.settings import Settings


def rotate_recording_key(data_dir: Path, old_secret: str, new_secret: str) -> RotationReport:
    """Re-encrypt every recording chunk from `old_secret` to `new_secret` (idempotent, like captures)."""
    old, new = ChunkStore(data_dir, old_secret), ChunkStore(data_dir, new_secret)
    return rotate_each(chunk_files(data_dir), lambda key: old.read(*key), lambda key: new.read(*key),
                       lambda key, plaintext: new.write(*key, plaintext), ChunkError)


async def purge(settings: Settings, dry_run: bool) -> RecordingPurgeReport:
    """One recording purge run against the configured database and data dir."""
    return await with_database(settings, lambda sessions: purge_recordings(
        sessions, settings.data_dir, settings.recording_retention_days, utcnow(), dry_run=dry_run))


def describe(report: RecordingPurgeReport, verb: str) -> str:
    """The recording line of `jinglin purge`'s text output."""
    return (f"{verb} {report.recordings} recordings ({report.files_removed} files) started before "
            f"{report.cutoff:%Y-%m-%d %H:%M} UTC; {report.kept_for_followup} kept for open follow-ups")


RECORDING_PURGE = PurgeStep("recordings", purge, describe)


def register(subparsers: Any) -> None:
    """Extend the already registered `purge` command with the recording purge, and `rotate-key`
    with the recording chunks."""
    if rotate_recording_key not in ROTATIONS:
        ROTATIONS.append(rotate_recording_key)
    if RECORDING_PURGE not in PURGE_STEPS:
        PURGE_STEPS.append(RECORDING_PURGE)
    parser = subparsers.choices["purge"]
    parser.description = (f"{parser.description} Call recordings older than JINGLIN_RECORDING_RETENTION_DAYS "
                          "are purged too, except those of sessions with an open follow-up.")
