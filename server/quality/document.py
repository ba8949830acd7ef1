"""Find a document's outline in the analysis image and rectify it from the full-size image.

The outline comes from Canny edges closed into rings (FIELD_NOTES: ~0.5 ms at 640 wide): every
ring that approximates to a convex quadrilateral is a candidate and the largest one wins. A
document that runs out of the picture closes against the frame border (we draw the border into
the edge map) and shows up as a polygon with vertices on that border.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from server.quality import thresholds as t


@dataclass(frozen=True)
class Outline:
    """A document outline in analysis-image pixels; corners are TL, TR, BR, BL when complete."""

    corners: np.ndarray  # (N, 2) float32
    coverage: float  # outline area / frame area
    cut_off: bool  # the document continues outside the frame
    faint: bool = False  # found by the sensitive second pass (not tracked between live frames)


def order_corners(points: np.ndarray) -> np.ndarray:
    """Order four points as top-left, top-right, bottom-right, bottom-left."""
    pts = np.asarray(points, np.float32).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # clockwise on screen (y grows downwards)
    start = int(np.argmin(pts.sum(axis=1)))
    return np.roll(pts, -start, axis=0)


def _on_border(points: np.ndarray, w: int, h: int) -> np.ndarray:
    mx, my = t.BORDER_MARGIN * w, t.BORDER_MARGIN * h
    x, y = points[:, 0], points[:, 1]
    return (x <= mx) | (y <= my) | (x >= w - 1 - mx) | (y >= h - 1 - my)


def blur_for_edges(gray: np.ndarray) -> np.ndarray:
    """The smoothed analysis image that edges are found on (shared by search and tracking)."""
    return cv2.GaussianBlur(gray, (5, 5), 0)


def edge_threshold(blurred: np.ndarray) -> float:
    """Canny's high threshold for this picture: 1.5x its grey std, within the tuned bounds."""
    _, std = cv2.meanStdDev(blurred)
    # Plain min/max: np.clip on a scalar costs ~10 us, a noticeable share of a 2 ms budget.
    return min(max(1.5 * float(std[0, 0]), t.EDGE_HIGH_MIN), t.EDGE_HIGH_MAX)


def find_outline(gray: np.ndarray, blurred: np.ndarray | None = None) -> Outline | None:
    """Return the document-like outline in gray (the analysis image), or None.

    Edge thresholds follow the picture's contrast; when nothing is found a second, more sensitive
    pass looks again (a hazy lens or a dim room leaves only faint page edges). blurred is
    blur_for_edges(gray) when the caller has it already.
    """
    if blurred is None:
        blurred = blur_for_edges(gray)
    high = edge_threshold(blurred)
    outline = _outline_at(blurred, high)
    if outline is None and high > t.EDGE_HIGH_FAINT:
        # Only complete pages count here: at this sensitivity the noise of a plain desk forms
        # regions against the frame border that would pass for a page running out of the picture.
        outline = _outline_at(blurred, t.EDGE_HIGH_FAINT, allow_cut=False)
        if outline is not None:
            outline = replace(outline, faint=True)
    return outline


def _outline_at(blurred: np.ndarray, high: float, *, allow_cut: bool = True) -> Outline | None:
    """Candidates are the convex hulls of edge rings (closed against the frame border, so a page
    running off the picture closes too) and of whole edge components (a page whose printed table
    runs off the picture is split into cells, but its edge and text are one component).
    """
    h, w = blurred.shape[:2]
    edges = cv2.dilate(cv2.Canny(blurred, high * 0.5, high), DILATE_3)
    components, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.rectangle(edges, (0, 0), (w - 1, h - 1), 255, 1)
    # Link runs traces the same rings as RETR_LIST (hole outlines one pixel further inside, which
    # the full-size corner refinement absorbs) in ~60% of the time: most contours are text.
    rings, _ = cv2.findContoursLinkRuns(edges)
    return best_outline(edges, (*components, *rings), allow_cut=allow_cut)


