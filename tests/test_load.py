"""The load run in its CI size (docs/reliability.md "Load run").

All 249 demo kiosks and 40 caseworkers (and 2 supervisors) connected over WebSockets to a real
server process; residents arrive at 30x the district's peak for a minute (about 25 sessions), so
that every API is exercised many times. The full run is 10 minutes at 5x peak.

The goal "p95 of every API under 100 ms" is the full run's, proven by the benchmark
(scripts/bench/load.py, docs/reliability.md) on a quiet machine. This short form runs the 291-client
load generator on the same two cores at six times the full run's arrival rate, on a CI machine that
may be busy with other work: it holds the run to no errors, every arrival served and flat memory,
and every API's p95 under 1.5 s, a guard against stalls (a lock held across awaits, a blocking call
on the loop), not a latency goal: timings of a shared machine are too noisy for that.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HARD_TIMEOUT_S = 420
CI_P95_MS = 1500


@pytest.mark.timeout(HARD_TIMEOUT_S + 30)  # above the suite's default, so the run's own limit applies
def test_load_run_has_no_errors_fast_apis_and_flat_memory() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench" / "load.py"), "--duration-s", "60", "--ramp-s", "20",
         "--multiplier", "30", "--hold-s", "3", "--p95-ms", str(CI_P95_MS), "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=HARD_TIMEOUT_S, check=False)
    assert done.stdout.strip(), done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    summary = {k: v for k, v in report.items() if k != "apis"}
    assert report["kiosks"] == 249 and report["caseworkers"] == 40, summary
    assert report["arrivals"] >= 12, summary  # ~25 expected: the run really carried sessions
    assert report["error_count"] == 0, summary
    assert report["served"] == report["arrivals"] == report["rated"], summary
    assert report["signals_relayed"] >= 4 * report["served"], summary
    expected = {"POST /api/v1/kiosk/session", "POST /api/v1/auth/login", "ws hello→welcome", "ws join",
                "ws accept", "ws end_call", "ws rate", "ws ping", "GET /api/v1/matters", "GET /api/v1/stats/live",
                "GET /api/v1/me/sessions"}
    assert expected <= set(report["apis"]), report["apis"].keys()
    slow = {api: v for api, v in report["apis"].items() if v["p95_ms"] >= CI_P95_MS}
    assert not slow, slow
    assert report["memory"]["growth_after_warmup_mb"] <= 30, report["memory"]
    assert done.returncode == 0, report["missed"]
