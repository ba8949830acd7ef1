"""What the simulation observed: one record per requested session, offers held, errors; the report."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from typing import Any

DropPlan = tuple[str, str] | None  # (side "kiosk"/"caseworker", phase "wait"/"call")


@dataclass
class SessionRecord:
    """One requested session as the simulated kiosk and caseworkers saw it."""

    index: int
    drop: DropPlan = None
    drop_done: bool = False
    session_id: str | None = None
    joined_at: float | None = None
    setup_s: float | None = None  # accept of the completed call → first video frame on the kiosk
    kiosk_frames: int = 0
    caseworker_frames: int = 0
    outcome: str = "lost"  # completed / abandoned / cancelled / lost
    calls: int = 0
    ticket_at: float | None = None  # monotonic time the kiosk got its ticket
    completed_at: float | None = None  # monotonic time the kiosk saw `call_ended` `completed`
    timed_out: bool = False  # the kiosk gave up waiting (and cancelled) after session_timeout_s
    kiosk_video: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Ledger:
    """Shared by every simulated actor of one run (one event loop, so no locking)."""

    records: list[SessionRecord] = field(default_factory=list)
    by_session: dict[str, SessionRecord] = field(default_factory=dict)
    holders: dict[str, str] = field(default_factory=dict)
    accepts: dict[str, list[float]] = field(default_factory=dict)  # ticket → monotonic times of accepts
    double_assigned: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    chaos_refusals: dict[str, int] = field(default_factory=dict)  # refusals a chaos action explains
    welcome_without_ticket: int = 0  # failover welcomes that showed no ticket while the kiosk held one

    def hold(self, ticket_id: str, caseworker: str) -> None:
        """A caseworker was offered (or took) a ticket; a second concurrent holder is a double assignment."""
        holder = self.holders.get(ticket_id)
        if holder is not None and holder != caseworker:
            self.double_assigned.add(ticket_id)
            self.error(f"ticket {ticket_id} offered to {caseworker} while held by {holder}")
        self.holders[ticket_id] = caseworker

    def release(self, ticket_id: str, caseworker: str) -> None:
        """The caseworker no longer holds the ticket (withdrawn, rejected, ended, dropped)."""
        if self.holders.get(ticket_id) == caseworker:
            del self.holders[ticket_id]

    def release_all(self, caseworker: str) -> None:
        """A caseworker's connection dropped: the server requeues whatever it held."""
        for ticket_id in [t for t, h in self.holders.items() if h == caseworker]:
            del self.holders[ticket_id]

    def count_chaos_refusal(self, code: str) -> None:
        """A refusal that a killed process or a Redis restart explains (counted, not an error)."""
        self.chaos_refusals[code] = self.chaos_refusals.get(code, 0) + 1

    def error(self, text: str) -> None:
        """Record something that should not have happened."""
        self.errors.append(text)

    def describe(self) -> list[str]:
        """One line per requested session (for --verbose, on stderr)."""
        lines = []
        for r in self.records:
            accepts = self.accepts.get(r.session_id or "", [])
            waits = ", ".join(f"{(t - r.joined_at):.2f}s" for t in accepts if r.joined_at is not None)
            lines.append(f"session {r.index}: {r.outcome} id={r.session_id} drop={r.drop} calls={r.calls} "
                         f"accepts=[{waits}] setup={r.setup_s} frames kiosk={r.kiosk_frames} "
                         f"caseworker={r.caseworker_frames}")
        return lines

    def report(self) -> dict[str, Any]:
        """The `--json` object (docs/simulate.md)."""
        completed = [r for r in self.records if r.outcome == "completed"]
        return {
            "sessions_requested": len(self.records),
            "completed": len(completed),
            "abandoned": sum(r.outcome == "abandoned" for r in self.records),
            "lost": sum(r.outcome == "lost" for r in self.records),
            "double_assigned": len(self.double_assigned),
            "setup_ms": summary([r.setup_s for r in completed if r.setup_s is not None]),
            "wait_ms": summary([self.accepts[r.session_id][0] - r.joined_at for r in self.records
                                if r.session_id in self.accepts and r.joined_at is not None]),
            "frames_decoded_min": min((min(r.kiosk_frames, r.caseworker_frames) for r in completed), default=0),
            "errors": list(self.errors),
        }


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(seconds: list[float]) -> dict[str, float | None]:
    """p50, p95 and max in milliseconds (None when nothing was measured)."""
    if not seconds:
        return {"p50": None, "p95": None, "max": None}
    return {"p50": round(percentile(seconds, 50) * 1000, 1), "p95": round(percentile(seconds, 95) * 1000, 1),
            "max": round(max(seconds) * 1000, 1)}
