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

import math
import time
from dataclasses import dataclass

import cv2
import numpy as np

from server.quality import thresholds as t
from server.quality.analyser import document_verdict
from server.quality.document import (
    DILATE_3,
    Outline,
    best_outline,
    blur_for_edges,
    edge_threshold,
    find_outline,
    on_border,
)
from server.quality.result import QualityResult

# Near the frame edge the full search closes the page's ring against the border it draws in, and
# a corner there may tip it into "cut off"; tracking draws no border, so it leaves such pages to
# the search (pixels beyond the BORDER_MARGIN zone).
_BORDER_SLACK = 4.0
# Canny looks 1 px beyond a pixel (Sobel) and non-maximum suppression 1 more: strips are cut this
# much wider than the band so the band's edge map equals the whole frame's.
_CONTEXT = 3


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


def analyse_live(y_plane: np.ndarray, hint: PageHint | None = None) -> LiveAnalysis:
    """Document-mode analysis of a live frame's Y plane, tracking the page from hint when given.

    The verdict has the same form and, where the page is confirmed, the same content as
    analyse_luma(y_plane); result.ms covers tracking and any fallback search.
    """
    start = time.perf_counter()
    locator = _Locator(hint)
    result = document_verdict(np.asarray(y_plane), still=False, locate=locator)
    result.ms = (time.perf_counter() - start) * 1000
    return LiveAnalysis(result, locator.tracked, locator.next_hint)


class PageTracker:
    """Keeps the hint of one live sequence (one capture session); analyse() frame after frame."""

    def __init__(self) -> None:
        self.hint: PageHint | None = None
        self.last: LiveAnalysis | None = None

    def analyse(self, y_plane: np.ndarray) -> QualityResult:
        """Analyse the next frame of the sequence (document mode) and remember where the page is."""
        self.last = analyse_live(y_plane, self.hint)
        self.hint = self.last.hint
        return self.last.result

    def reset(self) -> None:
        """Forget the page: the next frame gets a full search."""
        self.hint, self.last = None, None


class _Locator:
    """The outline finder handed to document_verdict: tracked when confirmed, else searched."""

    def __init__(self, hint: PageHint | None) -> None:
        self.hint = hint
        self.tracked = False
        self.next_hint: PageHint | None = None

    def __call__(self, small: np.ndarray) -> Outline | None:
        blurred = blur_for_edges(small)
        high = edge_threshold(blurred)  # one threshold for the band and, if it fails, the search
        hint = self.hint
        if hint is not None and hint.shape == small.shape[:2] and hint.tracked_since_search + 1 < t.TRACK_SEARCH_EVERY:
            outline = track_outline(blurred, hint, high)
            if outline is not None:
                self.tracked = True
                self.next_hint = _hint(outline, small.shape[:2], hint.tracked_since_search + 1)
                return outline
        outline = find_outline(small, blurred, high)
        self.next_hint = _hint(outline, small.shape[:2], 0)
        return outline


def _hint(outline: Outline | None, shape: tuple[int, int], tracked: int) -> PageHint | None:
    # A cut-off page changes shape as it moves; a faint one was found by a pass the tracker does
    # not repeat. Both are left to the full search.
    if outline is None or outline.cut_off or outline.faint:
        return None
    return PageHint(outline.corners, outline.coverage, (int(shape[0]), int(shape[1])), tracked)


def track_outline(blurred: np.ndarray, hint: PageHint, high: float) -> Outline | None:
    """The page's outline near hint in blurred (blur_for_edges of the analysis image, with its
    edge_threshold high), or None when it is not confirmed there."""
    edges = _band_edges(blurred, hint.corners, high)
    # The same tracing as the full search (link runs: outer boundaries and holes in one pass), so
    # that where both see the page they trace, approximate and so refine the very same outline
    # (cv2.findContours traces an outer boundary with the same hull but may approximate it to
    # vertices a pixel apart, and the refined corners then differ by up to ~1.5 px).
    contours, _ = cv2.findContoursLinkRuns(edges)
    outline = best_outline(edges, contours, allow_cut=False)
    return outline if outline is not None and _confirmed(outline, hint) else None


