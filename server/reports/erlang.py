"""Erlang C (M/M/N queue): probability of waiting, service level, and staff needed for a target.

Traffic intensity A = arrival rate × average handle time (in Erlangs). With N agents (N > A):
    P(wait) = C(N, A) = N·B / (N - A·(1 - B)),  B = Erlang B(N, A)
    SL(T)   = 1 - C(N, A) · exp(-(N - A) · T / AHT)
    ASA     = C(N, A) · AHT / (N - A)
Erlang B is computed by its recurrence B(0)=1, B(n) = A·B(n-1) / (n + A·B(n-1)), which never
forms the factorials and powers of the textbook formula, so it stays exact at hundreds of agents.
"""

from __future__ import annotations

import math

# Enough for a whole city's hour; a request beyond this is a data error, not a staffing question.
MAX_AGENTS = 2000


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability of Erlang B for `agents` servers and `traffic` Erlangs."""
    if agents < 0 or traffic < 0:
        raise ValueError("agents and traffic must be >= 0")
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that an arrival has to wait; 1.0 when the agents cannot keep up (N <= A)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    b = erlang_b(agents, traffic)
    return agents * b / (agents - traffic * (1 - b))


def service_level(agents: int, arrivals_per_s: float, aht_s: float, threshold_s: float) -> float:
    """Share of arrivals answered within `threshold_s` with `agents` caseworkers."""
    traffic = arrivals_per_s * aht_s
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    return 1.0 - erlang_c(agents, traffic) * math.exp(-(agents - traffic) * threshold_s / aht_s)


def average_speed_of_answer(agents: int, arrivals_per_s: float, aht_s: float) -> float:
    """Mean wait in seconds over all arrivals (ASA); infinite when N <= A."""
    traffic = arrivals_per_s * aht_s
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c(agents, traffic) * aht_s / (agents - traffic)


def agents_needed(arrivals_per_s: float, aht_s: float, threshold_s: float, target_sl: float) -> int:
    """The smallest number of caseworkers whose service level reaches `target_sl` (0 with no traffic)."""
    if not 0 < target_sl < 1:
        raise ValueError("target_sl must be between 0 and 1 (exclusive)")
    traffic = arrivals_per_s * aht_s
    if traffic <= 0:
        return 0
    # Service level grows with N, so the first N above the traffic that reaches the target is it.
    agents = max(1, math.floor(traffic) + 1)
    while service_level(agents, arrivals_per_s, aht_s, threshold_s) < target_sl:
        agents += 1
        if agents > MAX_AGENTS:
            raise ValueError("traffic too high for a staffing estimate")
    return agents