def best_outline(edges: np.ndarray, contours: Sequence[np.ndarray], *, allow_cut: bool) -> Outline | None:
    """The document among contours of the dilated edge map edges (full analysis-image size).

    The largest complete quadrilateral wins, unless a larger outline running off the frame
    contains it: then the page is cut off and the quadrilateral is a box printed on it.
    """
    h, w = edges.shape[:2]
    frame_area = float(w * h)
    min_area = t.MIN_DOCUMENT_AREA * frame_area
    quad: Outline | None = None
    cut: Outline | None = None
    best_area = 0.0  # hull area of the larger of quad and cut
    # Most of the ~300 contours are text strokes and their holes: one boundingRect each (mapped,
    # not unpacked in a Python loop) drops them before anything dearer.
    for contour, (_, _, bw, bh) in zip(contours, map(cv2.boundingRect, contours), strict=True):
        # A hull is strictly smaller than its bounding box, so a box no larger than the best
        # outline so far cannot beat it (the check below would reject it after the dearer hull).
        if bw * bh < min_area or bw * bh <= best_area:
            continue
        hull = cv2.convexHull(contour)
        area = cv2.contourArea(hull)
        if not min_area <= area <= 0.92 * frame_area or area <= best_area:
            continue
        coverage = area / frame_area
        approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True).reshape(-1, 2)
        border = _on_border(approx.astype(np.float32), w, h)
        if len(approx) == 4 and not border.any():
            kind = "quad"
        elif allow_cut and 3 <= len(approx) <= 6 and _leaves_frame(approx, border, w, h):
            kind = "cut"
        else:
            continue
        if _edge_support(edges, approx, border) < t.MIN_EDGE_SUPPORT:
            continue
        best_area = area
        if kind == "quad":
            quad = Outline(order_corners(approx), coverage, cut_off=False)
        else:
            cut = Outline(approx.astype(np.float32), coverage, cut_off=True)
    if quad is None:
        return cut
    if cut is not None and cut.coverage > quad.coverage:
        centre = tuple(float(v) for v in quad.corners.mean(axis=0))
        if cv2.pointPolygonTest(cut.corners.reshape(-1, 1, 2), centre, False) >= 0:
            return cut
    return quad


def _edge_support(edges: np.ndarray, polygon: np.ndarray, border: np.ndarray) -> float:
    """Share of points along the polygon's sides (those not lying on the frame border) that have
    an edge pixel within 2 px. A page's outline is edge all the way round; the hull of a cluster of
    desk texture cuts across plain areas."""
    h, w = edges.shape[:2]
    # A side along the frame edge is where the page leaves the picture: it is not checked.
    inner = ~(border & np.roll(border, -1))
    if not inner.any():
        return 0.0
    start = polygon.astype(np.float32)[inner]
    side = np.roll(polygon, -1, axis=0).astype(np.float32)[inner] - start
    pts = np.rint(start[:, None, :] + side[:, None, :] * _SUPPORT_STEPS[None, :, None]).astype(np.int32)
    xs, ys = np.clip(pts[..., 0], 0, w - 1).ravel(), np.clip(pts[..., 1], 0, h - 1).ravel()
    # The tolerance of a few pixels (a polygon approximating a hull may sit off the edge) is looked
    # up at the ~100 sample points only: the same answer as a 5x5 dilation of the whole edge map,
    # which cost more than all the support checks of a frame together.
    near = edges[np.clip(ys[:, None] + _NEAR_DY, 0, h - 1), np.clip(xs[:, None] + _NEAR_DX, 0, w - 1)]
    return float(np.count_nonzero(near.any(axis=1))) / xs.size


_SUPPORT_STEPS = np.linspace(0.1, 0.9, 24, dtype=np.float32)
_NEAR_DY, _NEAR_DX = (d.ravel()[None, :] for d in np.mgrid[-2:3, -2:3])
DILATE_3 = np.ones((3, 3), np.uint8)


def _leaves_frame(approx: np.ndarray, border: np.ndarray, w: int, h: int) -> bool:
    """True when some, not all, vertices lie on one frame edge or two adjacent ones (a corner).

    A page that slips out of the picture leaves on one side or over one corner; a stripe of wood
    grain or tablecloth crosses the whole frame and touches opposite edges.
    """
    if not border.any() or border.all():
        return False
    pts = approx[border].astype(np.float32)
    mx, my = t.BORDER_MARGIN * w, t.BORDER_MARGIN * h
    left, right = bool((pts[:, 0] <= mx).any()), bool((pts[:, 0] >= w - 1 - mx).any())
    top, bottom = bool((pts[:, 1] <= my).any()), bool((pts[:, 1] >= h - 1 - my).any())
    return not (left and right) and not (top and bottom)


def refine_corners(gray: np.ndarray, corners: np.ndarray, reach: int) -> np.ndarray:
    """Refine four corners (TL, TR, BR, BL, in gray's pixels) on gray.

    Each side is re-found where the grey level changes fastest across it, within reach pixels,
    at 24 points; a robust line fit ignores points that land on text, and neighbouring lines are
    intersected. Corners that move more than reach are kept as they were.
    """
    pts = corners.astype(np.float32).reshape(4, 2)
    sides = np.roll(pts, -1, axis=0) - pts
    lengths = np.linalg.norm(sides, axis=1)
    if lengths.min() < 8:
        return pts
    normals = np.stack([-sides[:, 1], sides[:, 0]], axis=1) / lengths[:, None]
    base = pts[:, None, :] + sides[:, None, :] * _REFINE_STEPS[None, :, None]  # (4, 24, 2)
    offsets = np.arange(-reach, reach + 1, dtype=np.float32)
    grid = base[:, :, None, :] + offsets[None, None, :, None] * normals[:, None, None, :]
    # One remap for all four sides: the per-call overhead, not the pixels, is what costs here.
    grid = grid.reshape(4 * len(_REFINE_STEPS), len(offsets), 2)
    profiles = cv2.remap(gray, grid[:, :, 0], grid[:, :, 1], cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE).astype(np.int16)
    best = np.abs(np.diff(profiles, axis=1)).argmax(axis=1).astype(np.float32) + 0.5 - reach
    found = base + best.reshape(4, -1, 1) * normals[:, None, :]
    refined = _intersect_sides(found)
    if refined is None:
        return pts
    moved = np.linalg.norm(refined - pts, axis=1)
    return np.where((moved <= reach)[:, None], refined, pts).astype(np.float32)