def _band_edges(blurred: np.ndarray, corners: np.ndarray, high: float) -> np.ndarray:
    """Dilated Canny edges of blurred within strips along the four sides of corners; zero elsewhere."""
    h, w = blurred.shape[:2]
    edges = np.zeros((h, w), np.uint8)
    boxes = _strip_boxes(corners, w, h)
    for x0, y0, x1, y1 in boxes:
        view = edges[y0:y1, x0:x1]
        cv2.bitwise_or(view, cv2.Canny(blurred[y0:y1, x0:x1], high * 0.5, high), dst=view)  # boxes overlap
    # One dilation over the boxes' extent, not one per box: fewer calls, the same pixels.
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    edges[y0:y1, x0:x1] = cv2.dilate(edges[y0:y1, x0:x1], DILATE_3)
    return edges


def _strip_boxes(corners: np.ndarray, w: int, h: int) -> list[tuple[int, int, int, int]]:
    """Axis-aligned boxes (x0, y0, x1, y1) covering the band along each side of corners: TRACK_BAND
    either way across it and beyond its ends, plus the context Canny needs; clipped to the frame.

    A slanted side is cut into pieces, each with its own box: one box round a side turned by 10
    degrees would be 2-3 times the band's area, and Canny's cost is per pixel. Plain floats, not
    numpy: a dozen pieces of numpy calls would cost more than their Canny.
    """
    boxes: list[tuple[int, int, int, int]] = []
    reach = float(t.TRACK_BAND + _CONTEXT)
    pts = [(float(x), float(y)) for x, y in corners.tolist()]
    for (sx, sy), (ex, ey) in zip(pts, pts[1:] + pts[:1], strict=True):
        length = math.hypot(ex - sx, ey - sy)
        if length < 1.0:
            continue
        ux, uy = (ex - sx) / length, (ey - sy) / length
        # The band across the side, and its extent along it (beyond both ends).
        half_x, half_y = abs(uy) * reach, abs(ux) * reach
        fx, fy = sx - ux * reach, sy - uy * reach
        dx, dy = ex - sx + 2 * ux * reach, ey - sy + 2 * uy * reach
        pieces = min(max(1, math.ceil(min(abs(ex - sx), abs(ey - sy)) / reach)), _MAX_PIECES)
        for i in range(pieces):
            # Each piece also reaches _CONTEXT beyond its share, so no pixel of the band is only
            # ever near a box's edge, where Canny sees a replicated border instead of the picture.
            ax, ay = fx + dx * i / pieces - ux * _CONTEXT, fy + dy * i / pieces - uy * _CONTEXT
            bx, by = fx + dx * (i + 1) / pieces + ux * _CONTEXT, fy + dy * (i + 1) / pieces + uy * _CONTEXT
            x0 = max(0, math.floor(min(ax, bx) - half_x))
            y0 = max(0, math.floor(min(ay, by) - half_y))
            x1 = min(w, math.ceil(max(ax, bx) + half_x) + 1)
            y1 = min(h, math.ceil(max(ay, by) + half_y) + 1)
            if x1 > x0 and y1 > y0:
                boxes.append((x0, y0, x1, y1))
    return boxes


_MAX_PIECES = 6


def _confirmed(outline: Outline, hint: PageHint) -> bool:
    """A complete page close to where it was: otherwise the band may have cut its edge short, or
    caught something else (a printed box, the desk) that the full search would not pick."""
    if outline.cut_off or _near_border(outline.corners, hint.shape):
        return False
    shift = float(np.linalg.norm(outline.corners - hint.corners, axis=1).max())
    change = outline.coverage / max(hint.coverage, 1e-9)
    return shift <= t.TRACK_MAX_SHIFT and 1 / t.TRACK_MAX_AREA_CHANGE <= change <= t.TRACK_MAX_AREA_CHANGE


def _near_border(corners: np.ndarray, shape: tuple[int, int]) -> bool:
    """True when a corner lies within _BORDER_SLACK pixels of the zone where it would count as
    leaving the frame."""
    h, w = shape
    return bool(on_border(corners, w, h, _BORDER_SLACK).any())
