"""The pub/sub side: every mutating script publishes its result on one channel.

Message (JSON, the same text the script returns):
    {"ok": true, "transitions": [<transition>...], "moved": ["<skill>", ...], "result": ...}
`moved` lists the skills whose waiting order changed: a process holding kiosk connections then
asks `SessionQueue.positions()` for its own tickets of those skills in one round trip, instead of
the engine publishing one message per waiting ticket.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

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

