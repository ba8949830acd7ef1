"""`jinglin purge [--dry-run] [--json]`: delete captured images past the retention period.

Exit status 0 on success (also when nothing was due), 1 when the database is unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.capture.health import HISTORY_DAYS, delete_old_samples
from server.capture.purge import PurgeReport, purge_expired
from server.db.engine import make_engine, make_session_factory
from server.db.failure import database_failure
from server.db.types import utcnow
from server.settings import Settings, SettingsError, load_settings

T = TypeVar("T")


def register(subparsers: Any) -> None:
    """Add the `purge` command to an argparse subparsers object (handler in set_defaults)."""
    parser = subparsers.add_parser(
        "purge", help="delete captures and recordings past retention, blank old phone numbers",
        description="Delete the image files of captures older than JINGLIN_CAPTURE_RETENTION_DAYS; "
        "their records and sessions stay, marked purged. The server also runs this daily.")
    parser.add_argument("--dry-run", action="store_true", help="only count what would be purged")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class PurgeStep:
    """Another feature's purge that `jinglin purge` runs after the captures' one: its report goes
    under `name` in the JSON output and `describe(report, verb)` is its line of text."""

    name: str
    run: Callable[[Settings, bool], Coroutine[Any, Any, Any]]
    describe: Callable[[Any, str], str]


@dataclass(frozen=True)
class HealthPurgeReport:
    """The camera-health samples deleted (or that would be) by `jinglin purge`."""

    samples: int
    dry_run: bool

    def as_json(self) -> dict[str, object]:
        """This step's part of `jinglin purge --json`."""
        return {"samples": self.samples, "dry_run": self.dry_run}


async def _purge_health(settings: Settings, dry_run: bool) -> HealthPurgeReport:
    samples = await with_database(settings, lambda sessions: delete_old_samples(sessions, utcnow(), dry_run=dry_run))
    return HealthPurgeReport(samples, dry_run)


def _describe_health(report: HealthPurgeReport, verb: str) -> str:
    return f"{verb} {report.samples} camera-health samples older than {HISTORY_DAYS} days"


# Call recordings register theirs from server/recording/cli.py.
PURGE_STEPS: list[PurgeStep] = [PurgeStep("kiosk_health", _purge_health, _describe_health)]


async def with_database(settings: Settings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Run `work` with a session factory on the configured database, disposing the engine after."""
    engine = make_engine(settings.resolved_database_url)
    try:
        return await work(make_session_factory(engine))
    finally:
        await engine.dispose()


async def purge(settings: Settings, dry_run: bool) -> PurgeReport:
    """One capture purge run against the configured database and data dir."""
    return await with_database(settings, lambda sessions: purge_expired(
        sessions, settings.data_dir, settings.capture_retention_days, utcnow(), dry_run=dry_run))


def run(args: argparse.Namespace) -> int:
    """Run the capture purge and every registered step, and print what they did."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        report = asyncio.run(purge(settings, args.dry_run))
        steps: list[tuple[PurgeStep, Any]] = [(step, asyncio.run(step.run(settings, args.dry_run)))
                                              for step in PURGE_STEPS]
    except (SQLAlchemyError, OSError) as exc:
        print(f"error: {database_failure(exc)}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({**report.as_json(), **{step.name: result.as_json() for step, result in steps}}))
        return 0
    verb = "would purge" if report.dry_run else "purged"
    print(f"{verb} {report.captures} captures ({report.files_removed} files) created before "
          f"{report.cutoff:%Y-%m-%d %H:%M} UTC")
    for step, result in steps:
        print(step.describe(result, verb))
    return 0
