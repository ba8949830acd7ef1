"""The quality verdicts: document mode (capture of a document) and camera mode (device check).

Every entry point times itself (QualityResult.ms) from the decoded pixels on, so the number is the
cost of the analysis alone, comparable between a still from disk and a live video frame.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

import cv2
import numpy as np

from server.quality import thresholds as t
from server.quality.colour import Chroma
from server.quality.desk import grey_around, has_desk_tones, looks_like_desk
from server.quality.document import (
    Holes,
    Outline,
    Support,
    aside_chain,
    box_areas,
    chroma_edge_map,
    cloth_page,
    coloured_rim,
    edge_holes,
    edge_map,
    edge_threshold,
    far_cloth_page,
    find_outline,
    ground_regions,
    readable_page,
    refine_corners,
    sided_cut_region,
    solid_pages,
)
from server.quality.edges import blur_for_edges
from server.quality.gapped import gapped_page
from server.quality.metrics import (
    RegionStats,
    border_sharpness,
    close_up_crispness,
    coarse_structure,
    downscale,
    edge_crispness,
    halve,
    region_stats,
    to_gray,
    tone_ends,
)
from server.quality.result import NO_PAGE_PRIORITY, DocumentMetrics, Metrics, Mode, QualityResult, Reason, make_result
from server.quality.surround import surrounding_page


def analyse_document(image: np.ndarray) -> QualityResult:
    """Acceptance check of a still of a document (grey, BGR or BGRA, 8-bit).

    Finds the document, then judges resolution, framing, exposure, glare, contrast and sharpness
    measured on the document itself (not the desk around it).
    """
    start = time.perf_counter()
    result = document_verdict(to_gray(image), still=True, colour=Chroma.from_bgr(image))
    result.ms = (time.perf_counter() - start) * 1000
    return result


def analyse_camera(image: np.ndarray) -> QualityResult:
    """Device check of a kiosk camera frame: covered lens, too dark, blurred, low contrast."""
    start = time.perf_counter()
    result = _camera(to_gray(image))
    result.ms = (time.perf_counter() - start) * 1000
    return result


def analyse_luma(y_plane: np.ndarray, mode: Mode = "document",
                 uv_planes: tuple[np.ndarray, np.ndarray] | None = None) -> QualityResult:
    """Fast path for live frames: the Y plane of a decoded video frame (e.g. aiortc planes[0]).

    Skips the colour conversion and the still-resolution check: live frames come at whatever size
    the network allows, and the full-resolution still is checked separately on capture. In
    document mode the plane is taken as video range (16-235), as decoders deliver it. uv_planes:
    the frame's U and V planes (planes[1], planes[2], any size), read only when the grey search
    finds no page (a card whose edge against the desk is one of colour).
    """
    start = time.perf_counter()
    y = np.asarray(y_plane)
    if mode == "document":
        result = document_verdict(y, still=False, video_range=True, colour=Chroma.from_planes(uv_planes))
    else:
        result = _camera(y)
    result.ms = (time.perf_counter() - start) * 1000
    return result


class Locate(Protocol):
    """Finds the page's outline in the analysis image (document.find_outline's signature)."""

    def __call__(self, gray: np.ndarray, *, colour: Chroma | None = None) -> Outline | None: ...


# Limited ("video") range to full range: 16 -> 0, 235 -> 255, clipped outside.
VIDEO_TO_FULL_RANGE = np.clip(np.round((np.arange(256) - 16) * 255 / 219), 0, 255).astype(np.uint8)
_VIDEO_SCALE = 255 / 219


def to_full_range(y: np.ndarray) -> np.ndarray:
    """y (8-bit, video range) stretched to full range: the pixels of VIDEO_TO_FULL_RANGE.

    One saturating scale and offset (cv2.addWeighted with a zero second weight, rounded as the
    table is: checked on all 256 levels in tests/test_quality_exposure.py) in under half the time
    of cv2.LUT, which cost ~0.15 ms on a 640x360 analysis image (about a tenth of a bare Laplacian
    pass over the 720p frame).
    """
    return cv2.addWeighted(y, _VIDEO_SCALE, y, 0.0, -16 * _VIDEO_SCALE)


def _shrink(polygon: np.ndarray, share: float) -> np.ndarray:
    centre = polygon.mean(axis=0)
    return (centre + (polygon - centre) * (1 - share)).astype(np.float32)


def _exposure_reasons(stats: RegionStats, min_brightness: float) -> set[Reason]:
    """Camera mode and frames without a page: judged on the whole picture's grey level."""
    reasons: set[Reason] = set()
    if stats.brightness < min_brightness:
        reasons.add("too_dark")
    if stats.brightness > t.MAX_BRIGHTNESS or stats.clipped >= t.OVEREXPOSED_CLIPPED_RATIO:
        reasons.add("too_bright")
    return reasons


