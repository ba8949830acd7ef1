"""The live dashboard figures: the queue engine's counters, today's rows, caseworkers and kiosks.

Unfiltered, waiting and the longest wait come from `SessionQueue.live_figures()` (exact and O(1)
in Redis). The engine only counts by skill and street, so with a centre, department or matter
filter they come from today's open session rows instead. Caseworker states always come from the
engine, one status per caseworker, so the per-state counts and the list never disagree.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from session_queue import CASEWORKER_STATES, WAITING_TICKET_STATES, SessionQueue
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Callback
from server.db.types import utcnow
from server.hours.service import HOURS
from server.reports.directory import Directory, DirectoryCache
from server.reports.kiosks import presence_of
from server.reports.metrics import measure
from server.reports.queries import SessionFilter, SessionRow, group_measures, local_day_bounds, session_rows
from server.runtime.district_time import DISTRICT_TZ
from server.runtime.redis_keys import RedisKeys

# Defaults of the alert thresholds; the page and integrators may pass their own.
DEFAULT_WAIT_ALERT_S = 300.0
DEFAULT_ABANDON_ALERT = 0.10
# Too few finished tickets make an abandonment rate meaningless (1 of 2 is not "50 %").
MIN_FINISHED_FOR_ABANDON_ALERT = 5
# One directory cache per database (several apps may live in one test process).
_DIRECTORIES: weakref.WeakKeyDictionary[async_sessionmaker[AsyncSession], DirectoryCache] = (
    weakref.WeakKeyDictionary())


def service_now(app: web.Application) -> datetime | None:
    """The service clock's now where the app runs the calendar (None: count in real time)."""
    return app[HOURS].clock.now() if HOURS in app else None


@dataclass(frozen=True)
class LiveOptions:
    """Filters and alert thresholds of one live request."""

    where: SessionFilter = field(default_factory=SessionFilter)
    threshold_s: float = 60.0
    wait_alert_s: float = DEFAULT_WAIT_ALERT_S
    abandon_alert: float = DEFAULT_ABANDON_ALERT
    # The service clock (JINGLIN_CLOCK_START, docs/hours.md): callbacks are due in calendar time, so
    # the board counts them overdue against it, as `GET /api/v1/callbacks` does. None: real time.
    callbacks_now: datetime | None = None

    @property
    def filtered(self) -> bool:
        """True when any filter narrows the figures."""
        w = self.where
        return any(v is not None for v in (w.centre_id, w.street_id, w.department, w.matter_id))


async def _caseworkers(directory: Directory, queue: SessionQueue, centre_id: int | None,
                       now: float) -> list[dict[str, Any]]:
    accounts = [c for c in directory.caseworkers if centre_id is None or c.centre_id == centre_id]
    statuses = await queue.caseworkers([str(c.id) for c in accounts])
    result = []
    for account, status in zip(accounts, statuses, strict=True):
        state = status.state if status else "offline"
        result.append({
            "id": account.id, "name": account.name, "centre_id": account.centre_id, "state": state,
            "reason": status.reason if status else None, "ticket_id": status.ticket_id if status else None,
            "since": status.since if status else None,
            "in_state_s": round(now - status.since, 1) if status and status.since else None,
            "skills": list(status.skills) if status else list(account.skills),
        })
    return result


def _directory_cache(sessions: async_sessionmaker[AsyncSession]) -> DirectoryCache:
    cache = _DIRECTORIES.get(sessions)
    if cache is None:
        cache = _DIRECTORIES[sessions] = DirectoryCache(sessions)
    return cache


def _waiting(rows: list[SessionRow], now: datetime) -> tuple[int, float | None]:
    open_rows = [r for r in rows if r.state in WAITING_TICKET_STATES]
    oldest = min((r.created_at for r in open_rows), default=None)
    return len(open_rows), None if oldest is None else (now - oldest).total_seconds()


def _alerts(opts: LiveOptions, longest: float | None, today: dict[str, Any], waiting: int,
            caseworkers: dict[str, int], kiosks: list[dict[str, Any]], overdue_callbacks: int = 0
            ) -> list[dict[str, Any]]:
    alerts: list[dict[str, Any]] = []
    if overdue_callbacks:
        # 回电 requests past their due time are a wait too, only by phone (docs/hours.md).
        alerts.append({"code": "overdue_callbacks", "level": "warn", "value": overdue_callbacks, "limit": 0})
    if longest is not None and longest > opts.wait_alert_s:
        alerts.append({"code": "longest_wait", "level": "warn", "value": round(longest), "limit": opts.wait_alert_s})
    finished = today["answered"] + today["abandoned"]
    if finished >= MIN_FINISHED_FOR_ABANDON_ALERT and today["abandoned"] / finished > opts.abandon_alert:
        alerts.append({"code": "abandonment", "level": "warn", "value": round(today["abandoned"] / finished, 4),
                       "limit": opts.abandon_alert})
    working = sum(caseworkers[s] for s in ("available", "offered", "in_call", "wrap_up"))
    if waiting and not working:
        alerts.append({"code": "no_caseworker", "level": "error", "value": waiting, "limit": 0})
    bad = [k["id"] for k in kiosks if k["camera_health"] is not None and k["camera_health"] < 0.5]
    if bad:
        alerts.append({"code": "camera", "level": "info", "value": len(bad), "limit": 0.5, "kiosk_ids": bad})
    return alerts


