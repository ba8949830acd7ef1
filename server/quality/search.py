"""Coarse-to-fine outline search: where most frames' time went on busy desks.

The full search (document.find_outline) runs Canny and traces every ring of the 640-wide analysis
image; on a patterned tablecloth or fabric that is hundreds of texture contours (p90 ~9x a bare
Laplacian pass at 1280x720). Here the page is looked for first on the analysis image halved
(a quarter of the pixels; texture finer than two pixels blurs away), and the outline found there
is then confirmed on the analysis image itself by the strip search of server/quality/band.py
(Canny only within TRACK_BAND of the coarse sides, the same rules as the full search). When the
coarse pass finds no complete page of a readable size it tries once more with a lower edge
threshold (cheap at this size). Only when neither finds one, or the strips do not confirm it,
does the full search run, so a frame costs at most the coarse passes more than before and
usually much less.
"""

from __future__ import annotations

import cv2
import numpy as np

from server.quality import thresholds as t
from server.quality.band import outline_near
from server.quality.document import Outline, blur_for_edges, edge_threshold, find_outline, outline_at


def search_outline(gray: np.ndarray, blurred: np.ndarray | None = None, high: float | None = None) -> Outline | None:
    """The document outline in gray (the analysis image), or None; the same contract as
    document.find_outline (blurred and high as there, when the caller has them)."""
    if blurred is None:
        blurred = blur_for_edges(gray)
    if high is None:
        high = edge_threshold(blurred)
    h, w = gray.shape[:2]
    coarse_w, coarse_h = w // 2, h // 2
    sensitive_done = False
    if coarse_w >= _MIN_COARSE_WIDTH:
        coarse = cv2.resize(gray, (coarse_w, coarse_h), interpolation=cv2.INTER_AREA)
        coarse_blurred = blur_for_edges(coarse)
        scale = np.array([w / coarse_w, h / coarse_h], np.float32)
        # The same threshold first: a page's edge is a step whose gradient survives halving, while
        # texture finer than two pixels is averaged away, which is the point. Then, when that
        # finds no complete page of a readable size, a sensitive pass: a dark card on a dark or
        # busy desk (whose texture set a high threshold) has faint edges.
        for level, allow_cut in ((high, True), (max(high * t.EDGE_SENSITIVE_SHARE, t.EDGE_HIGH_FAINT), False)):
            found = outline_at(coarse_blurred, level, allow_cut=allow_cut)
            sensitive_done = not allow_cut
            if found is not None and found.cut_off:
                break  # a page running out of the frame: the full search decides
            if found is None or found.coverage < t.MIN_DOCUMENT_COVERAGE:
                continue
            outline = outline_near(blurred, found.corners * scale, found.coverage, level)
            if outline is not None:
                return outline
    # The full search's own sensitive pass (at 14, over the whole 640-wide image: on a textured
    # desk the dearest step of all) is skipped when the coarse one has looked at that level.
    return find_outline(gray, blurred, high, faint=not sensitive_done)


# Below this the halved image is too small to hold a page's outline reliably: search directly.
_MIN_COARSE_WIDTH = 200