def _page_exposure_reasons(stats: RegionStats) -> set[Reason]:
    """A page is judged by what makes its print readable, not by its mean grey: too dark when
    even its brightest tones (paper, or a dark card's light print) stay low; too bright when its
    tones are pressed against white, the bright end at the ceiling and even the darkest (ink)
    light grey. A white page whose paper clips under bright light but whose ink stays dark is
    fine, and so is a dark card."""
    reasons: set[Reason] = set()
    if stats.bright_end < t.MIN_BRIGHT_END:
        reasons.add("too_dark")
    if stats.bright_end >= t.WASHED_BRIGHT_END and stats.dark_end >= t.MAX_DARK_END:
        reasons.add("too_bright")
    return reasons


def document_verdict(
    gray: np.ndarray, *, still: bool, locate: Locate = find_outline, video_range: bool = False,
    colour: Chroma | None = None,
) -> QualityResult:
    """Document-mode verdict of a grey image (not timed); locate finds the outline in the analysis
    image of a live frame (the full search, or the live tracker that looks near the last frame's
    outline first), with colour (the frame's chroma, if any) for pages that the grey edges miss.
    A still always takes the full search, whose edge map the page-around step reads again.
    video_range: gray is a video decoder's Y plane (black 16, white 235), stretched to full range
    on the analysis image (to_full_range) so that clipped paper and highlights read 255 as in a
    still."""
    h, w = gray.shape[:2]
    small, factor = downscale(gray)
    if video_range:
        small = to_full_range(small)
    edges: np.ndarray | None = None  # the full search's edge map (stills)
    if still:
        blurred = blur_for_edges(small)
        high = edge_threshold(blurred)
        edges = edge_map(blurred, high)
        outline = find_outline(small, blurred, high, colour=colour, edges=edges)
    else:
        outline = locate(small, colour=colour)
    if still and readable_page(outline):
        # The still is rectified from its outline: a printed panel would lose the card's rim,
        # a form's table on a striped cloth the rest of the form. (Live frames only guide the
        # resident, and the panel is where the card is.)
        assert outline is not None and edges is not None
        if colour is not None:
            outline = cloth_page(small, colour, coloured_rim(colour, outline, small.shape[:2]))
        outline = surrounding_page(small, outline, edges, colour)
    half = halve(small)  # the sharpness is measured on it
    reasons: set[Reason] = set()
    if still and min(h, w) < t.MIN_STILL_SHORT_SIDE:
        reasons.add("low_resolution")
    stats = None
    if outline is not None:
        stats = region_stats(small, _shrink(outline.corners, t.INNER_SHRINK), half=half, colour=colour)
        if outline.aside is not None:
            outline, stats = _page_aside(small, outline, stats, half, colour)
        if _not_a_document(small, outline, stats, colour, half):
            stats = None
    if outline is None or stats is None:
        if edges is None:
            blurred = blur_for_edges(small)
            high = edge_threshold(blurred)
            edges = edge_map(blurred, high)
        holes = edge_holes(edges)
        rings = cv2.findContoursLinkRuns(edges)[0]  # for the searches that read rings, traced once
        far = _gapped(small, colour, half, blurred, edges, high, rings) \
            or _far_away_page(small, colour, half, edges, holes) or _cut_off_page(small, colour, half, edges, holes) \
            or _far_page_on_cloth(small, colour, half) or _sided_cut_off_page(small, colour, half, edges, rings) \
            or _colour_sided_cut_off_page(small, colour, half)
        if far is not None:
            outline, stats = far
    if outline is None or stats is None:
        # Without a page, only say what is wrong with the whole picture's light.
        stats = region_stats(small, half=half)
        reasons.add("no_document")
        reasons |= _exposure_reasons(stats, t.MIN_BRIGHTNESS_CAMERA)
        if stats.clipped >= t.FRAME_CLIPPED_RATIO:
            reasons.add("too_bright")
        if stats.sharpness < t.MIN_SHARPNESS and _blurred_frame(small, half):
            reasons.add("blurry")
        if stats.bright_end - stats.dark_end < t.FRAME_MIN_TONE_RANGE or (
                "too_bright" not in reasons and _veiled(stats.dark_end, stats.bright_end)):
            # A veiled picture (a smeared lens): a page in it has lost the edges it would be
            # found by. no_document stays first, so the guidance does not change.
            reasons.add("low_contrast")
        return make_result(reasons, _metrics(stats, None, factor, gray, refine=False), w, h, NO_PAGE_PRIORITY)
    if outline.cut_off:
        reasons.add("document_cut_off")
    elif outline.coverage < t.MIN_DOCUMENT_COVERAGE:
        reasons.add("document_too_small")
    reasons |= _page_exposure_reasons(stats)
    if (stats.sharpness < t.MIN_SHARPNESS and not _crisp(small, outline, half)) \
            or (still and _soft_close_up(small, gray, outline, stats, half, factor)):
        reasons.add("blurry")
        if "too_bright" in reasons and _soft_border(small, outline):
            # The page's border is as blurred as its print: the print's lifted dark end is the
            # blur spreading thin strokes into the paper, not the exposure washing them out.
            reasons.discard("too_bright")
    if "too_bright" not in reasons and stats.glare_ratio >= t.MAX_GLARE_RATIO:
        reasons.add("glare")
    blurred_in_veil = "blurry" in reasons and _veiled(*tone_ends(small))
    if (stats.bright_end - stats.dark_end < t.MIN_TONE_RANGE and ("blurry" not in reasons or blurred_in_veil)) \
            or (blurred_in_veil and "too_bright" not in reasons):
        # A blurred page in an unveiled frame lost its range to the blur (thin print spread into
        # the paper) or to the dark: holding it still or more light is the remedy, not wiping
        # the lens. In a veiled frame the smear is the cause of the blur too, whatever the page's
        # own range (a photograph on a card keeps its dark hair and clothes under the veil).
        reasons.add("low_contrast")
    return make_result(reasons, _metrics(stats, outline, factor, gray, refine=still), w, h)


