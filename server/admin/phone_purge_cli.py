"""The residents' phone numbers in `jinglin purge`: one step per kind of row that keeps a number
(回电 callbacks, 预约 appointments), the same retention as captured images (docs/hours.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.capture.cli import PURGE_STEPS, PurgeStep, with_database
from server.db.types import utcnow
from server.settings import Settings


@dataclass(frozen=True)
class PhonePurgeReport:
    """The numbers blanked (or that would be, with --dry-run) by one `jinglin purge` step."""

    phones: int
    dry_run: bool

    def as_json(self) -> dict[str, object]:
        """This step's part of `jinglin purge --json`."""
        return {"phones": self.phones, "dry_run": self.dry_run}


def register_phone_purge(commands: Any, name: str, table: Any, expired: Callable[[datetime], ColumnElement[bool]],
                         blank: Callable[[AsyncSession, datetime], Any], what: str) -> None:
    """Add a step to `jinglin purge` (among `commands`, registered by the captures first) that
    blanks `table`'s numbers matching `expired(before)` (`blank` does it), or counts them with
    --dry-run; `what` names them in the text output and in `jinglin purge --help`."""

    async def purge(current: Settings, dry_run: bool) -> PhonePurgeReport:
        # Kept as long as captured images are kept, no longer.
        before = utcnow() - timedelta(days=current.capture_retention_days)

        async def work(sessions: async_sessionmaker[AsyncSession]) -> PhonePurgeReport:
            async with sessions() as db, db.begin():
                if not dry_run:
                    return PhonePurgeReport(await blank(db, before), False)
                count = await db.scalar(select(func.count()).select_from(table).where(expired(before)))
                return PhonePurgeReport(int(count or 0), True)

        return await with_database(current, work)

    if all(step.name != name for step in PURGE_STEPS):
        PURGE_STEPS.append(PurgeStep(name, purge, lambda report, verb: f"{verb} {report.phones} {what}"))
    parser = commands.choices.get("purge")
    if parser is not None and what not in (parser.description or ""):
        parser.description = (f"{parser.description} The {what} are blanked once older than "
                              "JINGLIN_CAPTURE_RETENTION_DAYS.")
