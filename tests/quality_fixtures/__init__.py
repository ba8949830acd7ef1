"""Deterministic, labelled synthetic document photos for the quality analyser's tests and tools.

Nothing here is shipped: the generator draws demo documents (ID card, household register page,
certificate) with Chinese text, places them on desk-like backgrounds with perspective, and applies
ImageNet-C-style corruptions, each labelled with the reason the analyser is expected to give.
"""

from tests.quality_fixtures.dataset import (
    CAMERA_CONDITIONS,
    CONDITIONS,
    Sample,
    cached_samples,
    generate_camera_samples,
    generate_samples,
)

__all__ = [
    "CAMERA_CONDITIONS", "CONDITIONS", "Sample", "cached_samples", "generate_camera_samples",
    "generate_samples",
]
