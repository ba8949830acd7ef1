"""The checks a signature image passes before it is stored: a real PNG, at most 1 MiB, a sensible
canvas, and enough ink spread far enough that it is a signature rather than a tap or a dot, but not
so much that it is a filled area or a photograph.

The kiosk refuses a trivially short stroke set before sending (web/static/kiosk/signature.js); this is
the same rule on the server, for any client.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 1024 * 1024
MIN_SIDE = (200, 80)  # width, height: a signing area, not an icon
MAX_SIDE = 4096
# A kiosk's signing area is ~1-2 megapixels even on a high-density screen; a PNG compresses a
# blank canvas of any size to a few kilobytes, so the pixel count, not the byte count, bounds the
# decoding work and memory.
MAX_PIXELS = 4_000_000
MIN_INK_PIXELS = 150
MIN_INK_SHARE = 0.002  # of the canvas
MIN_SPREAD = 0.08  # the ink's bounding box, as a share of the canvas width and of its height
# Strokes of a name, even a heavy hand's on a small pad, cover a few per cent of the canvas; a
# filled area, an all-black image or a photograph covers far more and is no signature.
MAX_INK_SHARE = 0.35


class SignatureImageError(Exception):
    """The image is refused; `status` and `code` are the HTTP answer (texts.SIGNATURE_ERRORS)."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Ink:
    """What the check measured: canvas size, dark pixels, their bounding box."""

    width: int
    height: int
    pixels: int
    box_width: int
    box_height: int


def measure_ink(data: bytes) -> Ink:
    """Decode a PNG and measure its ink; SignatureImageError when it is no PNG or no usable image."""
    if not data:
        raise SignatureImageError(400, "missing_image")
    if len(data) > MAX_BYTES:
        raise SignatureImageError(413, "too_large")
    if not data.startswith(PNG_MAGIC):
        raise SignatureImageError(415, "not_png")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if image.format != "PNG" or max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
                    raise SignatureImageError(422, "bad_canvas")
                if width < MIN_SIDE[0] or height < MIN_SIDE[1]:
                    raise SignatureImageError(422, "bad_canvas")
                rgba = image.convert("RGBA")
                # Composite over white, then call dark pixels ink: a transparent or a white
                # background alike (8-bit, in PIL: a few bytes per pixel, no float copies).
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                grey = np.asarray(Image.alpha_composite(white, rgba).convert("L"))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise SignatureImageError(422, "bad_canvas") from None
    except (OSError, ValueError, SyntaxError):
        raise SignatureImageError(422, "not_an_image") from None
    ys, xs = np.nonzero(grey < 128)
    if len(xs) == 0:
        return Ink(width, height, 0, 0, 0)
    return Ink(width, height, len(xs), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))


def check_signature(data: bytes) -> Ink:
    """The measured ink of an acceptable signature; SignatureImageError `empty_signature` when too
    little, `not_a_signature` when the canvas is mostly dark."""
    ink = measure_ink(data)
    if ink.pixels > MAX_INK_SHARE * ink.width * ink.height:
        raise SignatureImageError(422, "not_a_signature")
    enough = (ink.pixels >= max(MIN_INK_PIXELS, MIN_INK_SHARE * ink.width * ink.height)
              and ink.box_width >= MIN_SPREAD * ink.width and ink.box_height >= MIN_SPREAD * ink.height)
    if not enough:
        raise SignatureImageError(422, "empty_signature")
    return ink
