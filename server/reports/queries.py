"""Session rows for reports: one portable query per date range, grouping done in Python.

Days are Asia/Shanghai local days (UTC+8, no daylight saving time), turned into a UTC range for
the query so the same SQL runs on SQLite and PostgreSQL without time-zone functions. A district
has a few hundred sessions a day (a month is ~6,000 rows), so grouping the rows in Python is cheap
and keeps every dimension (hour of day, ISO week, ...) identical on both backends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from server.db.models import Centre, Kiosk, Matter, Rating, ServiceSession, Site, Street, User
from server.reports.metrics import Measures, SessionFacts, measure
from server.reports.schemas import SessionOut
from server.runtime.district_time import DISTRICT_TZ

# The rows query; its exact column types are spelled out where it is unpacked.
Query = Any
GROUPINGS = ("matter", "department", "street", "centre", "kiosk", "caseworker", "hour", "day", "week", "month")
# A report longer than this is an export job, not a page view.
MAX_RANGE_DAYS = 400


def local_day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """UTC [start, end) covering the local days first..last inclusive."""
    start = datetime.combine(first, time.min, DISTRICT_TZ).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, DISTRICT_TZ).astimezone(UTC)
    return start, end




class SessionRow(SessionOut):
    """A session with the names reports show next to it: the API's fields, and when it was offered."""

    offered_at: datetime | None

    @property
    def facts(self) -> SessionFacts:
        """The fields the measures need."""
        return SessionFacts(created_at=self.created_at, state=self.state, answered_at=self.answered_at,
                            ended_at=self.ended_at, closed_at=self.closed_at, outcome=self.outcome,
                            rating=self.rating)

    def as_dict(self) -> dict[str, Any]:
        """The API and export shape of a session (timestamps in Shanghai local time)."""
        return self.model_dump(mode="json", exclude={"offered_at"})


@dataclass(frozen=True)
class SessionFilter:
    """Optional narrowing shared by the live figures and the reports."""

    centre_id: int | None = None
    street_id: int | None = None
    department: str | None = None
    matter_id: str | None = None


def _base_query() -> Query:
    cw = aliased(User)
    return (
        select(ServiceSession, Kiosk.label, Site.name, Street.name, Centre.name, Matter.name, Matter.department,
               cw.display_name, Rating.score)
        .join(Kiosk, Kiosk.id == ServiceSession.kiosk_id)
        .join(Site, Site.id == ServiceSession.site_id)
        .join(Street, Street.id == ServiceSession.street_id)
        .join(Matter, Matter.id == ServiceSession.matter_id)
        .outerjoin(Centre, Centre.id == ServiceSession.centre_id)
        .outerjoin(cw, cw.id == ServiceSession.caseworker_id)
        .outerjoin(Rating, Rating.session_id == ServiceSession.id)
    )


def _apply(query: Query, where: SessionFilter) -> Query:
    if where.centre_id is not None:
        # A ticket belongs to a centre once a caseworker answers it; before that, to the centre of
        # the kiosk's street (the one routing prefers), so a centre sees its own waiting residents.
        home = select(Centre.street_id).where(Centre.id == where.centre_id).scalar_subquery()
        query = query.where((ServiceSession.centre_id == where.centre_id)
                            | ((ServiceSession.centre_id.is_(None)) & (ServiceSession.street_id == home)))
    if where.street_id is not None:
        query = query.where(ServiceSession.street_id == where.street_id)
    if where.department is not None:
        query = query.where(Matter.department == where.department)
    if where.matter_id is not None:
        query = query.where(ServiceSession.matter_id == where.matter_id)
    return query


async def session_rows(db: AsyncSession, start: datetime, end: datetime,
                       where: SessionFilter | None = None) -> list[SessionRow]:
    """Sessions created in [start, end), oldest first, with their names."""
    query = _apply(_base_query(), where or SessionFilter())
    query = query.where(ServiceSession.created_at >= start, ServiceSession.created_at < end)
    result = await db.execute(query.order_by(ServiceSession.created_at, ServiceSession.id))
    return [_row(*found) for found in result.all()]


async def session_row(db: AsyncSession, session_id: str) -> SessionRow | None:
    """One session with its names, or None."""
    found = (await db.execute(_base_query().where(ServiceSession.id == session_id))).first()
    return None if found is None else _row(*found)


def _row(s: ServiceSession, kiosk: str, site: str, street: str, centre: str | None, matter: str, department: str,
         caseworker: str | None, score: int | None) -> SessionRow:
    return SessionRow.model_construct(
        id=s.id, ticket_number=s.ticket_number, kiosk_id=s.kiosk_id, kiosk=kiosk, site_id=s.site_id, site=site,
        street_id=s.street_id, street=street, centre_id=s.centre_id, centre=centre, matter_id=s.matter_id,
        matter=matter, department=department, caseworker_id=s.caseworker_id, caseworker=caseworker,
        mode=s.mode, priority=s.priority, state=s.state, created_at=s.created_at, offered_at=s.offered_at,
        answered_at=s.answered_at, ended_at=s.ended_at, closed_at=s.closed_at, outcome=s.outcome,
        case_number=s.case_number, requeue_count=s.requeue_count, rating=score,
    )


GroupKey = tuple[str, str]  # (key, label)


def _week(row: SessionRow) -> GroupKey:
    day = row.created_at.astimezone(DISTRICT_TZ).date()
    monday = day - timedelta(days=day.weekday())
    return monday.isoformat(), f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}"


_KEYS: dict[str, Callable[[SessionRow], GroupKey]] = {
    "matter": lambda r: (r.matter_id, r.matter),
    "department": lambda r: (r.department, r.department),
    "street": lambda r: (str(r.street_id), r.street),
    "centre": lambda r: (str(r.centre_id or ""), r.centre or ""),
    "kiosk": lambda r: (str(r.kiosk_id), f"{r.site} {r.kiosk}"),
    "caseworker": lambda r: (str(r.caseworker_id or ""), r.caseworker or ""),
    "hour": lambda r: (f"{r.created_at.astimezone(DISTRICT_TZ).hour:02d}",) * 2,
    "day": lambda r: (r.created_at.astimezone(DISTRICT_TZ).date().isoformat(),) * 2,
    "week": _week,
    "month": lambda r: (r.created_at.astimezone(DISTRICT_TZ).strftime("%Y-%m"),) * 2,
}


def group_measures(rows: Iterable[SessionRow], by: str, threshold_s: float) -> list[tuple[GroupKey, Measures]]:
    """Measures per group, in key order (hours, days and ids sort naturally as strings)."""
    key_of = _KEYS[by]
    groups: dict[GroupKey, list[SessionFacts]] = {}
    for row in rows:
        groups.setdefault(key_of(row), []).append(row.facts)
    ordered = sorted(groups.items(), key=lambda item: _sort_key(item[0][0]))
    return [(key, measure(facts, threshold_s)) for key, facts in ordered]


def _sort_key(key: str) -> tuple[int, str]:
    # Numeric ids sort as numbers (street 2 before street 10); everything else as text.
    return (0, key.zfill(20)) if key.isdigit() else (1, key)