def _not_a_document(small: np.ndarray, outline: Outline, stats: RegionStats, colour: Chroma | None,
                    half: np.ndarray) -> bool:
    """Whether an outline is no document at all, so the resident is asked to put one down
    (no_document) rather than to come closer or to move it into the frame: a small outline with
    no print in it (a sticky note, a phone, a cup's rim: its tones span less than print needs,
    unless its paper clips with print well below it: a far-away white page whose fine print the
    downscale lightened, or its narrow tones are sharp print on paper, _print_on_paper), or a
    small one with no sharp detail, or a small region
    running off the frame, that has the grey level and the colour of the desk around it (a knot
    of wood grain, a shadow), or a region of any size running off the frame whose tones are the
    desk's level by level (a stretch of fabric or cloth closing against the frame border), or a
    featureless one (BLANK_CUT_*: a sticky note or a phone at the frame's edge), or a long thin
    strip (_strip: a pen running off the frame), or one without
    sharp print in a frame where nothing is crisp (_soft_in_a_soft_frame); or a complete outline
    of any size that is a dark object in a lit frame (_dark_object)."""
    tones = stats.bright_end - stats.dark_end
    blank = tones < t.SMALL_MIN_TONE_RANGE and not (
        stats.bright_end >= t.SMALL_PAPER_BRIGHT_END and tones >= t.SMALL_PAPER_MIN_TONE_RANGE) \
        and not _print_on_paper(stats)
    if outline.cut_off:
        # Featureless (a sticky note, a phone's back, a patch of plain desk closing against the
        # frame border): no print at all, whatever its brightness; a cut-off page shows print.
        featureless = tones < t.BLANK_CUT_MAX_TONE_RANGE and stats.sharpness < t.BLANK_CUT_MAX_SHARPNESS
        return featureless or _strip(outline) or (blank and stats.bright_end < t.BLANK_CUT_MAX_BRIGHT_END) or (
            outline.coverage < t.DESK_MAX_CUT_COVERAGE and looks_like_desk(small, outline, colour)) \
            or has_desk_tones(small, outline, colour) or _soft_in_a_soft_frame(small, outline, stats, half)
    if _dark_object(small, outline, stats, half):
        return True
    if outline.coverage >= t.MIN_DOCUMENT_COVERAGE:
        return False
    # A far-away page of the desk's own grey and colour is still told from the desk by its print:
    # detail as sharp as a readable page's (a knot of grain or a shadow has none).
    return blank or (stats.sharpness < t.MIN_SHARPNESS and looks_like_desk(small, outline, colour))