async def live_stats(sessions: async_sessionmaker[AsyncSession], redis: aioredis.Redis, queue: SessionQueue,
                     opts: LiveOptions) -> dict[str, Any]:
    """The `GET /api/v1/stats/live` document (and the body of pushed `stats` messages)."""
    now_dt = utcnow()
    now = time.time()
    today = now_dt.astimezone(DISTRICT_TZ).date()
    start, end = local_day_bounds(today, today)
    figures = await queue.live_figures()
    directory = await _directory_cache(sessions).get()
    async with sessions() as db:
        # Tickets still open from before midnight are few but real: look back one day for them.
        rows = await session_rows(db, start - timedelta(days=1), end, opts.where)
        overdue_query = select(func.count()).select_from(Callback).where(
            Callback.state.in_(("open", "taken")), Callback.due_at < (opts.callbacks_now or now_dt))
        if opts.where.centre_id is not None:
            overdue_query = overdue_query.where(Callback.centre_id == opts.where.centre_id)
        overdue_callbacks = int(await db.scalar(overdue_query) or 0)
    caseworker_list = await _caseworkers(directory, queue, opts.where.centre_id, now)
    streets, centres = directory.streets, directory.centres
    # Presence keys share the queue engine's prefix (both from JINGLIN_REDIS_PREFIX).
    keys = RedisKeys(queue.keys.prefix)
    kiosks = await presence_of(redis, keys, directory.kiosks, directory.centres, opts.where)
    todays = [r for r in rows if r.created_at >= start]
    if opts.filtered:
        waiting, longest = _waiting(rows, now_dt)
        waiting_by_street = {str(k): v for k, v in _count_waiting_by(rows, "street_id").items()}
    else:
        waiting, longest = sum(figures.waiting_by_skill.values()), figures.longest_wait_s
        waiting_by_street = figures.waiting_by_street
    states = {state: 0 for state in CASEWORKER_STATES}
    for cw in caseworker_list:
        states[cw["state"]] = states.get(cw["state"], 0) + 1
    day = measure((r.facts for r in todays), opts.threshold_s).as_dict()
    waiting_by_matter = _count_waiting_by(rows, "matter_id")
    # "waiting" from the measures counts rows; the live count (engine or open rows) replaces it.
    by_matter = [{"matter_id": key, "matter": label, **m.as_dict(), "waiting": waiting_by_matter.get(key, 0)}
                 for (key, label), m in group_measures(todays, "matter", opts.threshold_s)]
    street_measures = {key: m.as_dict() for (key, _), m in group_measures(todays, "street", opts.threshold_s)}
    street_ids = sorted({int(k) for k in waiting_by_street if k.isdigit()} | {int(k) for k in street_measures})
    by_street = [{"street_id": sid, "street": streets.get(sid, str(sid)),
                  **street_measures.get(str(sid), measure((), opts.threshold_s).as_dict()),
                  "waiting": waiting_by_street.get(str(sid), 0)} for sid in street_ids]
    return {
        "generated_at": now,
        "date": today.isoformat(),
        "waiting": waiting,
        "longest_wait_s": None if longest is None else round(longest, 1),
        "caseworkers": states,
        "today": day,
        "by_matter": by_matter,
        "by_street": by_street,
        "caseworker_list": caseworker_list,
        "kiosks": {"total": len(kiosks), "online": sum(1 for k in kiosks if k["online"]),
                   "items": [{"id": k["id"], "online": k["online"]} for k in kiosks]},
        "alerts": _alerts(opts, longest, day, waiting, states, kiosks, overdue_callbacks),
        "thresholds": {"sl_s": opts.threshold_s, "wait_alert_s": opts.wait_alert_s,
                       "abandon_alert": opts.abandon_alert},
        "filtered": opts.filtered,
        # The filter choices, so the page needs no other request to offer them.
        "places": {"streets": [{"id": k, "name": v} for k, v in streets.items()],
                   "centres": [{"id": i, "name": n, "street_id": s} for i, n, s in centres]},
    }


def _count_waiting_by(rows: list[SessionRow], attr: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        if row.state in WAITING_TICKET_STATES:
            key = str(getattr(row, attr))
            counts[key] = counts.get(key, 0) + 1
    return counts
