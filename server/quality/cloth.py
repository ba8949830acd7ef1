"""A pale page on a coloured, patterned cloth, found as the gap in the cloth's pattern.

A white card on a red-and-white striped or a dotted tablecloth: where a white stripe meets the
card there is no edge at all (white on white), and every coloured stripe ends on the card's
edge, so the card's ring runs on into the stripes in every edge map. What the eye sees is where
the pattern stops. The cloth's colour changes every stripe or dot, so the chroma planes' edges
lie close together all over it; a neutral page has few of them (its print is grey; a photo or an
emblem makes an island, not a net). The page is then the largest part of the frame with no
chroma edge near: a morphological opening of the edge-free area by a disc wider than the cloth's
gaps (its core: the points farther than the disc's radius from every edge, grown back by it)
keeps the page and drops the cloth's pale stripes and the gaps between its dots.

The cloth's spacing is not known, so a few radii are tried and the region whose convex hull
fills its bounding rectangle best wins; it must lie clear of the frame border (a page running off
the frame is the other searches' work) and be large enough to be read.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from server.quality import thresholds as t

__all__ = ["PatternGap", "pattern_gap"]


@dataclass(frozen=True)
class PatternGap:
    """The region found, in the pixels of the chroma edge map it was found in."""

    contour: np.ndarray  # (N, 2) float32: its outer contour
    box: np.ndarray  # (4, 2) float32: its minimum-area rectangle's corners
    cut_off: bool = False  # the region reaches the frame border: a page running off the frame


def pattern_gap(chroma_edges: np.ndarray, radii: tuple[float, ...] | None = None,
                min_share: float | None = None) -> PatternGap | None:
    """The largest near-rectangular region clear of the chroma edges (8-bit 0/255 map, undilated)
    and of the frame border, covering at least min_share of the map; else the largest convex one
    of that size that reaches the border (a page running off the frame: the frame cuts its
    rectangle, so its outline must be convex, not rectangular); else None. radii: the openings
    tried, as shares of the map's short side (a far-away page's gap needs smaller ones);
    CLOTH_RADII and MIN_DOCUMENT_COVERAGE when not given."""
    h, w = chroma_edges.shape[:2]
    if cv2.countNonZero(chroma_edges) < t.CLOTH_MIN_EDGE_SHARE * h * w:
        return None  # no pattern: a plain desk's page is the edge searches' to find
    free = _mask(chroma_edges == 0)
    cv2.rectangle(free, (0, 0), (w - 1, h - 1), 0, 1)
    distance = cv2.distanceTransform(free, cv2.DIST_L2, 3)
    min_area = (t.MIN_DOCUMENT_COVERAGE if min_share is None else min_share) * h * w
    # The best complete region by its fill, the best one running off the frame by its area.
    best: tuple[float, PatternGap] | None = None
    cut: tuple[float, PatternGap] | None = None
    for share in t.CLOTH_RADII if radii is None else radii:
        radius = share * min(h, w)
        core = _mask(distance > radius)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(core, connectivity=8)
        if count < 2:
            break  # a larger radius leaves no core either
        areas = stats[1:, cv2.CC_STAT_AREA]
        all_cores = int(areas.sum())
        # The largest cores only: a page's core is the largest or is beside a larger one (the
        # wide pale band of a cloth). More would trace the cloth's own gaps.
        for label in (np.argsort(-areas)[:_CORES] + 1):
            # The rest of the frame must be pattern: close to an edge nearly everywhere. A plain
            # desk around a document, or a document's own plain panels, leave cores there.
            others = all_cores - int(stats[label, cv2.CC_STAT_AREA])
            if others > t.CLOTH_MAX_OPEN_SHARE * h * w:
                continue
            found = _opened_region(labels, int(label), radius, free, stats[label], min_area)
            if found is None:
                continue
            rank, gap = found
            if gap.cut_off:
                if cut is None or rank > cut[0]:
                    cut = found
            elif best is None or rank > best[0]:
                best = found
    if best is not None:
        return best[1]
    return None if cut is None else cut[1]


_CORES = 3


def _mask(condition: np.ndarray) -> np.ndarray:
    """A boolean array as OpenCV's 8-bit mask (0 and 255)."""
    return condition.astype(np.uint8) * np.uint8(255)


def _opened_region(labels: np.ndarray, label: int, radius: float, free: np.ndarray, stat: np.ndarray,
                   min_area: float) -> tuple[float, PatternGap] | None:
    """The core's opened region with its rank, or None when it is too small or not page-shaped
    (CLOTH_MIN_FILL). A complete region is ranked by how well its hull fills its minimum-area
    rectangle; one reaching the frame border (cut by the frame, so convex rather than
    rectangular: its own area over its hull's) by its hull's area."""
    h, w = free.shape[:2]
    reach = int(radius) + 1
    x, y = int(stat[cv2.CC_STAT_LEFT]), int(stat[cv2.CC_STAT_TOP])
    cw, ch = int(stat[cv2.CC_STAT_WIDTH]), int(stat[cv2.CC_STAT_HEIGHT])
    # Work in the core's box grown by the radius: growing the core back and tracing the region
    # need no more.
    x0, y0 = max(0, x - reach - 1), max(0, y - reach - 1)
    x1, y1 = min(w, x + cw + reach + 1), min(h, y + ch + reach + 1)
    # Grown back by the radius: the points within it of the core (a distance transform costs a
    # fraction of a dilation by a disc this wide).
    outside = _mask(labels[y0:y1, x0:x1] != label)
    near = _mask(cv2.distanceTransform(outside, cv2.DIST_L2, 3) <= radius)
    region = cv2.bitwise_and(near, free[y0:y1, x0:x1])
    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    contour = max(contours, key=cv2.contourArea)
    left, top, width, height = cv2.boundingRect(contour)
    # The border is no edge-free point, so a region running off the frame stops next to it.
    touches = x0 + left <= 1 or y0 + top <= 1 or x0 + left + width >= w - 1 or y0 + top + height >= h - 1
    hull = cv2.convexHull(contour)
    hull_area = float(cv2.contourArea(hull))
    if hull_area < min_area:
        return None
    rect = cv2.minAreaRect(hull)
    rect_area = float(rect[1][0] * rect[1][1])
    if rect_area <= 0:
        return None
    shape = hull_area / rect_area if not touches else float(cv2.contourArea(contour)) / hull_area
    if shape < t.CLOTH_MIN_FILL:
        return None
    offset = np.array([x0, y0], np.float32)
    gap = PatternGap(contour.reshape(-1, 2).astype(np.float32) + offset,
                     cv2.boxPoints(rect).astype(np.float32) + offset, cut_off=touches)
    return (hull_area if touches else shape), gap