def _strip(region: Outline) -> bool:
    """Whether a region running off the frame is a long thin strip (its minimum-area rectangle
    over CUT_MAX_ASPECT times as long as wide): a pen or a ruler running off the frame, not the
    part of a page the frame leaves in view."""
    (_, (width, height), _) = cv2.minAreaRect(region.corners.astype(np.float32))
    return max(width, height) > t.CUT_MAX_ASPECT * max(min(width, height), 1.0)


def _soft_in_a_soft_frame(small: np.ndarray, region: Outline, stats: RegionStats, half: np.ndarray) -> bool:
    """Whether a region running off the frame has no sharp print (sharpness under MIN_SHARPNESS,
    no crisp edges) in a frame with no crisp print anywhere (whole-frame crispness ratio under
    CUT_SOFT_FRAME_MAX_RATIO): a stretch of soft desk or an object's shading at the frame's edge.
    A cut-off page shows sharp print, and where the camera blurred everything the frame reads
    blurry as a whole (_blurred_frame) rather than holding a soft page."""
    if stats.sharpness >= t.MIN_SHARPNESS or _crisp(small, region, half):
        return False
    ratio, _ = edge_crispness(small, None, half, step=_FRAME_BLUR_STEP)
    return ratio < t.CUT_SOFT_FRAME_MAX_RATIO


def _print_on_paper(stats: RegionStats) -> bool:
    """Whether a region's tones, narrower than a readable page's, are still sharp print on paper
    (SMALL_PRINT_*): a far-away page whose fine print the downscale lightened, in any light."""
    tones = stats.bright_end - stats.dark_end
    return tones >= t.SMALL_PRINT_MIN_TONE_RANGE and stats.sharpness >= t.MIN_SHARPNESS \
        and stats.brightness - stats.dark_end >= t.SMALL_PRINT_MIN_MEAN_POSITION * tones


def _far_away_page(small: np.ndarray, colour: Chroma | None, half: np.ndarray, edges: np.ndarray,
                   holes: Holes) -> tuple[Outline, RegionStats] | None:
    """Where no page was found: a far-away page whose edge ring is one with a striped or grained
    desk's lines (solid_pages on edges, the search's map of small when the caller has it), with
    its stats, or None. Only a page with sharp print, lighter than the desk around it by
    SOLID_MIN_LIGHTER, that is a document (_not_a_document) counts: the resident is then told to
    come closer rather than to put a document down. holes: the holes of edges (edge_holes)."""
    for page in solid_pages(edges, holes):
        stats = region_stats(small, _shrink(page.corners, t.INNER_SHRINK), half=half)
        # Paper is lighter than the desk around it; a keyboard's dark keys fill solid too.
        around = grey_around(small, page)
        if stats.sharpness >= t.MIN_SHARPNESS and around is not None \
                and stats.brightness >= around + t.SOLID_MIN_LIGHTER \
                and not _not_a_document(small, page, stats, colour, half):
            return page, stats
    return None


def _far_page_on_cloth(small: np.ndarray, colour: Chroma | None,
                       half: np.ndarray) -> tuple[Outline, RegionStats] | None:
    """Where no page was found: a far-away page on a coloured cloth, the small gap in the cloth's
    pattern (far_cloth_page), with its stats, or None. Only a gap with sharp print that is a
    document (_not_a_document: a wide pale stretch of the cloth itself is blank) counts."""
    if colour is None:
        return None
    page = far_cloth_page(small, colour)
    if page is None:
        return None
    stats = region_stats(small, _shrink(page.corners, t.INNER_SHRINK), half=half)
    if stats.sharpness >= t.MIN_SHARPNESS and not _not_a_document(small, page, stats, colour, half):
        return page, stats
    return None


