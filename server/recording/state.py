"""What a recording's record says: complete, partial (with the missing chunk indexes) or missing.

Pure functions, so the rules are tested without a server. Reasons are short codes (docs/recording.md):
`gap` (indexes missing at close), `not_closed` (the console never closed it: browser crash, lost
network at the end), `not_started` (no chunk and no close), `no_chunks`, or what the console sent
at close (`unsupported`, `consent_declined`, `disabled`, `recorder_error`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

STATES = ("recording", "complete", "partial", "missing")
CONSOLE_REASONS = ("unsupported", "consent_declined", "disabled", "recorder_error", "stopped_early")
# Naming every missing index of a huge gap helps nobody: the list is cut, the count stays right.
MAX_LISTED_MISSING = 1000


@dataclass(frozen=True)
class Verdict:
    """The state of a closed recording."""

    state: str
    reason: str = ""
    missing: list[int] = field(default_factory=list)


def verdict(stored: Iterable[int], declared: int, reason: str = "") -> Verdict:
    """Judge a recording at close from its stored indexes and the chunk count the console declared.

    The expected count is the larger of the declared count and the highest stored index + 1, so a
    console that under-declares cannot hide a stored chunk and one that over-declares names the gap."""
    indexes = set(stored)
    if not indexes:
        return Verdict("missing", reason or "no_chunks")
    expected = max(declared, max(indexes) + 1)
    missing = [i for i in range(expected) if i not in indexes]
    if missing:
        return Verdict("partial", "gap", missing[:MAX_LISTED_MISSING])
    if reason in ("recorder_error", "stopped_early"):
        return Verdict("partial", reason)
    return Verdict("complete")


def open_state(chunks: int, session_live: bool) -> Verdict:
    """The state of a recording the console has not closed (yet)."""
    if session_live:
        return Verdict("recording")
    return Verdict("partial", "not_closed") if chunks else Verdict("missing", "not_started")
