"""Camera health: a 0..1 score per device check or live capture, and its trend per kiosk.

The score is the weakest of three sub-scores, each 0 where the camera mode of the quality check
calls the picture broken, 0.5 at the check's own threshold and 1 where good cameras measure
(server/quality/thresholds.py): brightness (8 → 45 → 90), contrast (10 → 16 → 32) and sharpness
(10 → 30 → 70, when measured). Interpolation is linear in the logarithm of the metric, so a lens
that slowly gets dirty (sharpness 70 → 50 → 35) shows up as a falling score while every check
still passes. Over-bright pictures lose score above 228 in the same way (228 → 255 gives 1 → 0).
A kiosk that reports no camera scores 0.

`Kiosk.camera_health` is an exponentially weighted average of the samples (weight 0.3 for the
newest), so one bad frame does not flag a kiosk and a trend shows within a few checks. Every
sample is kept in `kiosk_health` for the history, except device checks repeated within
`DEVICE_CHECK_EVERY_S` with the same verdict: a page sends one per resident, and a flood of
them (100 sockets sending 20 a second wrote 6,001 rows and slowed every kiosk) is coalesced;
and at most `DEVICE_CHECKS_PER_HOUR` are stored per kiosk per hour, whatever the verdicts.
Samples older than `HISTORY_DAYS` are deleted by the daily purge (and `jinglin purge`): the
supervisor's trend reads the last 14 days, and without an end the table would only grow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Kiosk, KioskHealthSample
from server.db.types import utcnow
from server.quality import thresholds as t
from server.runtime.redis_keys import RedisKeys

# (broken, threshold, good) per metric.
RAMPS: dict[str, tuple[float, float, float]] = {
    "brightness": (t.BLOCKED_MAX_BRIGHTNESS, t.MIN_BRIGHTNESS_CAMERA, 2 * t.MIN_BRIGHTNESS_CAMERA),
    "contrast": (t.BLOCKED_MAX_CONTRAST, t.MIN_CONTRAST_CAMERA, 2 * t.MIN_CONTRAST_CAMERA),
    "sharpness": (10.0, t.MIN_SHARPNESS_CAMERA, 70.0),
}
EWMA_WEIGHT = 0.3
# How long a camera-health sample is kept: a quarter of a year of history, well past the trend.
HISTORY_DAYS = 90
# A resident's visit takes minutes; a legitimate page never sends two checks this close together.
DEVICE_CHECK_EVERY_S = 10
# And whatever the verdicts, at most this many are stored per kiosk per hour: a page that
# alternates its verdict would otherwise be stored every time (a changed verdict passes the gate).
DEVICE_CHECKS_PER_HOUR = 30


def _ramp(value: float, broken: float, threshold: float, good: float) -> float:
    if value <= broken:
        return 0.0
    if value >= good:
        return 1.0
    if value <= threshold:
        return 0.5 * math.log(value / broken) / math.log(threshold / broken)
    return 0.5 + 0.5 * math.log(value / threshold) / math.log(good / threshold)


def camera_score(metrics: Mapping[str, float], camera_ok: bool = True) -> float:
    """The 0..1 health score of one look through the camera (see the module docstring)."""
    if not camera_ok:
        return 0.0
    parts = [_ramp(float(metrics[name]), *ramp) for name, ramp in RAMPS.items()
             if isinstance(metrics.get(name), int | float) and math.isfinite(float(metrics[name]))]
    brightness = metrics.get("brightness")
    if isinstance(brightness, int | float) and brightness > t.MAX_BRIGHTNESS:
        parts.append(max(0.0, (255.0 - float(brightness)) / (255.0 - t.MAX_BRIGHTNESS)))
    return round(min(parts), 3) if parts else 1.0


async def record_health(sessions: async_sessionmaker[AsyncSession], kiosk_id: int, *, source: str,
                        camera_ok: bool, microphone_ok: bool | None, metrics: dict[str, Any]) -> float:
    """Store one sample and fold it into the kiosk's camera_health; returns the sample's score."""
    score = camera_score({k: v for k, v in metrics.items() if isinstance(v, int | float)}, camera_ok)
    async with sessions() as session, session.begin():
        session.add(KioskHealthSample(kiosk_id=kiosk_id, at=utcnow(), source=source, camera_ok=camera_ok,
                                      camera_score=score, microphone_ok=microphone_ok, metrics=metrics))
        kiosk = await session.get(Kiosk, kiosk_id)
        if kiosk is not None:
            previous = kiosk.camera_health
            kiosk.camera_health = round(score if previous is None else
                                        (1 - EWMA_WEIGHT) * previous + EWMA_WEIGHT * score, 3)
    return score


async def device_check_due(redis: aioredis.Redis, keys: RedisKeys, kiosk_id: int, camera_ok: bool,
                           microphone_ok: bool) -> bool:
    """True when a device check is to be stored: the kiosk's first in `DEVICE_CHECK_EVERY_S`, or a changed verdict.

    One Redis command in the common case, so a flood costs no database writes."""
    key = keys.device_check_gate(kiosk_id)
    verdict = f"{int(camera_ok)}{int(microphone_ok)}"
    if not await redis.set(key, verdict, ex=DEVICE_CHECK_EVERY_S, nx=True):
        previous = await redis.get(key)
        if previous is not None and (previous.decode() if isinstance(previous, bytes) else previous) == verdict:
            return False
        await redis.set(key, verdict, ex=DEVICE_CHECK_EVERY_S)
    return await _within_hourly_cap(redis, keys.device_check_count(kiosk_id))


async def _within_hourly_cap(redis: aioredis.Redis, key: str) -> bool:
    """Count one stored check in the kiosk's current hour; False past DEVICE_CHECKS_PER_HOUR."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(key, 0, ex=3600, nx=True)  # the hour starts with the first check (EXPIRE NX needs Redis 7)
        pipe.incr(key)
        _, count = await pipe.execute()
    return int(count) <= DEVICE_CHECKS_PER_HOUR


async def delete_old_samples(sessions: async_sessionmaker[AsyncSession], now: datetime, *,
                             dry_run: bool = False) -> int:
    """Delete the camera-health samples taken before now - HISTORY_DAYS (or, with dry_run, only
    count them); returns how many."""
    before = now - timedelta(days=HISTORY_DAYS)
    old = KioskHealthSample.at < before
    async with sessions() as session, session.begin():
        if dry_run:
            return int(await session.scalar(select(func.count()).select_from(KioskHealthSample).where(old)) or 0)
        result = await session.execute(delete(KioskHealthSample).where(old))
        return int(getattr(result, "rowcount", 0) or 0)
