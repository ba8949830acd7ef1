"""Typed values crossing the engine's boundary: settings, ticket specs, records, errors."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

TICKET_STATES: tuple[str, ...] = (
    "waiting", "offered", "in_call", "wrap_up", "done", "cancelled", "abandoned", "requeued"
)
CASEWORKER_STATES: tuple[str, ...] = ("offline", "available", "offered", "in_call", "wrap_up", "break")
# Ticket states grouped by what they mean to the rest of the system (one definition for all).
WAITING_TICKET_STATES = frozenset({"waiting", "offered", "requeued"})  # in line, no caseworker holds it
KIOSK_TICKET_STATES = WAITING_TICKET_STATES | {"in_call"}  # still the resident's at the kiosk
OPEN_TICKET_STATES = KIOSK_TICKET_STATES | {"wrap_up"}  # the live queue still holds it
FINAL_TICKET_STATES = frozenset({"done", "cancelled", "abandoned"})  # nothing more happens to it


def _default_weights() -> dict[str, float]:
    return {"normal": 0, "elderly": 300, "disabled": 300, "appointment": 600}


@dataclass(frozen=True)
class QueueConfig:
    """Queue settings; every field is documented in docs/queue.md."""

    offer_timeout_s: float = 20
    kiosk_grace_s: float = 120
    wrap_up_s: float = 30
    widen_after_s: float = 300
    # head start in seconds per priority class: score = created - weight (aging built in)
    priority_weights: dict[str, float] = field(default_factory=_default_weights)
    handle_window: int = 50
    default_handle_s: float = 600
    # how many queue heads a routing step looks at to skip declined tickets / caseworkers
    routing_scan: int = 16
    # how long a finished ticket stays readable (late messages get wrong_state, not unknown)
    finished_ttl_s: int = 6 * 3600
    # approximate cap on the outbox stream (entries), in case no reconciler trims it
    outbox_max_entries: int = 200_000

    def __post_init__(self) -> None:
        for name in ("offer_timeout_s", "kiosk_grace_s", "wrap_up_s", "widen_after_s", "default_handle_s"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"QueueConfig.{name} must be a finite number >= 0, got {value!r}")
        if min(self.handle_window, self.routing_scan, self.finished_ttl_s, self.outbox_max_entries) < 1:
            raise ValueError("QueueConfig.handle_window, routing_scan, finished_ttl_s and outbox_max_entries "
                             "must be >= 1")
        if "normal" not in self.priority_weights:
            raise ValueError("QueueConfig.priority_weights needs a 'normal' class")

    def weight_ms(self, priority: str) -> int:
        """Head start of a priority class in milliseconds; unknown classes are refused."""
        try:
            return round(self.priority_weights[priority] * 1000)
        except KeyError:
            raise QueueError("invalid_argument", f"unknown priority class {priority!r}") from None


class QueueError(Exception):
    """An operation was refused; `code` is stable and maps to a protocol error."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


@dataclass(frozen=True, kw_only=True)
class TicketSpec:
    """What the server knows when a resident joins: ids come from the database session."""

    id: str
    kiosk_id: str
    street_id: str
    matter_id: str
    skill: str
    priority: str = "normal"
    created_at: float | None = None  # defaults to the engine clock


@dataclass(frozen=True, kw_only=True)
class TicketRecord(TicketSpec):
    """An open session read from the database, for `SessionQueue.rebuild`."""

    state: str
    fence: int = 0
    created_at: float  # required here: order is rebuilt from it


@dataclass(frozen=True, kw_only=True)
class Transition:
    """One state change (or noted event) of a ticket or a caseworker.

    `entity` is "ticket" or "caseworker". Ticket records carry the new `fence`; caseworker records
    have `fence` None (an offer record's `extra` holds the ticket's fence). `from_state` equals
    `to_state` for notes that are not state changes (kiosk_disconnected, kiosk_reconnected,
    widened).
    """

    entity: str
    ticket_id: str | None
    caseworker_id: str | None
    from_state: str | None
    to_state: str
    kind: str
    actor: str
    fence: int | None
    ts: float
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> Transition:
        """Build from one element of a script result or pub/sub message."""
        extra = item.get("extra")
        # on the hot path of every call: fill the instance dict at once instead of the frozen
        # __init__'s one object.__setattr__ per field (same object, about 2.5x faster)
        obj = object.__new__(cls)
        obj.__dict__.update(
            entity=item["entity"],
            ticket_id=item.get("ticket_id"),
            caseworker_id=item.get("caseworker_id"),
            from_state=item.get("from_state"),
            to_state=item["to_state"],
            kind=item["kind"],
            actor=item["actor"],
            fence=item.get("fence"),
            ts=float(item["ts"]),
            extra=extra if isinstance(extra, dict) else {},
        )
        return obj


@dataclass(frozen=True)
class Position:
    """Place in line (1 = next) and estimated wait of a waiting ticket; None when not waiting.

    `est_wait_s` is None when no caseworker with the skill is logged in.
    """

    ticket_id: str
    state: str | None
    position: int | None
    est_wait_s: float | None
    eligible_caseworkers: int | None
    avg_handle_s: float | None


@dataclass(frozen=True)
class TicketStatus:
    """A ticket as the live queue holds it."""

    id: str
    kiosk_id: str
    street_id: str
    matter_id: str
    skill: str
    priority: str
    created_at: float
    state: str
    fence: int
    caseworker_id: str | None
    widened: bool
    kiosk_gone: bool
    # When the current (or last) offer of the ticket lapses, on the engine's clock; None before any.
    offer_deadline: float | None = None


@dataclass(frozen=True)
class CaseworkerStatus:
    """A caseworker as the live queue holds them."""

    id: str
    street_id: str
    skills: tuple[str, ...]
    state: str
    ticket_id: str | None
    reason: str | None
    since: float


@dataclass(frozen=True)
class LiveFigures:
    """Supervisor figures, computed in O(skills + streets)."""

    waiting_by_skill: dict[str, int]
    waiting_by_street: dict[str, int]
    longest_wait_s: float | None
    longest_wait_by_skill: dict[str, float]
    caseworkers_by_state: dict[str, int]
    tickets_by_state: dict[str, int]
    eligible_by_skill: dict[str, int]
