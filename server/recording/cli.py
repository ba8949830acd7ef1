"""`jinglin purge` also purges call recordings past `JINGLIN_RECORDING_RETENTION_DAYS`, and
`jinglin rotate-key` re-encrypts their chunks with the captures.

The command belongs to capture (server/capture/cli.py); this module, registered after it, runs
the capture purge and then the recording purge, and prints both. `--json` gains a `recordings`
object (see docs/recording.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from server.capture.cli import purge as purge_captures
from server.capture.rotate import ROTATIONS, RotationReport
from server.db.engine import make_engine, make_session_factory
from server.db.types import utcnow
from server.recording.purge import RecordingPurgeReport, purge_recordings
from server.recording.storage import ChunkError, ChunkStore, chunk_files
from server.settings import Settings, SettingsError, load_settings


def rotate_recording_key(data_dir: Path, old_secret: str, new_secret: str) -> RotationReport:
    """Re-encrypt every recording chunk from `old_secret` to `new_secret` (idempotent, like captures)."""
    old, new = ChunkStore(data_dir, old_secret), ChunkStore(data_dir, new_secret)
    report = RotationReport()
    for name, index in chunk_files(data_dir):
        try:
            new.read(name, index)
            report.already += 1
            continue
        except ChunkError:
            pass
        try:
            plaintext = old.read(name, index)
        except ChunkError:
            report.unreadable += 1
            continue
        new.write(name, index, plaintext)
        report.rotated += 1
    return report


def register(subparsers: Any) -> None:
    """Extend the already registered `purge` command with the recording purge, and `rotate-key`
    with the recording chunks."""
    if rotate_recording_key not in ROTATIONS:
        ROTATIONS.append(rotate_recording_key)
    parser = subparsers.choices["purge"]
    parser.description = (f"{parser.description} Call recordings older than JINGLIN_RECORDING_RETENTION_DAYS "
                          "are purged too, except those of sessions with an open follow-up.")
    parser.set_defaults(handler=run)


async def purge(settings: Settings, dry_run: bool) -> RecordingPurgeReport:
    """One recording purge run against the configured database and data dir."""
    engine = make_engine(settings.resolved_database_url)
    try:
        return await purge_recordings(make_session_factory(engine), settings.data_dir,
                                      settings.recording_retention_days, utcnow(), dry_run=dry_run)
    finally:
        await engine.dispose()


def run(args: argparse.Namespace) -> int:
    """Purge captures, then recordings, and print what was done."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        captures = asyncio.run(purge_captures(settings, args.dry_run))
        recordings = asyncio.run(purge(settings, args.dry_run))
    except (SQLAlchemyError, OSError) as exc:
        print(f"jinglin purge: database unavailable ({type(exc).__name__})", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({**captures.as_json(), "recordings": recordings.as_json()}))
        return 0
    verb = "would purge" if args.dry_run else "purged"
    print(f"{verb} {captures.captures} captures ({captures.files_removed} files) created before "
          f"{captures.cutoff:%Y-%m-%d %H:%M} UTC")
    print(f"{verb} {recordings.recordings} recordings ({recordings.files_removed} files) started before "
          f"{recordings.cutoff:%Y-%m-%d %H:%M} UTC; {recordings.kept_for_followup} kept for open follow-ups")
    return 0
