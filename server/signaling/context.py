"""The signaling subsystem's cleanup context: the hub's listener, the queue-reset watch and the
keep-alive sweep, and the app key other features reach signaling by."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from server.auth.session_cache import SESSION_CACHE, SessionCache
from server.catalog.service import CATALOG
from server.hours.appointment_service import APPOINTMENTS
from server.hours.phone_purge import run_daily_phone_purge
from server.hours.service import HOURS
from server.hours.sweeper import SWEEPER, Sweeper
from server.http import app_keys
from server.protocol.addresses import kiosk_address
from server.queueing.service import QUEUE
from server.signaling.hub import Hub
from server.signaling.service import SignalingService

log = logging.getLogger(__name__)

SIGNALING: web.AppKey[SignalingService] = web.AppKey("signaling")
CLOSE_GOING_AWAY = 1001


async def close_sockets_on_shutdown(app: web.Application) -> None:
    """on_shutdown: close this process's WebSockets with 1001 so their clients reconnect (to another
    process behind the proxy) at once, and the server's graceful stop is not held up for its full
    timeout by sockets that would otherwise stay open."""
    service = app.get(SIGNALING)
    if service is not None:
        closed = await service.hub.close_all_local(CLOSE_GOING_AWAY, b"server shutting down")
        log.info("sockets closed for shutdown", extra={"count": closed})


_startup_collected = False  # whether this process's first app has collected start-up's garbage


async def signaling_context(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: the hub's listener task and the message handlers."""
    queue_service = app[QUEUE]
    catalog = app[CATALOG]
    hub = Hub(app[app_keys.REDIS], app[app_keys.REDIS_KEYS])
    service = SignalingService(app[app_keys.SETTINGS], hub, queue_service, catalog)
    app[SIGNALING] = service
    app[HOURS] = service.hours
    app[APPOINTMENTS] = service.appointments
    # Sign-out elsewhere (auth views) closes live sockets through this port, not through signaling.
    app[app_keys.CLOSE_SOCKETS] = hub.close_sessions
    # WebSocket upgrades reuse recently resolved sign-ins; revocation notices reach every process.
    session_cache = SessionCache(app[app_keys.DB_SESSIONS])
    app[SESSION_CACHE] = session_cache
    hub.on_revoked.append(session_cache.forget_address)
    stop = asyncio.Event()
    listener = asyncio.create_task(hub.run(stop), name="signaling-hub")
    resets = asyncio.create_task(service.watch_queue_resets(stop), name="queue-reset-watch")
    keepalive = asyncio.create_task(service.keepalive.run(stop), name="signaling-keepalive")
    # Every live kiosk sign-in kept ready, so a failed process's kiosks connect here cheaply.
    prefill = asyncio.create_task(session_cache.run_prefill(stop), name="kiosk-sign-in-prefill")
    # And every kiosk's site and street, read again before the preloaded ones expire.
    places = asyncio.create_task(service.welcomer.places.run_refresh(stop), name="kiosk-places-refresh")
    # Residents' numbers for 回电, 回访 and 预约 go once they have served and the retention is over,
    # counted on the service clock that dated them (JINGLIN_CLOCK_START).
    phones = asyncio.create_task(run_daily_phone_purge(app[app_keys.DB_SESSIONS],
                                                       app[app_keys.SETTINGS].capture_retention_days, stop,
                                                       service.hours.clock.now),
                                 name="phone-purge")

    async def notify_kiosk(kiosk_id: int, message: dict[str, Any]) -> None:
        await hub.send_to([kiosk_address(kiosk_id)], message)

    sweeper = Sweeper(service.hours, app[app_keys.REDIS_KEYS], notify_kiosk, app[app_keys.SETTINGS].no_staff_grace_s)
    app[SWEEPER] = sweeper
    sweep = asyncio.create_task(sweeper.run(stop), name="hours-sweep")
    try:
        await hub.wait_ready()
    except TimeoutError:
        log.warning("signaling hub not subscribed yet; continuing")
    # Every kiosk's place is read now, in one query, rather than on its first connect (a failover
    # brings thousands of first connects at once).
    await service.welcomer.places.preload()
    # What start-up built (modules, schemas, the catalog, the ORM) lives as long as the process:
    # keep it out of the garbage collector's full passes, which otherwise stop the event loop for
    # hundreds of milliseconds under load and show as relay latency. The full pass that leaves
    # start-up's garbage out of the frozen set runs for the process's first app only: a later one
    # (several apps in one test process) adds little garbage, and a pass over a large heap per
    # app start cost tests ~0.4 s each.
    global _startup_collected
    if not _startup_collected:
        gc.collect()
        _startup_collected = True
    gc.freeze()
    yield
    gc.unfreeze()  # several apps may live in one process (tests): let what each leaves be collected
    stop.set()
    await service.shutdown()
    try:
        await asyncio.wait_for(asyncio.gather(listener, resets, keepalive, sweep, prefill, places, phones), timeout=5)
    except TimeoutError:
        log.warning("signaling hub did not stop in time")
