"""Auto-capture over a real VP8 stream: a steady good document is captured within 3 s.

Each of the test split's first good scenes is held steady in front of the camera (fresh sensor
noise every frame) and sent as a real-time VP8 stream at the scene's own bitrate, 15 frames/s for
3 s. As the capture peer does, every third decoded frame (5 frames/s) goes through one
PageTracker and one LiveGuidance, reading the Y plane and the U/V planes; the scene counts when guidance is ready
by the end of the stream. (The browser path, Chromium's fake camera to the kiosk's peer, adds
the network and Chromium's own encoder; this checks the analysis side of it with the codec.)
"""

from __future__ import annotations

import numpy as np
import pytest

from server.quality import LiveGuidance, PageTracker
from tests.quality_fixtures import codec
from tests.quality_fixtures.world import WorldSample, cached_world

FPS = 15
SECONDS = 3.0
SAMPLE_EVERY = 3  # 5 analysed frames a second
SCENES = 24
# Goal: >= 95% of steady good scenes captured within 3 s; measured 24/24 (the dark bank cards that
# were missed before are found by their colour, read from the U/V planes). The floor leaves room
# for one scene, so a regression fails.
MIN_CAPTURED = 0.95

# Generation (VP8 included) and 24 streams take ~1-2 min on a quiet core; more under load.
pytestmark = pytest.mark.timeout(900)


def _seconds_to_ready(sample: WorldSample) -> float | None:
    """Seconds from the first frame until guidance is ready, or None within the stream."""
    assert sample.factors is not None
    rng = np.random.default_rng(7)
    frames = (codec.add_noise(sample.image, rng, 1.0) for _ in range(round(FPS * SECONDS)))
    tracker, guidance = PageTracker(), LiveGuidance()
    for index, decoded in enumerate(codec.vp8_stream(frames, sample.factors.bitrate, FPS)):
        if index % SAMPLE_EVERY:
            continue
        result = tracker.analyse(codec.luma(decoded), codec.chroma(decoded))
        if guidance.update(result, tracker.change).ready:
            return (index + 1) / FPS
    return None


@pytest.fixture(scope="module")
def good_scenes() -> list[WorldSample]:
    # Even indices are the good scenes: the first 2 x SCENES of the split (shared with
    # test_quality_world.py's cache when both run in one process).
    return [s for s in cached_world("test", 2 * SCENES) if s.expected == "ok"]


def test_steady_good_documents_are_captured_within_three_seconds(good_scenes: list[WorldSample]) -> None:
    times = {s.name: _seconds_to_ready(s) for s in good_scenes}
    missed = [name for name, seconds in times.items() if seconds is None]
    captured = 1 - len(missed) / len(times)
    print(f"captured within {SECONDS} s: {captured:.3f}; missed: {missed}")
    assert captured >= MIN_CAPTURED, missed
