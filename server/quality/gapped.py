"""A complete page whose edge ring has gaps, assembled from the straight stretches of several rings.

A dark card on a dark desk whose light falls off across the frame, or a card on a second card of
its own grey, has sides that vanish for a stretch where the desk's (or the other card's) grey
crosses the card's own: its edge ring at the frame's threshold is open, or split into pieces, or
runs on into the other card, and no single ring's hull is the card. Its sides are still long
straight stretches of those rings. Four of them, two near-parallel pairs crossing near square,
close the page; a side whose edge has a gap at the frame's threshold still lies on edges at a
lower one (GAPPED_EDGE_HIGH), and every side is a step of grey between the page and what lies
beside it, where the line of a printed box or a grain line of wood is grey on both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import cv2
import numpy as np

from server.quality import thresholds as t
from server.quality.document import (
    Outline,
    Support,
    box_areas,
    edge_map,
    on_border,
    order_corners,
    page_shaped,
    runs_on_past,
    side_quads,
)


def gapped_page(blurred: np.ndarray, edges: np.ndarray, high: float,
                rings: Sequence[np.ndarray] | None = None) -> Outline | None:
    """The largest complete page of readable size closed by four straight stretches of the rings
    of edges (edge_map(blurred, high), the frame's search map), or None.

    Stretches: the polygon of each of the GAPPED_RINGS rings with the largest bounding boxes,
    approximated to _EPSILON px (a fixed tolerance: a share of an open ring's long perimeter cuts
    across its corners), keeping sides at least GAPPED_MIN_SIDE of the frame's size long and
    clear of the frame border; rings of the map at GAPPED_EDGE_HIGH are added (the side whose
    edge has a gap is whole there) where edges covers at most GAPPED_LOW_MAX_EDGE_SHARE of the
    frame, and the sides must then lie on that map's edges. Near-duplicates (both sides of one
    thin edge) are dropped and the GAPPED_LINES longest kept. Every four that form two pairs within _PAIR_DEGREES of
    parallel, the pairs at least _CROSS_DEGREES apart, are intersected (all at once); each
    stretch must lie on its side of the quadrilateral (within _WITHIN of its length past the
    corners). The largest page seen from above (page_shaped) whose every side lies on the lower
    threshold's edges (GAPPED_MIN_SUPPORT), or else on a finer map's (_closed_on_finer_edges),
    and is a step of grey (GAPPED_MIN_STEP) wins.
    """
    h, w = edges.shape[:2]
    stretches = _stretches(cv2.findContoursLinkRuns(edges)[0] if rings is None else rings, w, h)
    # On a map full of texture already (fabric, a patterned cloth, clutter) the lower threshold
    # adds texture, at the price of the dearest ring tracing of the frame.
    low = edges if high <= t.GAPPED_EDGE_HIGH or cv2.countNonZero(edges) > t.GAPPED_LOW_MAX_EDGE_SHARE * edges.size \
        else edge_map(blurred, t.GAPPED_EDGE_HIGH)
    if low is not edges:
        more = _stretches(cv2.findContoursLinkRuns(low)[0], w, h)
        stretches = (np.concatenate((stretches[0], more[0])), np.concatenate((stretches[1], more[1])))
    starts, vectors = _distinct(*stretches)
    if len(starts) < 4:
        return None
    quads, areas = _quads(starts, vectors)
    frame_area = float(w * h)
    support = Support(low)
    fine: Support | None = None
    for k in np.argsort(-areas, kind="stable").tolist():
        area = float(areas[k])
        if area < t.MIN_DOCUMENT_COVERAGE * frame_area:
            break
        quad = quads[k]
        if not page_shaped(quad, area, 0.0, w, h):
            continue
        # The whole ring's share first (one lookup): under the limit, some side is.
        if support(quad, _NO_BORDER_4) < t.GAPPED_MIN_SUPPORT \
                or min(support(quad[[i, (i + 1) % 4]], _NO_BORDER_2) for i in range(4)) < t.GAPPED_MIN_SUPPORT:
            if low is edges:
                continue
            if fine is None:
                fine = Support(edge_map(blurred, t.GAPPED_FINE_EDGE_HIGH))
            if not _closed_on_finer_edges(fine, quad):
                continue
        if float(_grey_steps(blurred, quad).min()) < t.GAPPED_MIN_STEP:
            continue
        return Outline(order_corners(quad), area / frame_area, cut_off=False)
    return None


def _closed_on_finer_edges(fine: Support, quad: np.ndarray) -> bool:
    """Whether quad's sides, not all carried on the lower threshold's edges, are carried on the
    finer map's (fine, GAPPED_FINE_EDGE_HIGH): the whole ring at GAPPED_MIN_SUPPORT and every side
    at GAPPED_FINE_MIN_SUPPORT (a dark card on a dark desk whose light crosses the card's grey
    along part of a side: the edge there is a step of a level or two). A side may have a gap, but
    it must end at its corners: one running on straight past both (runs_on_past) is another
    object's edge (a card lying over a second one), not the page's."""
    if fine(quad, _NO_BORDER_4) < t.GAPPED_MIN_SUPPORT \
            or min(fine(quad[[i, (i + 1) % 4]], _NO_BORDER_2) for i in range(4)) < t.GAPPED_FINE_MIN_SUPPORT:
        return False
    return not any(runs_on_past(fine, quad[i], quad[(i + 1) % 4]) and runs_on_past(fine, quad[(i + 1) % 4], quad[i])
                   for i in range(4))


def _stretches(rings: Sequence[np.ndarray], w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """The long straight stretches (start points and vectors, float32 (n, 2)) of the largest of
    an edge map's rings (w x h), clear of the frame border."""
    frame_area = float(w * h)
    boxes = box_areas(rings)
    sized = np.flatnonzero((boxes >= _MIN_RING_BOX * t.MIN_DOCUMENT_COVERAGE * frame_area)
                           & (boxes <= 0.92 * frame_area))
    largest = sized[np.argsort(-boxes[sized], kind="stable")][: t.GAPPED_RINGS]
    min_side = t.GAPPED_MIN_SIDE * frame_area**0.5
    starts, vectors = [_NONE], [_NONE]
    for index in largest.tolist():
        polygon = cv2.approxPolyDP(rings[index], _EPSILON, True).reshape(-1, 2).astype(np.float32)
        if len(polygon) < 3:
            continue
        side = np.roll(polygon, -1, axis=0) - polygon
        border = on_border(polygon, w, h)
        keep = ~(border | np.roll(border, -1)) & (np.hypot(side[:, 0], side[:, 1]) >= min_side)
        starts.append(polygon[keep])
        vectors.append(side[keep])
    return np.concatenate(starts), np.concatenate(vectors)


