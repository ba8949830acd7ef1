"""From a judged still to stored files: watermark both variants, encode, encrypt, write.

Runs in a worker thread (a 24-megapixel still takes a few hundred milliseconds to watermark and
encode); everything here is synchronous and touches no shared state but the files it writes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import cv2
import numpy as np

from server.capture.storage import CaptureStore
from server.capture.watermark import apply_watermark, ascii_text, watermark_text
from server.runtime.district_time import local_date

# The date on the overlay is the resident's: Shanghai time (China keeps no daylight saving).
STORED_JPEG_QUALITY = 90


@dataclass(frozen=True)
class StoredImages:
    """What the record of a stored capture needs."""

    storage_name: str
    width: int
    height: int
    sha256: str
    rectified: bool


def encode_jpeg(image: np.ndarray) -> bytes:
    """The stored form of an image: baseline JPEG (every browser and viewer shows it)."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, STORED_JPEG_QUALITY])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return encoded.tobytes()


def store_still(store: CaptureStore, capture_id: str, matter_name: str, upload: bytes, image: np.ndarray,
                rectified: np.ndarray | None, now: datetime | None = None) -> StoredImages:
    """Watermark, encode and encrypt the original and the rectified image under a new name.

    Without a rectified image (a manual capture whose corners were not found) the watermarked
    original serves as both variants, so the review screen always has something to show.
    """
    day = local_date(now or datetime.now(UTC))
    text, fallback = watermark_text(matter_name, day, capture_id), ascii_text(day, capture_id)
    name = store.new_name()
    original = apply_watermark(image, text, fallback)
    shown = apply_watermark(rectified, text, fallback) if rectified is not None else original
    try:
        store.write(name, "original", encode_jpeg(original))
        store.write(name, "rectified", encode_jpeg(shown))
    except BaseException:
        store.delete(name)
        raise
    return StoredImages(storage_name=name, width=int(shown.shape[1]), height=int(shown.shape[0]),
                        sha256=hashlib.sha256(upload).hexdigest(), rectified=rectified is not None)
