"""Whether a small or cut-off outline is a patch of desk rather than a document.

On a desk without a document the outline search still finds rings: a knot of wood grain, a fold
of fabric, a shadow closing against the frame border. Read as a page they would say "come closer"
(document_too_small) or "the document is cut off" to a resident who has put nothing down yet. A
document differs from the desk around it in grey level or in colour (paper on wood, a card on
cloth); a patch of desk looks like its surroundings in both.
"""

from __future__ import annotations

import cv2
import numpy as np

from server.quality import thresholds as t
from server.quality.colour import Chroma
from server.quality.document import Outline
from server.quality.metrics import tone_distance


def looks_like_desk(small: np.ndarray, outline: Outline, colour: Chroma | None) -> bool:
    """True when the region inside outline has the grey level (within DESK_MAX_GREY_STEP) and
    the colour (within DESK_MAX_CHROMA_STEP, when colour is given) of a band of the picture just
    outside it. small is the analysis image the outline was found in."""
    sides = _inside_and_around(small, outline)
    if sides is None:
        return False
    inner, around = sides
    if abs(cv2.mean(small, inner)[0] - cv2.mean(small, around)[0]) >= t.DESK_MAX_GREY_STEP:
        return False
    if colour is None:
        return True
    u, v = colour.planes(small.shape[:2])
    du = cv2.mean(u, inner)[0] - cv2.mean(u, around)[0]
    dv = cv2.mean(v, inner)[0] - cv2.mean(v, around)[0]
    return float(np.hypot(du, dv)) < t.DESK_MAX_CHROMA_STEP


def has_desk_tones(small: np.ndarray, outline: Outline, colour: Chroma | None) -> bool:
    """True when the region inside outline has the tones of the band just outside it, level by
    level: the distance between their grey histograms (the earth mover's distance, in grey levels:
    how far the region's pixels would have to move in level to have the band's histogram) under
    DESK_MAX_TONE_DISTANCE, and that of each chroma plane under DESK_MAX_CHROMA_DISTANCE. Only
    with colour: in grey alone a coloured cover on a cloth of its own grey has the cloth's tones.

    Stricter than looks_like_desk's means: a stretch of wood grain, fabric or a checked cloth
    closing against the frame border holds the desk's light and dark parts in the desk's
    proportions, while a page or card running off the frame, even one whose mean grey is the
    desk's, has its own ground and print. (The distance, not the levels at given shares of the
    pixels: on a two-tone check the median jumps between the tones with a slight change in their
    proportions.)"""
    if colour is None:
        return False
    sides = _inside_and_around(small, outline)
    if sides is None:
        return False
    inner, around = sides
    if tone_distance(small, inner, around) >= t.DESK_MAX_TONE_DISTANCE:
        return False
    return all(tone_distance(plane, inner, around) < t.DESK_MAX_CHROMA_DISTANCE
               for plane in colour.planes(small.shape[:2]))


def grey_around(small: np.ndarray, outline: Outline) -> float | None:
    """The mean grey of the band of the picture just outside outline (DESK_BAND of its size
    wide, as looks_like_desk measures it), or None when too small to measure."""
    sides = _inside_and_around(small, outline)
    return None if sides is None else float(cv2.mean(small, sides[1])[0])


def _inside_and_around(small: np.ndarray, outline: Outline) -> tuple[np.ndarray, np.ndarray] | None:
    """Masks of the region's inside (its own edge left out) and of a band of the picture around
    it (DESK_BAND of its size wide), or None when either is too small to measure."""
    h, w = small.shape[:2]
    inside = np.zeros((h, w), np.uint8)
    cv2.fillPoly(inside, [np.round(outline.corners).astype(np.int32)], 255)
    reach = max(3, int(t.DESK_BAND * np.sqrt(outline.coverage * h * w)))
    around = cv2.dilate(inside, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * reach + 1, 2 * reach + 1)))
    cv2.subtract(around, inside, dst=around)
    # The region's own edge (and a page's shadow) belong to neither side.
    inner = cv2.erode(inside, _ERODE_5)
    if cv2.countNonZero(inner) < _MIN_PIXELS or cv2.countNonZero(around) < _MIN_PIXELS:
        return None
    return inner, around


_ERODE_5 = np.ones((5, 5), np.uint8)
_MIN_PIXELS = 20
