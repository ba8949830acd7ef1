"""Camera mode (device check) and the live Y-plane path."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from server.quality import analyse_camera, analyse_document, analyse_luma
from server.quality.metrics import to_gray
from tests.quality_fixtures import CAMERA_CONDITIONS, generate_camera_samples, generate_samples


@pytest.fixture(scope="module")
def camera_verdicts() -> list:
    return [(s, analyse_camera(s.image)) for s in generate_camera_samples(36)]


def test_camera_conditions(camera_verdicts: list) -> None:
    assert Counter(s.condition for s, _ in camera_verdicts) == dict.fromkeys(CAMERA_CONDITIONS, 6)
    for sample, result in camera_verdicts:
        if sample.expected == "ok":
            assert result.ok, (sample.name, result.reasons)
        else:
            assert sample.expected in result.reasons, (sample.name, result.reasons)


def test_black_and_uniform_frames_are_blocked() -> None:
    black = np.zeros((720, 1280, 3), np.uint8)
    assert analyse_camera(black).reasons == ["camera_blocked"]
    flat = np.full((720, 1280), 140, np.uint8)
    assert analyse_camera(flat).reasons == ["camera_blocked"]


def test_dim_frame_is_too_dark_not_blocked(camera_verdicts: list) -> None:
    dim = [r for s, r in camera_verdicts if s.condition == "dim"]
    assert all(r.reasons[0] == "too_dark" for r in dim)


def test_luma_path_matches_document_mode() -> None:
    """A decoder's Y plane (video range, 16-235) of a still gives the still's verdict."""
    for sample in generate_samples(4, seed=5):
        y = (16 + to_gray(sample.image).astype(np.float32) * 219 / 255).round().astype(np.uint8)
        live, still = analyse_luma(y, "document"), analyse_document(sample.image)
        assert live.ok == still.ok
        assert live.metrics.sharpness == pytest.approx(still.metrics.sharpness, rel=0.1)
    assert analyse_luma(np.zeros((360, 640), np.uint8), "camera").reasons == ["camera_blocked"]


def test_live_frames_skip_the_still_resolution_check() -> None:
    sample = next(generate_samples(1, seed=3))  # a good capture
    import cv2

    small = cv2.resize(to_gray(sample.image), (480, 270), interpolation=cv2.INTER_AREA)
    assert "low_resolution" not in analyse_luma(small).reasons
    assert "low_resolution" in analyse_document(small).reasons
