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

A page found whole on a checked or dotted cloth has the cloth's next row of checks or dots as a
line outside every side: two tests of the picture refuse it (the strip just inside each new side
must be one material, and the band between the two quadrilaterals must not have the desk's
tones). Stills only: they are rectified from their outline; a live frame's outline only guides
the resident, and the panel lies where the card is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import cv2
import numpy as np

from server.quality import thresholds as t
from server.quality.colour import Chroma
from server.quality.document import Outline, meeting_corners, order_corners, square_within
from server.quality.metrics import tone_distance

# Samples along each side (its middle 80%: the corners' rounding and the neighbouring sides'
# edges stay out of the count).
_STEPS = np.linspace(0.1, 0.9, 24, dtype=np.float32)
_FIRST, _LAST = float(_STEPS[0]), float(_STEPS[-1])
# Where along the side each half's line is placed: the mean of its samples' positions.
_MIDDLE_FIRST = float(_STEPS[:12].mean())
_MIDDLE_SECOND = float(_STEPS[12:].mean())
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
    search's own map) and, with colour, the chroma edges together, unless the strip inside one of
    its sides is not one material (_plain_inside) or the band between the two has the desk's
    tones (_band_is_desk): a page found whole on a checked or dotted cloth has the cloth's next
    row of checks or dots around it."""
    h, w = edges.shape[:2]
    maps = EdgeMaps(edges, colour.sampled_edges((h // 2, w // 2))
                    if colour is not None and min(h // 2, w // 2) >= _CHROMA_MIN_SIDE else None)
    planes = _Planes(small, colour)

    def plain(corners: np.ndarray) -> bool:
        return _plain_inside(planes, corners)

    found = page_around(page.corners, maps, plain)
    if found is None:
        return page
    corners = order_corners(found)
    if _band_is_desk(planes, page.corners, corners):
        return page
    # Refined on the full-size grey only where the grey edges carry every side (see
    # Outline.colour: a step of colour alone has no grey step to refine on).
    following = np.roll(corners, -1, axis=0)
    grey_map = EdgeMaps(edges)
    grey = all(_share_on(grey_map, start + (end - start) * _STEPS[:, None]) >= _SIDE_SUPPORT
               for start, end in zip(corners, following, strict=True))
    return replace(page, corners=corners, coverage=float(cv2.contourArea(corners)) / (w * h),
                   colour=page.colour or not grey)


class _Planes:
    """The planes the picture's tests read (scaled: plane, its scale from the analysis image,
    spread limit, tone-distance limit): the grey analysis image and, with colour, the two chroma
    planes of point samples at half its size (Chroma.sampled: the coloured rim's test has made
    them already for every still with a page)."""

    def __init__(self, small: np.ndarray, colour: Chroma | None) -> None:
        h, w = small.shape[:2]
        planes = [(small, *_GREY_LIMITS)]
        if colour is not None and min(h // 2, w // 2) >= _CHROMA_MIN_SIDE:
            planes += [(plane, *_CHROMA_LIMITS) for plane in colour.sampled((h // 2, w // 2))]
        self.scaled = [(plane, plane.shape[1] / w, spread, tones) for plane, spread, tones in planes]


def _plain_inside(planes: _Planes, corners: np.ndarray) -> bool:
    """Whether the strip just inside each side of corners is one material along the side: the
    spread of each plane's samples _INSIDE pixels in (the third highest minus the third lowest of
    the side's 24) under _MAX_GREY_SPREAD in grey and _MAX_CHROMA_SPREAD in chroma. A page's rim or
    margin is; a row of a checked cloth's squares, found as the next line out from a page found
    whole, is not."""
    centre = corners.mean(axis=0)
    for i in range(4):
        start, end = corners[i], corners[(i + 1) % 4]
        points = start + (end - start) * _STEPS[:, None] - _outward_normal(start, end, centre) * _INSIDE
        for plane, scale, limit, _ in planes.scaled:
            ph, pw = plane.shape[:2]
            p = np.rint(points * scale).astype(np.int32)
            values = np.sort(plane[np.clip(p[:, 1], 0, ph - 1), np.clip(p[:, 0], 0, pw - 1)].astype(np.int16))
            if int(values[-_SPREAD_END]) - int(values[_SPREAD_END - 1]) > limit:
                return False
    return True


_INSIDE = 4.0
_SPREAD_END = 3
_MAX_GREY_SPREAD = 64.0
_MAX_CHROMA_SPREAD = 28.0


def _outward_normal(start: np.ndarray, end: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """The unit normal of the side from start to end that points away from centre."""
    along = end - start
    normal = np.array([along[1], -along[0]], np.float32) / max(float(np.hypot(*along)), 1e-6)
    return normal if float(np.dot((start + end) * 0.5 - centre, normal)) >= 0 else -normal


def _band_is_desk(planes: _Planes, inner: np.ndarray, outer: np.ndarray) -> bool:
    """Whether the band between the quadrilaterals inner and outer (corners in the same order) is
    desk: along at least _DESK_SIDES of its sides, the strip between the two has the tones of a
    strip as wide just outside outer, level by level (metrics.tone_distance under
    DESK_MAX_TONE_DISTANCE in grey and DESK_MAX_CHROMA_DISTANCE in each chroma plane, read at
    half size). A card's rim or a form's margin is its own material; a row of a cloth's checks
    or dots around a page found whole is desk. Side by side, as the desk beyond one side may be
    another thing (a card's title band above its body found as the page)."""
    centre = outer.mean(axis=0)
    desk_sides = 0
    for i in range(4):
        a, b = inner[i], inner[(i + 1) % 4]
        outer_a, outer_b = outer[i], outer[(i + 1) % 4]
        normal = _outward_normal(outer_a, outer_b, centre)
        width = float(np.dot((outer_a + outer_b - a - b) * 0.5, normal))
        if width < _DESK_MIN_WIDTH:
            continue  # the side hardly moved: its strip is the two edges
        strip_polygon = np.array([a, b, outer_b, outer_a], np.float32)
        beyond_polygon = np.array([outer_a, outer_b, outer_b + normal * width, outer_a + normal * width], np.float32)
        if all(_same_tones(plane, scale, strip_polygon, beyond_polygon, limit)
               for plane, scale, _, limit in planes.scaled):
            desk_sides += 1
            if desk_sides >= _DESK_SIDES:
                return True
    return False


def _same_tones(plane: np.ndarray, scale: float, first: np.ndarray, second: np.ndarray, limit: float) -> bool:
    """Whether the two polygons (analysis pixels; plane is at scale of that size) have the same
    tones in plane: tone_distance under limit. Not measurable (too small, or off the frame):
    False. Both masks are made in the two polygons' bounding box only (a whole-frame mask per
    strip cost more than the rest of the search)."""
    h, w = plane.shape[:2]
    first, second = first * np.float32(scale), second * np.float32(scale)
    x, y, bw, bh = cv2.boundingRect(np.concatenate((first, second)))
    x0, y0 = max(0, x - 1), max(0, y - 1)
    x1, y1 = min(w, x + bw + 1), min(h, y + bh + 1)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return False
    origin = np.array([x0, y0], np.float32)
    one, two = _mask((y1 - y0, x1 - x0), first - origin), _mask((y1 - y0, x1 - x0), second - origin)
    if cv2.countNonZero(one) < _MIN_PIXELS * scale * scale or cv2.countNonZero(two) < _MIN_PIXELS * scale * scale:
        return False
    return tone_distance(plane[y0:y1, x0:x1], one, two) < limit


def _mask(shape: tuple[int, int], polygon: np.ndarray) -> np.ndarray:
    """The polygon filled, its outline left out (edges belong to neither side)."""
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(polygon).astype(np.int32), 255)
    return cv2.erode(mask, _ERODE_3)