def _cut_off_page(small: np.ndarray, colour: Chroma | None, half: np.ndarray, edges: np.ndarray,
                  holes: Holes) -> tuple[Outline, RegionStats] | None:
    """Where no page was found: a page running off the frame whose print meets its edge all round
    (ground_regions on edges, the search's map of small, with its holes), with its stats, or
    None. Only a region with sharp print (or crisp edges) that is a document (_not_a_document)
    counts: the resident is then told to move the document into the frame rather than to put
    one down."""
    for region in ground_regions(edges, holes):
        stats = region_stats(small, _shrink(region.corners, t.INNER_SHRINK), half=half)
        if (stats.sharpness >= t.MIN_SHARPNESS or _crisp(small, region, half)) \
                and not _not_a_document(small, region, stats, colour, half):
            return region, stats
    return None


def _gapped(small: np.ndarray, colour: Chroma | None, half: np.ndarray, blurred: np.ndarray,
            edges: np.ndarray, high: float, rings: Sequence[np.ndarray]) -> tuple[Outline, RegionStats] | None:
    """Where no page was found: a complete page whose ring has gaps (gapped_page on edges, the
    search's map of small at Canny threshold high, made from blurred; rings are its rings), with
    its stats, or None when there is none, when it holds no sharp print (nor crisp edges: a
    phone's dark glass is framed by four straight sides as a card is) or when it is no document
    (_not_a_document)."""
    page = gapped_page(blurred, edges, high, rings)
    if page is None:
        return None
    stats = region_stats(small, _shrink(page.corners, t.INNER_SHRINK), half=half)
    if stats.sharpness < t.MIN_SHARPNESS and not _crisp(small, page, half):
        return None
    return None if _not_a_document(small, page, stats, colour, half) else (page, stats)


def _sided_cut_off_page(small: np.ndarray, colour: Chroma | None, half: np.ndarray,
                        edges: np.ndarray, rings: Sequence[np.ndarray]) -> tuple[Outline, RegionStats] | None:
    """Where no page was found: a page running off the frame whose ring is open or ran on into
    something beside it, as the frame cut by its visible sides (sided_cut_region on edges, the
    search's map of small), with its stats, or None. Only a region with sharp print well inside
    it (shrunk by SIDED_CUT_INNER_SHRINK) that is a document (_not_a_document) counts."""
    return _deep_print_document(small, colour, half, sided_cut_region(edges, rings, box_areas(rings), Support(edges)))


def _colour_sided_cut_off_page(small: np.ndarray, colour: Chroma | None,
                               half: np.ndarray) -> tuple[Outline, RegionStats] | None:
    """Where no page was found, not even by its sides in grey: a page running off the frame whose
    sides are edges of colour (sided_cut_region on the chroma edges at the analysis size, as the
    colour search reads them), checked as _sided_cut_off_page's region is. A coloured card over a
    striped desk: each stripe that meets the card turns its grey ring off into the stripe, and a
    desk's stripes of one hue leave no chroma edge."""
    if colour is None:
        return None
    edges = chroma_edge_map(colour, small.shape[:2])
    rings = cv2.findContoursLinkRuns(edges)[0]
    return _deep_print_document(small, colour, half, sided_cut_region(edges, rings, box_areas(rings), Support(edges)))


def _deep_print_document(small: np.ndarray, colour: Chroma | None, half: np.ndarray,
                         region: Outline | None) -> tuple[Outline, RegionStats] | None:
    """A region running off the frame with its stats, when it holds sharp print well inside it
    (shrunk by SIDED_CUT_INNER_SHRINK) and is a document (_not_a_document); else None."""
    if region is None:
        return None
    # The region's sides are where an object's rim is too (a tablet's light bezel round its dark
    # glass): the print must be sharp well inside it.
    deep = region_stats(small, _shrink(region.corners, t.SIDED_CUT_INNER_SHRINK), half=half)
    if deep.sharpness < t.MIN_SHARPNESS:
        return None
    stats = region_stats(small, _shrink(region.corners, t.INNER_SHRINK), half=half)
    return None if _not_a_document(small, region, stats, colour, half) else (region, stats)


