"""Read image files defensively: anything that is not a whole image becomes None, never an error."""

from __future__ import annotations

import io
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import simplejpeg
from PIL import Image

JPEG_START = b"\xff\xd8"
# Larger pictures are not decoded at all: a 600 KB PNG of 25,000 x 25,000 pixels took 18 s and
# 3.9 GB to decode. A camera's largest stills (48-108 megapixels) stay under it; the server's
# upload limit is stricter (24 megapixels, docs/capture.md).
MAX_DECODED_PIXELS = 120_000_000


def decode_image(data: bytes) -> np.ndarray | None:
    """Decode image bytes to 8-bit BGR, or None when they are not a complete image.

    libjpeg decodes a cut JPEG without complaint (grey fills the missing rows, also where the
    cut was closed with an end-of-image marker), so a JPEG is first decoded in full by
    libjpeg-turbo in strict mode (simplejpeg), which refuses what libjpeg only warns about
    ("premature end of data segment", "premature end of JPEG file"); bytes after the end marker
    (a camera's padding, a phone's second picture) are no defect. The pixels are OpenCV's, as
    for every other format; a picture with transparency is composited over white.
    """
    if not data:
        return None
    try:
        header = read_header(data)
    except DeclaredTooLarge:
        return None
    # A header Pillow cannot read leaves the decision to the decoder.
    if header is not None and header.width * header.height > MAX_DECODED_PIXELS:
        return None
    if data.startswith(JPEG_START) and not _whole_jpeg(data):
        return None
    buffer = np.frombuffer(data, np.uint8)
    try:
        image = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
        if image is not None and image.size and header is not None and header.transparent:
            # IMREAD_COLOR drops the alpha channel and keeps the colour under it, which a
            # transparent picture leaves undefined (often black): judge what a viewer shows.
            unchanged = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
            if unchanged is not None and unchanged.ndim == 3 and unchanged.shape[2] == 4:
                image = _over_white(unchanged)
    except cv2.error:
        return None
    if image is None or image.size == 0:
        return None
    return image


def _over_white(bgra: np.ndarray) -> np.ndarray:
    """An 8- or 16-bit BGRA picture composited over white, as 8-bit BGR."""
    if bgra.dtype == np.uint16:
        # As IMREAD_COLOR reduces 16 bits: the high byte.
        bgra = (bgra >> 8).astype(np.uint8)
    elif bgra.dtype != np.uint8:
        bgra = cv2.convertScaleAbs(bgra)
    alpha = bgra[:, :, 3:].astype(np.float32) / 255.0
    over = bgra[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
    return np.round(over).astype(np.uint8)


class DeclaredTooLarge(ValueError):
    """A header declaring a picture so large that Pillow itself refuses to open it (a
    decompression bomb, over twice its MAX_IMAGE_PIXELS)."""


@dataclass(frozen=True)
class Header:
    """What a picture's header declares."""

    width: int
    height: int
    transparent: bool  # an alpha channel, or a palette or grey entry named transparent


# Pillow's modes that carry an alpha channel (a palette or grey picture may also name one
# transparent entry, its "transparency" info).
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})


def read_header(data: bytes) -> Header | None:
    """The picture's header, without decoding pixels; None when Pillow cannot read it. Raises
    DeclaredTooLarge for a size Pillow refuses outright."""
    try:
        with warnings.catch_warnings():
            # Pillow warns from ~90 megapixels on; the callers' own limits decide instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as header:
                width, height = header.size
                return Header(width, height, header.mode in _ALPHA_MODES or "transparency" in header.info)
    except Image.DecompressionBombError:
        raise DeclaredTooLarge("decompression bomb") from None
    except (OSError, ValueError, SyntaxError):
        return None


def declared_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the picture's header, without decoding pixels; None when Pillow
    cannot read the header. Raises DeclaredTooLarge for a size Pillow refuses outright."""
    header = read_header(data)
    return None if header is None else (header.width, header.height)


def _whole_jpeg(data: bytes) -> bool:
    """Whether libjpeg-turbo decodes every scan of the JPEG data without a warning."""
    try:
        # Grey output: the check needs the scans decoded, not the colour conversion.
        simplejpeg.decode_jpeg(data, colorspace="GRAY", strict=True)
    except ValueError:
        return False
    return True


# A file larger than this is not read at all: the largest camera stills (a 108-megapixel PNG) are
# a few hundred megabytes, and reading /dev/zero or a multi-gigabyte file whole took all memory.
MAX_FILE_BYTES = 512 * 1024 * 1024


def read_image(path: str | Path) -> np.ndarray | None:
    """Read and decode path; None when missing, not a regular file (a FIFO would block, a device
    never end), larger than MAX_FILE_BYTES, unreadable or not a complete image."""
    try:
        with open(path, "rb", opener=_open_no_block) as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
                return None
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_FILE_BYTES:  # grew while being read
        return None
    return decode_image(data)


def _open_no_block(path: str, flags: int) -> int:
    """os.open without blocking on a FIFO that has no writer (the caller then sees no regular file)."""
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))
