"""Find a page's outline near where it is expected: Canny only in strips along a given outline.

Used by live tracking (the last frame's outline, server/quality/tracking.py). Within the strips
the edge map is the full search's own (same blurred image, same threshold), and the outline is
picked by the same rules (`best_outline`), so where both see the page they find the same outline;
strips cover ~1/3 of the frame, which keeps Canny and contour tracing cheap.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from server.quality import thresholds as t
from server.quality.document import DILATE_3, Outline, best_outline, on_border
from server.quality.edges import canny

# Near the frame edge the full search closes the page's ring against the border it draws in, and
# a corner there may tip it into "cut off"; strips draw no border, so such pages are left to the
# search (pixels beyond the BORDER_MARGIN zone).
_BORDER_SLACK = 4.0
# Canny looks 1 px beyond a pixel (Sobel) and non-maximum suppression 1 more: strips are cut this
# much wider than the band so the band's edge map equals the whole frame's.
_CONTEXT = 3


def outline_near(blurred: np.ndarray, corners: np.ndarray, coverage: float, high: float) -> Outline | None:
    """The complete page outline near corners (TL, TR, BR, BL, analysis pixels; coverage its
    share of the frame) in blurred (blur_for_edges of the analysis image, with its edge_threshold
    high), or None when it is not confirmed there: every corner within TRACK_MAX_SHIFT of the
    expected one and the area within TRACK_MAX_AREA_CHANGE."""
    edges = _band_edges(blurred, corners, high)
    # The same tracing as the full search (link runs: outer boundaries and holes in one pass), so
    # that where both see the page they trace, approximate and so refine the very same outline
    # (cv2.findContours traces an outer boundary with the same hull but may approximate it to
    # vertices a pixel apart, and the refined corners then differ by up to ~1.5 px).
    contours, _ = cv2.findContoursLinkRuns(edges)
    outline = best_outline(edges, contours, allow_cut=False)
    h, w = blurred.shape[:2]
    return outline if outline is not None and _confirmed(outline, corners, coverage, (h, w)) else None


def _band_edges(blurred: np.ndarray, corners: np.ndarray, high: float) -> np.ndarray:
    """Dilated Canny edges of blurred within strips along the four sides of corners; zero elsewhere."""
    h, w = blurred.shape[:2]
    edges = np.zeros((h, w), np.uint8)
    boxes = _strip_boxes(corners, w, h)
    for x0, y0, x1, y1 in boxes:
        view = edges[y0:y1, x0:x1]
        cv2.bitwise_or(view, canny(blurred[y0:y1, x0:x1], high * 0.5, high), dst=view)  # boxes overlap
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


def _confirmed(outline: Outline, corners: np.ndarray, coverage: float, shape: tuple[int, int]) -> bool:
    """A complete page close to where it was expected: otherwise the band may have cut its edge
    short, or caught something else (a printed box, the desk) that the full search would not pick."""
    if outline.cut_off or _near_border(outline.corners, shape):
        return False
    shift = float(np.linalg.norm(outline.corners - corners, axis=1).max())
    change = outline.coverage / max(coverage, 1e-9)
    return shift <= t.TRACK_MAX_SHIFT and 1 / t.TRACK_MAX_AREA_CHANGE <= change <= t.TRACK_MAX_AREA_CHANGE


def _near_border(corners: np.ndarray, shape: tuple[int, int]) -> bool:
    """True when a corner lies within _BORDER_SLACK pixels of the zone where it would count as
    leaving the frame."""
    h, w = shape
    return bool(on_border(corners, w, h, _BORDER_SLACK).any())
