"""Reconnect delays of the simulated clients: the same rule as the browsers' (web/static/common/backoff.js).

Exponential backoff with full jitter: retry n waits uniform(0, min(cap, base * 2^n)) seconds. After
an admission refusal (close 1013, `retry_after_ms`) the server's hint is a return slot of its own
(docs/protocol.md "Admission"): the client waits the hint plus uniform(0, base), and does not grow
the jitter, which would only push it past the slot it was given.
"""

from __future__ import annotations

import random


def reconnect_delay_s(attempt: int, base_s: float, cap_s: float, retry_after_s: float = 0.0,
                      rng: random.Random | None = None) -> float:
    """Seconds to wait before reconnect attempt `attempt` (0 for the first retry)."""
    draw = (rng or random).uniform
    if retry_after_s > 0:
        return retry_after_s + draw(0, min(cap_s, base_s))
    return draw(0, min(cap_s, base_s * 2 ** min(attempt, 30)))
