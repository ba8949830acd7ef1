"""The reports feature's cleanup context: the kiosk's `rate` handler and the live stats push."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from server.queueing.service import QUEUE
from server.reports.push import StatsPusher
from server.reports.ratings import Ratings
from server.signaling.context import SIGNALING

log = logging.getLogger(__name__)

STATS_PUSHER: web.AppKey[StatsPusher] = web.AppKey("stats_pusher")


async def reports_context(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context (after signaling_context): the `rate` handler, the stats listener and push loop."""
    signaling = app[SIGNALING]
    Ratings(signaling.queue, signaling.sessions, signaling.hours).register(signaling)
    pusher = StatsPusher(app)
    app[STATS_PUSHER] = pusher
    stop = asyncio.Event()
    await signaling.hub.subscribe(app[QUEUE].queue.keys.channel, pusher.on_queue_event)
    tasks = [asyncio.create_task(pusher.push_loop(stop), name="stats-push")]
    yield
    stop.set()
    for task in tasks:
        try:
            await asyncio.wait_for(task, timeout=5)
        except TimeoutError:
            log.warning("stats task did not stop in time", extra={"task": task.get_name()})
