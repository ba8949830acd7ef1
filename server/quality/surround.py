"""The page around a printed panel, frame or table: found outward from it, side by side.

A social-security card's white panel inside its coloured rim, a register cover's gold frame, a
form's table on its paper: each is a complete quadrilateral of strong edges, and where the page's
own edge against the desk runs on into the desk's texture (wood grain, a second card touching
it, a cloth's stripes) the searches find it rather than the page. Rectified from it, the stored
capture loses the rim with the card's title, the form's heading and its signature line.

The page's edge is still there in the edge map, beside the panel: every side of the panel has a
parallel edge outside it (the rim is the same width along each side; a camera above the desk
keeps the two parallel). So each side is moved outward, one pixel at a time, to the first line
beyond the panel's own edge that the edge map carries along the whole side; the four lines meet
at the page's corners. The page found must be carried by the edges all round, square, clear of
the frame border, and end at its corners (a stripe or a grid line of the desk runs on past them).
The step repeats from the page found, so a frame of two lines inside a page is passed too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import cv2
import numpy as np

from server.quality import thresholds as t
from server.quality.colour import Chroma
from server.quality.desk import tone_distance
from server.quality.document import DILATE_3, Outline, order_corners

# Samples along each side (its middle 80%: the corners' rounding and the neighbouring sides'
# edges stay out of the count).
_STEPS = np.linspace(0.1, 0.9, 24, dtype=np.float32)
# How far out a side is moved: this share of the panel's depth across it (a card's title band
# above its panel is ~0.4 of the panel's height; a form's heading above its table ~0.4).
_REACH = 0.5
# The panel's own edge is left where the share of samples on edge pixels falls under _LEFT; a
# line outside it is one carried on at least _LINE of them.
_LEFT = 0.5
_LINE = 0.8
# A line of the dilated edge map (3x3) is this wide.
_EDGE_WIDTH = 3
# A run wider than this with a quiet offset among the _QUIET_AFTER beyond it is a band of print
# (a card's title): a page's edge with the desk's texture right outside it runs on wide, but
# into the texture, not into quiet.
_MAX_WIDTH = 7
_QUIET_AFTER = 4
_QUIET_BEFORE = 3
_QUIET = 0.6
# The two halves' offsets may differ by this share of the larger (at least _MIN_LEAN px): a rim
# looks wider where the page is nearer the camera (a page tilted by 20 degrees: ~10%).
_MAX_LEAN = 0.15
_MIN_LEAN = 3.0
# Offsets of the two halves this close are the same parallel line.
_PARALLEL = 1.0
# The page's sides must be carried on this share of their samples (3x3 tolerance).
_SIDE_SUPPORT = 0.85
# The page found: at least this much larger than the panel, at most _MAX_GROWTH times, every
# corner square within _MAX_SKEW degrees, _MARGIN pixels clear of the frame border.
_MIN_GROWTH = 1.05
_MAX_GROWTH = 3.0
_MAX_SKEW = 20.0
_MARGIN = 3
# A side that runs on past a corner (a desk's stripe or grid line, not a page's edge): edge pixels
# on at least _RUN_ON of the samples on its extension, from _RUN_GAP pixels to _RUN_LENGTH of the
# side beyond the corner.
_RUN_ON = 0.9
_RUN_GAP = 4.0
_RUN_LENGTH = 0.15
_RUN_STEPS = np.linspace(0.0, 1.0, 8, dtype=np.float32)
_RUN_ASIDE = 6.0
_RUN_BESIDE = 0.5
# How many times the step repeats (a printed double frame, then the paper's edge).
_ROUNDS = 3


def surrounding_page(small: np.ndarray, page: Outline, edges: np.ndarray, colour: Chroma | None) -> Outline:
    """page (a complete page of readable size in small, the analysis image), or the page around
    it when page is a printed panel, frame or table (page_around) on the grey edges (edges: the
    search's own map) and, with colour, the chroma edges together, unless the band between the
    two has the desk's tones (_band_is_desk: a page found whole on a checked or dotted cloth has
    the cloth's next row of checks or dots around it). Stills only, as the coloured rim: they are
    rectified from their outline."""
    h, w = edges.shape[:2]
    both = edges
    if colour is not None and min(h // 2, w // 2) >= _CHROMA_MIN_SIDE:
        chroma = cv2.resize(colour.sampled_edges((h // 2, w // 2)), (w, h), interpolation=cv2.INTER_NEAREST)
        both = cv2.bitwise_or(edges, cv2.dilate(chroma, DILATE_3))
    planes = [small] if colour is None else [small, *colour.sampled((h, w))]
    found = page_around(page.corners, both, lambda corners: _plain_inside(planes, corners))
    if found is None:
        return page
    corners = order_corners(found)
    if _band_is_desk(small, colour, page.corners, corners):
        return page
    # Refined on the full-size grey only where the grey edges carry every side (see
    # Outline.colour: a step of colour alone has no grey step to refine on).
    following = np.roll(corners, -1, axis=0)
    grey = all(_share_on(edges, start + (end - start) * _STEPS[:, None]) >= _SIDE_SUPPORT
               for start, end in zip(corners, following, strict=True))
    return replace(page, corners=corners, coverage=float(cv2.contourArea(corners)) / (w * h),
                   colour=page.colour or not grey)


def _plain_inside(planes: list[np.ndarray], corners: np.ndarray) -> bool:
    """Whether the strip just inside each side of corners is one material along the side: the
    spread (_SPREAD_HIGH minus _SPREAD_LOW percentile) of each plane's samples _INSIDE pixels in
    under _MAX_GREY_SPREAD in grey and _MAX_CHROMA_SPREAD in chroma. A page's rim or margin is;
    a row of a checked cloth's squares, found as the next line out from a page found whole, is
    not."""
    centre = corners.mean(axis=0)
    limits = [_MAX_GREY_SPREAD] + [_MAX_CHROMA_SPREAD] * (len(planes) - 1)
    h, w = planes[0].shape[:2]
    for i in range(4):
        start, end = corners[i], corners[(i + 1) % 4]
        points = start + (end - start) * _STEPS[:, None]
        inward = centre - (start + end) * 0.5
        along = end - start
        normal = np.array([along[1], -along[0]], np.float32) / max(float(np.hypot(*along)), 1e-6)
        if float(np.dot(inward, normal)) < 0:
            normal = -normal
        p = np.rint(points + normal * _INSIDE).astype(np.int32)
        x, y = np.clip(p[:, 0], 0, w - 1), np.clip(p[:, 1], 0, h - 1)
        for plane, limit in zip(planes, limits, strict=True):
            low, high = np.percentile(plane[y, x], (_SPREAD_LOW, _SPREAD_HIGH))
            if high - low > limit:
                return False
    return True


_INSIDE = 4.0
_SPREAD_LOW, _SPREAD_HIGH = 10, 90
_MAX_GREY_SPREAD = 64.0
_MAX_CHROMA_SPREAD = 28.0


def _band_is_desk(small: np.ndarray, colour: Chroma | None, inner: np.ndarray, outer: np.ndarray) -> bool:
    """Whether the band between the quadrilaterals inner and outer (corners in the same order) is
    desk: along at least _DESK_SIDES of its sides, the strip between the two has the tones of a
    strip as wide just outside outer, level by level (desk.tone_distance under
    DESK_MAX_TONE_DISTANCE in grey and, with colour, DESK_MAX_CHROMA_DISTANCE in each chroma
    plane). A card's rim or a form's margin is its own material; a row of a cloth's checks or
    dots around a page found whole is desk. Side by side, as the desk beyond one side may be
    another thing (a card's title band above its body found as the page)."""
    h, w = small.shape[:2]
    planes = [small] if colour is None else [small, *colour.sampled((h, w))]
    limits = [t.DESK_MAX_TONE_DISTANCE] + [t.DESK_MAX_CHROMA_DISTANCE] * (len(planes) - 1)
    centre = outer.mean(axis=0)
    desk_sides = 0
    for i in range(4):
        a, b = inner[i], inner[(i + 1) % 4]
        outer_a, outer_b = outer[i], outer[(i + 1) % 4]
        along = outer_b - outer_a
        normal = np.array([along[1], -along[0]], np.float32) / max(float(np.hypot(*along)), 1e-6)
        if float(np.dot((outer_a + outer_b) * 0.5 - centre, normal)) < 0:
            normal = -normal
        width = float(np.dot((outer_a + outer_b - a - b) * 0.5, normal))
        if width < _DESK_MIN_WIDTH:
            continue  # the side hardly moved: its strip is the two edges
        strip = _mask((h, w), np.array([a, b, outer_b, outer_a]))
        beyond = _mask((h, w), np.array([outer_a, outer_b, outer_b + normal * width, outer_a + normal * width]))
        if cv2.countNonZero(strip) < _MIN_PIXELS or cv2.countNonZero(beyond) < _MIN_PIXELS:
            continue
        if all(tone_distance(plane, strip, beyond) < limit for plane, limit in zip(planes, limits, strict=True)):
            desk_sides += 1
    return desk_sides >= _DESK_SIDES


def _mask(shape: tuple[int, int], polygon: np.ndarray) -> np.ndarray:
    """The polygon filled, its outline left out (edges belong to neither side)."""
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(polygon).astype(np.int32), 255)
    return cv2.erode(mask, _ERODE_3)


# A side moved out by less than this (pixels) has no strip of its own to measure.
_DESK_MIN_WIDTH = 5.0
_DESK_SIDES = 1
_CHROMA_MIN_SIDE = 90  # the chroma edges are read at half size (as the coarse searches')
_ERODE_3 = np.ones((3, 3), np.uint8)
_MIN_PIXELS = 20


def page_around(panel: np.ndarray, edges: np.ndarray,
                accept: Callable[[np.ndarray], bool] | None = None) -> np.ndarray | None:
    """The corners (TL, TR, BR, BL, float32) of the page around panel (four corners in the same
    order, pixels of edges), or None when there is none.

    edges: a dilated 8-bit edge map (0/255) of the analysis image, the grey and the chroma edges
    together. Each round moves every side of the quadrilateral outward to the nearest line beyond
    its own edge (_outward_line); the page is the last round's quadrilateral that passes
    _is_page and accept (the picture's own test, when given)."""
    h, w = edges.shape[:2]
    current = np.asarray(panel, np.float32).reshape(4, 2)
    found: np.ndarray | None = None
    for _ in range(_ROUNDS):
        lines = [_outward_line(edges, current, i) for i in range(4)]
        if any(line is None for line in lines):
            break
        corners = _corners(lines)  # type: ignore[arg-type]
        if corners is None or not _is_page(corners, current, edges, w, h) \
                or (accept is not None and not accept(corners)):
            break
        found = current = corners
    if found is None:
        return None
    area = float(cv2.contourArea(found))
    if area > _MAX_GROWTH * float(cv2.contourArea(np.asarray(panel, np.float32).reshape(4, 2))):
        return None
    return found


def _outward_line(edges: np.ndarray, corners: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(point, direction) of the nearest line outside corners' side (from corner side to side + 1)
    and beyond its own edge that edges carry along the side's middle, or None.

    Each half of the side finds its own lines (_line_offsets), so the line may lean a little
    against the side (a rim a pixel wider at one end, the perspective of a camera not quite
    above): the nearest pair, one from each half, within _MAX_LEAN of their offset."""
    h, w = edges.shape[:2]
    start, end = corners[side], corners[(side + 1) % 4]
    along = end - start
    length = float(np.hypot(*along))
    if length < 1:
        return None
    unit = along / length
    normal = np.array([unit[1], -unit[0]], np.float32)
    centre = corners.mean(axis=0)
    middle = (start + end) * 0.5
    if float(np.dot(middle - centre, normal)) < 0:
        normal = -normal
    opposite = (corners[(side + 2) % 4] + corners[(side + 3) % 4]) * 0.5
    depth = abs(float(np.dot(middle - opposite, normal)))
    reach = int(_REACH * depth)
    if reach < 4:
        return None
    base = start + along * _STEPS[:, None]
    offsets = np.arange(reach + 1, dtype=np.float32)
    points = np.rint(base[None, :, :] + offsets[:, None, None] * normal).astype(np.int32)
    inside = (points[..., 0] >= 0) & (points[..., 0] < w) & (points[..., 1] >= 0) & (points[..., 1] < h)
    x = np.clip(points[..., 0], 0, w - 1)
    y = np.clip(points[..., 1], 0, h - 1)
    hits = (edges[y, x] > 0) & inside
    half = len(_STEPS) // 2
    pairs = [(max(one, two), one, two) for one in _line_offsets(hits[:, :half].mean(axis=1))
             for two in _line_offsets(hits[:, half:].mean(axis=1))
             if abs(one - two) <= max(_MIN_LEAN, _MAX_LEAN * max(one, two))]
    if not pairs:
        return None
    _, first, second = min(pairs)
    if abs(first - second) <= _PARALLEL:
        # Within the runs' own half-pixel steps: parallel to the side, at their mean offset.
        first = second = (first + second) * 0.5
    one = start + along * float(_STEPS[:half].mean()) + normal * np.float32(first)
    two = start + along * float(_STEPS[half:].mean()) + normal * np.float32(second)
    direction = two - one
    return one.astype(np.float32), (direction / max(float(np.hypot(*direction)), 1e-6)).astype(np.float32)


def _line_offsets(profile: np.ndarray) -> list[float]:
    """The offsets of the narrow lines in profile (the share of samples on edge pixels at each
    offset out from the side) beyond the side's own edge: past the first offset under _LEFT, runs
    of offsets at _LINE or more with a quiet offset (under _QUIET) among the _QUIET_BEFORE just
    inside them, and not a band (_MAX_WIDTH, _QUIET_AFTER). A run without that quiet, or a band,
    is print: a line of a card's title beside its panel, with more print just inside it, or the
    whole title."""
    off = np.flatnonzero(profile < _LEFT)
    if len(off) == 0:
        return []
    found = []
    i = int(off[0])
    n = len(profile)
    while i < n:
        if profile[i] < _LINE:
            i += 1
            continue
        j = i
        while j + 1 < n and profile[j + 1] >= _LINE:
            j += 1
        band = j - i + 1 > _MAX_WIDTH and j + 1 < n and float(profile[j + 1:j + 1 + _QUIET_AFTER].min()) < _LEFT
        if not band and float(profile[max(0, i - _QUIET_BEFORE):i].min()) < _QUIET:
            # The middle of the dilated edge's first pixels: desk texture right outside a page
            # can carry the run on.
            found.append(i + min(j - i, _EDGE_WIDTH - 1) * 0.5)
        i = j + 1
    return found


def _corners(lines: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray | None:
    """Where neighbouring lines meet: corner i between side i - 1 and side i."""
    corners = np.empty((4, 2), np.float32)
    for i in range(4):
        (p, d), (q, e) = lines[i - 1], lines[i]
        cross = float(d[0] * e[1] - d[1] * e[0])
        if abs(cross) < 1e-6:
            return None
        t = float((q[0] - p[0]) * e[1] - (q[1] - p[1]) * e[0]) / cross
        corners[i] = p + d * np.float32(t)
    return corners


def _is_page(corners: np.ndarray, inner: np.ndarray, edges: np.ndarray, w: int, h: int) -> bool:
    """Whether the quadrilateral around inner is a page: larger by _MIN_GROWTH, clear of the frame
    border, square, carried by the edges along every side, and ending at its corners."""
    if float(cv2.contourArea(corners)) < _MIN_GROWTH * float(cv2.contourArea(inner)):
        return False
    if corners[:, 0].min() < _MARGIN or corners[:, 1].min() < _MARGIN \
            or corners[:, 0].max() > w - 1 - _MARGIN or corners[:, 1].max() > h - 1 - _MARGIN:
        return False
    following = np.roll(corners, -1, axis=0)
    sides = following - corners
    previous = np.roll(sides, 1, axis=0)
    lengths = np.hypot(sides[:, 0], sides[:, 1])
    cosines = np.abs((sides * previous).sum(axis=1)) / np.maximum(lengths * np.roll(lengths, 1), 1e-6)
    if float(cosines.max()) > np.sin(np.radians(_MAX_SKEW)):
        return False
    for i in range(4):
        start, end = corners[i], following[i]
        if _share_on(edges, start + sides[i] * _STEPS[:, None]) < _SIDE_SUPPORT:
            return False
        unit = sides[i] / lengths[i]
        run = (_RUN_GAP + _RUN_LENGTH * float(lengths[i]) * _RUN_STEPS[:, None]) * unit
        if _runs_on(edges, end + run, unit) and _runs_on(edges, start - run, unit):
            return False
    return True


def _runs_on(edges: np.ndarray, points: np.ndarray, unit: np.ndarray) -> bool:
    """Whether a line runs through points (on a side's extension past a corner): edges on at
    least _RUN_ON of them, and on at most _RUN_BESIDE of the points _RUN_ASIDE pixels to either
    side of them (a dense texture, wood grain or fabric, has edges everywhere and is no line)."""
    if _share_on(edges, points) < _RUN_ON:
        return False
    normal = np.array([unit[1], -unit[0]], np.float32) * np.float32(_RUN_ASIDE)
    beside = (_share_on(edges, points + normal) + _share_on(edges, points - normal)) * 0.5
    return beside <= _RUN_BESIDE


def _share_on(edges: np.ndarray, points: np.ndarray) -> float:
    """Share of points with an edge pixel within 1 px (points outside the map count as none)."""
    h, w = edges.shape[:2]
    p = np.rint(points).astype(np.int32)
    hits = np.zeros(len(p), bool)
    for dx, dy in _NEAR:
        x, y = p[:, 0] + dx, p[:, 1] + dy
        inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        hits |= inside & (edges[np.clip(y, 0, h - 1), np.clip(x, 0, w - 1)] > 0)
    return float(hits.mean())


_NEAR = [(dx, dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
