"""The edge helpers are OpenCV's own operations, faster: the same pixels, checked bit for bit."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from server.quality.edges import blur_for_edges, canny
from tests.quality_fixtures import cached_samples
from tests.test_quality_dataset import TEST_SET_SIZE


def _scenes(count: int = 12) -> list[np.ndarray]:
    """Grey analysis-size frames of the labelled set (print, desks, glare, blur alike)."""
    frames = []
    for sample in cached_samples(TEST_SET_SIZE)[:count]:
        gray = cv2.cvtColor(sample.image, cv2.COLOR_BGR2GRAY)
        frames.append(cv2.resize(gray, (640, round(640 * gray.shape[0] / gray.shape[1])), interpolation=cv2.INTER_AREA))
    return frames


def test_blur_for_edges_is_the_5x5_gaussian() -> None:
    for gray in _scenes():
        assert np.array_equal(blur_for_edges(gray), cv2.GaussianBlur(gray, (5, 5), 0))


@pytest.mark.parametrize("high", [12.0, 40.0, 120.0])
def test_canny_is_opencvs_canny(high: float) -> None:
    for gray in _scenes():
        blurred = blur_for_edges(gray)
        expected = cv2.Canny(blurred, high * 0.5, high)
        assert np.array_equal(canny(blurred, high * 0.5, high), expected)
        # A strip cut out of the frame (live tracking's bands): its own border, as Canny's.
        strip = blurred[37:81, 5:400]
        assert np.array_equal(canny(strip, high * 0.5, high), cv2.Canny(strip, high * 0.5, high))


def test_canny_on_noise_and_tiny_images() -> None:
    rng = np.random.default_rng(7)
    for shape in [(3, 3), (1, 50), (50, 1), (17, 23), (200, 311)]:
        noise = (rng.random(shape) * 255).astype(np.uint8)
        assert np.array_equal(canny(noise, 20, 40), cv2.Canny(noise, 20, 40)), shape
