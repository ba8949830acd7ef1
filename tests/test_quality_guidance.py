"""Guidance text and the live auto-capture tracker."""

from __future__ import annotations

from typing import get_args

import numpy as np

from server.quality import LiveGuidance, analyse_luma, guidance_text
from server.quality.guidance import CAPTURING, HOLD_STILL
from server.quality.metrics import to_gray
from server.quality.result import REASON_PRIORITY, Reason
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
