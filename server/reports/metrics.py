"""Queue measures computed from session rows: pure functions, no database, no clock.

Definitions (docs/measurements.md, "The district"; docs/supervisor.md spells out the choices):
- offered: every ticket that entered the queue (one session row).
- answered: a caseworker accepted it at least once (`answered_at` set). A requeued ticket is
  answered once, and its wait is the wait until that first answer.
- abandoned: left the queue without ever being answered: given up by the resident (`cancelled`) or
  gone past the kiosk grace period (`abandoned`). Both are residents the queue lost, which is what
  contact-centre abandonment measures; `cancelled` is also reported on its own.
- wait: answered → answered_at - created_at; abandoned → closed_at - created_at. avg/p90/max wait
  cover both (an abandoned resident's wait is part of the experience); `avg_answer_wait_s` is
  the classic ASA over answered tickets only.
- handle: ended_at - answered_at of answered sessions that were ended by the caseworker.
- SL = answered with wait <= threshold / answered;
  SL2 = (answered + abandoned with wait <= threshold) / (answered + abandoned).
  "Within the threshold" includes exactly the threshold.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from session_queue import WAITING_TICKET_STATES

# States in which a ticket left the queue without service.
UNANSWERED_EXITS = frozenset({"cancelled", "abandoned"})
# States of a ticket still in the queue (not yet answered or still being served).
RATING_SCORES = (5, 4, 3, 2, 1)


@dataclass(frozen=True)
class SessionFacts:
    """The fields of one session that the measures need (a row, flattened)."""

    created_at: datetime
    state: str
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str | None = None
    rating: int | None = None


def is_answered(s: SessionFacts) -> bool:
    """A caseworker accepted the ticket at least once."""
    return s.answered_at is not None


def is_abandoned(s: SessionFacts) -> bool:
    """The ticket left the queue without ever being answered."""
    return s.answered_at is None and s.state in UNANSWERED_EXITS


def wait_s(s: SessionFacts) -> float | None:
    """Seconds in the queue: to the first answer, or to leaving for abandoned tickets; None if open."""
    if s.answered_at is not None:
        return (s.answered_at - s.created_at).total_seconds()
    if is_abandoned(s) and s.closed_at is not None:
        return (s.closed_at - s.created_at).total_seconds()
    return None


def handle_s(s: SessionFacts) -> float | None:
    """Seconds from answer to the end of the call; None when not answered or not (properly) ended."""
    if s.answered_at is None or s.ended_at is None or s.state in UNANSWERED_EXITS:
        # An answered ticket that later dropped out (requeued, then the kiosk left) has no
        # meaningful handle time: the call did not end normally.
        return None
    return (s.ended_at - s.answered_at).total_seconds()


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100): an observed value, as staffing reports quote it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


@dataclass
class Measures:
    """The measures of one group of sessions (see the module docstring for definitions)."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    cancelled: int = 0
    waiting: int = 0
    avg_wait_s: float | None = None
    p90_wait_s: float | None = None
    max_wait_s: float | None = None
    avg_answer_wait_s: float | None = None
    avg_handle_s: float | None = None
    answered_within: int = 0
    abandoned_within: int = 0
    sl: float | None = None
    sl2: float | None = None
    outcomes: dict[str, int] = field(default_factory=dict)
    ratings: dict[str, int] = field(default_factory=dict)
    rated: int = 0
    avg_rating: float | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready values (seconds rounded to 0.1 s, ratios to 4 places)."""
        def r1(v: float | None) -> float | None:
            return None if v is None else round(v, 1)

        def r4(v: float | None) -> float | None:
            return None if v is None else round(v, 4)

        return {
            "offered": self.offered, "answered": self.answered, "abandoned": self.abandoned,
            "cancelled": self.cancelled, "waiting": self.waiting,
            "avg_wait_s": r1(self.avg_wait_s), "p90_wait_s": r1(self.p90_wait_s),
            "max_wait_s": r1(self.max_wait_s), "avg_answer_wait_s": r1(self.avg_answer_wait_s),
            "avg_handle_s": r1(self.avg_handle_s),
            "answered_within": self.answered_within, "abandoned_within": self.abandoned_within,
            "sl": r4(self.sl), "sl2": r4(self.sl2), "outcomes": dict(self.outcomes),
            "ratings": dict(self.ratings), "rated": self.rated, "avg_rating": r4(self.avg_rating),
        }


def measure(sessions: Iterable[SessionFacts], threshold_s: float) -> Measures:
    """All measures of a group of sessions for a service-level threshold in seconds."""
    m = Measures()
    waits: list[float] = []
    answer_waits: list[float] = []
    handles: list[float] = []
    outcomes: Counter[str] = Counter()
    ratings: Counter[int] = Counter()
    for s in sessions:
        m.offered += 1
        w = wait_s(s)
        if is_answered(s):
            m.answered += 1
            assert w is not None
            answer_waits.append(w)
            m.answered_within += w <= threshold_s
        elif is_abandoned(s):
            m.abandoned += 1
            m.cancelled += s.state == "cancelled"
            if w is not None:
                m.abandoned_within += w <= threshold_s
        elif s.state in WAITING_TICKET_STATES:
            m.waiting += 1
        if w is not None:
            waits.append(w)
        h = handle_s(s)
        if h is not None:
            handles.append(h)
        if s.outcome:
            outcomes[s.outcome] += 1
        if s.rating is not None:
            ratings[s.rating] += 1
    m.avg_wait_s = _mean(waits)
    m.p90_wait_s = percentile(waits, 90)
    m.max_wait_s = max(waits, default=None)
    m.avg_answer_wait_s = _mean(answer_waits)
    m.avg_handle_s = _mean(handles)
    m.sl = _ratio(m.answered_within, m.answered)
    m.sl2 = _ratio(m.answered_within + m.abandoned_within, m.answered + m.abandoned)
    m.outcomes = dict(sorted(outcomes.items()))
    m.ratings = {str(score): ratings.get(score, 0) for score in RATING_SCORES}
    m.rated = sum(ratings.values())
    m.avg_rating = _ratio(sum(k * v for k, v in ratings.items()), m.rated) if m.rated else None
    return m
