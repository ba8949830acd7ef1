"""静邻帮办 queue engine: skill-routed, fair kiosk queue with atomic Redis Lua scripts.

See docs/queue.md for states, routing rules and settings.
"""

from session_queue.engine import SessionQueue, Sink
from session_queue.events import QueueEvent, listen, parse_event
from session_queue.keys import DEFAULT_PREFIX, KEY_PARTS, Keys
from session_queue.models import (
    CASEWORKER_STATES,
    TICKET_STATES,
    CaseworkerStatus,
    LiveFigures,
    Position,
    QueueConfig,
    QueueError,
    TicketRecord,
    TicketSpec,
    TicketStatus,
    Transition,
)
from session_queue.outbox import Outbox, OutboxEntry
from session_queue.timer import run_timer

__all__ = [
    "CASEWORKER_STATES",
    "DEFAULT_PREFIX",
    "KEY_PARTS",
    "TICKET_STATES",
    "CaseworkerStatus",
    "Keys",
    "LiveFigures",
    "Outbox",
    "OutboxEntry",
    "Position",
    "QueueConfig",
    "QueueError",
    "QueueEvent",
    "SessionQueue",
    "Sink",
    "TicketRecord",
    "TicketSpec",
    "TicketStatus",
    "Transition",
    "listen",
    "parse_event",
    "run_timer",
]
