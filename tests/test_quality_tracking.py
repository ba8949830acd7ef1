"""Tracking the page between live frames agrees with the full search, and falls back to it.

`live_sequence` draws a synthetic live sequence (also used by scripts/bench/quality_bench.py): a
document from the quality fixtures held over a desk, drifting, turning and shaking a little from
frame to frame, knocked once, then slid out of the picture and back in at another place.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
import pytest

from server.quality import analyse_luma
from server.quality.metrics import to_gray
from server.quality.result import QualityResult
from server.quality.thresholds import TRACK_SEARCH_EVERY
from server.quality.tracking import PageTracker, analyse_live
from tests.quality_fixtures import scenes
from tests.quality_fixtures.documents import RENDERERS

# Frame indices (of 60) of the scripted events; the rest is a page held for capture.
_KNOCK = 9  # a sudden jolt of ~40 px (at 1280 wide): more than tracking accepts
_LEAVE = range(20, 24)  # slid out to one side, cut off on the way
_GONE = range(24, 28)  # desk only
_RETURN = range(28, 32)  # slid back in, to another place


@dataclass(frozen=True)
class LiveFrame:
    """One frame of a live sequence: the Y plane and what the page does in it."""

    y: np.ndarray
    event: str  # held (drifting and shaking), knock, leave, gone or return


def _event(index: int) -> str:
    for name, frames in (("leave", _LEAVE), ("gone", _GONE), ("return", _RETURN)):
        if index in frames:
            return name
    return "knock" if index == _KNOCK else "held"


def _turn(corners: np.ndarray, angle_deg: float, offset: np.ndarray) -> np.ndarray:
    """corners turned about their centre by angle_deg and moved by offset."""
    centre = corners.mean(axis=0)
    a = np.deg2rad(angle_deg)
    rotation = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return ((corners - centre) @ rotation.T + centre + offset).astype(np.float32)


def _motion(frames: int, rng: np.random.Generator, w: int) -> Iterator[tuple[np.ndarray, float] | None]:
    """Per frame: (offset in pixels, turn in degrees) of the page from its resting place, or None
    when the page is out of the picture. Sizes are for w pixels wide (doubled from 640 at 1280)."""
    scale = w / 640
    drift, velocity, angle = np.zeros(2), np.zeros(2), 0.0
    for index in range(frames):
        # A slow, damped drift about the resting place and a slow turn (an arm holding a page),
        # plus hand shake.
        velocity = 0.8 * velocity - 0.05 * drift + rng.normal(0, 0.8, 2)
        drift += velocity
        angle += float(rng.normal(0, 0.25))
        if index == _KNOCK:
            drift += rng.choice([-1.0, 1.0], 2) * 14
        shake = rng.normal(0, 0.7, 2)
        if index in _LEAVE:
            slide = (index - _LEAVE.start + 1) * 0.17 * 640
            yield (drift + shake + (slide, 0)) * scale, angle
        elif index in _GONE:
            yield None
        elif index in _RETURN:
            slide = (_RETURN.stop - index) * 0.12 * 640
            yield (drift + shake + (-40 - slide, 15)) * scale, angle
        else:
            settled = (-40, 15) if index >= _RETURN.stop else (0, 0)
            yield (drift + shake + settled) * scale, angle


def live_sequence(seed: int, frames: int = 60, width: int = 1280, height: int = 720) -> list[LiveFrame]:
    """A live sequence at width x height (the Y planes a decoder would hand over), seeded."""
    rng = np.random.default_rng([seed, 77])
    desk = scenes.background(str(rng.choice(scenes.BACKGROUNDS)), width, height, rng)
    doc = RENDERERS[str(rng.choice(list(RENDERERS)))](rng).image
    rest = scenes.target_corners(doc.shape[1], doc.shape[0], width, height, rng.uniform(0.18, 0.32), rng)
    # Resting in the middle, so the drift keeps the whole page in the picture until it leaves.
    rest += np.float32((width / 2, height / 2)) - rest.mean(axis=0)
    light_seed = int(rng.integers(0, 2**31 - 1))
    out: list[LiveFrame] = []
    for index, motion in enumerate(_motion(frames, rng, width)):
        frame = desk.copy()
        if motion is not None:
            scenes.place(frame, doc, _turn(rest, motion[1], motion[0]), rng)
        # The same room light every frame; fresh sensor noise and a JPEG round trip each frame.
        frame = scenes.lighting(frame, np.random.default_rng(light_seed), gain=0.85)
        frame = scenes.sensor(frame, rng, 1.5, 90)
        out.append(LiveFrame(to_gray(frame), _event(index)))
    return out


@dataclass(frozen=True)
class Agreement:
    """Tracked analysis of a sequence against the full search of every frame."""

    tracked: list[bool]
    found_same: list[bool]
    reasons_same: list[bool]
    corner_px: list[float]  # largest corner distance, frames where both found the same number


def compare_sequence(frames: list[np.ndarray]) -> Agreement:
    """Run a PageTracker over frames and the stateless analysis on each; compare verdicts."""
    tracker = PageTracker()
    tracked, found_same, reasons_same, corner_px = [], [], [], []
    for y in frames:
        live = tracker.analyse(y)
        assert tracker.last is not None
        full = analyse_luma(y)
        tracked.append(tracker.last.tracked)
        found_same.append(live.metrics.document.found == full.metrics.document.found)
        reasons_same.append(live.reasons == full.reasons)
        distance = _corner_distance(live, full)
        if distance is not None:
            corner_px.append(distance)
    return Agreement(tracked, found_same, reasons_same, corner_px)


def _corner_distance(a: QualityResult, b: QualityResult) -> float | None:
    ca, cb = np.asarray(a.metrics.document.corners), np.asarray(b.metrics.document.corners)
    if ca.size == 0 or ca.shape != cb.shape:
        return None
    return float(np.linalg.norm(ca - cb, axis=1).max())


@cache
def _sequence(seed: int, width: int) -> tuple[np.ndarray, ...]:
    frames = live_sequence(seed)
    if width == 1280:
        return tuple(f.y for f in frames)
    return tuple(cv2.resize(f.y, (width, width * 9 // 16), interpolation=cv2.INTER_AREA) for f in frames)


@pytest.mark.parametrize("width", [640, 1280])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tracking_a_moving_page_agrees_with_the_full_search(seed: int, width: int) -> None:
    agreement = compare_sequence(list(_sequence(seed, width)))
    assert all(agreement.found_same)
    assert all(agreement.reasons_same)
    assert agreement.corner_px and max(agreement.corner_px) <= 2.0
    # Most held frames are tracked (the periodic full search and the scripted events are not).
    assert sum(agreement.tracked) >= 0.5 * len(agreement.tracked)


def test_a_lost_page_falls_back_to_the_search() -> None:
    ys = [f.y for f in live_sequence(1)]
    held = analyse_live(ys[_LEAVE.start - 1])
    assert held.hint is not None and held.result.ok
    # The page slides out: the band no longer holds a complete page, the search says cut off.
    leaving = analyse_live(ys[_LEAVE.start + 1], held.hint)
    assert not leaving.tracked
    assert leaving.result.reasons[0] == "document_cut_off"
    # Desk only: the search runs, finds no page, and leaves no hint to track.
    lost = analyse_live(ys[_GONE.start + 1], held.hint)
    assert not lost.tracked and lost.hint is None
    assert lost.result.reasons == analyse_luma(ys[_GONE.start + 1]).reasons
    assert lost.result.reasons[0] == "no_document"
    # In a sequence, no frame from leaving to coming back is tracked.
    tracker = PageTracker()
    flags = []
    for y in ys[: _RETURN.stop + 2]:
        tracker.analyse(y)
        assert tracker.last is not None
        flags.append(tracker.last.tracked)
    assert not any(flags[_LEAVE.start : _RETURN.stop])
    # Back in view at another place: found again by the search, then tracked.
    assert flags[_RETURN.stop + 1]


def test_a_stale_hint_is_not_trusted() -> None:
    """A hint from far away (the page was moved) or from another frame size gives a search."""
    ys = [f.y for f in live_sequence(2)]
    hint = analyse_live(ys[5]).hint
    assert hint is not None
    far = analyse_live(ys[_RETURN.stop + 2], hint)
    assert not far.tracked
    assert far.result.metrics.document.found
    # The stream switched to 4:3: the analysis image has another shape, the hint no meaning.
    cropped = np.ascontiguousarray(ys[6][:, 160:1120])
    assert not analyse_live(cropped, hint).tracked


def test_a_full_search_runs_periodically() -> None:
    ys = [f.y for f in live_sequence(3)][:_KNOCK]
    tracker = PageTracker()
    flags = []
    for y in ys:
        tracker.analyse(y)
        assert tracker.last is not None
        flags.append(tracker.last.tracked)
    searched = [i for i, tracked in enumerate(flags) if not tracked]
    assert searched[0] == 0
    # gaps between searches, and from the last search to the end, never exceed the period
    assert all(b - a <= TRACK_SEARCH_EVERY for a, b in itertools.pairwise([*searched, len(ys)]))
    # After reset() (e.g. another document is asked for) the next frame is searched again.
    assert flags[1]
    tracker.reset()
    tracker.analyse(ys[1])
    assert tracker.last is not None and not tracker.last.tracked