def _distinct(starts: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GAPPED_LINES longest stretches, without those lying along a longer one (the two sides
    of a thin edge's ring, one edge traced in both maps): within 6 degrees (_SAME_COSINE) of its
    direction and _SAME_OFFSET px of its line at the midpoint. Only the _DISTINCT_POOL longest are
    compared (all pairs at once): a textured desk's rings have hundreds of short sides."""
    lengths = np.hypot(vectors[:, 0], vectors[:, 1])
    pool = np.argsort(-lengths, kind="stable")[:_DISTINCT_POOL]
    units = vectors[pool] / np.maximum(lengths[pool], 1e-6)[:, None]
    normals = np.stack((-units[:, 1], units[:, 0]), axis=1)
    middles = starts[pool] + vectors[pool] * 0.5
    # same[i, j]: stretch i lies along stretch j (j longer when j < i).
    offsets = np.abs(((middles[:, None, :] - starts[pool][None, :, :]) * normals[None, :, :]).sum(axis=2))
    same = (np.abs(units @ units.T) >= _SAME_COSINE) & (offsets <= _SAME_OFFSET)
    kept: list[int] = []
    for index in range(len(pool)):
        if not same[index, kept].any():
            kept.append(index)
            if len(kept) == t.GAPPED_LINES:
                break
    chosen = pool[kept]
    return starts[chosen], vectors[chosen]


def _quads(starts: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every quadrilateral four of the stretches close as two near-parallel pairs: corners (k, 4,
    2) in ring order and areas (k,), 0 where it is no convex quadrilateral or a stretch does not
    lie on its side."""
    sets = _COMBINATIONS[len(starts)]
    angles = np.degrees(np.arctan2(vectors[:, 1], vectors[:, 0])) % 180.0
    chosen = np.full(len(sets), -1)
    for pairing in range(len(_PAIRINGS) - 1, -1, -1):
        order = sets[:, _PAIRINGS[pairing]]  # first pair, then second pair
        a = angles[order]
        ok = (_apart(a[:, 0], a[:, 1]) <= _PAIR_DEGREES) & (_apart(a[:, 2], a[:, 3]) <= _PAIR_DEGREES) \
            & (_apart(a[:, 0], a[:, 2]) >= _CROSS_DEGREES)
        chosen[ok] = pairing
    valid = np.flatnonzero(chosen >= 0)
    if len(valid) == 0:
        return np.zeros((0, 4, 2), np.float32), np.zeros(0)
    paired = np.take_along_axis(sets[valid], np.array(_PAIRINGS)[chosen[valid]], axis=1)
    ring = paired[:, [0, 2, 1, 3]]  # one side, a crossing side, the opposite side, the other crossing
    p, d = starts[ring], vectors[ring]
    corners, area = side_quads(p, d)
    # Side i runs from corner i to corner i + 1 (side_quads' corner i is where side i - 1 meets
    # side i): its stretch must lie on it.
    begin = corners
    along = corners[:, [1, 2, 3, 0]] - begin
    length2 = (along**2).sum(axis=2) + 1e-9
    first = ((p - begin) * along).sum(axis=2) / length2
    last = ((p + d - begin) * along).sum(axis=2) / length2
    on_side = (np.minimum(first, last) >= -_WITHIN) & (np.maximum(first, last) <= 1 + _WITHIN)
    return corners, np.where(on_side.all(axis=1), area, 0.0)


def _apart(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Degrees between two line directions (0-180 each), 0-90."""
    return np.abs((first - second + 90.0) % 180.0 - 90.0)


def _grey_steps(blurred: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """Per side of quad: the mean absolute grey difference between points _STEP_OFFSET px inside
    and outside it, at _STEP_SAMPLES points along its middle."""
    h, w = blurred.shape[:2]
    centre = quad.mean(axis=0)
    begin, end = quad, np.roll(quad, -1, axis=0)
    along = end - begin
    normal = np.stack((-along[:, 1], along[:, 0]), axis=1) / (np.hypot(along[:, 0], along[:, 1])[:, None] + 1e-9)
    inward = np.where((((centre - begin) * normal).sum(axis=1) < 0)[:, None], -normal, normal)
    points = begin[:, None, :] + along[:, None, :] * _STEP_AT[None, :, None]
    limit = np.array([w - 1, h - 1])
    inside = np.clip(np.rint(points + inward[:, None, :] * _STEP_OFFSET), 0, limit).astype(np.intp)
    outside = np.clip(np.rint(points - inward[:, None, :] * _STEP_OFFSET), 0, limit).astype(np.intp)
    step = blurred[inside[..., 1], inside[..., 0]].astype(np.float32) \
        - blurred[outside[..., 1], outside[..., 0]].astype(np.float32)
    return np.abs(step).mean(axis=1)


_NONE = np.zeros((0, 2), np.float32)
_NO_BORDER_2 = np.zeros(2, bool)
_NO_BORDER_4 = np.zeros(4, bool)
# Rings whose bounding box is under this share of the readable size hold no side of such a page.
_MIN_RING_BOX = 0.25
# A ring's polygon at this tolerance (px) keeps its straight stretches and cuts no corner.
_EPSILON = 3.0
# Two stretches within 6 degrees and 8 px of each other are one edge (a dilated edge's ring runs
# along both of its sides, 3-5 px apart).
_SAME_COSINE = float(np.cos(np.radians(6.0)))
_SAME_OFFSET = 8.0
# The longest stretches compared for near-duplicates (a card's four sides traced on both sides in
# both maps are 16).
_DISTINCT_POOL = 64
# A page's opposite sides seen from the kiosk's camera are within 20 degrees of parallel, and
# its neighbouring sides at least 55 degrees apart (square within 35).
_PAIR_DEGREES = 20.0
_CROSS_DEGREES = 55.0
# A stretch may reach past its side's corners by this share of the side (a rounded corner's arc).
_WITHIN = 0.08
# The grey step is read this many px either side of a side (a ring lies 1-2 px off its edge, and
# a printed line's blur reaches ~3 px), at these shares of its length (clear of the corners).
_STEP_OFFSET = 6.0
_STEP_AT = np.linspace(0.1, 0.9, 24, dtype=np.float32)
# The three ways four stretches pair up (first pair, second pair).
_PAIRINGS = ((0, 1, 2, 3), (0, 2, 1, 3), (0, 3, 1, 2))
_COMBINATIONS = {m: np.array(list(combinations(range(m), 4)), np.intp) for m in range(4, 17)}
