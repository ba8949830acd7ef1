"""The service clock: real time, or a fixed start that runs on (JINGLIN_CLOCK_START, for tests and demos).

Only what the working calendar decides reads this clock (open or closed, next opening, availability,
follow-up due dates); queue timers and records keep real time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class ServiceClock:
    """`now()` is real time shifted so that the clock read `start` when it was made."""

    def __init__(self, start: datetime | None = None) -> None:
        self._shift = (start - datetime.now(UTC)) if start is not None else timedelta(0)

    def now(self) -> datetime:
        """The current service time, aware UTC."""
        return datetime.now(UTC) + self._shift
