"""Tracking the page between live frames: look for its outline only near the last one.

Live guidance analyses a sequence (5-10 frames/s) in which the page moves little. The full outline
search scans the whole frame: Canny everywhere, then ~300 contours (mostly text) traced and sifted.
Given the last frame's outline, the tracker runs Canny only in strips along its four sides
(TRACK_BAND pixels either way), so the edge map holds the page's edge and little else, and picks
the outline from it with the same rules as the full search (`best_outline`: convex hull,
quadrilateral, edge support). Within the strips the edge map is the full search's own (same blur,
same threshold from the whole frame's contrast), so where both find the page they find the same
outline.

The tracked outline is taken only when it is confirmed: a complete quadrilateral with its sides on
edges, every corner within TRACK_MAX_SHIFT of the last one and the area within
TRACK_MAX_AREA_CHANGE. Otherwise, when there is no usable hint (no page, a cut-off page, a page
found only by the faint second pass, another frame size), and every TRACK_SEARCH_EVERY-th frame,
the full search runs, so a lost, replaced or newly arrived page is found within a frame or a
second. The verdict (reasons, metrics, refined corners) is then computed exactly as for a
stateless frame.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

from server.quality import thresholds as t
from server.quality.analyser import document_verdict
from server.quality.band import outline_near
from server.quality.colour import Chroma
from server.quality.document import Outline, blur_for_edges, edge_threshold, find_outline
from server.quality.result import QualityResult


@dataclass(frozen=True)
class PageHint:
    """Where the page was in the last live frame: pass it back with the next frame."""

    corners: np.ndarray  # (4, 2) float32, TL, TR, BR, BL in analysis-image pixels
    coverage: float  # outline area / frame area
    shape: tuple[int, int]  # analysis image (height, width) the corners refer to
    tracked_since_search: int  # frames tracked since the last full search


@dataclass(frozen=True)
class LiveAnalysis:
    """One live frame's verdict, whether its outline was tracked or searched, and the next hint."""

    result: QualityResult
    tracked: bool
    hint: PageHint | None


def analyse_live(y_plane: np.ndarray, hint: PageHint | None = None,
                 uv_planes: tuple[np.ndarray, np.ndarray] | None = None) -> LiveAnalysis:
    """Document-mode analysis of a live frame's Y plane, tracking the page from hint when given.

    The verdict has the same form and, where the page is confirmed, the same content as
    analyse_luma(y_plane, uv_planes=uv_planes); result.ms covers tracking and any fallback search.
    """
    start = time.perf_counter()
    locator = _Locator(hint)
    result = document_verdict(np.asarray(y_plane), still=False, locate=locator, video_range=True,
                              colour=Chroma.from_planes(uv_planes))
    result.ms = (time.perf_counter() - start) * 1000
    return LiveAnalysis(result, locator.tracked, locator.next_hint)


class PageTracker:
    """Keeps the hint of one live sequence (one capture session); analyse() frame after frame.

    It also measures how much the picture changed since the previous frame (`change`, for
    LiveGuidance.update)."""

    def __init__(self) -> None:
        self.hint: PageHint | None = None
        self.last: LiveAnalysis | None = None
        self.change: float | None = None  # see picture_change; None on a first frame
        self._thumb: np.ndarray | None = None

    def analyse(self, y_plane: np.ndarray, uv_planes: tuple[np.ndarray, np.ndarray] | None = None) -> QualityResult:
        """Analyse the next frame of the sequence (document mode) and remember where the page is;
        uv_planes (the frame's U and V planes) let it find a page whose edge is one of colour."""
        self.last = analyse_live(y_plane, self.hint, uv_planes)
        self.hint = self.last.hint
        thumb = thumbnail(y_plane)
        self.change = picture_change(self._thumb, thumb)
        self._thumb = thumb
        return self.last.result

    def reset(self) -> None:
        """Forget the page: the next frame gets a full search."""
        self.hint, self.last, self.change, self._thumb = None, None, None, None


def thumbnail(y_plane: np.ndarray) -> np.ndarray:
    """An area-averaged STILL_THUMB_WIDTH-wide copy of a Y plane (its aspect kept)."""
    h, w = y_plane.shape[:2]
    size = (t.STILL_THUMB_WIDTH, max(1, round(t.STILL_THUMB_WIDTH * h / w)))
    return cv2.resize(y_plane, size, interpolation=cv2.INTER_AREA)


def picture_change(before: np.ndarray | None, after: np.ndarray) -> float | None:
    """The largest change of a thumbnail pixel, in grey levels (None without a comparable one)."""
    if before is None or before.shape != after.shape:
        return None
    return float(cv2.norm(before, after, cv2.NORM_INF))


class _Locator:
    """The outline finder handed to document_verdict: tracked when confirmed, else searched."""

    def __init__(self, hint: PageHint | None) -> None:
        self.hint = hint
        self.tracked = False
        self.next_hint: PageHint | None = None

    def __call__(self, gray: np.ndarray, *, colour: Chroma | None = None) -> Outline | None:
        small = gray
        blurred = blur_for_edges(small)
        high = edge_threshold(blurred)  # one threshold for the band and, if it fails, the search
        hint = self.hint
        if hint is not None and hint.shape == small.shape[:2] and hint.tracked_since_search + 1 < t.TRACK_SEARCH_EVERY:
            outline = track_outline(blurred, hint, high)
            if outline is not None:
                self.tracked = True
                self.next_hint = _hint(outline, small.shape[:2], hint.tracked_since_search + 1)
                return outline
        outline = find_outline(small, blurred, high, colour=colour)
        self.next_hint = _hint(outline, small.shape[:2], 0)
        return outline


def _hint(outline: Outline | None, shape: tuple[int, int], tracked: int) -> PageHint | None:
    # A cut-off page changes shape as it moves; a faint one, one found with colour edges or one
    # found at a quarter of the size was found by a pass the tracker does not repeat; and one with
    # outlines kept beside it (Outline.aside: a blank object with the page beside it) may give way
    # to one of them, which the band around it would never see. They are left to the full search.
    if outline is None or outline.cut_off or outline.faint or outline.colour or outline.coarse \
            or outline.aside is not None:
        return None
    return PageHint(outline.corners, outline.coverage, (int(shape[0]), int(shape[1])), tracked)


def track_outline(blurred: np.ndarray, hint: PageHint, high: float) -> Outline | None:
    """The page's outline near hint in blurred (blur_for_edges of the analysis image, with its
    edge_threshold high), or None when it is not confirmed there."""
    return outline_near(blurred, hint.corners, hint.coverage, high)