_REFINE_STEPS = np.linspace(0.12, 0.88, 24, dtype=np.float32)


def _intersect_sides(side_points: Sequence[np.ndarray]) -> np.ndarray | None:
    """Fit a line to each side's points (4 arrays of (N, 2); side i runs from corner i to i+1) and
    return the four corners where neighbouring lines meet, or None when two are parallel."""
    lines = [cv2.fitLine(points, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel() for points in side_points]
    corners = np.empty((4, 2), np.float32)
    for i in range(4):
        vx1, vy1, x1, y1 = lines[i - 1]
        vx2, vy2, x2, y2 = lines[i]
        det = vx2 * vy1 - vx1 * vy2  # Cramer's rule on p1 + s*d1 = p2 + u*d2
        if abs(det) < 1e-6:
            return None
        s = (vx2 * (y2 - y1) - vy2 * (x2 - x1)) / det
        corners[i] = (x1 + s * vx1, y1 + s * vy1)
    return corners


def measured_aspect(corners: np.ndarray, width: int, height: int) -> float:
    """Width/height of the real rectangle imaged at corners (TL, TR, BR, BL).

    Uses Zhang & He, "Whiteboard scanning and image enhancement" (2007): with square pixels and the
    principal point at the image centre, the focal length and the true aspect follow from the four
    corners. Falls back to the ratio of mean side lengths when the view is nearly frontal (the
    focal length is then undetermined, and so is the perspective to correct).
    """
    c = np.asarray(corners, np.float64) - (width / 2.0, height / 2.0)
    tl, tr, br, bl = c
    m1, m2, m3, m4 = (np.array([p[0], p[1], 1.0]) for p in (tl, tr, bl, br))
    side_w = float(np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    side_h = float(np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    simple = side_w / max(side_h, 1e-6)
    k2 = np.dot(np.cross(m1, m4), m3) / np.dot(np.cross(m2, m4), m3)
    k3 = np.dot(np.cross(m1, m4), m2) / np.dot(np.cross(m3, m4), m2)
    n2, n3 = k2 * m2 - m1, k3 * m3 - m1
    denom = n2[2] * n3[2]
    if abs(denom) < 1e-9:
        return simple
    f2 = -(n2[0] * n3[0] + n2[1] * n3[1]) / denom
    if not np.isfinite(f2) or f2 <= (0.3 * max(width, height)) ** 2:
        return simple
    num = (n2[0] ** 2 + n2[1] ** 2) / f2 + n2[2] ** 2
    den = (n3[0] ** 2 + n3[1] ** 2) / f2 + n3[2] ** 2
    ratio = float(np.sqrt(num / den))
    # Guard against a degenerate estimate: the true aspect is never far from the visible one.
    return ratio if 0.6 * simple < ratio < 1.6 * simple else simple


def snap_aspect(aspect: float) -> float:
    """Snap width/height to the closest known document aspect (either orientation) when near."""
    long_short = max(aspect, 1 / aspect)
    best = float(min(t.KNOWN_ASPECTS.values(), key=lambda known: float(abs(known - long_short))))
    if abs(best - long_short) / best <= t.ASPECT_SNAP:
        long_short = best
    return long_short if aspect >= 1 else 1 / long_short


def rectify_document(image: np.ndarray, corners: np.ndarray | list[list[float]]) -> np.ndarray:
    """Warp the document at corners (TL, TR, BR, BL, image pixels) to a frontal view.

    The output keeps the document's own aspect (snapped to ID-1 or ISO 216 when close) and about
    the resolution it had in the photo, so no detail is invented or thrown away.
    """
    pts = order_corners(np.asarray(corners, np.float32))
    h, w = image.shape[:2]
    aspect = snap_aspect(measured_aspect(pts, w, h))
    tl, tr, br, bl = pts
    side_w = float(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    side_h = float(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    # Keep the longer measured side's pixel count, derive the other from the aspect.
    if side_w / aspect >= side_h:
        out_w, out_h = round(side_w), round(side_w / aspect)
    else:
        out_w, out_h = round(side_h * aspect), round(side_h)
    dst = np.array([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]], np.float32)
    matrix = cv2.getPerspectiveTransform(pts, dst)
    return cv2.warpPerspective(image, matrix, (max(out_w, 1), max(out_h, 1)), flags=cv2.INTER_CUBIC)
