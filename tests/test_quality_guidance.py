"""Guidance text and the live auto-capture tracker."""

from __future__ import annotations

from typing import get_args

import cv2
import numpy as np

from server.quality import LiveGuidance, analyse_luma, guidance_text
from server.quality.guidance import CAPTURING, HOLD_STILL
from server.quality.metrics import to_gray
from server.quality.result import REASON_PRIORITY, Reason
from server.quality.thresholds import STILL_MAX_CHANGE
from server.quality.tracking import PageTracker
from tests.quality_fixtures import generate_samples


def test_every_reason_has_chinese_guidance() -> None:
    assert set(REASON_PRIORITY) == set(get_args(Reason))
    for reason in get_args(Reason):
        for mode in ("document", "camera"):
            text = guidance_text(reason, mode)
            assert text and any("\u4e00" <= ch <= "\u9fff" for ch in text)
    assert guidance_text("document_too_small") == "放近一些"
    assert guidance_text("blurry") == "请拿稳"
    assert guidance_text("blurry", "camera") == "请擦拭镜头"
    assert guidance_text("too_dark") == "光线太暗"


def _frames() -> tuple[np.ndarray, np.ndarray]:
    good, blurred = generate_samples(2, seed=11)
    return to_gray(good.image), to_gray(blurred.image)


def test_ready_after_n_steady_frames() -> None:
    good, _ = _frames()
    tracker = LiveGuidance(steady_frames=4)
    states = [tracker.update(analyse_luma(good)) for _ in range(4)]
    assert [s.ready for s in states] == [False, False, False, True]
    assert states[0].text == HOLD_STILL and states[-1].text == CAPTURING


def test_a_bad_frame_or_movement_restarts_the_count() -> None:
    good, blurred = _frames()
    tracker = LiveGuidance(steady_frames=3)
    tracker.update(analyse_luma(good))
    tracker.update(analyse_luma(good))
    state = tracker.update(analyse_luma(blurred))
    assert not state.ready and state.steady_frames == 0 and state.reason == "blurry"
    assert state.text == "请拿稳"
    moved = np.roll(good, 40, axis=1)  # the page jumps 40 px sideways
    tracker.update(analyse_luma(good))
    assert tracker.update(analyse_luma(moved)).steady_frames == 1
    tracker.reset()
    assert tracker.update(analyse_luma(good)).steady_frames == 1


def test_an_unchanged_picture_is_steady_whichever_outline_the_search_picks() -> None:
    good, _ = _frames()
    rng = np.random.default_rng(5)
    tracker = PageTracker()
    results, changes = [], []
    for index in range(3):
        frame = cv2.add(good, rng.integers(0, 3, good.shape, dtype=np.uint8))  # fresh sensor noise
        result = tracker.analyse(frame)
        assert result.ok
        # Every other frame the search takes a printed border 10% inside the page's edge.
        corners = np.asarray(result.metrics.document.corners)
        centre = corners.mean(axis=0)
        result.metrics.document.corners = (centre + (corners - centre) * (1 - 0.1 * (index % 2))).tolist()
        results.append(result)
        changes.append(tracker.change)
    assert changes[0] is None and all(c is not None and c <= STILL_MAX_CHANGE for c in changes[1:])
    unmoved = LiveGuidance(steady_frames=3)
    assert [unmoved.update(r, c).ready for r, c in zip(results, changes, strict=True)] == [False, False, True]
    # Judged by the corners alone, the outlines jump: no steady run.
    by_corners = LiveGuidance(steady_frames=3)
    assert not any(by_corners.update(r).ready for r in results)
    # The page moved 40 px: the picture changed, and the corners decide again.
    moved = tracker.analyse(np.roll(good, 40, axis=1))
    assert tracker.change is not None and tracker.change > STILL_MAX_CHANGE
    assert unmoved.update(moved, tracker.change).steady_frames == 1
    tracker.reset()
    tracker.analyse(good)
    assert tracker.change is None