def _blurred_frame(small: np.ndarray, half: np.ndarray) -> bool:
    """Whether a frame without a page is blurred as a whole (a shaken or unfocused camera; asked
    only where its sharpness is under MIN_SHARPNESS, as a blurred frame's is): it holds edges
    (first-derivative energy at least FRAME_BLUR_MIN_EDGE_ENERGY), but soft ones (edge_crispness
    ratio under FRAME_BLUR_MAX_RATIO, every other sample each way). A blur that smears the print smears the
    page's own edges, so the page is not found; an empty desk in focus keeps its texture's
    crisp edges, and a plain one has too few edges to judge."""
    ratio, energy = edge_crispness(small, None, half, step=_FRAME_BLUR_STEP)
    return energy >= t.FRAME_BLUR_MIN_EDGE_ENERGY and ratio < t.FRAME_BLUR_MAX_RATIO


# Every other derivative sample each way: a quarter of a frame's samples measure its blur as well.
_FRAME_BLUR_STEP = 2


def _dark_object(small: np.ndarray, outline: Outline, stats: RegionStats, half: np.ndarray) -> bool:
    """Whether a complete outline is a dark object without any detail in a frame whose light is
    fine (a phone's black glass with its sheen, a dark box): its bright end stays low while the
    frame holds much brighter things (DARK_OBJECT_*), and it has neither sharp detail nor crisp
    edges. A document in dim light is the brightest thing in its frame, and a dark card in good
    light shows its print."""
    if stats.bright_end >= t.DARK_OBJECT_MAX_BRIGHT_END or stats.sharpness >= t.MIN_SHARPNESS:
        return False
    _, frame_bright_end = tone_ends(small)
    if frame_bright_end < max(t.DARK_OBJECT_MIN_FRAME_BRIGHT_END, t.DARK_OBJECT_MIN_FRAME_RATIO * stats.bright_end):
        return False
    return not _crisp(small, outline, half)


def _page_aside(small: np.ndarray, region: Outline, stats: RegionStats, half: np.ndarray,
                colour: Chroma | None) -> tuple[Outline, RegionStats]:
    """The outline found, or the complete page beside it (Outline.aside) when the outline is a
    region running off the frame that holds no sharp print (a pen, a phone, a cup running off the
    frame), or a small complete one that is no document (_not_a_document: a sticky note, a phone's
    glass), and the page holds sharp print and is a document: a document held far away beside desk
    clutter is the resident's document, and "come closer" is the advice, not "the document is cut
    off" or "put the document down"."""
    aside = region.aside
    assert aside is not None
    if region.cut_off:
        if stats.sharpness >= t.MIN_SHARPNESS or _crisp(small, region, half):
            return region, stats
    elif not _not_a_document(small, region, stats, colour, half):
        return region, stats
    # Beside a cut-off region, the largest quadrilateral only.
    for candidate in [aside] if region.cut_off else aside_chain(aside):
        aside_stats = region_stats(small, _shrink(candidate.corners, t.INNER_SHRINK), half=half, colour=colour)
        if aside_stats.sharpness >= t.MIN_SHARPNESS \
                and not _not_a_document(small, candidate, aside_stats, colour, half):
            return replace(candidate, aside=None), aside_stats
    return region, stats


def _crisp(small: np.ndarray, outline: Outline, half: np.ndarray) -> bool:
    """Whether a page whose plain sharpness is low has crisp edges all the same: dim light, a
    veil or a page with little print lowers the second derivative's variance with the contrast
    or the amount of print, a blur lowers it against the first derivative's (edge_crispness)."""
    ratio, first_energy = edge_crispness(small, _shrink(outline.corners, t.INNER_SHRINK), half)
    return first_energy >= t.CRISP_MIN_EDGE_ENERGY and ratio >= t.CRISP_MIN_RATIO


