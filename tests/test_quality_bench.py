"""The quality benchmark's per-desk tables run and print a row per desk kind (scripts/bench/quality_bench.py).

The numbers themselves are the benchmark's to report on a quiet machine (docs/quality.md); here
only that both tables, the live one and the stills' (what `jinglin quality` times), come out whole.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.quality_fixtures.world import DESKS

ROOT = Path(__file__).resolve().parents[1]


def test_the_desk_tables_have_a_row_per_desk_kind() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench" / "quality_bench.py"), "--desks-only", "--stills",
         "--per-desk", "2", "--repeat", "1", "--resolution", "640x480"],
        capture_output=True, text=True, timeout=600, check=True,
    )
    rows = [line for line in done.stdout.splitlines() if line.startswith("| 640x480 |")]
    assert len(rows) == 2 * len(DESKS), done.stdout
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[1] in DESKS
        median, ratio, p90, baseline = float(cells[2]), float(cells[3].rstrip("x")), float(cells[4]), float(cells[6])
        assert 0 < median <= p90 and baseline > 0 and ratio > 0, row
    assert "stills (analyse_document on BGR, as jinglin quality)" in done.stdout
