"""Validation of an uploaded still, and the server's check and rectification of it.

The type comes from the content (magic bytes, then the header's dimensions, then a full decode),
never from the file name or the part's Content-Type. Dimensions are read from the header before
decoding, so a small file claiming a huge picture is refused without allocating it.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from server.capture.texts import UPLOAD_ERRORS
from server.quality import analyse_document, decode_image, rectify_document
from server.quality.result import Reason

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 24_000_000
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
STORED_JPEG_QUALITY = 90


class UploadError(Exception):
    """A refused upload: HTTP status, error code and a Chinese message."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = UPLOAD_ERRORS[code]


@dataclass
class ValidImage:
    """A decoded still that passed validation."""

    kind: str  # jpeg | png
    width: int
    height: int
    image: np.ndarray  # BGR


def sniff_type(data: bytes) -> str | None:
    """'jpeg' or 'png' from the first bytes, else None."""
    if data.startswith(JPEG_MAGIC):
        return "jpeg"
    if data.startswith(PNG_MAGIC):
        return "png"
    return None


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the image header without decoding pixels; None when unreadable.

    Raises UploadError too_many_pixels for sizes Pillow itself calls a decompression bomb.
    """
    try:
        with warnings.catch_warnings():
            # Pillow warns about "decompression bombs" far above our own limit; a warning is not
            # a decision, so treat it as the error it stands for.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as header:
                return header.size
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise UploadError(422, "too_many_pixels") from None
    except (OSError, ValueError, SyntaxError):
        return None


def validate_upload(data: bytes) -> ValidImage:
    """Check size, type and pixel count, then decode; raises UploadError."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(413, "too_large")
    if not data:
        raise UploadError(400, "missing_image")
    kind = sniff_type(data)
    if kind is None:
        raise UploadError(415, "unsupported_type")
    size = header_size(data)
    if size is None:
        raise UploadError(422, "not_an_image")
    if size[0] * size[1] > MAX_PIXELS:
        raise UploadError(422, "too_many_pixels")
    image = decode_image(data)
    if image is None:
        raise UploadError(422, "not_an_image")
    return ValidImage(kind=kind, width=image.shape[1], height=image.shape[0], image=image)


@dataclass
class StillCheck:
    """The server's verdict on a still: accepted or not, and the two images to store."""

    ok: bool
    reasons: list[Reason]
    rectified: np.ndarray | None = None
    # Analysis facts worth keeping with the record (no image content, no personal data).
    facts: dict[str, float] = field(default_factory=dict)


def check_still(image: np.ndarray, *, manual: bool) -> StillCheck:
    """Analyse a still and rectify the document when its four corners were found.

    An automatic capture must pass every check. A manual one (the caseworker pressed 拍照) is
    kept whatever the analyser says, since the caseworker looked at the picture and chose it;
    its reasons travel along as warnings, and without four corners the original stands in for
    the rectified image.
    """
    result = analyse_document(image)
    corners = result.metrics.document.corners
    complete = result.metrics.document.found and len(corners) == 4 and "document_cut_off" not in result.reasons
    facts = {"sharpness": round(result.metrics.sharpness, 1), "brightness": round(result.metrics.brightness, 1),
             "glare_ratio": round(result.metrics.glare_ratio, 4), "analysis_ms": round(result.ms, 1)}
    if not result.ok and not manual:
        return StillCheck(ok=False, reasons=list(result.reasons), facts=facts)
    rectified = rectify_document(image, corners) if complete else None
    return StillCheck(ok=True, reasons=list(result.reasons), rectified=rectified, facts=facts)


def encode_jpeg(image: np.ndarray) -> bytes:
    """The stored form of an image: baseline JPEG (every browser and viewer shows it)."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, STORED_JPEG_QUALITY])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return encoded.tobytes()
