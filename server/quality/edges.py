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


def canny(blurred: np.ndarray, low: float, high: float) -> np.ndarray:
    """cv2.Canny(blurred, low, high) (aperture 3, L1 gradient), the same pixels in ~80% of the time.

    The gradients are computed first with cv2.Sobel into int16, with the border Canny itself
    uses (replicated), and handed to Canny's gradient form: OpenCV's image form recomputes them
    strip by strip inside its edge loop, which cost ~0.1 ms more at 640x360 on one core (about a
    tenth of the bare Laplacian baseline at 720p). Checked bit for bit in
    tests/test_quality_edges.py.
    """
    dx = cv2.Sobel(blurred, cv2.CV_16S, 1, 0, borderType=cv2.BORDER_REPLICATE)
    dy = cv2.Sobel(blurred, cv2.CV_16S, 0, 1, borderType=cv2.BORDER_REPLICATE)
    return cv2.Canny(dx, dy, low, high)
