"""The input checks of an uploaded still: size, type and pixel count, then a full decode.

The type comes from the content (magic bytes, then the header's dimensions, then a full decode),
never from the file name or the part's Content-Type. Dimensions are read from the header before
decoding, so a small file claiming a huge picture is refused without allocating it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from server.capture.texts import UPLOAD_ERRORS
from server.quality.loading import DeclaredTooLarge, declared_size, decode_image

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 24_000_000
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


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

    Raises UploadError too_many_pixels for sizes Pillow itself calls a decompression bomb (any
    size it only warns about is far above MAX_PIXELS, which the caller checks).
    """
    try:
        return declared_size(data)
    except DeclaredTooLarge:
        raise UploadError(422, "too_many_pixels") from None


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
