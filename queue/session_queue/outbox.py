"""The outbox: every script's transitions, kept in a Redis stream until the database has them.

A mutating script appends its result to the stream in the same atomic step as the queue change
(includes/common.lua, `finish`). The normal path records transitions right after the script
returns (the engine's sink); the outbox covers the gap where a process dies in between. A
reconciler reads entries older than a settling delay, records whatever the database lacks and
moves a mark past them, then trims the stream up to the mark.

Entries carry the script result JSON in field `d`; the stream id's first part is Redis time in ms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from redis.asyncio import Redis

from session_queue.keys import DEFAULT_PREFIX, Keys
from session_queue.models import Transition

_START = "0-0"


@dataclass(frozen=True)
class OutboxEntry:
    """One script call's transitions, with the stream id that orders it."""

    entry_id: str
    transitions: list[Transition]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Outbox:
    """Reads and trims the outbox stream of one key prefix."""

    def __init__(self, redis: Redis, prefix: str = DEFAULT_PREFIX) -> None:
        self.redis = redis
        self.keys = Keys(prefix)

    async def mark(self) -> str:
        """The stream id up to which entries have been reconciled ("0-0" at first)."""
        value = await self.redis.get(self.keys.outbox_mark)
        return _text(value) if value else _START

    async def pending(self, older_than_ms: int, count: int = 500) -> list[OutboxEntry]:
        """Up to `count` entries after the mark written at least `older_than_ms` ago (Redis time)."""
        seconds, micros = await self.redis.time()
        cutoff_ms = int(seconds) * 1000 + int(micros) // 1000 - older_than_ms
        if cutoff_ms <= 0:
            return []
        rows = await self.redis.xrange(self.keys.outbox, min=f"({await self.mark()}", max=str(cutoff_ms),
                                       count=count)
        entries = []
        for entry_id, fields in rows or ():
            raw = (fields or {}).get(b"d") or (fields or {}).get("d")
            if entry_id is None or raw is None:
                continue
            body = json.loads(raw)
            entries.append(OutboxEntry(_text(entry_id),
                                       [Transition.from_json(t) for t in body.get("transitions") or ()]))
        return entries

    async def advance(self, entry_id: str) -> None:
        """Move the mark to `entry_id` and drop the entries up to it (never moves the mark back)."""
        if _id_tuple(entry_id) <= _id_tuple(await self.mark()):
            return
        await self.redis.set(self.keys.outbox_mark, entry_id)
        # MINID keeps entries >= the id; the marked entry itself is one short entry, harmless.
        await self.redis.xtrim(self.keys.outbox, minid=entry_id, approximate=False)

    async def length(self) -> int:
        """Entries currently in the stream (for metrics and tests)."""
        return int(await self.redis.xlen(self.keys.outbox))


def _id_tuple(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
