"""The keep-alive sweep: presence, kiosks' last-seen times and sign-in session checks, in batches.

Every connection is re-checked every HEARTBEAT_S: its presence is refreshed, a kiosk's
`last_seen_at` written, and the socket closed (4401) once its sign-in session is no longer valid
(expired, idle, revoked, account or kiosk disabled). One task per process does this for all its
connections: every SWEEP_TICK_S it takes the connections that are due and handles them together,
one database transaction and one Redis pipeline per BATCH connections. A task and a transaction
per connection cost the event loop a thread hand-off per query, which showed as relay latency.

Logout and `user disable` close sockets at once through the hub's notices (`Hub.close_sessions`);
this sweep is the backstop for what sends no notice (expiry, idle timeout, a kiosk disabled in the
database, a notice missed while Redis was away).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

from redis.exceptions import RedisError
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth.sessions import resolve_session_hashes
from server.db.models import Kiosk
from server.db.types import utcnow
from server.protocol.addresses import KIOSK
from server.signaling.connection import CLOSE_REVOKED, HEARTBEAT_S, Connection
from server.signaling.hub import Hub

log = logging.getLogger(__name__)

SWEEP_TICK_S = 1.0
# `ping` may come often: presence (TTL 45 s) and a kiosk's last_seen_at need not be refreshed as often.
# last_seen_at stands in for presence when Redis cannot be read (kiosk health: seen within 45 s =
# online), so with a heartbeat every 20 s a connected kiosk's row is never more than ~35 s old.
PRESENCE_TOUCH_EVERY_S = 5.0
LAST_SEEN_EVERY_S = 15.0
# Connections per transaction: bounds both the IN list and the event loop's time between awaits.
BATCH = 200


class KeepAlive:
    """Re-checks this process's connections; `run` is the background task."""

    def __init__(self, hub: Hub, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.hub = hub
        self.sessions = sessions
        # Kiosk id -> monotonic time its last_seen_at was last written (shared with `ping`'s throttle).
        self.last_seen_written: dict[int, float] = {}
        # Kiosks seen arriving or leaving since the last flush: their last_seen_at is written by the
        # next tick in one statement, not by each welcome and close (a reconnect storm's writes).
        self._seen: set[int] = set()

    def saw_kiosk(self, kiosk_id: int) -> None:
        """A kiosk connected or disconnected just now: write its last_seen_at with the next tick."""
        self._seen.add(kiosk_id)

    async def flush_seen(self) -> None:
        """Write last_seen_at of the kiosks seen since the last flush, in one UPDATE."""
        if not self._seen:
            return
        ids, self._seen = self._seen, set()
        try:
            async with self.sessions() as session, session.begin():
                ordered, stamp = sorted(ids), utcnow()
                for start in range(0, len(ordered), BATCH):
                    chunk = ordered[start:start + BATCH]
                    await session.execute(update(Kiosk).where(Kiosk.id.in_(chunk)).values(last_seen_at=stamp))
        except BaseException:
            self._seen |= ids  # tried again with the next tick
            raise
        now = time.monotonic()
        for kiosk_id in ids:
            self.last_seen_written[kiosk_id] = now

    async def heartbeat(self, connection: Connection) -> None:
        """Keep the connection's presence fresh on `ping` (the sweep does so every interval).

        Cheap enough for a client that pings often: presence is refreshed at most every
        PRESENCE_TOUCH_EVERY_S per connection, and a kiosk's `last_seen_at` at most every
        LAST_SEEN_EVERY_S, by the next tick's one UPDATE for every kiosk seen (`saw_kiosk`):
        a transaction per ping was the largest cost of a city's 240 pings a second, and one
        SQLite write per ping made writers queue up."""
        now = time.monotonic()
        if now - connection.presence_touched_at >= PRESENCE_TOUCH_EVERY_S:
            await self.hub.presence.touch(connection.key, connection.id)
            connection.presence_touched_at = now
        kiosk_id = connection.principal.kiosk_id
        if connection.principal.role == KIOSK and kiosk_id is not None:
            if now - self.last_seen_written.get(kiosk_id, -LAST_SEEN_EVERY_S) < LAST_SEEN_EVERY_S:
                return
            self.last_seen_written[kiosk_id] = now
            self.saw_kiosk(kiosk_id)

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep every SWEEP_TICK_S until stopped; an unavailable Redis or database skips a turn."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), SWEEP_TICK_S)
            if stop.is_set():
                with contextlib.suppress(RedisError, OSError, SQLAlchemyError):
                    await self.flush_seen()
                return
            try:
                await self.flush_seen()
                await self.sweep()
            except (RedisError, OSError, SQLAlchemyError) as exc:
                # As with a failed check before: sockets stay open, the next turn tries again.
                log.warning("keep-alive sweep failed", extra={"error": type(exc).__name__})

    def due(self, now: float) -> list[Connection]:
        """Open connections whose check is due, each moved on to its next turn."""
        due = [c for cs in self.hub.local.values() for c in cs if c.check_due_at <= now and not c.ws.closed]
        for connection in due:
            connection.check_due_at = now + HEARTBEAT_S
        return due

    async def sweep(self, now: float | None = None) -> None:
        """Check every connection that is due (all of them when `now` is +inf)."""
        due = self.due(time.monotonic() if now is None else now)
        for start in range(0, len(due), BATCH):
            await self.check(due[start:start + BATCH])
            await asyncio.sleep(0)  # let relayed messages through between batches

    async def check(self, connections: Sequence[Connection]) -> None:
        """Close the connections whose sign-in session ended; refresh the others' presence."""
        valid = await self._valid_sessions(connections)
        live = []
        for connection in connections:
            if connection.principal.token_hash in valid:
                live.append(connection)
            else:
                await connection.ws.close(code=CLOSE_REVOKED, message=b"session ended")
        await self.hub.presence.touch_many((c.key, c.id) for c in live)
        now = time.monotonic()
        for connection in live:
            connection.presence_touched_at = now

    async def _valid_sessions(self, connections: Sequence[Connection]) -> set[str]:
        """Token hashes among these connections' whose sessions are live, in one transaction.

        Kiosks with a live session get their last_seen_at written in the same transaction."""
        hashes = {c.principal.token_hash for c in connections}
        async with self.sessions() as session, session.begin():
            live = await resolve_session_hashes(session, hashes)
            kiosk_ids = {p.kiosk_id for p in live.values() if p.kiosk_id is not None}
            if kiosk_ids:
                stamp, now = utcnow(), time.monotonic()
                await session.execute(update(Kiosk).where(Kiosk.id.in_(kiosk_ids)).values(last_seen_at=stamp))
                for kiosk_id in kiosk_ids:
                    self.last_seen_written[kiosk_id] = now
        return set(live)
