"""Reconnect delays of the simulated clients: the same rule as the browsers' (web/static/common/backoff.js).

Exponential backoff with full jitter: retry n waits uniform(0, min(cap, base * 2^n)) seconds; after
an admission refusal (close 1013, `retry_after_ms`) at least the server's hint first.
"""

from __future__ import annotations

import random


def reconnect_delay_s(attempt: int, base_s: float, cap_s: float, retry_after_s: float = 0.0,
                      rng: random.Random | None = None) -> float:
    """Seconds to wait before reconnect attempt `attempt` (0 for the first retry)."""
    ceiling = min(cap_s, base_s * 2 ** min(attempt, 30))
    return max(0.0, retry_after_s) + (rng or random).uniform(0, ceiling)
