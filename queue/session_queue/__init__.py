"""静邻帮办 queue engine: skill-routed, fair kiosk queue with atomic Redis Lua scripts.

See docs/queue.md for states, routing rules and settings.
"""

from session_queue.engine import SessionQueue, Sink
from session_queue.events import QueueEvent, parse_event
from session_queue.keys import DEFAULT_PREFIX, KEY_PARTS, Keys
from session_queue.models import (
    CASEWORKER_STATES,
    FINAL_TICKET_STATES,
    KIOSK_TICKET_STATES,
    OPEN_TICKET_STATES,
    TICKET_STATES,
    WAITING_TICKET_STATES,
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

__all__ = [
    "CASEWORKER_STATES",
    "DEFAULT_PREFIX",
    "FINAL_TICKET_STATES",
    "KEY_PARTS",
    "KIOSK_TICKET_STATES",
    "OPEN_TICKET_STATES",
    "TICKET_STATES",
    "WAITING_TICKET_STATES",
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
    "parse_event",
]
