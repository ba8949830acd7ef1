"""`jinglin purge [--dry-run] [--json]`: delete captured images past the retention period.

Exit status 0 on success (also when nothing was due), 1 when the database is unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from server.capture.purge import PurgeReport, purge_expired
from server.db.engine import make_engine, make_session_factory
from server.db.types import utcnow
from server.settings import Settings, SettingsError, load_settings


def register(subparsers: Any) -> None:
    """Add the `purge` command to an argparse subparsers object (handler in set_defaults)."""
    parser = subparsers.add_parser(
        "purge", help="delete captured images past the retention period",
        description="Delete the image files of captures older than JINGLIN_CAPTURE_RETENTION_DAYS; "
        "their records and sessions stay, marked purged. The server also runs this daily.")
    parser.add_argument("--dry-run", action="store_true", help="only count what would be purged")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.set_defaults(handler=run)


async def purge(settings: Settings, dry_run: bool) -> PurgeReport:
    """One purge run against the configured database and data dir."""
    engine = make_engine(settings.resolved_database_url)
    try:
        return await purge_expired(make_session_factory(engine), settings.data_dir,
                                   settings.capture_retention_days, utcnow(), dry_run=dry_run)
    finally:
        await engine.dispose()


def run(args: argparse.Namespace) -> int:
    """Run the purge and print what it did."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        report = asyncio.run(purge(settings, args.dry_run))
    except (SQLAlchemyError, OSError) as exc:
        print(f"jinglin purge: database unavailable ({type(exc).__name__})", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.as_json()))
    else:
        verb = "would purge" if report.dry_run else "purged"
        print(f"{verb} {report.captures} captures ({report.files_removed} files) created before "
              f"{report.cutoff:%Y-%m-%d %H:%M} UTC")
    return 0