# A side moved out by less than this (pixels) has no strip of its own to measure; one side whose
# strip is desk makes the band desk.
_DESK_MIN_WIDTH = 5.0
_DESK_SIDES = 1
_ERODE_3 = np.ones((3, 3), np.uint8)
_CHROMA_MIN_SIDE = 90  # the chroma is read at half size (as the coarse searches')
_GREY_LIMITS = (_MAX_GREY_SPREAD, t.DESK_MAX_TONE_DISTANCE)
_CHROMA_LIMITS = (_MAX_CHROMA_SPREAD, t.DESK_MAX_CHROMA_DISTANCE)
_MIN_PIXELS = 20


class EdgeMaps:
    """The analysis image's edges for the outward search: the grey edge map (dilated, 0/255)
    and, optionally, the chroma edges at half its size (undilated, as Chroma.sampled_edges makes
    them). A point is an edge where the grey map has one or where the chroma map, brought to the
    analysis size by nearest pixel and dilated by DILATE_3, would: the half-size pixels under
    its neighbours one either side are read (the same answer as resizing and dilating the whole
    map, which cost more than the lookups of a still's search: most stop at their first side)."""

    def __init__(self, grey: np.ndarray, chroma: np.ndarray | None = None) -> None:
        self.shape = grey.shape[:2]
        self.h, self.w = self.shape
        self.grey = np.ascontiguousarray(grey).ravel()
        self.chroma = None if chroma is None else np.ascontiguousarray(chroma).ravel()
        self.chroma_shape = (0, 0) if chroma is None else chroma.shape[:2]

    def at(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Whether each point (integer arrays, inside the map) is an edge pixel."""
        hits = self.grey[ys * self.w + xs] > 0
        if self.chroma is None:
            return hits
        ch, cw = self.chroma_shape
        # Nearest-pixel sources of the neighbours x - 1 and x + 1 (x's own is one of them).
        lo_x, hi_x = np.maximum(xs - 1, 0), np.minimum(xs + 1, self.w - 1)
        lo_y, hi_y = np.maximum(ys - 1, 0), np.minimum(ys + 1, self.h - 1)
        if (cw * 2, ch * 2) == (self.w, self.h):
            lo_x >>= 1
            hi_x >>= 1
            lo_y = (lo_y >> 1) * cw
            hi_y = (hi_y >> 1) * cw
        else:
            lo_x, hi_x = lo_x * cw // self.w, hi_x * cw // self.w
            lo_y, hi_y = lo_y * ch // self.h * cw, hi_y * ch // self.h * cw
        c = self.chroma
        hits |= (c[lo_y + lo_x] | c[lo_y + hi_x] | c[hi_y + lo_x] | c[hi_y + hi_x]) > 0
        return hits


def page_around(panel: np.ndarray, edges: EdgeMaps,
                accept: Callable[[np.ndarray], bool] | None = None) -> np.ndarray | None:
    """The corners (TL, TR, BR, BL, float32) of the page around panel (four corners in the same
    order, pixels of edges), or None when there is none.

    edges: the analysis image's edges, grey and chroma together. Each round moves every side of
    the quadrilateral outward to the nearest line beyond its own edge (_outward_lines); the page
    is the last round's quadrilateral that passes _is_page and accept (the picture's own test,
    when given)."""
    h, w = edges.shape
    current = np.asarray(panel, np.float32).reshape(4, 2)
    found: np.ndarray | None = None
    for _ in range(_ROUNDS):
        lines = _outward_lines(edges, current)
        if lines is None:
            break
        corners = meeting_corners(lines)
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


def _outward_lines(edges: EdgeMaps, corners: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """For each side of corners (side i from corner i to i + 1): (point, direction) of the
    nearest line outside it and beyond its own edge that edges carry along the side's middle;
    None as soon as a side has none (a page needs a line at every side: on most stills the first
    side has none, and the others are never sampled).

    Each half of a side finds its own lines (_line_offsets), so the line may lean a little
    against the side (a rim a pixel wider at one end, the perspective of a camera not quite
    above): the nearest pair, one from each half, within _MAX_LEAN of their offset."""
    h, w = edges.shape
    points = corners.tolist()
    cx, cy = (float(v) for v in np.add.reduce(corners, axis=0) * 0.25)
    half = len(_STEPS) // 2
    lines = []
    for side in range(4):
        # Plain floats for the geometry: numpy calls on 2-vectors cost more than the sampling.
        (x0, y0), (x1, y1) = points[side], points[(side + 1) % 4]
        ax, ay = x1 - x0, y1 - y0
        length = (ax * ax + ay * ay) ** 0.5
        if length < 1:
            return None
        nx, ny = ay / length, -ax / length
        mx, my = (x0 + x1) * 0.5, (y0 + y1) * 0.5
        if (mx - cx) * nx + (my - cy) * ny < 0:
            nx, ny = -nx, -ny
        (ox0, oy0), (ox1, oy1) = points[(side + 2) % 4], points[(side + 3) % 4]
        depth = abs((mx - (ox0 + ox1) * 0.5) * nx + (my - (oy0 + oy1) * 0.5) * ny)
        # Not past the frame: a page must lie inside it (and the border drawn into the map is
        # no line).
        reach = min(int(_REACH * depth), _room(x0 + ax * _FIRST, y0 + ay * _FIRST, nx, ny, w, h),
                    _room(x0 + ax * _LAST, y0 + ay * _LAST, nx, ny, w, h))
        if reach < 4:
            return None
        offsets = np.arange(reach + 1, dtype=np.float32)[:, None]
        xs = np.rint((x0 + ax * _STEPS) + offsets * np.float32(nx)).astype(np.int32)
        ys = np.rint((y0 + ay * _STEPS) + offsets * np.float32(ny)).astype(np.int32)
        shares = np.add.reduce(edges.at(xs, ys).reshape(reach + 1, 2, half), axis=2) * (1.0 / half)
        pairs = [(max(one, two), one, two) for one in _line_offsets(shares[:, 0])
                 for two in _line_offsets(shares[:, 1])
                 if abs(one - two) <= max(_MIN_LEAN, _MAX_LEAN * max(one, two))]
        if not pairs:
            return None
        _, first, second = min(pairs)
        if abs(first - second) <= _PARALLEL:
            # Within the runs' own half-pixel steps: parallel to the side, at their mean offset.
            first = second = (first + second) * 0.5
        px, py = x0 + ax * _MIDDLE_FIRST + nx * first, y0 + ay * _MIDDLE_FIRST + ny * first
        qx, qy = x0 + ax * _MIDDLE_SECOND + nx * second, y0 + ay * _MIDDLE_SECOND + ny * second
        dx, dy = qx - px, qy - py
        norm = max((dx * dx + dy * dy) ** 0.5, 1e-6)
        lines.append((np.array([px, py], np.float32), np.array([dx / norm, dy / norm], np.float32)))
    return lines


def _room(x: float, y: float, nx: float, ny: float, w: int, h: int) -> int:
    """How many whole pixels the point (x, y) can move along (nx, ny) and stay in a w x h map."""
    limits = []
    for position, step, size in ((x, nx, w), (y, ny, h)):
        if step > 1e-9:
            limits.append((size - 1 - position) / step)
        elif step < -1e-9:
            limits.append(position / -step)
    return max(0, int(min(limits, default=0.0)) - 1)


def _line_offsets(profile: np.ndarray) -> list[float]:
    """The offsets of the narrow lines in profile (the share of samples on edge pixels at each
    offset out from the side) beyond the side's own edge: past the first offset under _LEFT, runs
    of offsets at _LINE or more with a quiet offset (under _QUIET) among the _QUIET_BEFORE just
    inside them, and not a band (_MAX_WIDTH, _QUIET_AFTER). A run without that quiet, or a band,
    is print: a line of a card's title beside its panel, with more print just inside it, or the
    whole title."""
    low = profile < _LEFT
    if not low.any():
        return []
    first = int(low.argmax())
    high = np.concatenate(([False], profile[first:] >= _LINE, [False]))
    changes = np.flatnonzero(high[1:] != high[:-1]) + first  # each run's start, then its end + 1
    values = profile.tolist()
    n = len(values)
    found = []
    for i, stop in zip(changes[0::2].tolist(), changes[1::2].tolist(), strict=True):
        j = stop - 1
        band = j - i + 1 > _MAX_WIDTH and j + 1 < n and min(values[j + 1:j + 1 + _QUIET_AFTER]) < _LEFT
        if not band and min(values[max(0, i - _QUIET_BEFORE):i]) < _QUIET:
            # The middle of the dilated edge's first pixels: desk texture right outside a page
            # can carry the run on.
            found.append(i + min(j - i, _EDGE_WIDTH - 1) * 0.5)
    return found


def _is_page(corners: np.ndarray, inner: np.ndarray, edges: EdgeMaps, w: int, h: int) -> bool:
    """Whether the quadrilateral around inner is a page: larger by _MIN_GROWTH, clear of the frame
    border, square, carried by the edges along every side, and ending at its corners."""
    if float(cv2.contourArea(corners)) < _MIN_GROWTH * float(cv2.contourArea(inner)):
        return False
    if corners[:, 0].min() < _MARGIN or corners[:, 1].min() < _MARGIN \
            or corners[:, 0].max() > w - 1 - _MARGIN or corners[:, 1].max() > h - 1 - _MARGIN:
        return False
    if not square_within(corners, _MAX_SKEW):
        return False
    following = np.roll(corners, -1, axis=0)
    sides = following - corners
    lengths = np.hypot(sides[:, 0], sides[:, 1])
    for i in range(4):
        start, end = corners[i], following[i]
        if _share_on(edges, start + sides[i] * _STEPS[:, None]) < _SIDE_SUPPORT:
            return False
        unit = sides[i] / lengths[i]
        run = (_RUN_GAP + _RUN_LENGTH * float(lengths[i]) * _RUN_STEPS[:, None]) * unit
        if _runs_on(edges, end + run, unit) and _runs_on(edges, start - run, unit):
            return False
    return True


def _runs_on(edges: EdgeMaps, points: np.ndarray, unit: np.ndarray) -> bool:
    """Whether a line runs through points (on a side's extension past a corner): edges on at
    least _RUN_ON of them, and on at most _RUN_BESIDE of the points _RUN_ASIDE pixels to either
    side of them (a dense texture, wood grain or fabric, has edges everywhere and is no line)."""
    if _share_on(edges, points) < _RUN_ON:
        return False
    normal = np.array([unit[1], -unit[0]], np.float32) * np.float32(_RUN_ASIDE)
    beside = (_share_on(edges, points + normal) + _share_on(edges, points - normal)) * 0.5
    return beside <= _RUN_BESIDE


def _share_on(edges: EdgeMaps, points: np.ndarray) -> float:
    """Share of points with an edge pixel within 1 px (points outside the map count as none)."""
    h, w = edges.shape
    p = np.rint(points).astype(np.int32)
    x = p[:, 0:1] + _NEAR_X
    y = p[:, 1:2] + _NEAR_Y
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    hits = inside & edges.at(np.clip(x, 0, w - 1), np.clip(y, 0, h - 1))
    return float(np.count_nonzero(hits.any(axis=1))) / len(p)


# The 3x3 neighbourhood's offsets, each as a row of one lookup.
_NEAR_X = np.array([[-1, 0, 1] * 3], np.int32)
_NEAR_Y = np.array([[-1] * 3 + [0] * 3 + [1] * 3], np.int32)
