"""Read image files defensively: anything that is not a whole image becomes None, never an error."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

JPEG_START = b"\xff\xd8"
JPEG_END = b"\xff\xd9"


def decode_image(data: bytes) -> np.ndarray | None:
    """Decode image bytes to 8-bit BGR, or None when they are not a complete image.

    libjpeg decodes a truncated JPEG without complaint (grey fills the missing rows), so a JPEG
    must carry its end-of-image marker; a camera that adds trailing bytes keeps it near the end.
    """
    if not data:
        return None
    if data.startswith(JPEG_START) and JPEG_END not in data[-4096:]:
        return None
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:
        return None
    if image is None or image.size == 0:
        return None
    return image


def read_image(path: str | Path) -> np.ndarray | None:
    """Read and decode path; None when missing, unreadable or not a complete image."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    return decode_image(data)
