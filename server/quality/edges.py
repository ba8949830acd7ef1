"""The smoothing that edges are found on, shared by the grey and the colour outline search."""

from __future__ import annotations

import cv2
import numpy as np


def blur_for_edges(gray: np.ndarray) -> np.ndarray:
    """The smoothed analysis image that edges are found on (shared by search and tracking).

    The same pixels as cv2.GaussianBlur(gray, (5, 5), 0) (whose kernel is the binomial
    [1 4 6 4 1]/16) in half its time: sepFilter2D sums in float, which is exact for these weights,
    and the delta of 1/512 makes its rounding of exact halves go up, as GaussianBlur's fixed-point
    rounding does (checked bit for bit on the test set).
    """
    return cv2.sepFilter2D(gray, -1, _BINOMIAL_5, _BINOMIAL_5, delta=1 / 512)


_BINOMIAL_5 = np.array([1, 4, 6, 4, 1], np.float32) / 16
