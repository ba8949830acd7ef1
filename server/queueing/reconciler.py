"""Closes the gaps a killed process leaves between the live queue (Redis) and the record (database).

Two windows exist, and each has its repair:

- A queue script ran but its transitions never reached the database (the process died after the
  script, before or during the recorder's transaction). Every script also appends its
  transitions to the outbox stream in the same atomic step; this task reads entries older than a
  settling delay and records what the database lacks (`QueueRecorder.record_missing`).
- A resident's session row was created but its ticket never reached the queue (the process died
  between the two). Open waiting rows without a live ticket are enqueued again with their
  original time, so they keep their place (`QueueService.restore_orphan`).

One pass at a time across all processes (a short Redis lock); any process may run it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web
from session_queue import Outbox
from sqlalchemy import exists, select

from server.db.models import ServiceSession, SessionEvent
from server.db.types import utcnow
from server.http import app_keys
from server.queueing.recorder import QueueRecorder
from server.queueing.service import QUEUE, QueueService
from server.runtime.periodic import background, run_periodically

log = logging.getLogger(__name__)

# An outbox entry younger than this may still be on its way to the database by the normal path.
SETTLE_S = 20.0
INTERVAL_S = 5.0
BATCH = 500
LOCK_TTL_MS = 60_000


@dataclass
class ReconcileReport:
    """What one pass found and repaired."""

    entries_checked: int = 0
    transitions_recorded: int = 0
    orphans_restored: int = 0
    skipped_locked: bool = False


class QueueReconciler:
    """Repairs the record after crashes; see the module docstring."""

    def __init__(self, service: QueueService, *, settle_s: float = SETTLE_S) -> None:
        self.service = service
        self.recorder = QueueRecorder(service.sessions)
        self.outbox = Outbox(service.redis, service.queue.keys.prefix)
        self.settle_s = settle_s
        self._lock_key = service.queue.keys.name("outbox_mark") + ":lock"

    async def run_once(self) -> ReconcileReport:
        """One pass over the outbox (until it is caught up) and the open waiting sessions."""
        report = ReconcileReport()
        token = uuid.uuid4().hex
        redis = self.service.redis
        if not await redis.set(self._lock_key, token, nx=True, px=LOCK_TTL_MS):
            report.skipped_locked = True
            return report
        try:
            while True:
                entries = await self.outbox.pending(int(self.settle_s * 1000), BATCH)
                if not entries:
                    break
                transitions = [tr for entry in entries for tr in entry.transitions]
                report.entries_checked += len(entries)
                report.transitions_recorded += await self.recorder.record_missing(transitions)
                await self.outbox.advance(entries[-1].entry_id)
                if len(entries) < BATCH:
                    break
            report.orphans_restored = await self._restore_orphans()
        finally:
            # release only our own lock (a pass that outlived the TTL must not drop another's)
            if await redis.get(self._lock_key) == token.encode():
                await redis.delete(self._lock_key)
        if report.transitions_recorded or report.orphans_restored:
            log.warning("queue record repaired", extra={"transitions": report.transitions_recorded,
                                                        "orphans": report.orphans_restored})
        return report

    async def _restore_orphans(self) -> int:
        cutoff = utcnow() - timedelta(seconds=self.settle_s)
        async with self.service.sessions() as session:
            rows = (await session.scalars(
                select(ServiceSession).where(
                    ServiceSession.state == "waiting", ServiceSession.created_at < cutoff,
                    # the signature of the join window: the ticket never produced a single event
                    ~exists().where(SessionEvent.session_id == ServiceSession.id)))).all()
        if not rows:
            return 0
        pipe = self.service.redis.pipeline(transaction=False)
        for row in rows:
            pipe.exists(self.service.queue.keys.ticket(row.id))
        present = await pipe.execute()
        restored = 0
        for row, live in zip(rows, present, strict=True):
            if not live and await self.service.restore_orphan(row):
                restored += 1
        return restored

    async def run(self, stop: asyncio.Event, interval_s: float = INTERVAL_S) -> None:
        """Run passes every `interval_s` until `stop` is set; failures are logged and retried."""
        await run_periodically(self.run_once, stop, interval_s, name="queue reconcile")


async def reconciler_context(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: the reconciler task of this process."""
    reconciler = QueueReconciler(app[QUEUE], settle_s=app[app_keys.SETTINGS].reconcile_settle_s)
    async with background(reconciler.run, name="queue reconciler"):
        yield
