"""Whether a document goes on past a side of the page found: a booklet opened flat with one half
run off the frame.

An open marriage certificate or household register shows two halves inside one printed frame,
with a fold line between them. When the booklet runs off the frame's edge, the half still fully
in the picture is a complete quadrilateral of frame and fold lines, and the outline search would
take it for the whole document: a cut-off booklet accepted. The search (document.continued_outline)
finds the ring of the other half beside it, running off the frame, whose sides carry the page's on
in straight lines; this module asks the picture whether the two are one thing: the other half has
the page's own ground (its median grey and colour), where a second card or a strip of desk beside
a page would not.
"""

from __future__ import annotations

import cv2
import numpy as np

from server.quality import thresholds as t
from server.quality.colour import Chroma
from server.quality.metrics import cumulative_histogram, level_at, tone_distance


def continues_on(gray: np.ndarray, colour: Chroma | None, page: np.ndarray, region: np.ndarray) -> bool:
    """Whether the part of region (a polygon holding the complete page, analysis pixels) outside
    page (its four corners) has page's ground: the median grey within PANEL_MAX_GREY_STEP and,
    with colour, the median chroma within PANEL_MAX_CHROMA_STEP (U/V distance). Each side is
    measured away from the fold between them (the page shrunk, the rest eroded)."""
    shape = gray.shape[:2]
    inside = np.zeros(shape, np.uint8)
    centre = np.add.reduce(page, axis=0) * np.float32(0.25)
    cv2.fillConvexPoly(inside, np.round(centre + (page - centre) * _PAGE_SHARE).astype(np.int32), 255)
    _, rest = _region_and_beyond(shape, page, region)
    if cv2.countNonZero(inside) < _MIN_PIXELS or cv2.countNonZero(rest) < _MIN_PIXELS:
        return False
    if abs(_median(gray, inside) - _median(gray, rest)) >= t.PANEL_MAX_GREY_STEP:
        return False
    if colour is None:
        return True
    # Point samples: a median needs no area resize of a whole still.
    u, v = colour.sampled(shape)
    step = np.hypot(_median(u, inside) - _median(u, rest), _median(v, inside) - _median(v, rest))
    return float(step) < t.PANEL_MAX_CHROMA_STEP


def beyond_is_other(gray: np.ndarray, page: np.ndarray, region: np.ndarray) -> bool:
    """Whether the part of region (a polygon holding the complete page and running off the
    frame, analysis pixels) outside page (its four corners) is clearly not the desk around the
    region: their grey histograms at least PANEL_BEYOND_MIN_TONE_DISTANCE apart (the earth
    mover's distance, metrics.tone_distance). A card's coloured band running off the frame above
    its white panel is neither the panel's ground (continues_on) nor the desk, and the panel's
    sides run on along it: the card is cut off. A strip of checked cloth between a page and the
    frame's edge, whose lines carry the page's sides on, has the cloth's tones in a slightly
    different proportion (a distance of ~8 on held-out dev), well under the bound."""
    whole, beyond = _region_and_beyond(gray.shape[:2], page, region)
    reach = max(3, round(t.DESK_BAND * float(cv2.contourArea(page.astype(np.float32))) ** 0.5))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * reach + 1, 2 * reach + 1))
    around = cv2.subtract(cv2.dilate(whole, kernel), cv2.dilate(whole, _ERODE_5))
    if cv2.countNonZero(beyond) < _MIN_PIXELS or cv2.countNonZero(around) < _MIN_PIXELS:
        return False
    return tone_distance(gray, beyond, around) >= t.PANEL_BEYOND_MIN_TONE_DISTANCE


def _region_and_beyond(shape: tuple[int, ...], page: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks (shape) of region filled and of its part beyond page, eroded by 5x5 (the page's edge
    and the fold between them belong to neither side)."""
    whole = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(whole, [np.round(region).astype(np.int32)], 255)
    outside = whole.copy()
    cv2.fillConvexPoly(outside, np.round(page).astype(np.int32), 0)
    return whole, cv2.erode(outside, _ERODE_5)


def _median(plane: np.ndarray, mask: np.ndarray) -> float:
    """The level below which half of mask's pixels of plane (8-bit) lie."""
    return level_at(cumulative_histogram(plane, mask), 0.5)


# The page's inside for its ground: away from its frame line and the fold.
_PAGE_SHARE = 0.84
_ERODE_5 = np.ones((5, 5), np.uint8)
_MIN_PIXELS = 20
