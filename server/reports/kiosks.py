"""Kiosk health: online or not (connection presence), last seen, and the camera-health trend.

Online means the kiosk holds a live WebSocket in some server process (the presence registry in
Redis). If Redis cannot answer, a kiosk seen within the presence lifetime counts as online, so a
Redis hiccup does not paint the whole district red. The camera trend is the daily mean of the
kiosk's camera scores: a lens that slowly gets dirty shows as a falling line before residents
complain.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import KioskHealthSample
from server.db.types import utcnow
from server.protocol.addresses import kiosk_address
from server.reports.directory import KioskEntry, read_centres, read_kiosks, street_of_centre
from server.reports.queries import SessionFilter
from server.runtime.district_time import DISTRICT_TZ, iso_local
from server.runtime.redis_keys import RedisKeys
from server.signaling.presence import PRESENCE_TTL_S

TREND_DAYS = 14
# A drop of the daily camera score by this much over the trend window is flagged as declining.
DECLINE = 0.15


# Live connections per presence key, for every kiosk in one command: a pipeline of 249 ZCOUNTs
# spent most of a live-stats request packing commands in Python.
_COUNT_PRESENT = """
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('ZCOUNT', key, ARGV[1], '+inf') end
return out
"""


async def _present(redis: aioredis.Redis, keys: RedisKeys, kiosk_ids: list[int]) -> list[bool] | None:
    if not kiosk_ids:
        return []
    try:
        counts = await redis.register_script(_COUNT_PRESENT)(
            keys=[keys.presence(kiosk_address(kiosk_id)) for kiosk_id in kiosk_ids], args=[time.time()])
    except (RedisError, OSError):
        return None
    return [bool(c) for c in counts]


async def kiosk_presence(db: AsyncSession, redis: aioredis.Redis, keys: RedisKeys, where: SessionFilter | None = None
                         ) -> list[dict[str, Any]]:
    """Every enabled kiosk (narrowed by street or centre) with site, street and online state."""
    # Only what `presence_of` reads: the kiosks, and the centres when a centre narrows them (read
    # fresh, not from the live figures' cache: this answer shows each kiosk's last seen time).
    centres = await read_centres(db) if where is not None and where.centre_id is not None else []
    return await presence_of(redis, keys, await read_kiosks(db), centres, where)


async def presence_of(redis: aioredis.Redis, keys: RedisKeys, kiosks: list[KioskEntry],
                      centres: list[tuple[int, str, int]],
                      where: SessionFilter | None = None) -> list[dict[str, Any]]:
    """The kiosks (narrowed by street or centre; centres as read_centres gives them, needed only
    for a centre filter) with their online state."""
    where = where or SessionFilter()
    street_id = where.street_id
    if where.centre_id is not None:
        centre_street = street_of_centre(centres, where.centre_id)
        if street_id is not None and street_id != centre_street:
            return []
        street_id = centre_street if centre_street is not None else -1
    kiosks = [k for k in kiosks if street_id is None or k.street_id == street_id]
    present = await _present(redis, keys, [k.id for k in kiosks])
    recent = utcnow() - timedelta(seconds=PRESENCE_TTL_S)
    return [{"id": k.id, "label": k.label, "site": k.site, "street_id": k.street_id, "street": k.street,
             "online": present[i] if present is not None else bool(k.last_seen_at and k.last_seen_at >= recent),
             "last_seen_at": iso_local(k.last_seen_at), "camera_health": k.camera_health}
            for i, k in enumerate(kiosks)]


def camera_trend(samples: list[tuple[datetime, float | None, bool]]) -> tuple[list[dict[str, Any]], str]:
    """Daily mean scores (local days) and a direction: declining, stable or unknown."""
    days: dict[str, list[float]] = {}
    for at, score, ok in samples:
        value = score if score is not None else (1.0 if ok else 0.0)
        days.setdefault(at.astimezone(DISTRICT_TZ).date().isoformat(), []).append(value)
    means = [(d, round(sum(v) / len(v), 3), len(v)) for d, v in sorted(days.items())]
    trend = [{"date": d, "score": score, "samples": n} for d, score, n in means]
    if len(means) < 2:
        return trend, "unknown"
    return trend, "declining" if means[0][1] - means[-1][1] >= DECLINE else "stable"


async def kiosk_health(db: AsyncSession, redis: aioredis.Redis, keys: RedisKeys,
                       days: int = TREND_DAYS) -> list[dict[str, Any]]:
    """Every kiosk's presence plus its camera trend over the last `days` days."""
    kiosks = await kiosk_presence(db, redis, keys)
    since = utcnow() - timedelta(days=days)
    samples = await db.execute(
        select(KioskHealthSample.kiosk_id, KioskHealthSample.at, KioskHealthSample.camera_score,
               KioskHealthSample.camera_ok)
        .where(KioskHealthSample.at >= since).order_by(KioskHealthSample.at, KioskHealthSample.id))
    by_kiosk: dict[int, list[tuple[datetime, float | None, bool]]] = {}
    for kiosk_id, at, score, ok in samples.all():
        by_kiosk.setdefault(kiosk_id, []).append((at, score, ok))
    for kiosk in kiosks:
        kiosk["trend"], kiosk["trend_direction"] = camera_trend(by_kiosk.get(kiosk["id"], []))
    return kiosks