def _soft_close_up(small: np.ndarray, gray: np.ndarray, outline: Outline, stats: RegionStats, half: np.ndarray,
                   factor: float) -> bool:
    """Whether a still's page that is sharp enough at the analysis size, but only just
    (CLOSE_BLUR_MAX_SHARPNESS), is blurred at its own resolution: its crispness ratio at the
    analysis size (edge_crispness) is under CLOSE_BLUR_MAX_SMALL_RATIO, and at up to
    CLOSE_BLUR_WIDTH px across (close_up_crispness) under CLOSE_BLUR_MAX_RATIO. Fine print lowers
    the ratio at the still's size as a blur does, but leaves it high at the analysis size, where
    a blur of a few of the still's pixels still shows a little. gray is the still (full size),
    factor its size over the analysis image's."""
    if not t.MIN_SHARPNESS <= stats.sharpness < t.CLOSE_BLUR_MAX_SHARPNESS:
        return False
    polygon = _shrink(outline.corners, t.INNER_SHRINK)
    if edge_crispness(small, polygon, half)[0] >= t.CLOSE_BLUR_MAX_SMALL_RATIO:
        return False
    return close_up_crispness(gray, polygon * np.float32(factor), t.CLOSE_BLUR_WIDTH) < t.CLOSE_BLUR_MAX_RATIO


def _veiled(dark_end: float, bright_end: float) -> bool:
    """Whether a whole frame with these tone ends is veiled (a smeared lens): squeezed tones and
    nothing left dark."""
    return bright_end - dark_end < t.FRAME_VEILED_TONE_RANGE and dark_end >= t.FRAME_VEILED_DARK_END


def _soft_border(small: np.ndarray, outline: Outline) -> bool:
    """Whether a complete page's own border is measurably blurred (under MIN_BORDER_SHARPNESS)."""
    if outline.cut_off:
        return False
    sharpness = border_sharpness(small, outline.corners)
    return sharpness is not None and sharpness < t.MIN_BORDER_SHARPNESS


def _metrics(stats: RegionStats, outline: Outline | None, factor: float, gray: np.ndarray, *,
             refine: bool) -> Metrics:
    """The result's metrics, with the outline's corners in gray's pixels. refine: re-find a
    complete page's sides on gray's full-size pixels (refine_corners), which a still needs as it is
    rectified from them. A live frame's corners only tell LiveGuidance whether the page is held
    steady (within STEADY_MAX_SHIFT, ~15 px at 720p) and are never rectified from: the still taken
    on capture is analysed, and refined, on its own. Skipping it there saved 0.1-0.3x of a bare
    Laplacian pass over a 720p frame."""
    document = DocumentMetrics()
    if outline is not None:
        corners = outline.corners * factor
        if refine and not outline.cut_off and not outline.colour:
            # The analysis image is ~2x coarser than a 720p frame: refine on full-size pixels so
            # rectification does not shave text off the edges. (Not an outline found by its
            # colour: its edge has no grey step to refine on, and the step chased would be print.)
            corners = refine_corners(gray, corners, reach=max(4, round(4 * factor)))
        document = DocumentMetrics(
            found=True, coverage=outline.coverage,
            corners=[[round(float(x), 1), round(float(y), 1)] for x, y in corners],
        )
    return Metrics(
        sharpness=stats.sharpness, brightness=stats.brightness, contrast=stats.contrast,
        glare_ratio=stats.glare_ratio, document=document,
    )


def _camera(gray: np.ndarray) -> QualityResult:
    h, w = gray.shape[:2]
    small, factor = downscale(gray)
    stats = region_stats(small)
    reasons: set[Reason] = set()
    covered = stats.brightness < t.BLOCKED_MAX_BRIGHTNESS or (
        stats.contrast < t.BLOCKED_MAX_CONTRAST and coarse_structure(small) < t.BLOCKED_MAX_STRUCTURE
    )
    if covered:
        # Dark or blurred follow from the covered lens; naming them too would only confuse.
        reasons.add("camera_blocked")
    else:
        reasons |= _exposure_reasons(stats, t.MIN_BRIGHTNESS_CAMERA)
        if stats.contrast < t.MIN_CONTRAST_CAMERA:
            reasons.add("low_contrast")
        if stats.sharpness < t.MIN_SHARPNESS_CAMERA:
            reasons.add("blurry")
    return make_result(reasons, _metrics(stats, None, factor, gray, refine=False), w, h)
