"""The per-process timer task. Several processes may run it at once: the tick script removes each
due entry and re-checks its ticket or caseworker, so every timeout fires exactly once."""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError

from session_queue.engine import SessionQueue
from session_queue.models import QueueError

log = logging.getLogger(__name__)


async def run_timer(queue: SessionQueue, interval_s: float = 1.0) -> None:
    """Tick every `interval_s` until cancelled; Redis hiccups are logged, not fatal.

    A `needs_rebuild` refusal is logged too: the server's rebuild path owns that recovery.
    """
    while True:
        try:
            await queue.tick()
        except QueueError as exc:
            log.warning("queue tick refused: %s", exc.code)
        except (RedisError, OSError) as exc:
            log.warning("queue tick failed: %s", exc)
        await asyncio.sleep(interval_s)
