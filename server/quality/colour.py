"""The page's outline where its edge against the desk is one of colour, not of grey.

A navy or plum card on olive or orange wood, a teal stripe running off a card onto a brown desk:
in the grey (Y) plane the two sides of the edge can have the same level, so the grey search sees
no edge there. Their chroma (the U and V planes of a video frame, Cb and Cr of a still) differs.
The colour search adds the chroma planes' edges to the grey edge map and picks the outline with
the grey search's own rules; it runs only when the grey search found no complete page of readable
size, so a frame with a plain page pays nothing for it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from server.quality import thresholds as t
from server.quality.edges import blur_for_edges, canny

# Chroma planes at the analysis image's (height, width).
ChromaPlanes = tuple[np.ndarray, np.ndarray]


class Chroma:
    """The chroma of the frame being analysed, made at the analysis size only when asked for."""

    def __init__(self, make: Callable[[tuple[int, int]], ChromaPlanes],
                 sample: Callable[[tuple[int, int]], ChromaPlanes] | None = None) -> None:
        self._make = make
        self._sample = sample
        # Every product, made once per (kind, shape): the coarse search asks for the planes at
        # half the analysis size, the full search and the desk test at the analysis size, a
        # still's rim and cloth tests for point samples at half size.
        self._made: dict[tuple[str, tuple[int, int]], Any] = {}

    def _once(self, kind: str, shape: tuple[int, int], make: Callable[[tuple[int, int]], Any]) -> Any:
        key = (kind, shape)
        if key not in self._made:
            self._made[key] = make(shape)
        return self._made[key]

    def planes(self, shape: tuple[int, int]) -> ChromaPlanes:
        """The two chroma planes resized to shape (height, width), computed once per shape."""
        planes: ChromaPlanes = self._once("planes", shape, self._make)
        return planes

    def edges(self, shape: tuple[int, int]) -> np.ndarray:
        """chroma_edges of the planes at shape, computed once per shape (the half-size search on
        grey and colour together and the patterned-cloth search both read them). Callers must
        not write to it."""
        edges: np.ndarray = self._once("edges", shape, lambda size: chroma_edges(self.planes(size)))
        return edges

    def sampled(self, shape: tuple[int, int]) -> ChromaPlanes:
        """The two chroma planes at shape from point samples of the frame, for measures over
        many pixels (a band's mean chroma, the share of a region with chroma edges) where
        planes(shape) would cost an area resize of a whole still (a 4x one of a 1280x720 still:
        ~0.9 ms on one core, against ~0.05 ms for nearest-pixel sampling). The planes
        themselves where no cheaper sampling is given (a video frame's U and V planes are
        resized cheaply); the searches, whose edges follow the planes pixel by pixel, use planes()."""
        if self._sample is None:
            return self.planes(shape)
        planes: ChromaPlanes = self._once("sampled", shape, self._sample)
        return planes

    def sampled_edges(self, shape: tuple[int, int]) -> np.ndarray:
        """chroma_edges of sampled(shape), computed once per shape (read-only, as edges())."""
        if self._sample is None:
            return self.edges(shape)
        edges: np.ndarray = self._once("sampled_edges", shape, lambda size: chroma_edges(self.sampled(size)))
        return edges

    @classmethod
    def from_bgr(cls, image: np.ndarray) -> Chroma | None:
        """Chroma of a BGR or BGRA still (None for grey images: no colour to search)."""
        if image.ndim != 3 or image.shape[2] not in (3, 4):
            return None

        halves = [image[:, :, :3]]  # the still, then its successive halvings (made when asked for)

        def area(shape: tuple[int, int]) -> ChromaPlanes:
            # Halve while the result still covers shape twice over: OpenCV's 2x area resize of
            # three channels has a vectorised path (~0.24 ms from 1280x720 on one core) that a
            # 4x one lacks (~0.9 ms), and a mean of 2x2 means is the 4x4 mean within rounding.
            source = halves[0]
            for level in itertools.count(1):
                if source.shape[0] < 4 * shape[0] or source.shape[1] < 4 * shape[1] \
                        or source.shape[0] % 2 or source.shape[1] % 2:
                    break  # (an odd side's halving would shift the pixel grid)
                if len(halves) == level:
                    halves.append(cv2.resize(source, (source.shape[1] // 2, source.shape[0] // 2),
                                             interpolation=cv2.INTER_AREA))
                source = halves[level]
            return split(cv2.resize(source, (shape[1], shape[0]), interpolation=cv2.INTER_AREA))

        def sample(shape: tuple[int, int]) -> ChromaPlanes:
            return split(cv2.resize(halves[0], (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST_EXACT))

        return cls(area, sample)

    @classmethod
    def from_planes(cls, uv_planes: tuple[np.ndarray, np.ndarray] | None) -> Chroma | None:
        """Chroma of a decoded video frame from its U and V planes (any size: yuv420p's are half
        the frame each way), or None when there are none."""
        if uv_planes is None:
            return None
        u, v = (np.asarray(p) for p in uv_planes)

        def make(shape: tuple[int, int]) -> ChromaPlanes:
            return _fit(u, shape), _fit(v, shape)

        return cls(make)


def split(small_bgr: np.ndarray) -> ChromaPlanes:
    """The Cb and Cr planes (Cb ~ U, Cr ~ V) of a BGR image."""
    _, cr, cb = cv2.split(cv2.cvtColor(small_bgr, cv2.COLOR_BGR2YCrCb))
    return cb, cr


def _fit(plane: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if plane.shape[:2] == shape:
        return plane
    shrink = plane.shape[1] > shape[1]
    return cv2.resize(plane, (shape[1], shape[0]), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def chroma_edges(planes: ChromaPlanes) -> np.ndarray:
    """Canny edges of the two chroma planes, OR-ed (8-bit 0/255 at the planes' size).

    Two single-plane passes: OpenCV's Canny on a two-channel image (which follows the stronger
    plane at each pixel) has no vectorised path and cost 2-6x as much. The thresholds are fixed
    rather than relative to the picture: chroma has little noise (a camera's sensor noise is
    mostly in luminance) and a plain desk has almost no chroma texture, so a relative threshold
    would turn the faintest tint into edges.
    """
    low, high = t.CHROMA_EDGE_HIGH * 0.5, t.CHROMA_EDGE_HIGH
    # Each plane blurred on its own: one call on the merged two-plane image looked cheaper, but
    # cv2.merge and cv2.split around it cost 3x the two single-plane blurs.
    u, v = planes
    edges = canny(blur_for_edges(u), low, high)
    cv2.bitwise_or(edges, canny(blur_for_edges(v), low, high), dst=edges)
    return edges
