"""The district's directory as live figures need it: streets, centres, kiosks, caseworkers.

These rows change a few times a day (an account added, a kiosk enabled), while every supervisor
dashboard asks for live figures every few seconds. Reading 249 kiosks and 80-odd caseworkers with
their skills on each request was most of a live-stats request's time, so one process keeps the
directory for a few seconds. Live state (presence, queue state, sessions) is never cached here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from server.db.models import Centre, Kiosk, Site, Street, User

TTL_S = 5.0


@dataclass(frozen=True)
class KioskEntry:
    """An enabled kiosk with where it stands."""

    id: int
    label: str
    site: str
    street_id: int
    street: str
    last_seen_at: datetime | None
    camera_health: float | None


@dataclass(frozen=True)
class CaseworkerEntry:
    """An enabled caseworker account."""

    id: int
    name: str
    centre_id: int | None
    skills: tuple[str, ...]


@dataclass(frozen=True)
class Directory:
    """One snapshot of the directory."""

    streets: dict[int, str]
    centres: list[tuple[int, str, int]]
    kiosks: list[KioskEntry]
    caseworkers: list[CaseworkerEntry]


def street_of_centre(centres: list[tuple[int, str, int]], centre_id: int) -> int | None:
    """The street the centre serves, from (id, name, street id) rows as read_centres gives."""
    return next((street for cid, _, street in centres if cid == centre_id), None)


async def read_centres(db: AsyncSession) -> list[tuple[int, str, int]]:
    """Every centre as (id, name, street id)."""
    return [(i, n, s) for i, n, s in
            (await db.execute(select(Centre.id, Centre.name, Centre.street_id).order_by(Centre.id))).all()]


async def read_kiosks(db: AsyncSession) -> list[KioskEntry]:
    """Every enabled kiosk with its site and street."""
    kiosk_rows = await db.execute(
        select(Kiosk.id, Kiosk.label, Site.name, Street.id, Street.name, Kiosk.last_seen_at, Kiosk.camera_health)
        .join(Site, Site.id == Kiosk.site_id).join(Street, Street.id == Site.street_id)
        .where(Kiosk.enabled.is_(True)).order_by(Kiosk.id))
    return [KioskEntry(*row) for row in kiosk_rows]


async def read_directory(db: AsyncSession) -> Directory:
    """Read the directory from the database."""
    streets = {s.id: s.name for s in (await db.scalars(select(Street).order_by(Street.id))).all()}
    centres = await read_centres(db)
    kiosks = await read_kiosks(db)
    users = (await db.scalars(select(User).options(selectinload(User.skills))
                              .where(User.role == "caseworker", User.enabled.is_(True)).order_by(User.id))).all()
    caseworkers = [CaseworkerEntry(u.id, u.display_name, u.centre_id, tuple(s.skill for s in u.skills))
                   for u in users]
    return Directory(streets, centres, kiosks, caseworkers)


class DirectoryCache:
    """The directory of one process, read again when older than `ttl_s`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl_s: float = TTL_S) -> None:
        self._sessions = sessions
        self._ttl_s = ttl_s
        self._value: Directory | None = None
        self._read_at = 0.0

    async def get(self) -> Directory:
        """The current snapshot (concurrent callers at expiry may both read: harmless)."""
        if self._value is None or time.monotonic() - self._read_at > self._ttl_s:
            async with self._sessions() as db:
                self._value = await read_directory(db)
            self._read_at = time.monotonic()
        return self._value
