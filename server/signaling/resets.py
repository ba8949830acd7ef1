"""Signing connected caseworkers in to the queue again after Redis lost its state.

A rebuild restores tickets but not caseworker states; a console whose socket stayed open would
otherwise sit "available" while the queue has forgotten it. Each process watches the queue's epoch
marker and, when it changes, signs its own caseworkers in again with the status they last asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.exceptions import RedisError
from session_queue import QueueError
from sqlalchemy.exc import SQLAlchemyError

from server.protocol.addresses import CASEWORKER_PREFIX, id_of
from server.queueing.service import QueueService
from server.signaling.connection import Connection
from server.signaling.hub import Hub

log = logging.getLogger(__name__)


async def watch_queue_resets(hub: Hub, queue: QueueService, stop: asyncio.Event, interval_s: float = 1.0) -> None:
    """Poll the epoch marker until stopped; sign this process's caseworkers in again when it changes."""
    seen: bytes | str | None = None
    while not stop.is_set():
        try:
            epoch = await hub.redis.get(queue.queue.keys.epoch)
            if epoch is None:
                await queue.rebuild_from_database()
                epoch = await hub.redis.get(queue.queue.keys.epoch)
            if seen is not None and epoch is not None and epoch != seen:
                await _sign_in_again(hub, queue)
            seen = epoch if epoch is not None else seen
        except (RedisError, OSError, SQLAlchemyError, QueueError) as exc:
            log.warning("queue reset watch failed", extra={"error": type(exc).__name__})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)


async def _sign_in_again(hub: Hub, queue: QueueService) -> None:
    for key, connections in list(hub.local.items()):
        if not key.startswith(CASEWORKER_PREFIX):
            continue
        connection = next((c for c in connections if c.desired_status), None)
        if connection is not None and connection.skills and connection.street_id is not None:
            await _sign_in(queue, id_of(key), connection)


async def _sign_in(queue: QueueService, cw: str, connection: Connection) -> None:
    if await queue.queue.caseworker(cw) is not None:
        return
    await queue.sign_in(cw, str(connection.street_id), connection.skills,
                        available=connection.desired_status == "available", reason=connection.desired_reason)
    log.info("caseworker signed in to the queue again after a reset", extra={"caseworker_id": cw})
