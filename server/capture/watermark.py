"""The visible overlay on every stored image: what the image may be used for, when, which capture.

"仅供静安区社区事务受理【事项名】使用 YYYY-MM-DD 编号XXXXXXXX" is written in a solid band along the
bottom (readable on any print or screenshot) and repeated faintly across the whole picture, so
cropping the band off does not remove it. Chinese needs a CJK font (Debian fonts-wqy-microhei);
without one an ASCII rendering of the same facts is drawn instead and a warning is logged once.
"""

from __future__ import annotations

import logging
from datetime import date
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)
# Band height as a share of the image's shorter side; the text fills ~60% of it.
BAND_SHARE = 0.075
MIN_BAND_PX = 18
BAND_OPACITY = 0.62
# The faint repeat: light enough to read the document through, dense enough to survive a crop.
TILE_OPACITY = 0.16

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def short_id(capture_id: str) -> str:
    """The 编号 shown on the image: enough to find the record, too short to guess others."""
    return capture_id[:8].upper()


def watermark_text(matter_name: str, day: date, capture_id: str) -> str:
    """The overlay sentence for one capture."""
    return f"仅供静安区社区事务受理【{matter_name}】使用 {day:%Y-%m-%d} 编号{short_id(capture_id)}"


def ascii_text(day: date, capture_id: str) -> str:
    """The same facts without CJK glyphs, for a server that has no CJK font."""
    return f"FOR JING'AN COMMUNITY AFFAIRS USE ONLY {day:%Y-%m-%d} No.{short_id(capture_id)}"


@cache
def cjk_font_path() -> str | None:
    """The first installed CJK font, or None."""
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    log.warning("no CJK font found; capture watermarks fall back to ASCII text (install fonts-wqy-microhei)")
    return None


def _font(size: int) -> tuple[Font, bool]:
    path = cjk_font_path()
    if path is not None:
        return ImageFont.truetype(path, size), True
    return ImageFont.load_default(size=size), False


def apply_watermark(image: np.ndarray, text: str, fallback_text: str) -> np.ndarray:
    """A copy of a BGR image with the overlay drawn on it (band at the bottom, faint repeats)."""
    h, w = image.shape[:2]
    band = max(MIN_BAND_PX, round(min(h, w) * BAND_SHARE))
    font, has_cjk = _font(max(10, round(band * 0.6)))
    label = text if has_cjk else fallback_text
    # Shrink the font until the sentence fits the width (long matter names).
    size = max(10, round(band * 0.6))
    while size > 8 and font.getlength(label) > w * 0.96:
        size -= 1
        font, _ = _font(size)
    base = Image.fromarray(image[:, :, ::-1]).convert("RGBA")
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    _tile(draw, label, font, w, h, band)
    draw.rectangle((0, h - band, w, h), fill=(20, 20, 20, round(255 * BAND_OPACITY)))
    text_w = font.getlength(label)
    draw.text(((w - text_w) / 2, h - band / 2), label, font=font, fill=(255, 255, 255, 255), anchor="lm")
    merged = Image.alpha_composite(base, overlay).convert("RGB")
    return np.asarray(merged)[:, :, ::-1].copy()


def _tile(draw: ImageDraw.ImageDraw, label: str, font: Font, w: int, h: int, band: int) -> None:
    """The faint repeats: staggered rows over the area above the band."""
    step_x = int(font.getlength(label)) + band * 2
    step_y = band * 4
    fill = (128, 128, 128, round(255 * TILE_OPACITY))
    for row, y in enumerate(range(band, max(band + 1, h - 2 * band), step_y)):
        offset = -(step_x // 2) * (row % 2)
        for x in range(offset, w, max(step_x, 1)):
            draw.text((x, y), label, font=font, fill=fill)
