"""The staffing hint: per local hour, arrivals and handle time, Erlang C's need, and who was on duty.

"On duty" is a caseworker logged in and working the queue: available, offered, in a call or in
wrap-up (not on a break, not offline), time-weighted over the hour so it compares directly with
Erlang C's N (an agent present half the hour counts 0.5). The peak count is given as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import CaseworkerEvent, Centre
from server.hours.store import load_calendars
from server.reports.erlang import agents_needed, service_level
from server.reports.metrics import SessionFacts, handle_s, measure
from server.reports.open_hours import open_share_by_hour
from server.reports.queries import SessionFilter, SessionRow, local_day_bounds
from server.reports.schemas import HourStaffing

ON_DUTY_STATES = frozenset({"available", "offered", "in_call", "wrap_up"})
HOURS = 24


@dataclass(frozen=True)
class StateChange:
    """A caseworker entering a state at a moment."""

    user_id: int
    at: datetime
    state: str




def on_duty_by_hour(initial: dict[int, str], changes: Sequence[StateChange], day_start: datetime,
                    hours: int = HOURS) -> list[tuple[float, int]]:
    """(time-weighted average, peak) of caseworkers on duty for each hour from `day_start`.

    `initial` is each caseworker's state at `day_start`; `changes` are ordered by time.
    """
    state = dict(initial)
    result: list[tuple[float, int]] = []
    pending = sorted(changes, key=lambda c: c.at)
    i = 0
    for hour in range(hours):
        start = day_start + timedelta(hours=hour)
        end = start + timedelta(hours=1)
        # Changes at or before the hour's first instant set its starting state (no weight, no peak).
        while i < len(pending) and pending[i].at <= start:
            state[pending[i].user_id] = pending[i].state
            i += 1
        cursor = start
        count = sum(1 for s in state.values() if s in ON_DUTY_STATES)
        peak = count
        weighted = 0.0
        while i < len(pending) and pending[i].at < end:
            change = pending[i]
            at = change.at
            weighted += count * (at - cursor).total_seconds()
            cursor = at
            state[change.user_id] = change.state
            count = sum(1 for s in state.values() if s in ON_DUTY_STATES)
            peak = max(peak, count)
            i += 1
        weighted += count * (end - cursor).total_seconds()
        result.append((weighted / 3600, peak))
    return result


async def caseworker_states(db: AsyncSession, start: datetime, end: datetime) -> tuple[dict[int, str],
                                                                                    list[StateChange]]:
    """Each caseworker's state at `start` (last event before it) and their changes in [start, end)."""
    last_ids = select(func.max(CaseworkerEvent.id)).where(CaseworkerEvent.at < start).group_by(
        CaseworkerEvent.user_id)
    before = await db.execute(select(CaseworkerEvent.user_id, CaseworkerEvent.to_state)
                              .where(CaseworkerEvent.id.in_(last_ids)))
    initial = {user_id: state for user_id, state in before.all()}
    during = await db.execute(select(CaseworkerEvent.user_id, CaseworkerEvent.at, CaseworkerEvent.to_state)
                              .where(CaseworkerEvent.at >= start, CaseworkerEvent.at < end)
                              .order_by(CaseworkerEvent.at, CaseworkerEvent.id))
    return initial, [StateChange(u, at, s) for u, at, s in during.all()]


def facts_by_hour(rows: Iterable[SessionRow], day_start: datetime) -> list[list[SessionFacts]]:
    """The sessions of one local day bucketed by the hour they arrived in (24 lists)."""
    facts: list[list[SessionFacts]] = [[] for _ in range(HOURS)]
    for row in rows:
        hour = int((row.created_at - day_start).total_seconds() // 3600)
        if 0 <= hour < HOURS:
            facts[hour].append(row.facts)
    return facts


def staffing_hours(facts: Sequence[Sequence[SessionFacts]], duty: Sequence[tuple[float, int]], *,
                   threshold_s: float, target_sl: float, default_handle_s: float,
                   open_share: Sequence[float] | None = None) -> list[HourStaffing]:
    """Combine arrivals (`facts_by_hour`), handle times, duty and opening into the 24 hourly rows."""
    handles = [[h for h in map(handle_s, hour_facts) if h is not None] for hour_facts in facts]
    every = [h for hs in handles for h in hs]
    # An hour with arrivals but no finished call yet borrows the day's average, then the default.
    day_avg = sum(every) / len(every) if every else default_handle_s
    result = []
    for hour in range(HOURS):
        arrivals = len(facts[hour])
        avg = sum(handles[hour]) / len(handles[hour]) if handles[hour] else None
        aht = avg if avg else day_avg
        rate = arrivals / 3600
        needed = agents_needed(rate, aht, threshold_s, target_sl) if arrivals else 0
        duty_avg, duty_max = duty[hour]
        predicted = service_level(int(duty_avg), rate, aht, threshold_s) if arrivals else None
        given = measure(facts[hour], threshold_s)
        share = open_share[hour] if open_share is not None else 1.0
        result.append(HourStaffing(hour, arrivals, avg, needed, duty_avg, duty_max, predicted, share,
                                   given.answered, given.answered_within, given.sl))
    return result


def open_hours_service(facts: Sequence[Sequence[SessionFacts]], open_share: Sequence[float],
                       threshold_s: float) -> dict[str, object]:
    """The day's service over the hours with some opening, and the arrivals in fully closed hours."""
    during = [f for hour in range(HOURS) if open_share[hour] > 0 for f in facts[hour]]
    closed = sum(len(facts[hour]) for hour in range(HOURS) if open_share[hour] <= 0)
    given = measure(during, threshold_s)
    return {"hours": round(sum(open_share), 2), "offered": given.offered, "answered": given.answered,
            "answered_within": given.answered_within, "sl": None if given.sl is None else round(given.sl, 4),
            "closed_arrivals": closed}


async def centres_of(db: AsyncSession, where: SessionFilter) -> list[int] | None:
    """The centres whose calendars a filtered report follows: the centre, the street's centre, or
    all of them (None)."""
    if where.centre_id is not None:
        return [where.centre_id]
    if where.street_id is not None:
        return list((await db.scalars(select(Centre.id).where(Centre.street_id == where.street_id))).all())
    return None


async def staffing_day(db: AsyncSession, day: date, rows: Sequence[SessionRow], *, threshold_s: float,
                       target_sl: float, default_handle_s: float, centre_ids: list[int] | None = None
                       ) -> tuple[list[HourStaffing], dict[str, object]]:
    """The staffing report of one local day and its service over the open hours of these centres'
    calendars (all centres when None)."""
    start, end = local_day_bounds(day, day)
    initial, changes = await caseworker_states(db, start, end)
    duty = on_duty_by_hour(initial, changes, start)
    share = open_share_by_hour((await load_calendars(db, centre_ids)).values(), day)
    facts = facts_by_hour(rows, start)
    hours = staffing_hours(facts, duty, threshold_s=threshold_s, target_sl=target_sl,
                           default_handle_s=default_handle_s, open_share=share)
    return hours, open_hours_service(facts, share, threshold_s)
