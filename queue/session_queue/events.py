"""The pub/sub side: every mutating script publishes its result on one channel.

Message (JSON, the same text the script returns):
    {"ok": true, "transitions": [<transition>...], "moved": ["<skill>", ...], "result": ...}
`moved` lists the skills whose waiting order changed: a process holding kiosk connections then
asks `SessionQueue.positions()` for its own tickets of those skills in one round trip, instead of
the engine publishing one message per waiting ticket.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

from redis.asyncio import Redis

from session_queue.keys import DEFAULT_PREFIX, Keys
from session_queue.models import Transition


@dataclass(frozen=True)
class QueueEvent:
    """One published message: the transitions of one operation and the skills that moved."""

    transitions: list[Transition]
    moved_skills: list[str]


def parse_event(data: bytes | str) -> QueueEvent:
    """Decode one message from the events channel."""
    body = json.loads(data)
    return QueueEvent(
        transitions=[Transition.from_json(item) for item in body.get("transitions") or ()],
        moved_skills=list(body.get("moved") or ()),
    )


async def listen(redis: Redis, prefix: str = DEFAULT_PREFIX) -> AsyncIterator[QueueEvent]:
    """Yield events published by every process until cancelled (unsubscribes on exit)."""
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(Keys(prefix).channel)
    try:
        async for message in pubsub.listen():
            if message["type"] == "message":
                yield parse_event(message["data"])
    finally:
        await pubsub.aclose()
