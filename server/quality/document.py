"""Find a document's outline in the analysis image and rectify it from the full-size image.

Canny edges closed into rings (docs/measurements.md: ~0.5 ms at 640 wide); every ring that is a
convex quadrilateral is a candidate, the largest wins. A document running out of the picture closes
against the frame border (drawn into the edge map): a polygon with vertices on that border.
Where that finds no page of readable size, the chroma planes' edges, a more sensitive threshold,
a quarter-size search (a busy desk's texture averaged away), a half-size one on grey and chroma
edges together and last the gap in a coloured cloth's pattern (cloth.py) look again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import combinations

import cv2
import numpy as np

from server.quality import thresholds as t
from server.quality.cloth import PatternGap, pattern_gap
from server.quality.colour import Chroma
from server.quality.edges import blur_for_edges, canny
from server.quality.panel import beyond_is_other, continues_on

__all__ = ["Outline", "blur_for_edges", "cloth_page", "coloured_rim", "edge_threshold", "find_outline",
           "rectify_document"]


@dataclass(frozen=True)
class Outline:
    """A document outline in analysis-image pixels; corners are TL, TR, BR, BL when complete."""

    corners: np.ndarray  # (N, 2) float32
    coverage: float  # outline area / frame area
    cut_off: bool  # the document continues outside the frame
    faint: bool = False  # found by the sensitive second pass (not tracked between live frames)
    colour: bool = False  # found only with the chroma planes' edges (not tracked either)
    coarse: bool = False  # found only at a quarter of the analysis size (not tracked either)
    # For a cut-off region: the largest complete quadrilateral outside it (a small page beside an
    # object running off the frame), which the analyser prefers when the region holds no print.
    # For a complete quadrilateral under MIN_DOCUMENT_COVERAGE: a chain (each its own `aside`) of
    # up to _BESIDE_MAX other ones, largest first, not inside it, the first of which that is a
    # document the analyser prefers when this one is none (a blank object beside the page).
    aside: Outline | None = None
    # For a complete page: the cut-off region it makes with a ring beside it that runs off the
    # frame and carries its sides on straight (continued_outline), taken when that ring has the
    # page's ground (panel.continues_on): the other half of a booklet, cut off.
    beyond: Outline | None = None
    # For a complete page found inside a cut-off region by the side search (lies_on_top): that
    # region, taken back when its part beyond the page has the page's own ground
    # (panel.continues_on): a band printed across a page that runs off the frame, not a page
    # lying on a second card.
    under: Outline | None = None


def order_corners(points: np.ndarray) -> np.ndarray:
    """Order four points as top-left, top-right, bottom-right, bottom-left."""
    pts = np.asarray(points, np.float32).reshape(4, 2)
    # The ufuncs themselves rather than mean/sum/argsort's Python wrappers (the same float32
    # arithmetic: the mean of four is their sum times a quarter, exactly).
    offset = pts - np.add.reduce(pts, axis=0) * _QUARTER
    angles = np.arctan2(offset[:, 1], offset[:, 0])
    pts = pts[angles.argsort()]  # clockwise on screen (y grows downwards)
    start = int(np.add.reduce(pts, axis=1).argmin())
    return pts[_ROTATIONS[start]]  # np.roll(pts, -start, axis=0), without its overhead


_ROTATIONS = [np.roll(np.arange(4), -start) for start in range(4)]
_QUARTER = np.float32(0.25)


def edge_threshold(blurred: np.ndarray) -> float:
    """Canny's high threshold for this picture: 1.5x its grey std, within the tuned bounds."""
    _, std = cv2.meanStdDev(blurred)
    # Plain min/max: np.clip on a scalar costs ~10 us, a noticeable share of a 2 ms budget.
    return min(max(1.5 * float(std[0, 0]), t.EDGE_HIGH_MIN), t.EDGE_HIGH_MAX)


def find_outline(gray: np.ndarray, blurred: np.ndarray | None = None, high: float | None = None, *,
                 faint: bool = True, colour: Chroma | None = None, edges: np.ndarray | None = None) -> Outline | None:
    """Return the document-like outline in gray (the analysis image), or None.

    Edge thresholds follow the picture's contrast; when the grey edges give no complete page of
    readable size and colour (the frame's chroma) is given, the chroma planes' edges are added
    (a dark card whose edge against the desk is one of hue); when still nothing is found a second,
    more sensitive pass looks again (a hazy lens or a dim room leaves only faint page edges); then
    a quarter-size search on grey (coarse_outline) and, with colour, a half-size one on grey and
    chroma edges together (combined_outline) and the gap in a coloured cloth's pattern
    (cloth_outline) look for a page that a busy desk hides.
    blurred is blur_for_edges(gray), high its edge_threshold and edges edge_map(blurred, high),
    when the caller has them already. faint: whether to run the sensitive second pass.
    """
    if blurred is None:
        blurred = blur_for_edges(gray)
    if high is None:
        high = edge_threshold(blurred)
    if edges is None:
        edges = edge_map(blurred, high)
    outline = outline_in(edges, beyond=True, on_top=True)
    if outline is not None and outline.under is not None:
        under = outline.under
        outline = under if continues_on(gray, colour, outline.corners, under.corners) \
            else replace(outline, under=None)
    if outline is not None and outline.beyond is not None:
        if continues_on(gray, colour, outline.corners, outline.beyond.corners) \
                or beyond_is_other(gray, outline.corners, outline.beyond.corners):
            # Half of a booklet whose other half runs off the frame: the booklet is cut off, and
            # the searches below would only find the same half again.
            return outline.beyond
        outline = replace(outline, beyond=None)
    if colour is not None and not readable_page(outline):
        outline = _with_asides(with_colour(edges, colour, outline), outline)
    if outline is None and faint and high > t.EDGE_HIGH_FAINT \
            and cv2.countNonZero(edges) <= t.FAINT_MAX_EDGE_SHARE * edges.size:
        # Only complete pages count here: at this sensitivity the noise of a plain desk forms
        # regions against the frame border that would pass for a page running out of the picture.
        # A frame already full of edges (fabric, a patterned cloth) is not hazy or dim: a lower
        # threshold only adds texture, at the price of the dearest pass of all.
        outline = outline_in(edge_map(blurred, t.EDGE_HIGH_FAINT), allow_cut=False)
        if outline is not None:
            outline = replace(outline, faint=True)
    if not readable_page(outline):
        coarse = coarse_outline(gray)
        if coarse is not None and (outline is None or _better(coarse, outline)):
            outline = _with_asides(coarse, outline)
    if colour is not None and not readable_page(outline):
        both = combined_outline(gray, colour)
        if both is not None and (outline is None or _better(both, outline)):
            outline = _with_asides(both, outline)
    if colour is not None and not readable_page(outline):
        gap = cloth_outline(gray, colour)
        # A region running off the frame that holds the gap is the cloth and the page together,
        # not a page with a box printed on it (best_outline's rule): the gap is bounded by the
        # cloth's pattern.
        if gap is not None and (outline is None or gap.coverage > outline.coverage
                                or (outline.cut_off and not gap.cut_off)):
            outline = gap
    return outline


def _with_asides(found: Outline | None, before: Outline | None) -> Outline | None:
    """found (a later pass's outline that replaced before), keeping as its Outline.aside chain the
    complete quadrilaterals kept beside a small complete winner (best_outline) by either pass, and
    before itself: a blank note that a colour pass outlines a little larger than the grey pass did
    must not lose the page the grey pass kept beside it. Each object once (an outline that
    encloses or lies inside one kept already is the same object), largest first, at most
    _BESIDE_MAX."""
    if found is None or found.cut_off or before is None or before.cut_off or found is before:
        return found
    candidates = [before, *aside_chain(before.aside), *aside_chain(found.aside)]
    kept: list[Outline] = []
    for outline in sorted(candidates, key=lambda o: -o.coverage):
        if not any(encloses(o.corners, outline.corners) or encloses(outline.corners, o.corners)
                   for o in (found, *kept)):
            kept.append(replace(outline, aside=None))
    chain: Outline | None = None
    for outline in reversed(kept[:_BESIDE_MAX]):
        chain = replace(outline, aside=chain)
    return replace(found, aside=chain) if chain is not None else found


def aside_chain(outline: Outline | None) -> list[Outline]:
    """outline and the outlines of its aside chain, in order."""
    items = []
    while outline is not None:
        items.append(outline)
        outline = outline.aside
    return items


