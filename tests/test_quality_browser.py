"""Issue #19, live guidance over the kiosk's real VP8 stream: auto-capture within 3 s in Chromium.

The first six good scenes of the quality test split (1920x1080, 1280x720 and 640x480; a form, a
household register page, dark and light bank cards, a marriage certificate; wood, fabric,
clutter and a second card on the desk), each shown by Chromium's fake camera held still with fresh
sensor noise, each in its own call: from the caseworker's `capture_request` to the server's ready
guidance (auto-capture) must take at most 3 s (tests/autocapture_browser.py). The goal is >= 95%
of runs; with six scenes that is all of them. The whole test scenario over every good scene of the
split is scripts/bench/quality_browser.py (figures in docs/quality.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.autocapture_browser import good_scene_indices, run_scenes, summary
from tests.kiosk_harness import require_chromium, run_server

pytestmark = pytest.mark.browser

SAMPLE = good_scene_indices(12)  # the first six good scenes of the test split
MIN_SHARE = 0.95
# A miss needs no exact time: follow each scene a little past the goal only.
FOLLOW_S = 5.0


def test_auto_capture_fires_within_three_seconds_in_chromium(tmp_path: Path) -> None:
    require_chromium()
    with run_server(tmp_path) as server, sync_playwright() as playwright:
        timings = run_scenes(playwright, server, "test", SAMPLE, follow_s=FOLLOW_S)
    result = summary(timings)
    print(json.dumps({**result, "runs": [t.as_dict() for t in timings]}, ensure_ascii=False))
    assert not result["errors"], [t.error for t in timings if t.error]
    assert result["share_within_goal"] >= MIN_SHARE, result
