"""Live push of `stats` messages to this process's supervisor WebSockets (no polling in the page).

Every queue operation is published on the engine's channel. Each process listens, and when
something changed recomputes the live figures and sends `{"type": "stats", "stats": {...}}` to its
own supervisor and admin connections (each process serves only its own sockets, so nothing is
sent twice). Bursts are coalesced: at most one push per `MIN_INTERVAL_S`, and the first one waits
`SETTLE_S` because the engine publishes inside its script, a moment before the database rows of
the same operation are written (today's measures come from those rows). Without events, a quiet
refresh every `REFRESH_S` keeps kiosk presence current.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from server.auth.principal import Principal
from server.http import app_keys
from server.protocol import outbound as out
from server.protocol.addresses import SUPERVISOR, WATCHER_ROLES
from server.queueing.service import QUEUE
from server.reports.live import LiveOptions, live_stats, service_now
from server.reports.queries import SessionFilter
from server.signaling.connection import Connection
from server.signaling.context import SIGNALING

log = logging.getLogger(__name__)

MIN_INTERVAL_S = 0.5
SETTLE_S = 0.15
# Kiosks coming and going and clocks ticking change the figures without a queue event: refresh
# quietly this often while someone is watching.
REFRESH_S = 15.0
SUPERVISOR_PREFIXES = tuple(f"{role}:" for role in WATCHER_ROLES)


def watched_centre(principal: Principal) -> int | None:
    """The centre a watcher is limited to: a supervisor's own centre, or None for the district."""
    return principal.centre_id if principal.role == SUPERVISOR else None


class StatsPusher:
    """Listens to queue events and pushes coalesced live figures to local supervisors."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.dirty = asyncio.Event()
        self.pushes = 0  # for tests and metrics: how many stats messages went out

    def _supervisors(self) -> list[Connection]:
        local = self.app[SIGNALING].hub.local
        return [c for key, cs in list(local.items()) if key.startswith(SUPERVISOR_PREFIXES) for c in list(cs)]

    async def on_queue_event(self, _data: bytes) -> None:
        """Mark the figures dirty on every queue event (the hub delivers them, resubscribing after
        Redis restarts)."""
        self.dirty.set()

    async def push_loop(self, stop: asyncio.Event) -> None:
        """Push at most every MIN_INTERVAL_S while events keep arriving."""
        last = 0.0
        while not stop.is_set():
            # Wake on an event, on shutdown, or for the quiet refresh, whichever comes first.
            waiters = [asyncio.ensure_future(self.dirty.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
            if stop.is_set():
                return
            if not self.dirty.is_set():
                if time.monotonic() - last >= REFRESH_S:
                    self.dirty.set()
                continue
            await asyncio.sleep(max(SETTLE_S, last + MIN_INTERVAL_S - time.monotonic()))
            self.dirty.clear()
            last = time.monotonic()
            try:
                await self.push_once()
            except (RedisError, OSError, SQLAlchemyError) as exc:
                log.warning("stats push failed", extra={"error": type(exc).__name__})

    async def push_once(self) -> None:
        """Compute the figures once and send them to every local supervisor connection."""
        targets = self._supervisors()
        if not targets:
            return  # nobody watching in this process: skip the database work
        app = self.app
        # A centre supervisor sees only their centre (as over HTTP); everyone else the district.
        by_scope: dict[int | None, list[Connection]] = {}
        for connection in targets:
            by_scope.setdefault(watched_centre(connection.principal), []).append(connection)
        # Counted before sending: a watcher may act on the message before the sends return.
        self.pushes += 1
        for centre_id, connections in by_scope.items():
            opts = LiveOptions(where=SessionFilter(centre_id=centre_id),
                               threshold_s=app[app_keys.SETTINGS].sl_threshold_s,
                               callbacks_now=service_now(app))
            stats = await live_stats(app[app_keys.DB_SESSIONS], app[app_keys.REDIS], app[QUEUE].queue, opts)
            message = out.stats(stats)
            for connection in connections:
                await connection.send(message)
