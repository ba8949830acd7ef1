"""Erlang C against textbook values.

The classic worked example (Call Centre Helper, "Erlang C formula – made simple"; the same numbers
appear in most workforce-management primers): 100 calls in 30 minutes, 180 s average handle time,
target 80 % answered within 20 s. Traffic A = 100/1800 × 180 = 10 Erlangs.

    agents  P(wait)  SL(20 s)  ASA
    11      68.21 %  39.0 %    122.8 s
    12      44.94 %  64.0 %     40.4 s
    13      28.53 %  79.6 %     17.1 s
    14      17.41 %  88.8 %      7.8 s
so 14 agents are needed for 80/20 (13 fall just short at 79.6 %).
"""

from __future__ import annotations

import math

import pytest

from server.reports.erlang import agents_needed, average_speed_of_answer, erlang_b, erlang_c, service_level

RATE = 100 / 1800
AHT = 180.0


@pytest.mark.parametrize(("agents", "p_wait", "sl", "asa"), [
    (11, 0.6821, 0.3896, 122.8), (12, 0.4494, 0.6402, 40.4), (13, 0.2853, 0.7956, 17.1), (14, 0.1741, 0.8884, 7.8),
])
def test_textbook_example(agents: int, p_wait: float, sl: float, asa: float) -> None:
    assert erlang_c(agents, 10.0) == pytest.approx(p_wait, abs=5e-5)
    assert service_level(agents, RATE, AHT, 20) == pytest.approx(sl, abs=5e-5)
    assert average_speed_of_answer(agents, RATE, AHT) == pytest.approx(asa, abs=0.05)


def test_agents_needed_for_target() -> None:
    assert agents_needed(RATE, AHT, 20, 0.8) == 14
    assert agents_needed(RATE, AHT, 20, 0.79) == 13
    assert agents_needed(0.0, AHT, 20, 0.8) == 0


def test_closed_forms() -> None:
    # Erlang B(5, 3) = (3^5/5!) / sum_{k<=5} 3^k/k! = 0.110054 (standard table value).
    assert erlang_b(5, 3.0) == pytest.approx(0.110054, abs=1e-6)
    # M/M/2 at rho = 0.5: P(wait) = 2 rho^2 / (1 + rho) = 1/3.
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    # M/M/1: P(wait) = rho, SL(t) = 1 - rho e^{-(mu - lambda) t}.
    assert service_level(1, 0.5 / 60, 60, 30) == pytest.approx(1 - 0.5 * math.exp(-0.5 * 30 / 60))


def test_overload_and_large_numbers() -> None:
    assert erlang_c(10, 10.0) == 1.0
    assert service_level(10, 10 / 180, 180, 20) == 0.0
    assert average_speed_of_answer(10, 10 / 180, 180) == math.inf
    # The recurrence stays finite and sane where factorials would overflow a float.
    assert 0 < erlang_c(400, 380.0) < 1
    with pytest.raises(ValueError):
        agents_needed(RATE, AHT, 20, 1.0)
