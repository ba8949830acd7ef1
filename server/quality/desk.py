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


def looks_like_desk(small: np.ndarray, outline: Outline, colour: Chroma | None) -> bool:
    """True when the region inside outline has the grey level (within DESK_MAX_GREY_STEP) and
    the colour (within DESK_MAX_CHROMA_STEP, when colour is given) of a band of the picture just
    outside it. small is the analysis image the outline was found in."""
    h, w = small.shape[:2]
    inside = np.zeros((h, w), np.uint8)
    cv2.fillPoly(inside, [np.round(outline.corners).astype(np.int32)], 255)
    reach = max(3, int(t.DESK_BAND * np.sqrt(outline.coverage * h * w)))
    around = cv2.dilate(inside, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * reach + 1, 2 * reach + 1)))
    cv2.subtract(around, inside, dst=around)
    # The region's own edge (and a page's shadow) belong to neither side.
    inner = cv2.erode(inside, _ERODE_5)
    if cv2.countNonZero(inner) < _MIN_PIXELS or cv2.countNonZero(around) < _MIN_PIXELS:
        return False
    if abs(cv2.mean(small, inner)[0] - cv2.mean(small, around)[0]) >= t.DESK_MAX_GREY_STEP:
        return False
    if colour is None:
        return True
    u, v = colour.planes((h, w))
    du = cv2.mean(u, inner)[0] - cv2.mean(u, around)[0]
    dv = cv2.mean(v, inner)[0] - cv2.mean(v, around)[0]
    return float(np.hypot(du, dv)) < t.DESK_MAX_CHROMA_STEP


_ERODE_5 = np.ones((5, 5), np.uint8)
_MIN_PIXELS = 20