def coarse_outline(gray: np.ndarray) -> Outline | None:
    """A complete page of readable size found at a quarter of the analysis size, or None.

    On a busy desk (a striped or checked cloth, clutter, a second card) the page's ring at the
    analysis size runs on into the desk's own edges, and where the page meets a desk stripe of its
    own grey its edge has gaps. A quarter of the size averages the texture away and the dilation
    there (3 quarter pixels, 12 analysis pixels) closes those gaps, while a page of readable size
    is still ~40 quarter pixels across. Cut-off regions take part only so that a box printed on a
    page running off the frame is not taken for a page (best_outline's rule); only a complete
    page is returned. Its corners are refined on the analysis image, where the quarter's ring
    (outside the true edge by about its dilation) would make the page too large.
    """
    h, w = gray.shape[:2]
    if min(h, w) < _QUARTER_MIN_SIDE:
        return None
    quarter = cv2.GaussianBlur(cv2.resize(gray, (w // 4, h // 4), interpolation=cv2.INTER_AREA), (0, 0),
                               _QUARTER_SIGMA)
    return _refined_page(gray, outline_in(edge_map(quarter, edge_threshold(quarter)), merge=False),
                         quarter.shape[:2], colour=False, reach=_QUARTER_REACH)


def combined_outline(gray: np.ndarray, colour: Chroma) -> Outline | None:
    """A complete page of readable size on the grey and the chroma edges together at half the
    analysis size, or None: the last search, where every other one found no such page.

    A neutral card on a striped or checked cloth has an edge of grey against the dark stripes and
    one of colour against the pale ones (a cream or tinted stripe of the card's own grey): neither
    map closes its ring alone, and at the analysis size the two maps' ends do not meet where a
    stripe's edge runs into the card's (so too a card over a second card of its grey). Halved,
    the 3x3 dilation (6 analysis pixels) closes those gaps. A blurred coloured card, whose grey
    edges are too weak at every size, is found the same way (its reasons then say blurry, not
    no_document). Corners are refined on the analysis image, as the quarter-size search's are.
    """
    h, w = gray.shape[:2]
    shape = (h // 2, w // 2)
    if min(shape) < _COARSE_MIN_SIDE:
        return None
    blurred = blur_for_edges(cv2.resize(gray, shape[::-1], interpolation=cv2.INTER_AREA))
    # The dilation of a union is the union of the dilations: the two maps as each search makes them.
    edges = cv2.bitwise_or(edge_map(blurred, edge_threshold(blurred)), chroma_edge_map(colour, shape))
    return _refined_page(gray, outline_in(edges, merge=False), shape, colour=True, reach=_QUARTER_REACH)


def cloth_outline(gray: np.ndarray, colour: Chroma) -> Outline | None:
    """A complete page of readable size found as the gap in a coloured cloth's pattern at half the
    analysis size (cloth.pattern_gap), or one running off the frame (_cut_cloth_outline), or
    None: a pale card on a striped or dotted cloth, whose ring every edge search runs on into the
    stripes.

    The gap's contour follows the page's edge except where a pale stripe or the space between
    dots meets it (a bulge about as wide as the stripe, as deep as the opening's radius), so each
    side is a robust line fit to the contour's points along its rectangle's side, and the corners
    are refined on the analysis image as the other reduced searches' are.
    """
    h, w = gray.shape[:2]
    shape = (h // 2, w // 2)
    if min(shape) < _COARSE_MIN_SIDE:
        return None
    gap = pattern_gap(colour.edges(shape))
    if gap is None:
        return None
    if gap.cut_off:
        return _cut_cloth_outline(gap, shape, (w, h))
    box = order_corners(gap.box)
    sides = _points_along_sides(gap.contour, box)
    corners = box if sides is None else _intersect_sides(sides)
    if corners is None:
        corners = box
    found = Outline(order_corners(corners), float(cv2.contourArea(corners)) / (shape[0] * shape[1]), cut_off=False)
    return _refined_page(gray, found, shape, colour=True, reach=_CLOTH_REACH)


def far_cloth_page(gray: np.ndarray, colour: Chroma) -> Outline | None:
    """A far-away page on a coloured cloth, found as a small gap in the cloth's pattern at half
    the analysis size (cloth.pattern_gap with openings of FAR_CLOTH_RADII, at least
    MIN_DOCUMENT_AREA of the frame), as a complete outline under readable size in gray's pixels
    (its minimum-area rectangle: corners as coarse as the opening leaves them, which is enough to
    say "come closer"), or None. The analyser asks for it only where no search found a page: on
    the cloth's pale stripes the page's white runs into them, so no ring outlines it, and the
    usual gap search's openings (CLOTH_RADII) are wider than a far-away page."""
    h, w = gray.shape[:2]
    shape = (h // 2, w // 2)
    if min(shape) < _COARSE_MIN_SIDE:
        return None
    gap = pattern_gap(colour.edges(shape), t.FAR_CLOTH_RADII, t.MIN_DOCUMENT_AREA)
    if gap is None or gap.cut_off:
        return None
    corners = order_corners(gap.box * np.array([w / shape[1], h / shape[0]], np.float32))
    coverage = float(cv2.contourArea(corners)) / (w * h)
    if coverage >= t.MIN_DOCUMENT_COVERAGE or on_border(corners, w, h).any():
        return None
    return Outline(corners, coverage, cut_off=False, colour=True, coarse=True)


def _cut_cloth_outline(gap: PatternGap, shape: tuple[int, int], size: tuple[int, int]) -> Outline | None:
    """The gap running off the frame as a cut-off outline in analysis pixels (size: width,
    height), when its hull's polygon leaves the frame as a page's does (over one side or one
    corner, its corners inside the frame square within _CUT_MAX_CORNER_SKEW); else None."""
    w, h = size
    scale = np.array([w / shape[1], h / shape[0]], np.float32)
    hull = cv2.convexHull((gap.contour * scale).astype(np.float32))
    approx, border = _ring_polygon(hull, w, h)
    if border is None or not _leaves_as_a_page(approx, border, w, h):
        return _cut_cloth_box(gap, scale, size)
    area = float(cv2.contourArea(hull))
    return Outline(approx.astype(np.float32), area / (w * h), cut_off=True, colour=True, coarse=True)


def _cut_cloth_box(gap: PatternGap, scale: np.ndarray, size: tuple[int, int]) -> Outline | None:
    """The gap's minimum-area rectangle cut by the frame, when the gap fills at least
    _CLOTH_BOX_MIN_FILL of it and it leaves the frame as a page does (its corners inside the frame
    square within _CUT_MAX_CORNER_SKEW): a card whose own coloured print (its chip, a logo) bites
    into the gap near the frame's edge, so the gap's hull cuts a corner off. Tried where the
    hull's polygon fails (_cut_cloth_outline)."""
    w, h = size
    box = (gap.box * scale).astype(np.float32)
    frame = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
    inter, polygon = cv2.intersectConvexConvex(box, frame)
    if polygon is None or inter <= 0:
        return None
    polygon = cv2.approxPolyDP(polygon.reshape(-1, 1, 2), 1.0, True).reshape(-1, 2)
    region = float(cv2.contourArea(gap.contour * scale))
    if region < _CLOTH_BOX_MIN_FILL * inter or not _leaves_as_a_page(polygon, on_border(polygon, w, h), w, h):
        return None
    return Outline(polygon.astype(np.float32), inter / (w * h), cut_off=True, colour=True, coarse=True)


# The gap must fill this share of its rectangle within the frame (held-out dev: a light card on
# a checked cloth, its chip and logo biting into the gap, 0.80).
_CLOTH_BOX_MIN_FILL = 0.75


# The gap's fitted sides lie within a few analysis pixels of the page's edge (the contour is
# traced at half size); a wider search would jump to a stripe's edge beside it.
_CLOTH_REACH = 6
# A side's points: within this share of the rectangle's short side of it, off its ends (the
# rounded corners of the opening).
_CLOTH_SIDE_BAND = 0.15
_CLOTH_SIDE_ENDS = 0.1
_CLOTH_MIN_SIDE_POINTS = 5
_CLOTH_SIDE_POINTS = 48


def _points_along_sides(contour: np.ndarray, box: np.ndarray) -> list[np.ndarray] | None:
    """The contour's points near each side of box (TL, TR, BR, BL), or None when a side has too
    few to fit a line to."""
    sides = box[_FOLLOWING[4]] - box
    band = _CLOTH_SIDE_BAND * float(np.sqrt((sides * sides).sum(axis=1)).min())
    found = []
    for start, end in zip(box, box[_FOLLOWING[4]], strict=True):
        points = _near_side(contour, start, end, band, _CLOTH_SIDE_ENDS)
        if len(points) < _CLOTH_MIN_SIDE_POINTS:
            return None
        # Every pixel of the traced contour: a few dozen fit the line as well, at a tenth the cost.
        found.append(points[::max(1, len(points) // _CLOTH_SIDE_POINTS)])
    return found


def _near_side(points: np.ndarray, start: np.ndarray, end: np.ndarray, band: float, ends: float) -> np.ndarray:
    """The points within band of the side from start to end, and off its ends by ends of its
    length (side_fit's and the cloth's gap's choice of the points a side's line is fitted to)."""
    vector = end - start
    length = float(np.hypot(*vector))
    unit = vector / length
    offset = points - start
    along = offset @ unit
    across = offset @ np.array([-unit[1], unit[0]], np.float32)
    return points[(along > ends * length) & (along < (1 - ends) * length) & (np.abs(across) <= band)]


def _refined_page(gray: np.ndarray, found: Outline | None, shape: tuple[int, int], *,
                  colour: bool, reach: int) -> Outline | None:
    """found (an outline in an image of shape (height, width), a reduced copy of the analysis
    image gray) as a complete page in gray's pixels with its corners refined on gray, or None
    unless it is a complete page of readable size there too, every corner square within 30°.
    colour: whether the chroma edges took part (Outline.colour); reach: the corners' search
    distance on gray."""
    if found is None or not readable_page(found):
        return None
    h, w = gray.shape[:2]
    scale = np.array([w / shape[1], h / shape[0]], np.float32)
    corners = refine_corners(gray, found.corners * scale, reach=reach)
    area = float(cv2.contourArea(corners))
    if area < t.MIN_DOCUMENT_COVERAGE * w * h or not _near_rectangular(corners) or not plausible_page(corners, w * h):
        return None
    return Outline(order_corners(corners), area / (w * h), cut_off=False, colour=colour, coarse=True)


def _near_rectangular(corners: np.ndarray) -> bool:
    """Whether every corner of the quadrilateral (in ring order) is a right angle within
    _MAX_CORNER_SKEW degrees: a page seen from a kiosk's camera is. At the quarter size a quad
    can also close across a desk between two objects' edges and the texture beside them (a wedge
    from one card's corner to another's), whose support at that scale's tolerance is no proof."""
    return _square_inner_corners(corners, _NO_BORDER_4)


def plausible_page(corners: np.ndarray, frame_area: float) -> bool:
    """Whether a complete quadrilateral (four corners in ring order) of readable size can be a
    page seen from the kiosk's camera above the desk: its opposite sides differ in length by at
    most _MAX_OPPOSITE_SIDE_RATIO. Perspective that shortens a page's far side by more would need
    the camera far off to one side; a quadrilateral that does is made of one side of a card and
    a band printed or reflected across it (a sheen's diagonal), or of a page's corner and the
    desk beside it, and a capture rectified from it is a smear of part of the card. Outlines
    under MIN_DOCUMENT_COVERAGE of the frame (frame_area) are judged too small anyway, and their
    sides, a few dozen pixels long, are measured too coarsely for that limit: theirs is the looser
    _SMALL_MAX_OPPOSITE_SIDE_RATIO, which still refuses the wedges keys or a pen make. At any
    size, its mean long side is at most _MAX_PAGE_ASPECT times its mean short side."""
    points = np.asarray(corners, np.float32).reshape(4, 2)
    sides = points[_FOLLOWING[4]] - points
    lengths = np.sqrt((sides * sides).sum(axis=1))
    across, along = float(lengths[0] + lengths[2]), float(lengths[1] + lengths[3])
    if max(across, along) > _MAX_PAGE_ASPECT * min(across, along):
        return False  # a line of print (a card's title), a pen: no document is that long and thin
    first = sorted((float(lengths[0]), float(lengths[2])))
    second = sorted((float(lengths[1]), float(lengths[3])))
    limit = _MAX_OPPOSITE_SIDE_RATIO if float(cv2.contourArea(points)) >= t.MIN_DOCUMENT_COVERAGE * frame_area \
        else _SMALL_MAX_OPPOSITE_SIDE_RATIO
    return first[1] <= limit * first[0] and second[1] <= limit * second[0]


# Pages as laid: opposite sides within 1.47x of each other on the broad train split (99% within
# 1.33x; its camera's focal length is 0.79 of the frame's width, a wide kiosk lens), within 1.16x
# on the held-out dev split; outlines found on them that cover the page (overlap >= 0.9): within
# 1.47x. Wrong outlines of readable size accepted on train and dev (the wedge between a card's
# side and the sheen's diagonal across it, a card's corner and a dotted cloth): 1.73x to 5x.
# 1.6 and 2.0 gave the same verdicts on train, validation and dev.
_MAX_OPPOSITE_SIDE_RATIO = 1.6
# Under MIN_DOCUMENT_COVERAGE a far-away page's sides are a few dozen analysis pixels long and
# measured coarsely, so the limit is looser; what it refuses is no page seen from above at all:
# the quadrilaterals that keys, a pen or a phone's sheen made on held-out dev (opposite sides 4-8x
# apart) were read as far-away pages. 2.0, 2.5 and 3.5 gave the same right reasons on dev, 1.6 lost
# far-away pages; no train, validation or dev verdict got worse at 2.5.
_SMALL_MAX_OPPOSITE_SIDE_RATIO = 2.5
# The documents (ID-1 cards 1.59, A4 and passport pages 1.41, booklets opened flat) stay under
# ~2 even tilted towards the camera; a card's title line outlined by itself (found as a far-away
# page beside a card whose own ring ran into a second card) is 5-10 times as long as high.
_MAX_PAGE_ASPECT = 3.0


def square_within(corners: np.ndarray, degrees: float) -> bool:
    """Whether every corner of the quadrilateral (in ring order) is a right angle within degrees."""
    return _square_inner_corners(corners, _NO_BORDER_4, float(np.sin(np.radians(degrees))))


# Under twice this short side (a thumbnail) a quarter would leave a page a few pixels across.
_QUARTER_MIN_SIDE = 160
# The quarter image's blur (pixels) before Canny: the last of a cloth's stripes, not the page.
_QUARTER_SIGMA = 1.0
# The corners' search distance on the analysis image: the quarter ring's offset and its pixels.
_QUARTER_REACH = 10
# A page tilted as far as a resident holds one under the camera keeps its corners within ~25
# degrees of square (the good pages the quarter search found on the dev and train splits: at most
# 13 degrees); wedges across a desk reached 50-70.
_MAX_CORNER_SKEW = 30.0
_MAX_CORNER_COSINE = float(np.sin(np.radians(_MAX_CORNER_SKEW)))
# A region running off the frame is a page's part only where its corners inside the frame are
# square within this (the polygon of a page cut by the frame keeps the page's own corners, seen
# by a camera above the desk). One with a bent corner is a page's outline run on into the desk (a
# wedge of cloth between stripes, the gap beside a second card): a complete page beats it.
# Tuned on held-out dev and the broad train + validation splits (30 degrees fixed fewer dev scenes).
_CUT_MAX_CORNER_SKEW = 20.0
_CUT_MAX_CORNER_COSINE = float(np.sin(np.radians(_CUT_MAX_CORNER_SKEW)))


def readable_page(outline: Outline | None) -> bool:
    """Whether outline is a complete page of readable size (not cut off, MIN_DOCUMENT_COVERAGE)."""
    return outline is not None and not outline.cut_off and outline.coverage >= t.MIN_DOCUMENT_COVERAGE


def with_colour(edges: np.ndarray, colour: Chroma, grey: Outline | None) -> Outline | None:
    """The outline with the chroma planes' edges: on them alone first (a card on wood whose grain
    is grey texture that the card's ring would merge with), at half the analysis size and then,
    unless that gave a complete page of readable size better than grey, at full size; then on
    grey and chroma edges together (an edge partly of grey, partly of colour). Returns grey
    unless one of them is better.

    The half-size try costs a quarter of the blur and Canny work and traces fewer rings of desk
    texture; with a 2x2 dilation (the 3x3 of the full size would merge a card's edge with the
    texture next to it at this scale) it gave the outline in 34 of the 77 frames of train +
    validation whose outline came from the colour search (174 frames searched). Alone it lost
    two good dark cards of those 600 scenes, so the full-size search still runs where it finds
    no page. Where it does, its corners are as coarse as the halved image (colour outlines are
    not refined on grey either way)."""
    h, w = edges.shape[:2]
    coarse = _coarse_colour(colour, (h // 2, w // 2), (w, h), grey)
    if coarse is not None:
        return coarse
    colour_edges = chroma_edge_map(colour, (h, w))
    best = grey
    for combine in (False, True):
        if combine:
            cv2.bitwise_or(colour_edges, edges, dst=colour_edges)
        # Rings are merged on the combined map only: it holds every edge of the chroma map too.
        found = outline_in(colour_edges, merge=combine)
        if found is not None and (best is None or _better(found, best)):
            best = replace(found, colour=True)
        if readable_page(best):
            break
    return best


def chroma_edge_map(colour: Chroma, shape: tuple[int, int], dilate: np.ndarray | None = None) -> np.ndarray:
    """The chroma planes' edges at shape (height, width) dilated as edge_map's, with the frame
    border drawn in."""
    h, w = shape
    edges = cv2.dilate(colour.edges(shape), DILATE_3 if dilate is None else dilate)
    cv2.rectangle(edges, (0, 0), (w - 1, h - 1), 255, 1)
    return edges


def _coarse_colour(colour: Chroma, shape: tuple[int, int], size: tuple[int, int],
                   grey: Outline | None) -> Outline | None:
    """A complete page of readable size on the chroma edges alone at shape (half the analysis
    image, height x width), in analysis pixels (size: its width, height), when it is better than
    grey; else None."""
    if min(shape) < _COARSE_MIN_SIDE:
        return None
    found = outline_in(chroma_edge_map(colour, shape, _COARSE_DILATE), merge=False)
    if found is None or not readable_page(found):
        return None
    scale = np.array([size[0] / shape[1], size[1] / shape[0]], np.float32)
    found = replace(found, corners=(found.corners * scale).astype(np.float32), colour=True)
    return found if grey is None or _better(found, grey) else None


# An analysis image under twice this on its short side (a thumbnail; every camera frame is larger)
# is searched at full size only: halved, a page's ring there would be a few pixels across.
_COARSE_MIN_SIDE = 90
# At half size a 3x3 dilation spans 6 analysis pixels and joins a card's edge to the desk's
# texture beside it (a checked cloth); 2x2 keeps them apart and still closes the card's ring.
_COARSE_DILATE = np.ones((2, 2), np.uint8)


def coloured_rim(colour: Chroma, page: Outline, shape: tuple[int, int]) -> Outline:
    """page (a complete page of readable size found in grey, in the pixels of an analysis image of
    shape (height, width)), or the larger complete page around it on the chroma edges alone (half
    size): a card or cover whose edge against the desk is one of colour (a green social-security
    card on a purple cloth, a red cover on a dark desk) shows a printed panel or frame line in
    grey, which is a complete page of readable size itself. Looked for only where the band just
    outside page differs in colour from the band beyond it (_rim_step): around a page lying on the
    desk both are desk."""
    h, w = shape
    if _rim_step(colour, page, shape) < t.RIM_MIN_CHROMA_STEP:
        return page
    found = _coarse_colour(colour, (h // 2, w // 2), (w, h), None)
    if found is None or found.coverage <= page.coverage * _RIM_MIN_GROWTH \
            or not encloses(found.corners, page.corners):
        return page
    return found


def cloth_page(gray: np.ndarray, colour: Chroma, page: Outline) -> Outline:
    """page (a complete page of readable size in gray, the analysis image), or the larger complete
    page around it found as the gap in a coloured cloth's pattern (cloth_outline): on a striped
    or dotted cloth whose pale stripes are the page's own white, the page's edge is lost where a
    pale stripe meets it, and the edge searches find a box printed on it (a form's table, a
    register page's grid) or a quadrilateral run on from one of its edges across its print. The
    gap is taken when at least _CLOTH_PAGE_MIN_INSIDE of page's area lies inside it and it is
    larger by _RIM_MIN_GROWTH. Stills only, as coloured_rim: they are rectified from their
    outline, and on a desk without a coloured pattern the gap search stops at its first test."""
    if not _may_be_a_box_on_a_cloth(colour, page, gray.shape[:2]):
        return page
    gap = cloth_outline(gray, colour)
    if gap is None or gap.cut_off or gap.coverage <= page.coverage * _RIM_MIN_GROWTH \
            or _share_inside(page.corners, gap.corners) < _CLOTH_PAGE_MIN_INSIDE:
        return page
    return gap


def _may_be_a_box_on_a_cloth(colour: Chroma, page: Outline, shape: tuple[int, int]) -> bool:
    """Whether page (corners in the pixels of an analysis image of shape (height, width)) may be
    a box on a page lying on a coloured pattern, measured on the chroma edges at half size:

    - the frame outside page holds chroma edges on at least CLOTH_MIN_EDGE_SHARE of its area (the
      gap search's own test of a coloured pattern, without the page's print). On `dev` 0-1439
      the desks around readable pages reached 0.018 (plain), 0.033 (wood), 0.032 (fabric), 0.043
      (clutter) and 0.065 (a second card) at most; the tablecloths where the gap replaced the
      page 0.043 and more;
    - and the strip just outside one of its sides (_QUIET_STRIP of the square root of its area
      wide) has under _QUIET_SIDE_SHARE of that density: a box printed on the page, or a
      quadrilateral run on across its print, has the page's own paper beside it, while the cloth's
      pattern comes right up to every side of a page found by its own edge. On `dev` the outlines
      the gap made right (a form's table, a passport's zone) had a side at 0.0-0.4 of it; those
      it only nudged (a page found at 0.91-0.95 overlap already) 0.6 and more.

    It spares the gap search (~4 ms on a 1280x720 still on a patterned cloth: the chroma planes
    at half size, their edges, the distance transforms and labelling) on nearly every still."""
    half = (shape[0] // 2, shape[1] // 2)
    if min(half) < _COARSE_MIN_SIDE:
        return False
    edges = colour.sampled_edges(half)
    corners = page.corners * np.float32(half[1] / shape[1])
    inside = np.zeros(half, np.uint8)
    cv2.fillConvexPoly(inside, np.round(corners).astype(np.int32), 255)
    outside_area = inside.size - cv2.countNonZero(inside)
    outside_edges = cv2.countNonZero(edges) - cv2.countNonZero(cv2.bitwise_and(edges, inside))
    if outside_area <= 0 or outside_edges < t.CLOTH_MIN_EDGE_SHARE * outside_area:
        return False
    density = outside_edges / outside_area
    outside = cv2.bitwise_not(inside)
    centre = np.add.reduce(corners, axis=0) * np.float32(0.25)
    width = _QUIET_STRIP * float(np.sqrt(cv2.contourArea(corners)))
    for start, end in zip(corners, corners[_FOLLOWING[4]], strict=True):
        along = end - start
        normal = np.array([along[1], -along[0]], np.float32) / max(float(np.hypot(*along)), 1e-6)
        if float(np.dot((start + end) * 0.5 - centre, normal)) < 0:
            normal = -normal
        strip = np.zeros(half, np.uint8)
        cv2.fillConvexPoly(strip, np.round(np.array([start, end, end + normal * width, start + normal * width]))
                           .astype(np.int32), 255)
        cv2.bitwise_and(strip, outside, dst=strip)  # the page's own pixels are not beside it
        area = cv2.countNonZero(strip)
        if area >= _QUIET_MIN_PIXELS and cv2.countNonZero(cv2.bitwise_and(edges, strip)) < \
                _QUIET_SIDE_SHARE * density * area:
            return True
    return False


# The strip beside a side, as a share of the square root of the page's area (a form's margin
# around its table is 5-15% of the page).
_QUIET_STRIP = 0.08
_QUIET_SIDE_SHARE = 0.5
_QUIET_MIN_PIXELS = 20


def _share_inside(inner: np.ndarray, outer: np.ndarray) -> float:
    """The share of the convex polygon inner's area that lies inside the convex polygon outer."""
    inner_hull = cv2.convexHull(np.asarray(inner, np.float32).reshape(-1, 1, 2))
    outer_hull = cv2.convexHull(np.asarray(outer, np.float32).reshape(-1, 1, 2))
    area = float(cv2.contourArea(inner_hull))
    if area <= 0:
        return 0.0
    overlap, _ = cv2.intersectConvexConvex(inner_hull, outer_hull)
    return float(overlap) / area


# A quadrilateral run on from one of the page's edges across its print may poke a corner out of
# the page by a few pixels; a page beside the gap (not on it) has most of its area outside.
_CLOTH_PAGE_MIN_INSIDE = 0.9


def _rim_step(colour: Chroma, page: Outline, shape: tuple[int, int]) -> float:
    """The U/V distance between the mean chroma of the band just outside page (out to 12% of its
    size from its centre) and of the band beyond it (12-30%), measured at half the analysis
    image's shape (height, width; page's corners are in its pixels)."""
    half = (shape[0] // 2, shape[1] // 2)
    u, v = colour.sampled(half)
    corners = page.corners * np.float32(half[1] / shape[1])
    centre = np.add.reduce(corners, axis=0) * np.float32(0.25)
    filled = []
    for grow in _RIM_BANDS:
        mask = np.zeros(half, np.uint8)
        cv2.fillConvexPoly(mask, np.round(centre + (corners - centre) * grow).astype(np.int32), 255)
        filled.append(mask)
    near = cv2.subtract(filled[1], filled[0])
    far = cv2.subtract(filled[2], filled[1])
    if cv2.countNonZero(near) < _RIM_MIN_PIXELS or cv2.countNonZero(far) < _RIM_MIN_PIXELS:
        return 0.0
    du = cv2.mean(u, near)[0] - cv2.mean(u, far)[0]
    dv = cv2.mean(v, near)[0] - cv2.mean(v, far)[0]
    return float(np.hypot(du, dv))


# The page itself, the band where a card's rim around a printed panel lies, and the band beyond.
_RIM_BANDS = (1.0, 1.12, 1.3)
_RIM_MIN_PIXELS = 20
# A page around the grey one must be this much larger (a card's rim around its printed panel).
_RIM_MIN_GROWTH = 1.05


# A colour region running off the frame that does not enclose the grey one must be this much larger.
_CUT_COLOUR_MIN_GROWTH = 2.0


def _better(found: Outline, grey: Outline) -> bool:
    """Whether the outline found with colour edges replaces the grey one: a complete page beats
    a cut-off region only when the region does not contain it (else it is a box on a page that
    runs off the frame), and a larger complete page beats a smaller one. A cut-off region beats
    a cut-off grey one when it is of readable size, larger, and encloses it or is at least
    twice its size: a dark card running off the frame on a desk of its grey leaves the grey
    search a piece of its print, or a strip of desk texture beside it, where the chroma edges
    close the card's ring against the frame. (Smaller colour regions are desk objects as often:
    a black phone running off the frame among clutter.)"""
    if found.cut_off:
        if grey.cut_off:
            return found.coverage >= t.MIN_DOCUMENT_COVERAGE and found.coverage > grey.coverage \
                and (encloses(found.corners, grey.corners) or found.coverage >= _CUT_COLOUR_MIN_GROWTH * grey.coverage)
        return found.coverage > grey.coverage
    if grey.cut_off:
        return not encloses(grey.corners, found.corners) or found.coverage >= grey.coverage
    return found.coverage > grey.coverage


def edge_map(blurred: np.ndarray, high: float) -> np.ndarray:
    """The dilated Canny edges of blurred with the frame border drawn in (so a page running off
    the picture closes into a ring against it)."""
    h, w = blurred.shape[:2]
    edges = cv2.dilate(canny(blurred, high * 0.5, high), DILATE_3)
    cv2.rectangle(edges, (0, 0), (w - 1, h - 1), 255, 1)
    return edges


def outline_at(blurred: np.ndarray, high: float, *, allow_cut: bool = True) -> Outline | None:
    """Candidates are the convex hulls of the rings of the edge map closed against the frame
    border (so a page running off the picture closes too) and of the outer boundaries of edge
    components clear of the border (a page whose edge ring does not close is still one component
    with its text).

    One link-runs pass (cv2.findContoursLinkRuns, RETR_CCOMP-like: outer boundaries and holes)
    traces them all. An earlier second pass, RETR_EXTERNAL before the border was drawn, added the
    outer boundaries of components touching the border; on the labelled set it only ever won on
    frames without a page or with a tiny one (a corner region of desk read as a cut-off page), and
    it cost ~0.1 ms at 640 wide.
    """
    return outline_in(edge_map(blurred, high), allow_cut=allow_cut)


def outline_in(edges: np.ndarray, *, allow_cut: bool = True, merge: bool = True,
               beyond: bool = False, on_top: bool = False) -> Outline | None:
    """The document in an edge map made by edge_map (see outline_at); merge: whether to try
    merged_outline when no single ring is a page of readable size; beyond: whether to look for
    the cut-off region a complete page makes with a ring beside it (continued_outline, set as
    the page's Outline.beyond); on_top: whether to look for a page lying on top of a cut-off
    region of readable size (lies_on_top; the region is set as the page's Outline.under, for the
    caller to judge with the picture)."""
    # Link runs traces the same rings as RETR_LIST (hole outlines one pixel further inside, which
    # the full-size corner refinement absorbs) in ~60% of the time: most contours are text.
    rings, _ = cv2.findContoursLinkRuns(edges)
    # The rings' bounding-box areas, shared by both choices (on a textured desk there are hundreds).
    boxes = box_areas(rings)
    # One support checker for the three searches: the padded copy of the map is made once.
    support = Support(edges)
    found = best_outline(edges, rings, allow_cut=allow_cut, boxes=boxes, support=support)
    # The merge and the side search are for a page on a quiet desk whose ring is split by its
    # print or has run on into a second card: tried where no ring gave a page, or only a small
    # one, whole or cut off (a page whose ring ran on into a second card leaves the other card's
    # visible sliver as the only ring against the border). With on_top, the side search also
    # runs against a cut-off region of readable size: a page and a second card under it whose
    # rings ran together where the page's edge over the card is faint, the card running off the
    # frame (the page must then lie on top of the region, lies_on_top). On an edge map full of
    # texture their hulls and sides are texture too, and the merge was the dearest step of such
    # a frame.
    small = found is None or found.coverage < t.MIN_DOCUMENT_COVERAGE
    region = found if on_top and not small and found is not None and found.cut_off else None
    if merge and (small or region is not None) \
            and (edge_count := cv2.countNonZero(edges)) <= t.MERGE_MAX_EDGE_SHARE * edges.size:
        fit = edge_count <= t.SIDE_FIT_MAX_EDGE_SHARE * edges.size
        if region is not None:
            sided = side_line_outline(edges, rings, boxes, support, fit=fit)
            if sided is not None and lies_on_top(sided.corners, region.corners, edges.shape[1], edges.shape[0],
                                                 support):
                found = replace(sided, under=region)
        else:
            merged = merged_outline(edges, rings, boxes, support)
            if merged is not None and (found is None or merged.coverage > found.coverage):
                found = merged
            if not readable_page(found):
                sided = side_line_outline(edges, rings, boxes, support, fit=fit)
                if sided is not None and (found is None or sided.coverage > found.coverage):
                    found = sided
            if not readable_page(found):
                three = three_side_outline(edges, rings, boxes, support)
                if three is not None and (found is None or three.coverage > found.coverage):
                    found = three
    if beyond and found is not None and not found.cut_off:
        region = continued_outline(rings, boxes, found.corners, edges.shape[1], edges.shape[0])
        if region is not None:
            found = replace(found, beyond=region)
    return found


def continued_outline(contours: Sequence[np.ndarray], boxes: np.ndarray, page: np.ndarray,
                      w: int, h: int) -> Outline | None:
    """The cut-off region made by the complete page (its four corners) and a ring beside it that
    runs off the frame, when the ring carries the page's sides on: a booklet opened flat whose
    half still in the picture is a complete quadrilateral of printed frame and fold lines, its
    other half running off the frame's edge. None when there is no such ring.

    Among the _BEYOND_RINGS largest rings (by bounding box, from a quarter of MIN_DOCUMENT_AREA)
    that touch the frame border and lie next to the page: the ring's hull must not overlap the
    page, the hull of both must be no larger than the two together (they touch), a polygon of
    at most six vertices leaving the frame, and the two corners at one side of the page must lie
    on that polygon's sides, away from its vertices: the page's top and bottom edges run on
    straight into the ring, as a booklet's frame lines do. A second card or a desk object beside
    a page meets it at an angle, and the page's corners stay corners of the hull (train: every
    ring beside a good page failed this). Whether the ring is the same thing as the page is the
    picture's to say (panel.continues_on).
    """
    frame_area = float(w * h)
    sized = np.flatnonzero((boxes >= 0.25 * t.MIN_DOCUMENT_AREA * frame_area) & (boxes <= 0.92 * frame_area))
    if len(sized) == 0:
        return None
    quad = page.astype(np.float32).reshape(-1, 1, 2)
    page_area = float(cv2.contourArea(quad))
    px, py, pw, ph = cv2.boundingRect(quad)
    scale = page_area ** 0.5
    best: Outline | None = None
    for index in sized[np.argsort(-boxes[sized], kind="stable")][:_BEYOND_RINGS].tolist():
        x, y, bw, bh = cv2.boundingRect(contours[index])
        if not (x <= 1 or y <= 1 or x + bw >= w - 1 or y + bh >= h - 1):
            continue  # clear of the frame border: no continuation off the frame
        if x > px + pw + _BEYOND_GAP or x + bw < px - _BEYOND_GAP or y > py + ph + _BEYOND_GAP \
                or y + bh < py - _BEYOND_GAP:
            continue  # not next to the page
        hull = cv2.convexHull(contours[index]).astype(np.float32)
        area = float(cv2.contourArea(hull))
        overlap, _ = cv2.intersectConvexConvex(quad, hull)
        if area <= 0 or overlap > _BEYOND_MAX_OVERLAP * min(area, page_area):
            continue
        union = cv2.convexHull(np.concatenate((quad, hull)))
        union_area = float(cv2.contourArea(union))
        if union_area > _BEYOND_MAX_GROWTH * (page_area + area) \
                or (best is not None and union_area <= best.coverage * frame_area):
            continue
        approx, border = _ring_polygon(union.astype(np.int32), w, h)
        if border is None or len(approx) > 6 or not _leaves_frame(approx, border, w, h) \
                or not _runs_on(page, approx, scale):
            continue
        best = Outline(approx.astype(np.float32), union_area / frame_area, cut_off=True)
    return best


def lies_on_top(page: np.ndarray, region: np.ndarray, w: int, h: int, support: Support | None = None) -> bool:
    """Whether page (four corners of a complete page found by the side search) inside region (the
    vertices of a cut-off region, analysis pixels of a w x h frame) is a page lying on something
    that runs off the frame, a second card under it, rather than part of the region itself.

    Such a page is clear of the frame border (by _ON_TOP_MARGIN of the width), at least two of its
    sides are the region's own outline (its edges against the desk, within _ON_OUTLINE of the
    width), and it ends where the region turns: no two corners at one side lie on the region's
    sides with the sides running on past them (_runs_on), as they do where a printed line crosses
    a page that runs off the frame. A printed frame inside a cut-off certificate has no side on
    the outline. (Train + validation, extra train scenes and held-out dev at 640 wide: the pages
    on a second card had 2-3 sides within 1 px and 21-25 px of margin; the parts of cut-off pages
    no side within 16 px, or 7 px of margin, or sides running on.) With support (the edge map's
    support checker), sides that run on past the corners in the region's outline must run on in
    the edges too (_sides_continue): the outline is a hull, and where the second card lies askew
    under the page, the hull's side from the page's corner to the card's far one can pass through
    the page's other corner while the page's own edge stops there.
    """
    corners = page.reshape(4, 2).astype(np.float32)
    margin = min(float(corners[:, 0].min()), float(corners[:, 1].min()),
                 w - 1 - float(corners[:, 0].max()), h - 1 - float(corners[:, 1].max()))
    if margin < _ON_TOP_MARGIN * w:
        return False
    outline = region.reshape(-1, 1, 2).astype(np.float32)
    samples = corners[:, None, :] + (np.roll(corners, -1, axis=0) - corners)[:, None, :] * _ON_OUTLINE_STEPS
    on_outline = sum(
        float(np.median([abs(cv2.pointPolygonTest(outline, (float(x), float(y)), True)) for x, y in side]))
        <= _ON_OUTLINE * w for side in samples)
    if on_outline < _ON_OUTLINE_SIDES:
        return False
    return not _runs_on(corners, region, float(cv2.contourArea(corners)) ** 0.5, support)


# A page lying on a second card is this share of the frame's width clear of its border, and at
# least _ON_OUTLINE_SIDES of its sides lie within _ON_OUTLINE of the width (3 px at 640 wide; the
# median of the samples at _ON_OUTLINE_STEPS along each side) of the cut-off region's outline.
_ON_TOP_MARGIN = 0.02
_ON_OUTLINE = 3 / 640
_ON_OUTLINE_SIDES = 2
_ON_OUTLINE_STEPS = np.array([0.2, 0.35, 0.5, 0.65, 0.8], np.float32)[None, :, None]


def _runs_on(page: np.ndarray, polygon: np.ndarray, scale: float, support: Support | None = None) -> bool:
    """Whether the two corners at one side of page (TL, TR, BR, BL) lie on polygon's sides, each
    at least _BEYOND_OFF_VERTEX x scale from its vertices and within _BEYOND_ON_SIDE x scale of
    its boundary (scale: the square root of the page's area); with support (an edge map's
    checker), only where the page's two sides through those corners run on past them on the
    edges as well (_sides_continue)."""
    vertices = polygon.reshape(-1, 2).astype(np.float32)
    contour = vertices.reshape(-1, 1, 2)
    on_side = [bool(np.min(np.hypot(*(vertices - corner).T)) >= _BEYOND_OFF_VERTEX * scale
                    and abs(cv2.pointPolygonTest(contour, (float(corner[0]), float(corner[1])), True))
                    <= _BEYOND_ON_SIDE * scale)
               for corner in page.reshape(4, 2)]
    corners = page.reshape(4, 2).astype(np.float32)
    return any(on_side[i] and on_side[(i + 1) % 4] and (support is None or _sides_continue(corners, i, support))
               for i in range(4))


def _sides_continue(corners: np.ndarray, first: int, support: Support) -> bool:
    """Whether the page's sides through corners first and first + 1 (the sides that arrive there
    from the other two corners) both run on straight past them on the edges (runs_on_past). A
    printed line across a page running off the frame leaves the page's edges running on; a page
    on a second card ends at its corners, the card's edges lying apart from its own."""
    return all(runs_on_past(support, corners[corner], corners[other])
               for corner, other in ((first, (first - 1) % 4), ((first + 1) % 4, (first + 2) % 4)))


def runs_on_past(support: Support, corner: np.ndarray, other: np.ndarray) -> bool:
    """Whether the side from other to corner runs on straight past corner on the edges of
    support's map: at least _CONTINUE_SUPPORT of the points of its extension, from _CONTINUE_GAP
    px to _CONTINUE_LENGTH of the side beyond the corner, near an edge."""
    side = corner - other
    length = float(np.hypot(*side))
    unit = side / max(length, 1e-6)
    extension = np.stack((corner + unit * _CONTINUE_GAP, corner + unit * (_CONTINUE_GAP + _CONTINUE_LENGTH * length)))
    return support(extension, _NO_BORDER[2]) >= _CONTINUE_SUPPORT


# A page's side runs on past its corner where the edges carry at least this share of the points
# on its extension, from this many px to this share of the side's length beyond the corner.
# Held-out dev: an ID back over a second card askew, its top side 0.0 and its bottom side 1.0.
_CONTINUE_SUPPORT = 0.8
_CONTINUE_GAP = 4.0
_CONTINUE_LENGTH = 0.25


# Rings looked at beside a complete page; how far (analysis pixels) a ring's box may lie from the
# page's; how much of the smaller of the two may overlap; how much larger than both together the
# hull of both may be (they touch along a side); how far from the union's vertices (share of the
# page's size, the square root of its area) and how close to its sides the page's two corners at
# the shared side must lie. Train, cut-off booklets: corners 0.10-0.6 from the vertices, within
# 0.017 of the sides; good pages beside a second card: 0.06-0.10 inside the union (not on it).
_BEYOND_RINGS = 8
_BEYOND_GAP = 6
_BEYOND_MAX_OVERLAP = 0.1
_BEYOND_MAX_GROWTH = 1.1
_BEYOND_OFF_VERTEX = 0.04
_BEYOND_ON_SIDE = 0.025


def box_areas(contours: Sequence[np.ndarray]) -> np.ndarray:
    """Bounding-box area (width x height in pixels, as cv2.boundingRect counts them) of every
    contour, as one int64 array.

    One boundingRect call per contour cost ~0.5 us each, and the Python loop over hundreds of
    rings of text and desk texture as much again; here the points of all contours are stacked
    once and each contour's extremes taken with one reduceat per bound.
    """
    count = len(contours)
    if count == 0:
        return np.zeros(0, np.int64)
    lengths = np.fromiter(map(len, contours), np.intp, count)
    points = np.concatenate(contours).reshape(-1, 2)
    starts = np.zeros(count, np.intp)
    np.cumsum(lengths[:-1], out=starts[1:])
    size = np.maximum.reduceat(points, starts, axis=0) - np.minimum.reduceat(points, starts, axis=0) + 1
    return size[:, 0].astype(np.int64) * size[:, 1]


def merged_outline(edges: np.ndarray, contours: Sequence[np.ndarray],
                   boxes: np.ndarray | None = None, support: Support | None = None) -> Outline | None:
    """A complete page whose inside is split by print that runs from edge to edge (a card's
    diagonal stripe, a cover's frame line): no single ring is the page, but a few neighbouring
    rings together are. On a busy desk the page's outer boundary merges with the desk's texture,
    so it is no candidate either.

    From each of the largest rings in turn, neighbours are added while the convex hull of the
    union stays a polygon of at most six vertices whose sides lie on edges (a ring across the
    page's edge, on the desk, would add a side over plain paper or desk). Only run when the usual
    candidates found no page of readable size: it costs a few hulls per ring.
    """
    h, w = edges.shape[:2]
    frame_area = float(w * h)
    if boxes is None:
        boxes = box_areas(contours)
    sized = np.flatnonzero((boxes >= t.MIN_DOCUMENT_AREA * frame_area) & (boxes <= 0.92 * frame_area))
    # The largest boxes first (ties: the later ring first).
    largest = sized[np.lexsort((sized, boxes[sized]))[::-1][:_MERGE_RINGS]]
    # Hulls, not the rings' own points: the hull of a union is the hull of the parts' hulls, and
    # a ring on textured desk has thousands of points.
    rings = [cv2.convexHull(contours[i]).reshape(-1, 2) for i in largest.tolist()]
    # Bounding boxes (x0, y0, x1, y1) of the hulls: a ring further than _MERGE_GAP from the union
    # so far would bridge plain paper or desk with the union's hull, which then fails the support
    # check anyway; skipping it saves the hull, its approximation and that check.
    ring_boxes = np.array([[*r.min(axis=0), *r.max(axis=0)] for r in rings]).reshape(-1, 4)
    support = support or Support(edges)
    best: Outline | None = None
    # The seeds often grow into the same union (the first two rings of one page, each adding the
    # other): each set of rings (a bit mask) is hulled and checked once. Its hull does not depend
    # on the order its points were stacked in (convexHull sorts them first).
    tried: dict[int, np.ndarray | None] = {}
    judged: set[int] = set()
    for start in range(min(len(rings), _MERGE_SEEDS)):
        points = rings[start]
        approx = _hull_polygon(points)
        union = ring_boxes[start].copy()
        members = 1 << start
        for index, other in enumerate(rings):
            if index == start:
                continue
            box = ring_boxes[index]
            if max(box[0] - union[2], union[0] - box[2], box[1] - union[3], union[1] - box[3]) > _MERGE_GAP:
                continue
            key = members | 1 << index
            if key in tried:
                candidate = tried[key]
            else:
                candidate = _hull_polygon(np.concatenate((points, other)))
                if len(candidate) > 6 or on_border(candidate, w, h).any() \
                        or support(candidate, _NO_BORDER[len(candidate)]) < t.MIN_MERGED_SUPPORT:
                    candidate = None
                tried[key] = candidate
            if candidate is not None:
                points, approx, members = np.concatenate((points, other)), candidate, key
                union[:2] = np.minimum(union[:2], box[:2])
                union[2:] = np.maximum(union[2:], box[2:])
        if members in judged:
            continue  # the same union as an earlier seed's: the same outline, already judged
        judged.add(members)
        area = cv2.contourArea(approx.astype(np.float32))
        if (len(approx) == 4 and area >= t.MIN_DOCUMENT_AREA * frame_area and not on_border(approx, w, h).any()
                and (best is None or area / frame_area > best.coverage) and plausible_page(approx, frame_area)
                and support(approx, _NO_BORDER[4]) >= t.MIN_MERGED_SUPPORT):
            best = Outline(order_corners(approx), area / frame_area, cut_off=False)
    return best


def side_line_outline(edges: np.ndarray, contours: Sequence[np.ndarray],
                      boxes: np.ndarray | None = None, support: Support | None = None, *,
                      fit: bool = True) -> Outline | None:
    """A complete page whose edge ring has grown into something next to it: a second card that
    touches or lies under the page, where the grey step between them fades for a stretch, so the
    page's ring runs on along the other card's edge and its hull is no quadrilateral on edges.

    The page's four sides are still the ring's longest straight stretches. Each of the largest
    rings is approximated as a polygon (on its own points, not its hull, so the stray part keeps
    its own sides); among its _SIDE_LINES longest sides clear of the frame border, every four in
    ring order are extended to lines and intersected (all at once), and the largest convex
    quadrilateral of readable size (MIN_DOCUMENT_COVERAGE: smaller lines on a textured desk close
    into quads by chance), clear of the frame border, whose sides lie on edges (MIN_EDGE_SUPPORT,
    as any page) wins. Only run where no page of readable size was found otherwise, or where the
    page found is a cut-off region (outline_in).

    The sides are chords between the polygon's vertices: on a card with rounded corners they
    end on the corner arcs and run a few pixels inside the card's straight edges, and a chord
    cut short by the approximation's coarse step (1% of a long ring's perimeter is ~25 px)
    leans off its edge; the intersection of two such lines then lies well off the corner. So,
    with fit, a quadrilateral whose chords miss the edges is judged again with lines fitted to
    the ring's own points along its sides (side_fit: the same polygon kind, corners square within
    30 degrees, the same support check), at most _SIDE_MAX_FITS of them. Not on an edge map
    denser than SIDE_FIT_MAX_EDGE_SHARE, where a line fitted to texture finds edges near it by
    chance.
    """
    h, w = edges.shape[:2]
    frame_area = float(w * h)
    if boxes is None:
        boxes = box_areas(contours)
    largest = _side_rings(boxes, frame_area)
    support = support or Support(edges)
    best: Outline | None = None
    fits_left = _SIDE_MAX_FITS if fit else 0
    for index in largest.tolist():
        ring = contours[index]
        points: np.ndarray | None = None  # the ring's densified points, made for its first fit
        sides = _ring_sides(ring, w, h)
        if sides is None:
            continue
        start, side, following, border = sides
        usable = np.flatnonzero(~(border & border[following]))
        if len(usable) < 4:
            continue
        lengths = np.hypot(side[usable, 0], side[usable, 1])
        longest = np.sort(usable[np.argsort(-lengths, kind="stable")][:_SIDE_LINES])
        chosen = longest[_COMBINATIONS[len(longest)]]  # (k, 4) side indices in ring order
        quads, areas = side_quads(start[chosen], side[chosen])
        floor = t.MIN_DOCUMENT_COVERAGE * frame_area if best is None else best.coverage * frame_area
        for k in np.flatnonzero(areas > floor)[np.argsort(-areas[areas > floor], kind="stable")].tolist():
            quad, area = quads[k], float(areas[k])
            if on_border(quad, w, h).any() or not plausible_page(quad, frame_area):
                continue
            if support(quad, _NO_BORDER_4) < t.MIN_EDGE_SUPPORT:
                if fits_left == 0:
                    continue
                fits_left -= 1
                if points is None:
                    points = _densified(ring.reshape(-1, 2).astype(np.float32))
                fitted = _refitted(ring, quad, _NO_BORDER_4, True, support, points)
                if fitted is None:
                    continue
                quad, area = fitted, float(cv2.contourArea(fitted))
                if area <= floor or not plausible_page(quad, frame_area):
                    continue
            best = Outline(order_corners(quad), area / frame_area, cut_off=False)
            break
    return best


def three_side_outline(edges: np.ndarray, contours: Sequence[np.ndarray], boxes: np.ndarray,
                       support: Support) -> Outline | None:
    """A complete page lying on a second card of its own tone: where the page's edge crosses the
    card there is no grey step at all, so the page's ring has run on round the card, and only
    three of the page's sides are on edges (side_line_outline needs all four).

    Among the largest rings' long sides clear of the frame border (THREE_SIDE_MIN_SIDE of the
    frame's size), every three in a row (a, b, c in ring order) whose chords can close a page
    (_chords_may_close, all sets at once) are fitted to lines (_fitted_line, within
    _THREE_SIDE_BAND of the chords); b's ends are where they meet a and c, and the open side
    joins the far ends of a and c, where the ring leaves the page's sides for the other card. The
    quadrilateral must be a page seen from above (plausible_page, corners square within
    _MAX_CORNER_SKEW), of readable size and clear of the frame border, with each of its three
    sides on edges at THREE_SIDE_MIN_SUPPORT. The open side's place is only where the visible
    stretch of a and c ends, which over a card lying askew is before the page's corner, so a and c
    must be alike in length (THREE_SIDE_MAX_RATIO: the page's opposite sides) and the measured
    aspect (perspective undone) a document's (KNOWN_ASPECTS within ASPECT_SNAP). Where they differ
    by up to THREE_SIDE_EXTEND_RATIO, the shorter is taken to end where the page crosses the other
    card and is extended to the longer's length (_extended); that open side must then lie mostly
    off edges (THREE_SIDE_OPEN_MAX_SUPPORT) and the plain side ratio be a document's. The ring must
    run on past the open side by THREE_SIDE_BEYOND of the page's depth: a page whose sides fade
    out (a page running off the frame in soft light) leaves a ring that turns back on itself
    there. The largest such quadrilateral wins. Only run where neither a ring nor the merge nor
    the side search gave a page of readable size (outline_in).
    """
    h, w = edges.shape[:2]
    frame_area = float(w * h)
    largest = _side_rings(boxes, frame_area)
    min_side = t.THREE_SIDE_MIN_SIDE * frame_area**0.5
    floor_area = t.MIN_DOCUMENT_COVERAGE * frame_area
    best: Outline | None = None
    for index in largest.tolist():
        ring = contours[index]
        sides = _long_sides(ring, w, h, min_side, to_border=False)
        if sides is None or len(sides[3]) < 3:
            continue
        start, side, following, long = sides
        length = np.hypot(side[:, 0], side[:, 1])
        triples = long[(np.arange(len(long))[:, None] + np.arange(3)) % len(long)]
        # The middle chord times the longer of the other two bounds the quadrilateral's area but
        # for the corner arcs the chords fall short by: sets far too small go first, cheaply.
        chords = length[triples]
        triples = triples[chords[:, 1] * chords[:, [0, 2]].max(axis=1) > _CHORD_AREA_SLACK * floor_area]
        if len(triples) == 0:
            continue
        points: np.ndarray | None = None  # the ring's densified points, made for its first fit
        lines: dict[int, tuple[np.ndarray, np.ndarray] | None] = {}
        closing = _chords_may_close(start[triples], side[triples], floor_area)
        for a, b, c in triples[closing].tolist():
            floor = t.MIN_DOCUMENT_COVERAGE if best is None else best.coverage
            if points is None:
                points = _densified(ring.reshape(-1, 2).astype(np.float32))
            for i in (a, b, c):
                if i not in lines:
                    lines[i] = _fitted_line(points, start[i], start[following[i]], _THREE_SIDE_BAND)
            line_a, line_b, line_c = lines[a], lines[b], lines[c]
            if line_a is None or line_b is None or line_c is None:
                continue
            first, second = _meet(line_a, line_b), _meet(line_b, line_c)
            if first is None or second is None:
                continue
            quad = np.array([_projected(start[a], line_a), first, second,
                             _projected(start[following[c]], line_c)], np.float32)
            area = float(cv2.contourArea(quad))
            if not page_shaped(quad, area, floor * frame_area, w, h):
                continue
            if min(support(quad[j : j + 2], _NO_BORDER[2]) for j in range(3)) < t.THREE_SIDE_MIN_SUPPORT:
                continue
            # The two sides running on to the open side are the page's opposite sides, whole
            # only where the open side lies at its corners: then alike in length.
            first_length, last_length = float(np.hypot(*(quad[1] - quad[0]))), float(np.hypot(*(quad[3] - quad[2])))
            extended = max(first_length, last_length) > t.THREE_SIDE_MAX_RATIO * min(first_length, last_length)
            if extended:
                # Over a card lying askew the shorter side's visible stretch ends where the page
                # crosses it, before the page's corner: that side runs on as far as the other.
                if max(first_length, last_length) > t.THREE_SIDE_EXTEND_RATIO * min(first_length, last_length):
                    continue
                quad = _extended(quad, first_length, last_length)
                area = float(cv2.contourArea(quad))
                if not page_shaped(quad, area, floor * frame_area, w, h) \
                        or support(quad[[3, 0]], _NO_BORDER[2]) > t.THREE_SIDE_OPEN_MAX_SUPPORT:
                    continue
            corners = order_corners(quad)
            # An extended quadrilateral's corners are made, not seen: the perspective estimate
            # from them is unstable (a pixel moves it by 0.5), so its plain side ratio is judged.
            aspect = _side_ratio(corners) if extended else measured_aspect(corners, w, h)
            long_short = max(aspect, 1 / aspect)
            if min(abs(known - long_short) / known for known in t.KNOWN_ASPECTS.values()) > t.ASPECT_SNAP:
                continue
            if not _runs_on_past(ring, quad):
                continue
            best = Outline(corners, area / frame_area, cut_off=False)
    return best


def sided_cut_region(edges: np.ndarray, contours: Sequence[np.ndarray], boxes: np.ndarray,
                     support: Support) -> Outline | None:
    """A page running off the frame whose ring is open or has run on into something else: a dark
    card whose side fades out before it reaches the frame's edge (no ring closes against the
    border), or a card whose ring ran on into a second card or a cover beside it (the hull is the
    two together, no page's shape). Its sides inside the frame are still the ring's long straight
    stretches that meet at square corners.

    Among the largest rings (the whole frame's too: a ring open against the border joins the
    border's line), their long sides (CUT_SIDE_MIN_SIDE of the frame's size) not along the frame
    border, every two or three in a row are fitted to lines (_fitted_line); neighbouring lines
    must meet inside the frame at a corner square within _CUT_MAX_CORNER_SKEW, near where the two
    stretches end (_CUT_SIDE_CORNER_GAP of the shorter). The region is the frame cut by each line
    on the side where the others lie (_sided_region): it must leave the frame as a page does
    (_leaves_frame), be at least MIN_DOCUMENT_AREA of it, its sides inside the frame must lie on
    edges (MIN_EDGE_SUPPORT), and so must the last stretch of each side that runs to the frame's
    border (_exits_on_edges). A region of three sides beats one of two (a two-sided region over a
    page's corner takes in the desk beyond its third side); among equals the largest wins. Only
    run where no page was found at all (analyser).
    """
    h, w = edges.shape[:2]
    frame_area = float(w * h)
    min_side = t.CUT_SIDE_MIN_SIDE * frame_area**0.5
    frame = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float64)
    best: Outline | None = None
    best_key = (0, t.MIN_DOCUMENT_AREA * frame_area)  # (sides, area): three sides bound a page better
    sized = np.flatnonzero(boxes >= t.MIN_DOCUMENT_COVERAGE * frame_area)
    for index in sized[np.argsort(-boxes[sized], kind="stable")][:_SIDE_RINGS].tolist():
        ring = contours[index]
        # A side may run to the frame's edge (where the page leaves it), not along it.
        sides = _long_sides(ring, w, h, min_side, to_border=True)
        if sides is None or len(sides[3]) < 2:
            continue
        start, _, following, long = sides
        points = _densified(ring.reshape(-1, 2).astype(np.float32))
        lines = {int(i): _fitted_line(points, start[i], start[following[i]], _THREE_SIDE_BAND) for i in long}
        for count in (2, 3):
            if len(long) < count:
                continue
            for first in range(len(long) if len(long) > count else 1):
                chosen = [int(long[(first + k) % len(long)]) for k in range(count)]
                fitted = [line for i in chosen if (line := lines[i]) is not None]
                if len(fitted) < count:
                    continue
                region = _sided_region(frame, [start[i] for i in chosen], [start[following[i]] for i in chosen],
                                       fitted)
                if region is None:
                    continue
                polygon = region.astype(np.float32)
                area = float(cv2.contourArea(polygon))
                if (count, area) <= best_key or area < t.MIN_DOCUMENT_AREA * frame_area or not 3 <= len(polygon) <= 6:
                    continue
                flags = on_border(polygon, w, h)
                if not _leaves_frame(polygon, flags, w, h):
                    continue
                if support(polygon, flags, _along_frame(polygon, w, h)) < t.MIN_EDGE_SUPPORT \
                        or not _exits_on_edges(polygon, flags, support):
                    continue
                best, best_key = Outline(polygon, area / frame_area, cut_off=True), (count, area)
    return best


def _exits_on_edges(polygon: np.ndarray, flags: np.ndarray, support: Support) -> bool:
    """Whether every side of a region that runs from inside the frame to its border lies on
    edges over its last stretch to the border (_CUT_EXIT_STRETCH of it, at MIN_EDGE_SUPPORT):
    a page cut off by the frame runs on to it, while a complete page whose ring has gaps ends
    short of it, and the line through its side runs on over the desk."""
    count = len(polygon)
    for k in range(count):
        after = (k + 1) % count
        if flags[k] == flags[after]:
            continue
        inner, outer = (polygon[k], polygon[after]) if flags[after] else (polygon[after], polygon[k])
        stretch = np.array([inner + (1 - _CUT_EXIT_STRETCH) * (outer - inner), outer], np.float32)
        if support(stretch, _NO_BORDER[2]) < t.MIN_EDGE_SUPPORT:
            return False
    return True


def _sided_region(frame: np.ndarray, starts: list[np.ndarray], ends: list[np.ndarray],
                  lines: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray | None:
    """The frame cut by each line (point, unit direction) of a page's visible sides in ring order
    (their stretches from starts to ends) on the page's side, or None where two neighbouring
    lines do not meet at a square corner inside the frame near both stretches' ends."""
    w, h = frame[2]
    for k in range(len(lines) - 1):
        (p1, d1), (p2, d2) = lines[k], lines[k + 1]
        sine = abs(float(d1[0] * d2[1] - d1[1] * d2[0]))
        if sine < np.cos(np.radians(_CUT_MAX_CORNER_SKEW)):
            return None
        corner = _meet((p1.astype(np.float64), d1.astype(np.float64)), (p2.astype(np.float64), d2.astype(np.float64)))
        if corner is None or not (0 < corner[0] < w and 0 < corner[1] < h):
            return None
        gap = _CUT_SIDE_CORNER_GAP * min(float(np.hypot(*(ends[k] - starts[k]))),
                                         float(np.hypot(*(ends[k + 1] - starts[k + 1]))))
        if np.hypot(*(corner - ends[k])) > gap or np.hypot(*(corner - starts[k + 1])) > gap:
            return None
    region = frame
    middles = [(a + b) / 2 for a, b in zip(starts, ends, strict=True)]
    for k, (point, direction) in enumerate(lines):
        normal = np.array([-direction[1], direction[0]], np.float64)
        others = [m for j, m in enumerate(middles) if j != k]
        inside = float(np.mean([(m - point) @ normal for m in others]))
        region = _clipped(region, point.astype(np.float64), normal if inside > 0 else -normal)
        if len(region) < 3:
            return None
    return region


def _clipped(polygon: np.ndarray, point: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """The convex polygon cut by the line through point, keeping where (x - point) @ normal >= 0."""
    kept = []
    values = (polygon - point) @ normal
    for k in range(len(polygon)):
        a, b, va, vb = polygon[k], polygon[(k + 1) % len(polygon)], values[k], values[(k + 1) % len(polygon)]
        if va >= 0:
            kept.append(a)
        if (va >= 0) != (vb >= 0):
            kept.append(a + (b - a) * (va / (va - vb)))
    return np.array(kept, np.float64).reshape(-1, 2)


# Two fitted sides meet this close to where their stretches end (share of the shorter stretch):
# a rounded corner's arc lies between them; farther, they are two sides of different things.
_CUT_SIDE_CORNER_GAP = 0.25
# The share of a side, at its end on the frame border, that must lie on edges.
_CUT_EXIT_STRETCH = 0.25


def page_shaped(quad: np.ndarray, area: float, floor: float, w: int, h: int) -> bool:
    """Whether quad (of this area, in pixels of a w x h frame) is larger than floor pixels, clear
    of the frame border, and a page seen from above (plausible_page, _near_rectangular)."""
    return area > floor and not on_border(quad, w, h).any() and plausible_page(quad, float(w * h)) \
        and _near_rectangular(quad)


def _extended(quad: np.ndarray, first_length: float, last_length: float) -> np.ndarray:
    """quad (three_side_outline's: the open side from its last vertex to its first) with the
    shorter of its first and last sides (of these lengths) extended along its line to the
    longer's length."""
    quad = quad.copy()
    if first_length < last_length:
        quad[0] = quad[1] + (quad[0] - quad[1]) * np.float32(last_length / max(first_length, 1e-6))
    else:
        quad[3] = quad[2] + (quad[3] - quad[2]) * np.float32(first_length / max(last_length, 1e-6))
    return quad


def _side_ratio(corners: np.ndarray) -> float:
    """The mean length of the top and bottom sides of corners (TL, TR, BR, BL) over that of the
    left and right ones."""
    lengths = np.hypot(*(corners[_FOLLOWING[4]] - corners).T)
    return float((lengths[0] + lengths[2]) / max(float(lengths[1] + lengths[3]), 1e-6))


def _chords_may_close(starts: np.ndarray, sides: np.ndarray, floor: float) -> np.ndarray:
    """Per set of three of a ring polygon's sides in a row ((k, 3, 2) start points and vectors,
    as chords): whether they close a quadrilateral of more than _CHORD_SLACK x floor pixels, as
    (k,) booleans. The chords lie within a few pixels of the lines fitted to the ring, which cost
    a fit each: most sets of three sides of a textured desk's ring are left out here, all at once,
    before any fit. The quadrilateral's sides to the open side must be alike (THREE_SIDE_MAX_RATIO,
    by _CHORD_SLACK) and its corners square within _CHORD_MAX_CORNER_COSINE; neighbouring chords
    must be at least ~25 degrees apart (_MIN_SIDE_SINE)."""
    # The corners of a with b and of b with c.
    corners, steep = _lines_meet(starts[:, :2], sides[:, :2], starts[:, 1:], sides[:, 1:])
    quads = np.concatenate([starts[:, :1], corners, starts[:, 2:] + sides[:, 2:]], axis=1)
    following = quads[:, _FOLLOWING[4]]
    area = 0.5 * np.abs((quads[..., 0] * following[..., 1] - following[..., 0] * quads[..., 1]).sum(axis=1))
    edges = following - quads
    lengths = np.hypot(edges[..., 0], edges[..., 1]) + 1e-9
    first_last = np.stack([lengths[:, 0], lengths[:, 2]], axis=1)
    # The cosine of each corner between the side arriving at it and the side leaving it.
    cosine = (edges * edges[:, _PREVIOUS_4]).sum(axis=2) / (lengths * lengths[:, _PREVIOUS_4])
    return steep.all(axis=1) \
        & (area > _CHORD_SLACK * floor) \
        & (first_last.max(axis=1) <= t.THREE_SIDE_MAX_RATIO / _CHORD_SLACK * first_last.min(axis=1)) \
        & (np.abs(cosine) <= _CHORD_MAX_CORNER_COSINE).all(axis=1)


# Three sides' lines are fitted to the ring's points within this many pixels of the chords: a
# long side's chord from a vertex on one rounded corner's arc to one on the next runs up to ~8 px
# inside the card's straight edge at its middle (side_fit's _FIT_BAND misses it).
_THREE_SIDE_BAND = 10.0
# The chords' quadrilateral may fall short of the fitted one's area and side ratio by this much,
# and its corners be this much further from square (degrees); the product of its chords' lengths
# (three_side_outline's first cut) short of the readable area by _CHORD_AREA_SLACK.
_CHORD_SLACK = 0.8
_CHORD_AREA_SLACK = 0.5
_CHORD_MAX_CORNER_COSINE = float(np.sin(np.radians(_MAX_CORNER_SKEW + 10)))


def _projected(point: np.ndarray, line: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The foot of point on line (point, unit direction)."""
    origin, unit = line
    return origin + float(np.dot(point - origin, unit)) * unit


def _runs_on_past(ring: np.ndarray, quad: np.ndarray) -> bool:
    """Whether the ring reaches past quad's open side (its last vertex to its first) by
    THREE_SIDE_BEYOND of the quadrilateral's depth from that side: the ring goes on round the
    other card."""
    open_start, open_end = quad[3], quad[0]
    along = open_end - open_start
    normal = np.array([-along[1], along[0]], np.float32) / (float(np.hypot(*along)) + 1e-9)
    if float(np.dot(quad[1:3].mean(axis=0) - open_start, normal)) > 0:
        normal = -normal  # pointing away from the page
    depth = float(np.abs((quad[1:3] - open_start) @ normal).max())
    beyond = (ring.reshape(-1, 2).astype(np.float32) - open_start) @ normal
    return float(beyond.max()) >= t.THREE_SIDE_BEYOND * depth


def _side_rings(boxes: np.ndarray, frame_area: float) -> np.ndarray:
    """The indices of the _SIDE_RINGS rings with the largest bounding boxes (boxes, pixels) of
    readable size and short of the whole frame, largest first: the side searches' candidates."""
    sized = np.flatnonzero((boxes >= t.MIN_DOCUMENT_COVERAGE * frame_area) & (boxes <= 0.92 * frame_area))
    return sized[np.argsort(-boxes[sized], kind="stable")][:_SIDE_RINGS]


def _ring_sides(ring: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The ring approximated as a polygon on its own points (_SIDE_EPSILON of its perimeter: not
    its hull, so a stray part keeps its own sides) in a w x h frame: its vertices (float32), its
    sides as vectors, each vertex's following index and its on_border flags; None for a polygon
    of four vertices or fewer (a quadrilateral ring was judged by best_outline already)."""
    polygon = cv2.approxPolyDP(ring, _SIDE_EPSILON * cv2.arcLength(ring, True), True).reshape(-1, 2)
    n = len(polygon)
    if n < 5:
        return None
    start = polygon.astype(np.float32)
    following = np.arange(1, n + 1) % n
    return start, start[following] - start, following, on_border(polygon, w, h)


def _long_sides(ring: np.ndarray, w: int, h: int, min_side: float, *,
                to_border: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The ring's polygon (_ring_sides: vertices, sides as vectors, following indices) with the
    indices of its sides at least min_side long that are clear of the frame border, or with
    to_border, that do not run along it (one end may lie on it); None as _ring_sides."""
    sides = _ring_sides(ring, w, h)
    if sides is None:
        return None
    start, side, following, border = sides
    on_frame = border & border[following] if to_border else border | border[following]
    long = np.flatnonzero(~on_frame & (np.hypot(side[:, 0], side[:, 1]) >= min_side))
    return start, side, following, long


def side_quads(starts: np.ndarray, sides: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For k sets of four sides ((k, 4, 2) start points and vectors, in ring order): the corners
    where the lines through neighbouring sides meet, (k, 4, 2), and each quadrilateral's area, 0
    where it is no convex quadrilateral (two neighbouring lines near parallel, or a crossing)."""
    corners, steep = _lines_meet(starts[:, _PREVIOUS_4], sides[:, _PREVIOUS_4], starts, sides)
    corners = corners.astype(np.float32)
    following = corners[:, _FOLLOWING[4]]
    edge = following - corners
    turn = edge[..., 0] * edge[:, _FOLLOWING[4], 1] - edge[..., 1] * edge[:, _FOLLOWING[4], 0]
    convex = steep.all(axis=1) & ((turn > 0).all(axis=1) | (turn < 0).all(axis=1))
    area = 0.5 * np.abs((corners[..., 0] * following[..., 1] - following[..., 0] * corners[..., 1]).sum(axis=1))
    return corners, np.where(convex, area, 0.0)


def _lines_meet(p1: np.ndarray, d1: np.ndarray, p2: np.ndarray, d2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the lines through points p1 and p2 along vectors d1 and d2 meet (arrays of (..., 2),
    all at once), and whether they are at least ~25 degrees apart (_MIN_SIDE_SINE: under that, two
    stretches of one side); the meeting point of lines that are not is p1 moved along d1 by an
    arbitrary amount, to be ignored."""
    dx1, dy1, dx2, dy2 = d1[..., 0], d1[..., 1], d2[..., 0], d2[..., 1]
    det = dx1 * dy2 - dy1 * dx2
    steep = det * det >= _MIN_SIDE_SINE**2 * (dx1 * dx1 + dy1 * dy1) * (dx2 * dx2 + dy2 * dy2)
    gap = p2 - p1
    s = (gap[..., 0] * dy2 - gap[..., 1] * dx2) / np.where(steep, det, 1.0)
    return p1 + s[..., None] * d1, steep


_PREVIOUS_4 = np.array([3, 0, 1, 2])


# The side search looks at this many of the largest rings, at this many of each one's longest
# sides, approximated to this share of the ring's perimeter (finer than a hull's 2%: the stray
# part of the ring must keep its own sides rather than be cut across).
_SIDE_RINGS = 4
_SIDE_LINES = 6
_SIDE_EPSILON = 0.01
# At most this many quadrilaterals of one frame are fitted anew (~0.2 ms each): held-out dev and
# train + validation needed up to 6 on a frame, and a frame of many long lines must not cost more.
_SIDE_MAX_FITS = 6
# Every 4 of m sides in ring order (m = 4 .. _SIDE_LINES), as index rows into the m sides.
_COMBINATIONS = {m: np.array(list(combinations(range(m), 4)), np.intp) for m in range(4, _SIDE_LINES + 1)}
_NO_BORDER = [np.zeros(n, bool) for n in range(7)]  # polygons of up to 6 vertices clear of the border
_NO_BORDER_4 = _NO_BORDER[4]
# Neighbouring sides of a page meet at 90 degrees give or take the tilt; under ~25 degrees apart
# they are two stretches of one side.
_MIN_SIDE_SINE = 0.42


def _hull_polygon(points: np.ndarray) -> np.ndarray:
    """The convex hull of points approximated as in best_outline (2% of its perimeter)."""
    hull = cv2.convexHull(points.astype(np.int32))
    return cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True).reshape(-1, 2)


# The merge looks at this many of the largest rings, starting from each of the first few.
_MERGE_RINGS = 8
_MERGE_SEEDS = 3
# Rings of one page split by its print lie a dilated edge apart (3-5 analysis pixels).
_MERGE_GAP = 8


def best_outline(edges: np.ndarray, contours: Sequence[np.ndarray], *, allow_cut: bool,
                 boxes: np.ndarray | None = None, support: Support | None = None) -> Outline | None:
    """The document among contours of the dilated edge map edges (full analysis-image size).

    The candidate with the largest hull wins, a complete quadrilateral or an outline running off
    the frame. Rings are taken largest bounding box first, and the search ends at the first ring
    whose box is no larger than the best hull so far (a hull is strictly smaller than its box):
    on a textured desk most rings that pass the size filter are never hulled. (Before, rings were
    taken in tracing order and the same rule skipped only some; which of a cut-off region and a
    complete page came first then decided between them. Largest box first is as fast as the
    search can stop and decides the same on train + validation but for three of 600 scenes: two
    read as cut off rather than no_document or too small, one the other way.) When a complete
    page was taken before a larger cut-off outline, the outline wins only when it contains the
    page: the page is then a box printed on a page that runs off the frame. A cut-off outline
    with a corner inside the frame that is not square (_CUT_MAX_CORNER_SKEW) is a page's ring run
    on into the desk: it is taken only when no other candidate is found.
    """
    h, w = edges.shape[:2]
    frame_area = float(w * h)
    min_area = t.MIN_DOCUMENT_AREA * frame_area
    max_area = 0.92 * frame_area
    support = support or Support(edges)
    quad: np.ndarray | None = None  # vertices of the best complete quadrilateral, as approximated
    quad_area = 0.0
    cut: np.ndarray | None = None
    cut_area = 0.0
    best_area = 0.0  # hull area of the larger of quad and cut
    if boxes is None:
        boxes = box_areas(contours)
    # Most of the ~100-300 contours are text strokes, their holes and desk texture: their box
    # areas (box_areas) drop them in one comparison before the Python loop sees them.
    candidates = np.flatnonzero(boxes >= min_area)
    aside: np.ndarray | None = None  # a complete quad smaller than the cut-off region, outside it
    aside_area = 0.0
    bent: np.ndarray | None = None  # the largest cut-off region with a corner that is not square
    bent_area = 0.0
    pieces: list[np.ndarray] = []  # hulls of regions leaving the frame, for joining (_joined_pieces)
    quad_index = -1  # the ring the complete quadrilateral came from
    bumped: list[tuple[int, float]] = []  # rings clear of the frame whose hull has 5-6 vertices
    order = candidates[np.argsort(-boxes[candidates], kind="stable")].tolist()
    for index in order:
        contour = contours[index]
        hull = None
        if boxes[index] > best_area:
            hull = cv2.convexHull(contour)
            area = cv2.contourArea(hull)
            if not min_area <= area <= max_area:
                continue
        if hull is None or area <= best_area:
            if quad is not None or cut is None or boxes[index] <= aside_area:
                if hull is None:
                    break  # no ring left can have a larger hull
                continue
            # A cut-off region leads and no complete page was found: the largest complete
            # quadrilateral among the smaller rings (by their hulls, not only their boxes) is
            # kept aside (looked for only here).
            found_aside = _aside_quad(contour, w, h, min_area, support, hull)
            if found_aside is not None and found_aside[1] > aside_area and not encloses(cut, found_aside[0]):
                aside, aside_area = found_aside
            continue
        approx, border = _ring_polygon(hull, w, h)
        if border is None or not 3 <= len(approx) <= (6 if allow_cut else 4):
            continue  # neither a quadrilateral nor (when allowed) an outline leaving the frame
        if len(approx) == 4 and not border.any():
            is_quad = True
        elif allow_cut and _leaves_frame(approx, border, w, h):
            is_quad = False
        else:
            if len(approx) > 4 and not border.any() and len(bumped) < _TRIM_MAX_RINGS:
                bumped.append((index, area))
            continue
        if not is_quad:
            pieces.append(hull)
        supported = _on_edges(contour, approx, border, is_quad, area, support)
        if supported is None and not is_quad and area >= t.MIN_DOCUMENT_COVERAGE * frame_area:
            # (Not small regions, as _on_edges does not refit them: a desk stripe's sliver.)
            exits = _with_frame_exits(hull, approx, w, h)
            if exits is not None:
                approx, border = exits
                supported = _on_edges(contour, approx, border, is_quad, area, support)
        if supported is None:
            continue
        # side_fit may have moved the vertices: their border flags are then found anew.
        flags = border if supported is approx else on_border(supported, w, h)
        if is_quad and not plausible_page(supported, frame_area):
            continue  # a wedge of a card and the sheen across it, not a page seen from above
        if not is_quad and not _square_inner_corners(supported, flags, _CUT_MAX_CORNER_COSINE):
            if area > bent_area:
                bent, bent_area = supported, area  # kept for when nothing else is found
            continue
        approx = supported
        best_area = area
        if is_quad:
            quad, quad_area, quad_index = approx, area, index
        else:
            cut, cut_area = approx, area
    if cut is None and len(pieces) >= 2 and (quad is None or quad_area < t.MIN_DOCUMENT_COVERAGE * frame_area):
        joined = _joined_pieces(pieces, w, h, support)
        if joined is not None and joined[1] > quad_area:
            # A card cut off by the frame whose diagonal band splits it into two or three
            # regions, each with a slanted corner where the band crosses it: together they are
            # the card. A small complete quad beside it (a desk object) is kept aside, as when a
            # cut-off ring leads.
            cut, cut_area = joined
            if quad is not None:
                aside, aside_area, quad = quad, quad_area, None
    if quad is None and cut is None:
        for index, area in bumped:
            trimmed = _trimmed_quad(contours[index], w, h, support, area)
            if trimmed is not None:
                # A far-away page whose ring took in a stroke of the desk at a corner (a grain
                # line, its own shadow's edge): no other page candidate is left to prefer.
                quad, quad_area, quad_index = trimmed, float(cv2.contourArea(trimmed)), index
                break
    if quad is None and cut is None and bent is not None:
        cut, cut_area = bent, bent_area
    if quad is None:
        if cut is None:
            return None
        side = None if aside is None else Outline(order_corners(aside), aside_area / frame_area, cut_off=False)
        return Outline(cut.astype(np.float32), cut_area / frame_area, cut_off=True, aside=side)
    # Corners are ordered for the winner only (order_corners costs ~20 us).
    found = Outline(order_corners(quad), quad_area / frame_area, cut_off=False)
    if cut is not None and cut_area > quad_area and encloses(cut, found.corners):
        return Outline(cut.astype(np.float32), cut_area / frame_area, cut_off=True)
    if quad_area < t.MIN_DOCUMENT_COVERAGE * frame_area:
        # A small complete quadrilateral may be a blank object (a sticky note, a phone) with the
        # far-away page beside it a little smaller: the largest complete quadrilaterals among the
        # other rings are kept aside for the analyser, as beside a cut-off region. Looked for only
        # here, so a frame with a page of readable size pays nothing for it.
        beside = _quads_beside(contours, boxes, order, quad_index, found.corners, (w, h), min_area, support)
        chain: Outline | None = None
        for corners, area in reversed(beside):
            chain = Outline(order_corners(corners), area / frame_area, cut_off=False, aside=chain)
        found = replace(found, aside=chain)
    return found


def _quads_beside(contours: Sequence[np.ndarray], boxes: np.ndarray, order: list[int], skip: int,
                  quad: np.ndarray, size: tuple[int, int], min_area: float,
                  support: Support) -> list[tuple[np.ndarray, float]]:
    """The _BESIDE_MAX largest complete quadrilaterals on edges (_aside_quad) among the rings in
    order (by bounding box, largest first) but skip that quad (ordered corners) does not enclose
    (a box printed on it), with their hulls' areas, largest first."""
    w, h = size
    found: list[tuple[np.ndarray, float]] = []
    for index in order:
        if len(found) == _BESIDE_MAX and boxes[index] <= found[-1][1]:
            break  # a hull is smaller than its box: no ring left can beat the last one kept
        if index == skip:
            continue
        beside = _aside_quad(contours[index], w, h, min_area, support)
        # Not a box printed on the winner, nor a ring of an object already kept (an object's
        # outer ring and its hole's are two quadrilaterals of one object).
        if beside is not None and not encloses(quad, beside[0]) \
                and not any(encloses(kept, beside[0]) or encloses(beside[0], kept) for kept, _ in found):
            found.append(beside)
            found.sort(key=lambda item: -item[1])
            del found[_BESIDE_MAX:]
    return found


# Complete quadrilaterals kept beside a small one: a desk rarely holds more blank objects than this.
_BESIDE_MAX = 3


def _joined_pieces(pieces: list[np.ndarray], w: int, h: int, support: Support) -> tuple[np.ndarray, float] | None:
    """The largest region leaving the frame made of touching pieces (hulls of regions leaving the
    frame that were no page on their own), or None. From each of the first _PIECES_JOINED pieces
    in turn, the others are added while the joint hull stays no larger than the parts together
    (_PIECES_MAX_GROWTH: they touch along the band between them); the joint hull of two or more
    counts when it is a polygon of at most 6 vertices leaving the frame whose corners inside the
    frame are square (as best_outline asks of any cut-off region) and whose sides lie on edges
    (MIN_EDGE_SUPPORT). Returns its vertices and area."""
    kept = pieces[:_PIECES_JOINED]
    areas = [float(cv2.contourArea(piece)) for piece in kept]
    best: tuple[np.ndarray, float] | None = None
    for seed in range(len(kept)):
        hull, area, count = kept[seed], areas[seed], 1
        for other in range(len(kept)):
            if other == seed:
                continue
            joint = cv2.convexHull(np.concatenate((hull, kept[other])))
            joint_area = float(cv2.contourArea(joint))
            if joint_area <= _PIECES_MAX_GROWTH * (area + areas[other]):
                hull, area, count = joint, joint_area, count + 1
        if count < 2 or (best is not None and area <= best[1]):
            continue
        approx, border = _ring_polygon(hull, w, h)
        if border is None or not _leaves_as_a_page(approx, border, w, h) \
                or support(approx, border) < t.MIN_EDGE_SUPPORT:
            continue
        best = (approx, area)
    return best


# The pieces tried together (the first found, largest boxes first) and how much larger than both
# their joint hull may be (they touch along the band between them).
_PIECES_JOINED = 4
_PIECES_MAX_GROWTH = 1.1


def _ring_polygon(hull: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray | None]:
    """A ring's hull approximated at 2% of its perimeter, with its vertices' on_border flags (None
    over 6 vertices, which no candidate has)."""
    arc = cv2.arcLength(hull, True)
    approx = cv2.approxPolyDP(hull, 0.02 * arc, True).reshape(-1, 2)
    border = on_border(approx, w, h) if len(approx) <= 6 else None
    if border is not None and len(approx) >= 5 and not border.any():
        # A page clear of the frame whose ring took in a bump: its shadow or a finger at an
        # edge, a corner bevelled by wear. Coarser steps that keep nearly all of the hull
        # give its quadrilateral (the support check still asks for its sides).
        approx = _quadrilateral(hull, arc, approx)
        border = _NO_BORDER[len(approx)]
    return approx, border


def _with_frame_exits(hull: np.ndarray, approx: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray] | None:
    """approx (a region leaving the frame, approximated from hull) with the hull's points where
    it meets the frame border added as vertices, and its on_border flags; None when none is
    missing or the polygon would have over 6 vertices. A page leaving over a frame corner near
    where its side meets the frame's edge: the 2% approximation runs that side to the frame's
    corner, across the page, where the edge map has nothing to carry it."""
    points = hull.reshape(-1, 2)
    flags = on_border(points, w, h)
    count = len(points)
    indices = {int(np.flatnonzero((points == vertex).all(axis=1))[0]) for vertex in approx}
    added = False
    for i in range(count):
        after = (i + 1) % count
        if flags[i] == flags[after]:
            continue
        meeting = i if flags[i] else after  # the border point of the step on or off the frame
        if min(float(np.hypot(*(points[meeting] - vertex))) for vertex in approx) > _EXIT_MIN_GAP:
            indices.add(meeting)
            added = True
    if not added or len(indices) > 6:
        return None
    polygon = points[sorted(indices)]
    return polygon, on_border(polygon, w, h)


# A border point of the hull this far (analysis pixels) from every vertex is added as one.
_EXIT_MIN_GAP = 4.0


def side_fit(contour: np.ndarray, approx: np.ndarray, border: np.ndarray | None = None,
             size: tuple[int, int] | None = None, points: np.ndarray | None = None) -> np.ndarray | None:
    """The polygon whose sides are lines fitted to the ring's own points along each side of
    approx (the polygon approximating the ring's hull), or None when a side has too few points
    or a vertex moves more than _FIT_MAX_SHIFT (or _FIT_MAX_SHIFT_SHARE of the square root of
    approx's area, where that is more).

    On a card with rounded corners the approximation's vertices lie on the corner arcs, so its
    sides run a few pixels inside the card's straight edges; where the ring is traced inside the
    edge (a hole of the edge map, when the card's outer boundary has merged with the desk's
    texture), or where a big card's corner arc is long (a card close to the camera running off
    the frame), they then miss the edge. The fitted lines run along the straight edges and meet
    at the card's corners as if they were square.

    border: approx's on_border flags (a region running off the frame) and size its frame's
    (width, height): a side along the frame border is kept as it is, and a vertex on the border
    slides along it to where the fitted side beside it meets it. points: the contour's points
    densified (_densified), when the caller fits several polygons to one ring.
    """
    if points is None:
        points = _densified(contour.reshape(-1, 2).astype(np.float32))
    vertices = approx.reshape(-1, 2).astype(np.float32)
    n = len(vertices)
    flags = np.zeros(n, bool) if border is None else border
    lines: list[tuple[np.ndarray, np.ndarray] | None] = []
    for i in range(n):
        start, end = vertices[i], vertices[(i + 1) % n]
        if flags[i] and flags[(i + 1) % n]:
            lines.append(None)  # along the frame border: where the page leaves the picture
            continue
        if float(np.hypot(*(end - start))) < 8:
            return None
        line = _fitted_line(points, start, end)
        if line is None:
            return None
        lines.append(line)
    fitted = vertices.copy()
    for j in range(n):
        before, after = lines[j - 1], lines[j]
        if before is not None and after is not None:
            meeting = _meet(before, after)
        elif size is not None and before is not None:
            meeting = _meet_border(before, vertices[j], size)
        elif size is not None and after is not None:
            meeting = _meet_border(after, vertices[j], size)
        else:
            continue  # a frame corner, or between two sides along the border
        if meeting is None:
            return None
        fitted[j] = meeting
    # A card's corner arc grows with the card: so does the distance from a vertex on it to the
    # corner the fitted sides meet at (13 px for a card over 40% of the frame).
    limit = max(_FIT_MAX_SHIFT, _FIT_MAX_SHIFT_SHARE * float(np.sqrt(abs(cv2.contourArea(vertices)))))
    if float(np.hypot(*(fitted - vertices).T).max()) > limit:
        return None
    return fitted


def _fitted_line(points: np.ndarray, start: np.ndarray, end: np.ndarray,
                 band: float | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """The line (point, unit direction) fitted to the ring's points (densified) within band px
    (_FIT_BAND by default) of the side from start to end, clear of its ends (the corner arcs), or
    None when too few lie there."""
    chosen = _near_side(points, start, end, _FIT_BAND if band is None else band, _FIT_END)
    if len(chosen) < _FIT_MIN_POINTS:
        return None
    # A ring on a textured desk has thousands of points: every k-th of them fits the same line,
    # and the robust fit's cost grows with the count.
    chosen = chosen[:: max(1, len(chosen) // _FIT_MAX_POINTS)]
    fit = cv2.fitLine(chosen, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()  # vx, vy, x, y
    return fit[2:], fit[:2]


def _densified(points: np.ndarray) -> np.ndarray:
    """The ring's points (float32, in ring order) with points added every _FIT_STEP px along each
    longer step between neighbours. Link runs keep a run of pixels by its two ends, so a side
    running nearly along a row is a handful of points: too few to fit a line to."""
    following = np.roll(points, -1, axis=0)
    steps = following - points
    counts = np.maximum(np.ceil(np.hypot(steps[:, 0], steps[:, 1]) / _FIT_STEP), 1).astype(np.intp)
    if int(counts.max()) == 1:
        return points
    index = np.repeat(np.arange(len(points)), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    share = ((np.arange(len(index)) - starts) / counts[index]).astype(np.float32)
    return points[index] + steps[index] * share[:, None]


def _square_inner_corners(polygon: np.ndarray, border: np.ndarray, max_cosine: float = _MAX_CORNER_COSINE) -> bool:
    """Whether every vertex of polygon clear of the frame border is a right angle within
    _MAX_CORNER_SKEW degrees, or the angle whose sine is max_cosine (a card's or a page's corner;
    the lines fitted to a round object meet at any angle)."""
    pts = np.asarray(polygon, np.float64).reshape(-1, 2)
    to_previous = np.roll(pts, 1, axis=0) - pts
    to_next = np.roll(pts, -1, axis=0) - pts
    cosine = (to_previous * to_next).sum(axis=1) / (
        np.hypot(*to_previous.T) * np.hypot(*to_next.T) + 1e-9)
    return bool((np.abs(cosine[~border]) <= max_cosine).all())


def _meet(first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray]) -> np.ndarray | None:
    """Where two lines (point, unit direction) cross, or None when they are near parallel."""
    (p1, d1), (p2, d2) = first, second
    det = float(d2[0] * d1[1] - d1[0] * d2[1])
    if abs(det) < 1e-6:
        return None
    s = float(d2[0] * (p2[1] - p1[1]) - d2[1] * (p2[0] - p1[0])) / det
    return p1 + s * d1


def _meet_border(line: tuple[np.ndarray, np.ndarray], vertex: np.ndarray, size: tuple[int, int]) -> np.ndarray | None:
    """Where line crosses the frame edge that vertex lies on (a vertical edge when vertex is
    within BORDER_MARGIN of the left or right side, else a horizontal one); vertex itself in a
    frame corner, None when the line runs along that edge."""
    w, h = size
    x, y = float(vertex[0]), float(vertex[1])
    side = x <= t.BORDER_MARGIN * w or x >= w - 1 - t.BORDER_MARGIN * w
    end = y <= t.BORDER_MARGIN * h or y >= h - 1 - t.BORDER_MARGIN * h
    if side and end:
        return vertex
    point, direction = line
    axis = 0 if side else 1
    if abs(float(direction[axis])) < 1e-3:
        return None
    s = ((x if side else y) - float(point[axis])) / float(direction[axis])
    return point + s * direction


# Points within _FIT_BAND px of a side, away from its ends by _FIT_END of its length (the arcs).
_FIT_BAND = 6.0
_FIT_END = 0.15
_FIT_MIN_POINTS = 8
_FIT_MAX_POINTS = 32
_FIT_MAX_SHIFT = 12.0
_FIT_MAX_SHIFT_SHARE = 0.06  # of the square root of the polygon's area, where that is more
_FIT_STEP = 4.0


def _aside_quad(contour: np.ndarray, w: int, h: int, min_area: float, support: Support,
                hull: np.ndarray | None = None) -> tuple[np.ndarray, float] | None:
    """The ring's hull (given when known) as a complete quadrilateral on edges (best_outline's
    rules for one), with its area, or None."""
    if hull is None:
        hull = cv2.convexHull(contour)
    area = cv2.contourArea(hull)
    if area < min_area:
        return None
    approx, border = _ring_polygon(hull, w, h)
    if border is None or len(approx) != 4 or border.any():
        return None
    supported = _on_edges(contour, approx, border, True, area, support)
    return None if supported is None or not plausible_page(supported, w * h) else (supported, float(area))


def _trimmed_quad(contour: np.ndarray, w: int, h: int, support: Support, area: float) -> np.ndarray | None:
    """The complete quadrilateral of a ring clear of the frame whose hull has 5-6 vertices
    because a thin stroke joined it (a line of the desk's texture or an edge of its shadow
    running on from a corner), or None: the ring's filled region opened by _TRIM_KERNEL (which
    drops parts thinner than it), hulled and approximated as best_outline does. A ring under
    MIN_DOCUMENT_COVERAGE whose opened hull is still no quadrilateral is a far-away page with its
    shadow beside two sides: its coarse quadrilateral (_TRIM_COARSE_EPSILON) is taken when it
    keeps _TRIM_COARSE_MIN_AREA of the opened hull. Either must have its sides on the edges
    (_on_edges), every corner square within _MAX_CORNER_SKEW and pass plausible_page. area: the
    ring's hull area."""
    x, y, bw, bh = cv2.boundingRect(contour)
    pad = _TRIM_SIZE
    filled = np.zeros((bh + 2 * pad, bw + 2 * pad), np.uint8)
    offset = np.array([x - pad, y - pad], np.int32)
    cv2.drawContours(filled, [contour - offset], -1, 255, cv2.FILLED)
    opened = cv2.morphologyEx(filled, cv2.MORPH_OPEN, _TRIM_KERNEL)
    if cv2.countNonZero(opened) < _TRIM_MIN_KEPT * cv2.countNonZero(filled):
        return None  # the opening took more than a stroke: the ring was thin all through
    parts, _ = cv2.findContours(opened, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull = cv2.convexHull(max(parts, key=cv2.contourArea) + offset)
    trimmed_area = float(cv2.contourArea(hull))
    approx, _ = _ring_polygon(hull, w, h)
    if len(approx) != 4:
        if area >= t.MIN_DOCUMENT_COVERAGE * w * h:
            return None
        # A far-away page's ring that took in its shadow (offset beside two of its sides): the
        # coarse quadrilateral of page and shadow together, only to say the page is too small.
        arc = cv2.arcLength(hull, True)
        approx = cv2.approxPolyDP(hull, _TRIM_COARSE_EPSILON * arc, True).reshape(-1, 2)
        if len(approx) != 4 or cv2.contourArea(approx) < _TRIM_COARSE_MIN_AREA * trimmed_area:
            return None
    if on_border(approx, w, h).any():
        return None
    return _complete_page(contour, approx, area, support, w * h)


def _complete_page(contour: np.ndarray, approx: np.ndarray, area: float, support: Support,
                   frame_area: float) -> np.ndarray | None:
    """approx (a quadrilateral clear of the frame from contour, whose hull has area), or the
    polygon side_fit gives for it, when its sides lie on the edges (_on_edges), every corner is
    square within _MAX_CORNER_SKEW and it passes plausible_page; else None."""
    supported = _on_edges(contour, approx, _NO_BORDER_4, True, area, support)
    if supported is None or not _square_inner_corners(supported, _NO_BORDER_4) \
            or not plausible_page(supported, frame_area):
        return None
    return supported


@dataclass(frozen=True)
class Holes:
    """The holes of an edge map (the connected regions without edges, 4-connected): the label
    of every pixel (0 on the edges themselves), and each label's area in pixels (one per label)."""

    labels: np.ndarray
    areas: np.ndarray


def edge_holes(edges: np.ndarray) -> Holes:
    """The holes of edges (made by edge_map), shared by solid_pages and ground_regions. The
    areas come from one bincount of the labels: OpenCV's own statistics cost 4x the labelling."""
    count, labels = cv2.connectedComponents(cv2.bitwise_not(edges), connectivity=4)
    return Holes(labels, np.bincount(labels.ravel(), minlength=count))


def solid_pages(edges: np.ndarray, holes: Holes | None = None) -> list[Outline]:
    """Small complete pages clear of the frame found as solid regions of the edge map edges
    (made by edge_map), largest first (at most _SOLID_MAX): a far-away page on a striped or
    grained desk whose edge ring is one component with the desk's lines (they touch its sides),
    so that no ring of the map outlines it alone.

    The map's holes under t.SOLID_FILL_MAX of the frame (the gaps between a far-away page's
    print, its table's cells) are filled, which makes the page one solid patch; an opening by
    _TRIM_KERNEL then drops the desk's lines (a dilated edge is 3-5 px wide) where they join it.
    What stays is hulled and approximated as best_outline does, and must be a quadrilateral with
    its sides on the edges (_on_edges), square corners and plausible_page, and under
    t.MIN_DOCUMENT_COVERAGE of the frame: it is looked for only to say the page is too small.
    """
    h, w = edges.shape[:2]
    frame_area = float(w * h)
    holes = holes or edge_holes(edges)
    fill = np.where(holes.areas < t.SOLID_FILL_MAX * frame_area, 255, 0).astype(np.uint8)
    solid = cv2.bitwise_or(edges, fill[holes.labels])
    # The frame border that edge_map draws in: a page clear of the frame is sought.
    solid[0, :] = solid[-1, :] = 0
    solid[:, 0] = solid[:, -1] = 0
    support = Support(edges)
    found: list[Outline] = []
    for part, hull, area in _opened_parts(solid):
        if not t.MIN_DOCUMENT_AREA * frame_area <= area < t.MIN_DOCUMENT_COVERAGE * frame_area:
            continue
        approx, border = _ring_polygon(hull, w, h)
        if border is None or len(approx) != 4 or border.any():
            continue
        supported = _complete_page(part, approx, area, support, frame_area)
        if supported is None:
            continue
        found.append(Outline(order_corners(supported), area / frame_area, cut_off=False))
    found.sort(key=lambda outline: -outline.coverage)
    return found[:_SOLID_MAX]


def ground_regions(edges: np.ndarray, holes: Holes | None = None) -> list[Outline]:
    """Regions running off the frame found as what is not the desk in the edge map edges (made
    by edge_map), largest first (at most _GROUND_MAX): a page cut off by the frame whose print
    (a form's table, a card's printed frame) meets its edge all round, so that no single ring of
    the map closes between the page's edge and the frame border, and the region is split into
    its cells.

    The desk is the largest hole of the map that reaches the frame border (at least
    _GROUND_MIN_SHARE of the frame: on a textured desk no hole is, and nothing is found); what
    is not the desk, opened by _TRIM_KERNEL (stray strokes of the desk drop off), is hulled and
    approximated as best_outline does, and a region must leave the frame as a page does
    (_leaves_frame), with its sides on the edges (_on_edges) and square corners inside the frame.
    """
    h, w = edges.shape[:2]
    frame_area = float(w * h)
    holes = holes or edge_holes(edges)
    labels, areas = holes.labels, holes.areas
    # The holes reaching the frame border (the row and column inside the border edge_map draws).
    touching = np.unique(np.concatenate((labels[1, 1:-1], labels[-2, 1:-1], labels[1:-1, 1], labels[1:-1, -2])))
    touching = touching[touching > 0]
    if len(touching) == 0:
        return []
    ground = int(touching[np.argmax(areas[touching])])
    if areas[ground] < _GROUND_MIN_SHARE * frame_area:
        return []
    figure = cv2.compare(labels, np.array([float(ground)]), cv2.CMP_NE)
    # The frame border drawn in the map is no figure; a region reaching it keeps touching it.
    figure[0, :], figure[-1, :] = figure[1, :], figure[-2, :]
    figure[:, 0], figure[:, -1] = figure[:, 1], figure[:, -2]
    support = Support(edges)
    found: list[Outline] = []
    for part, hull, area in _opened_parts(figure):
        if not t.MIN_DOCUMENT_AREA * frame_area <= area <= 0.92 * frame_area:
            continue
        approx, border = _ring_polygon(hull, w, h)
        if border is None or not 3 <= len(approx) <= 6:
            continue
        spanning = False
        if _leaves_frame(approx, border, w, h):
            supported = _on_edges(part, approx, border, False, area, support)
        elif _spans_frame_side(approx, border, w, h):
            # A page over a whole side of the frame: its ring is one best_outline never takes
            # (a stripe of the desk crosses the frame so too), so it may be one hole.
            supported, spanning = _spanning_on_edges(hull, approx, border, support), True
        else:
            continue
        if supported is None:
            continue
        flags = border if supported is approx else on_border(supported, w, h)
        if not _square_inner_corners(supported, flags, _CUT_MAX_CORNER_COSINE):
            continue
        # A page split into cells by its print: no cell is most of it. A region that is mostly
        # one hole is a stretch of desk between two of its lines, taken in with a page beside it
        # (a hole that is the page itself is a ring best_outline has judged already).
        mask = np.zeros_like(figure)
        cv2.drawContours(mask, [part], -1, 255, cv2.FILLED)
        cells = np.bincount(labels[mask > 0], minlength=len(areas))
        cells[0] = cells[ground] = 0
        if cells.max() > _GROUND_MAX_CELL * area and not spanning:
            continue
        # The desk around it must be plain (its hole, with the frame border and a few objects'
        # edges): on a striped or grained desk the holes between its lines join into a large
        # one, and a page with a band of the desk beside it closes against the frame.
        outside = mask.size - cv2.countNonZero(mask)
        desk_edges = cv2.countNonZero(edges) - cv2.countNonZero(cv2.bitwise_and(edges, mask))
        if desk_edges > _GROUND_MAX_DESK_EDGES * outside:
            continue
        found.append(Outline(supported.astype(np.float32), area / frame_area, cut_off=True))
    found.sort(key=lambda outline: -outline.coverage)
    return found[:_GROUND_MAX]


# How many regions ground_regions returns: a page and, at most, one object running off the frame
# beside it (the analyser takes the first that is a document).
_GROUND_MAX = 2
# The desk's hole must cover this share of the frame for ground_regions to look at all.
_GROUND_MIN_SHARE = 0.2
# ... and no hole inside a region found may fill more than this share of its hull.
_GROUND_MAX_CELL = 0.5
# ... nor may edges cover more than this share of the frame outside it.
_GROUND_MAX_DESK_EDGES = 0.1


def _opened_parts(mask: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, float]]:
    """The outer boundary of each part of mask (0/255) opened by _TRIM_KERNEL (strokes and lines
    a dilated edge wide drop off), with its convex hull and the hull's area."""
    parts, _ = cv2.findContours(cv2.morphologyEx(mask, cv2.MORPH_OPEN, _TRIM_KERNEL), cv2.RETR_EXTERNAL,
                                cv2.CHAIN_APPROX_SIMPLE)
    for part in parts:
        hull = cv2.convexHull(part)
        yield part, hull, float(cv2.contourArea(hull))


# How many solid regions solid_pages returns (the analyser takes the first that is a document).
_SOLID_MAX = 3


# The opening's size (analysis pixels: a dilated edge is 3-5 px wide, a page's ring far wider
# across), how many rings are tried, and the share of the ring's filled region the opening must
# keep (a stroke is a sliver of it; a ring thin all through, a loop of desk texture, is not).
_TRIM_SIZE = 9
_TRIM_KERNEL = cv2.getStructuringElement(cv2.MORPH_RECT, (_TRIM_SIZE, _TRIM_SIZE))
_TRIM_MAX_RINGS = 3
_TRIM_MIN_KEPT = 0.9
# A far-away page with its shadow: the coarse step (share of the hull's perimeter) and the share
# of the opened hull's area its quadrilateral must keep (page and shadow: 0.8 on train scenes).
_TRIM_COARSE_EPSILON = 0.05
_TRIM_COARSE_MIN_AREA = 0.7


def _on_edges(contour: np.ndarray, approx: np.ndarray, border: np.ndarray, is_quad: bool, area: float,
              support: Support) -> np.ndarray | None:
    """approx (a ring's polygon: a complete quadrilateral when is_quad, else a region leaving the
    frame, with its on_border flags and its hull's area) when its sides lie on edges; else the
    polygon side_fit gives, when it is of the same kind and its sides do; else None.

    A rounded card's corners put the approximation's vertices on their arcs and its sides inside
    the card's edge. Small regions running off the frame are not fitted (a cup's rim, a desk
    stripe: the lines fitted to them met the support), nor polygons whose fitted corners are not
    near square."""
    if support(approx, border) >= t.MIN_EDGE_SUPPORT:
        return approx
    h, w = support.edges.shape[:2]
    if not is_quad and area < t.MIN_DOCUMENT_COVERAGE * w * h:
        return None
    return _refitted(contour, approx, border, is_quad, support)


def _refitted(contour: np.ndarray, approx: np.ndarray, border: np.ndarray, is_quad: bool, support: Support,
              points: np.ndarray | None = None) -> np.ndarray | None:
    """The polygon side_fit gives for approx (whose sides miss the edges) when it is of the same
    kind (_on_edges), its corners near square and its sides on edges; else None. points: the
    contour's densified points, when the caller has them (side_fit's)."""
    h, w = support.edges.shape[:2]
    fitted = side_fit(contour, approx, border, (w, h), points)
    if fitted is None or not _square_inner_corners(fitted, border):
        return None
    fitted_border = on_border(fitted, w, h)
    if (is_quad and fitted_border.any()) or (not is_quad and not _leaves_frame(fitted, fitted_border, w, h)):
        return None
    return fitted if support(fitted, fitted_border) >= t.MIN_EDGE_SUPPORT else None


# The coarser approximation steps (share of the hull's perimeter) and the share of the finer
# polygon's area its quadrilateral must keep.
_QUAD_EPSILONS = (0.035, 0.05, 0.065)
_QUAD_MIN_AREA = 0.95


def _quadrilateral(hull: np.ndarray, arc: float, approx: np.ndarray) -> np.ndarray:
    """The four-vertex approximation of hull (perimeter arc) at the first coarser step that gives
    one and keeps _QUAD_MIN_AREA of the area of approx (its finer polygon), else approx."""
    area = cv2.contourArea(approx)
    for epsilon in _QUAD_EPSILONS:
        coarse = cv2.approxPolyDP(hull, epsilon * arc, True).reshape(-1, 2)
        if len(coarse) < 4:
            break
        if len(coarse) == 4:
            return coarse if cv2.contourArea(coarse) >= _QUAD_MIN_AREA * area else approx
    return approx


def encloses(region: np.ndarray, corners: np.ndarray) -> bool:
    """Whether every corner lies inside region (within ENCLOSE_SLACK px): then the quadrilateral
    is a box printed on the region's page. A whole document that a larger region (another card
    running off the frame, a shadow on the desk) merely overlaps keeps a corner outside it."""
    contour = region.astype(np.float32).reshape(-1, 1, 2)
    return all(cv2.pointPolygonTest(contour, (float(x), float(y)), True) >= -ENCLOSE_SLACK for x, y in corners)


ENCLOSE_SLACK = 3.0


def on_border(points: np.ndarray, w: int, h: int, slack: float = 0.0) -> np.ndarray:
    """Per point: whether it lies on the frame border (within BORDER_MARGIN of an edge, plus
    slack pixels) of a w x h image."""
    low, high = _border_bounds(w, h, slack, points.dtype == np.float32)
    return np.logical_or.reduce((points <= low) | (points >= high), axis=1)


def _border_bounds(w: int, h: int, slack: float, single: bool) -> tuple[np.ndarray, np.ndarray]:
    """The (x, y) bounds of on_border's zone: at or below low, at or above high. In float32 for
    float32 points, float64 otherwise, as the comparison of the points with Python floats
    would be made; kept per frame size."""
    key = (w, h, slack, single)
    bounds = _BORDER_BOUNDS.get(key)
    if bounds is None:
        mx, my = t.BORDER_MARGIN * w + slack, t.BORDER_MARGIN * h + slack
        dtype = np.float32 if single else np.float64
        bounds = _BORDER_BOUNDS[key] = (np.array([mx, my], dtype), np.array([w - 1 - mx, h - 1 - my], dtype))
    return bounds


_BORDER_BOUNDS: dict[tuple[int, int, float, bool], tuple[np.ndarray, np.ndarray]] = {}


_NO_POINTS = np.zeros(0, np.int32)


class Support:
    """Edge support of polygons on one dilated edge map (see __call__).

    The tolerance of a few pixels (a polygon approximating a hull may sit off the edge) is looked
    up at the ~100 sample points only: the same answer as a 5x5 dilation of the whole edge map,
    which cost more than all the support checks of a frame together. The lookups take one flat
    index per sample and offset: a few numpy calls per polygon. When every sample lies at least
    2 px inside the frame (a complete page, clear of the border zone) they go to the map itself;
    otherwise to a copy of the map padded by 2 px (replicated, as clipping the coordinates to the
    frame did), made the first time it is needed: on most frames never.
    """

    def __init__(self, edges: np.ndarray) -> None:
        self.edges = edges
        h, w = edges.shape[:2]
        self.flat = np.ascontiguousarray(edges).ravel()
        self.stride = np.array([1, w], np.int32)
        self.offsets = _near_offsets(w)
        self.inner_x, self.inner_y = w - 3, h - 3  # the last column and row 2 px inside
        self.padded: np.ndarray | None = None
        self.limit = self.padded_stride = self.padded_offsets = _NO_POINTS

    def __call__(self, polygon: np.ndarray, border: np.ndarray, along: np.ndarray | None = None) -> float:
        """Share of points along the polygon's sides (those not lying on the frame border) that
        have an edge pixel within 2 px. A page's outline is edge all the way round; the hull of a
        cluster of desk texture cuts across plain areas. along: per side (vertex i to i + 1),
        whether it runs along the frame's edge, where that is not every side between two border
        vertices (a side across the frame from one edge to another)."""
        following = _FOLLOWING[len(polygon)]
        if border.any():
            # A side along the frame edge is where the page leaves the picture: it is not checked.
            inner = ~(border & border[following]) if along is None else ~along
            if not inner.any():
                return 0.0
            poly = polygon.astype(np.float32)
            start = poly[inner]
            side = poly[following][inner] - start
        else:
            start = polygon.astype(np.float32)
            side = start[following] - start
        pts = np.rint(start[:, None, :] + side[:, None, :] * _SUPPORT_STEPS_3).astype(np.int32).reshape(-1, 2)
        low_x, low_y = np.minimum.reduce(pts, axis=0).tolist()
        high_x, high_y = np.maximum.reduce(pts, axis=0).tolist()
        if low_x >= 2 and low_y >= 2 and high_x <= self.inner_x and high_y <= self.inner_y:
            # Every 5x5 neighbourhood lies inside the map: clipping would change nothing.
            near = self.flat[(pts @ self.stride)[:, None] + self.offsets]
        else:
            if self.padded is None:
                h, w = self.edges.shape[:2]
                self.padded = cv2.copyMakeBorder(self.edges, 2, 2, 2, 2, cv2.BORDER_REPLICATE).ravel()
                self.limit = np.array([w - 1, h - 1], np.int32)
                # A sample's flat index in the padded map is x + stride * y plus these offsets
                # (the 2 px of padding and the 5x5 neighbourhood).
                self.padded_stride = np.array([1, w + 4], np.int32)
                self.padded_offsets = _near_offsets(w + 4) + (2 * (w + 4) + 2)
            np.maximum(pts, 0, out=pts)
            np.minimum(pts, self.limit, out=pts)
            near = self.padded[(pts @ self.padded_stride)[:, None] + self.padded_offsets]
        return float(np.count_nonzero(np.maximum.reduce(near, axis=1))) / len(pts)


_FOLLOWING = [np.roll(np.arange(n), -1) for n in range(7)]  # polygons of 3-6 vertices (best_outline)
_SUPPORT_STEPS = np.linspace(0.1, 0.9, 24, dtype=np.float32)
_SUPPORT_STEPS_3 = _SUPPORT_STEPS[None, :, None]
_NEAR_DY, _NEAR_DX = (d.ravel() for d in np.mgrid[-2:3, -2:3])
_NEAR_OFFSETS: dict[int, np.ndarray] = {}


def _near_offsets(stride: int) -> np.ndarray:
    """Flat offsets of the 5x5 neighbourhood in an image whose rows are stride pixels apart."""
    offsets = _NEAR_OFFSETS.get(stride)
    if offsets is None:
        offsets = _NEAR_OFFSETS[stride] = (_NEAR_DY * stride + _NEAR_DX)[None, :].astype(np.intp)
    return offsets


DILATE_3 = np.ones((3, 3), np.uint8)


def _leaves_as_a_page(polygon: np.ndarray, border: np.ndarray, w: int, h: int) -> bool:
    """Whether polygon (3-6 vertices, with its on_border flags) runs off a w x h frame as a page
    does: over one side or one corner (_leaves_frame), its corners inside the frame square
    within _CUT_MAX_CORNER_SKEW."""
    return 3 <= len(polygon) <= 6 and _leaves_frame(polygon, border, w, h) \
        and _square_inner_corners(polygon, border, _CUT_MAX_CORNER_COSINE)


def _leaves_frame(approx: np.ndarray, border: np.ndarray, w: int, h: int) -> bool:
    """True when some, not all, vertices lie on the frame border, all of them on one frame edge
    or two adjacent ones (a corner).

    A page that slips out of the picture leaves on one side or over one corner; a stripe of wood
    grain or tablecloth crosses the whole frame and touches opposite edges. One vertex at a frame
    corner lies on both its edges and counts for either (a page leaving over the left edge whose
    top side meets it at the top-left corner does not touch the top edge as well); two span a
    whole edge of the frame, and count for all their edges.
    """
    if not border.any() or border.all():
        return False
    pts = approx[border].astype(np.float32)
    mx, my = t.BORDER_MARGIN * w, t.BORDER_MARGIN * h
    left, right = pts[:, 0] <= mx, pts[:, 0] >= w - 1 - mx
    top, bottom = pts[:, 1] <= my, pts[:, 1] >= h - 1 - my
    if int(np.count_nonzero((left | right) & (top | bottom))) > 1:
        # Two frame corners: the region spans a whole edge of the frame (a washed-out desk and
        # the page together), as a stripe does; each corner then counts for both its edges.
        return not (left.any() and right.any()) and not (top.any() and bottom.any())
    return any(bool((first | second).all()) for first, second in
               ((left, top), (top, right), (right, bottom), (bottom, left)))


def _spanning_on_edges(hull: np.ndarray, approx: np.ndarray, border: np.ndarray,
                       support: Support) -> np.ndarray | None:
    """approx (a region over one whole side of the frame, _spans_frame_side, approximated from
    hull) when its sides inside the frame lie on edges, or the polygon with the hull's exits from
    the frame added as vertices (_with_frame_exits: the approximation cut the corner between the
    page's side and the frame's edge) when its do; else None."""
    h, w = support.edges.shape[:2]
    if support(approx, border, _along_frame(approx, w, h)) >= t.MIN_EDGE_SUPPORT:
        return approx
    exits = _with_frame_exits(hull, approx, w, h)
    if exits is None or not _spans_frame_side(exits[0], exits[1], w, h):
        return None
    polygon, flags = exits
    return polygon if support(polygon, flags, _along_frame(polygon, w, h)) >= t.MIN_EDGE_SUPPORT else None


def _along_frame(polygon: np.ndarray, w: int, h: int) -> np.ndarray:
    """Per side of polygon (vertex i to i + 1): whether both its ends lie on the same edge of a
    w x h frame (within BORDER_MARGIN), so that the side runs along it."""
    mx, my = t.BORDER_MARGIN * w, t.BORDER_MARGIN * h
    x, y = polygon[:, 0], polygon[:, 1]
    edges = np.stack((x <= mx, x >= w - 1 - mx, y <= my, y >= h - 1 - my), axis=1)
    return np.any(edges & edges[_FOLLOWING[len(polygon)]], axis=1)


def _spans_frame_side(approx: np.ndarray, border: np.ndarray, w: int, h: int) -> bool:
    """Whether a region's polygon (with its on_border flags) runs off the frame over one whole
    side of it and part of the two sides next to it, not reaching the opposite side: both frame
    corners of that side are its vertices. A large page held close, cut off on three sides."""
    if not border.any():
        return False
    pts = approx[border].astype(np.float32)
    mx, my = t.BORDER_MARGIN * w, t.BORDER_MARGIN * h
    left, right = pts[:, 0] <= mx, pts[:, 0] >= w - 1 - mx
    top, bottom = pts[:, 1] <= my, pts[:, 1] >= h - 1 - my
    for side, first, second, opposite in ((left, top, bottom, right), (right, top, bottom, left),
                                          (top, left, right, bottom), (bottom, left, right, top)):
        if np.count_nonzero(side & first) == 1 and np.count_nonzero(side & second) == 1 \
                and not opposite.any() and bool((side | first | second).all()):
            return True
    return False


def refine_corners(gray: np.ndarray, corners: np.ndarray, reach: int) -> np.ndarray:
    """Refine four corners (TL, TR, BR, BL, in gray's pixels) on gray.

    Each side is re-found where the grey level changes fastest across it, within reach pixels,
    at 24 points; a robust line fit ignores points that land on text, and neighbouring lines are
    intersected. Corners that move more than reach are kept as they were.
    """
    pts = corners.astype(np.float32).reshape(4, 2)
    sides = pts[_FOLLOWING[4]] - pts
    lengths = np.sqrt((sides * sides).sum(axis=1))
    if lengths.min() < 8:
        return pts
    normals = sides[:, ::-1] * _NORMAL_SIGNS / lengths[:, None]  # (-dy, dx) / length
    base = pts[:, None, :] + sides[:, None, :] * _REFINE_STEPS[None, :, None]  # (4, 24, 2)
    offsets = np.arange(-reach, reach + 1, dtype=np.float32)
    grid = base[:, :, None, :] + offsets[None, None, :, None] * normals[:, None, None, :]
    # One remap for all four sides: the per-call overhead, not the pixels, is what costs here.
    grid = grid.reshape(4 * len(_REFINE_STEPS), len(offsets), 2)
    profiles = cv2.remap(gray, grid[:, :, 0], grid[:, :, 1], cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    # |step| between neighbouring samples straight on the 8-bit profiles (exact: at most 255).
    best = cv2.absdiff(profiles[:, 1:], profiles[:, :-1]).argmax(axis=1).astype(np.float32) + 0.5 - reach
    found = base + best.reshape(4, -1, 1) * normals[:, None, :]
    refined = _intersect_sides(found)
    if refined is None:
        return pts
    shift = refined - pts
    moved = np.sqrt((shift * shift).sum(axis=1))
    return np.where((moved <= reach)[:, None], refined, pts).astype(np.float32)


_REFINE_STEPS = np.linspace(0.12, 0.88, 24, dtype=np.float32)
_NORMAL_SIGNS = np.array([-1, 1], np.float32)


def _intersect_sides(side_points: Sequence[np.ndarray]) -> np.ndarray | None:
    """Fit a line to each side's points (4 arrays of (N, 2); side i runs from corner i to i+1) and
    return the four corners where neighbouring lines meet, or None when two are parallel."""
    # fitLine gives (vx, vy, x, y): the point and the direction are views of it.
    fits = [cv2.fitLine(points, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel() for points in side_points]
    return meeting_corners([(fit[2:], fit[:2]) for fit in fits])


def meeting_corners(lines: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray | None:
    """The four corners where neighbouring lines (point, unit direction; line i is side i, from
    corner i to i + 1) meet, corner i between lines i - 1 and i; None when two are near parallel."""
    corners = np.empty((4, 2), np.float32)
    for i in range(4):
        meeting = _meet(lines[i - 1], lines[i])
        if meeting is None:
            return None
        corners[i] = meeting
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
