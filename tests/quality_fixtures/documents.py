"""Draw demo documents: an ID-card-like card, a household-register-like page, a certificate.

Text is drawn with Pillow and a CJK font when both are present (Debian fonts-wqy-microhei or
fonts-noto-cjk); otherwise with text-like strokes via OpenCV, so the generator never depends on
either. Every document is marked as a sample (样本) and ID numbers use the invalid region code 99.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

# Debian packages that ship a CJK font; the first one found is used.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ("秀英", "桂英", "玉兰", "建国", "国强", "志明", "美华", "惠芬", "德明", "金凤", "永康", "月娥")
STREETS = ("江宁路", "石门二路", "南京西路", "静安寺", "曹家渡", "天目西路", "北站", "宝山路",
           "芷江西路", "共和新路", "大宁路", "彭浦新村", "临汾路")
CERT_TITLES = ("荣誉证书", "退休证", "老年人优待证", "独生子女父母光荣证", "结业证书")

Color = tuple[int, int, int]


@dataclass(frozen=True)
class DocumentSpec:
    """A drawn document and its physical aspect ratio (long side / short side)."""

    kind: str
    image: np.ndarray
    aspect: float


@cache
def _font_path() -> str | None:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return None


def _pil_available() -> bool:
    try:
        import PIL.ImageDraw  # noqa: F401
    except ImportError:
        return False
    return _font_path() is not None


class Canvas:
    """A BGR canvas that draws Chinese text with Pillow when it can, text-like strokes otherwise."""

    def __init__(self, width: int, height: int, paper: Color, rng: np.random.Generator) -> None:
        self.rng = rng
        self.image = np.empty((height, width, 3), np.uint8)
        self.image[:] = paper
        self._texts: list[tuple[tuple[int, int], str, int, Color]] = []

    def text(self, xy: tuple[int, int], text: str, size: int, color: Color = (30, 30, 30)) -> None:
        """Queue text at the top-left corner xy with a font height of size px."""
        self._texts.append((xy, text, size, color))

    def finish(self) -> np.ndarray:
        """Draw the queued text and return the image."""
        if _pil_available():
            self._draw_with_pillow()
        else:
            self._draw_strokes()
        return self.image

    def _draw_with_pillow(self) -> None:
        from PIL import Image, ImageDraw, ImageFont

        pil = Image.fromarray(self.image[:, :, ::-1])
        draw = ImageDraw.Draw(pil)
        fonts: dict[int, Any] = {}
        for (x, y), text, size, color in self._texts:
            font = fonts.get(size)
            if font is None:
                font = fonts[size] = ImageFont.truetype(str(_font_path()), size)
            draw.text((x, y), text, font=font, fill=color[::-1])
        self.image = np.ascontiguousarray(np.asarray(pil)[:, :, ::-1])

    def _draw_strokes(self) -> None:
        # Fallback glyphs: a few strokes per character cell look like text to edge detectors.
        for (x, y), text, size, color in self._texts:
            for i, char in enumerate(text):
                if char == " ":
                    continue
                cx = x + i * size
                for _ in range(3):
                    x0, y0 = cx + int(self.rng.integers(1, size // 2)), y + int(self.rng.integers(1, size - 2))
                    x1, y1 = cx + int(self.rng.integers(size // 2, size - 1)), y + int(self.rng.integers(1, size - 2))
                    cv2.line(self.image, (x0, y0), (x1, y1), color, max(1, size // 10))


def _name(rng: np.random.Generator) -> str:
    return str(rng.choice(list(SURNAMES))) + str(rng.choice(GIVEN))


def _address(rng: np.random.Generator) -> str:
    return f"上海市静安区{rng.choice(STREETS)}{int(rng.integers(1, 900))}弄{int(rng.integers(1, 60))}号"


def demo_id_number(rng: np.random.Generator, birth: str) -> str:
    """A clearly fake ID number: region code 99 does not exist."""
    return f"9900{int(rng.integers(10, 99))}{birth}{int(rng.integers(0, 999)):03d}X"


def _seal(image: np.ndarray, center: tuple[int, int], radius: int) -> None:
    red = (40, 40, 200)
    cv2.circle(image, center, radius, red, max(2, radius // 14), cv2.LINE_AA)
    star = [(center[0] + int(radius * 0.35 * np.cos(a)), center[1] + int(radius * 0.35 * np.sin(a)))
            for a in np.linspace(-np.pi / 2, 3.5 * np.pi, 6)[::1]]
    cv2.polylines(image, [np.array(star[::2] + star[1::2], np.int32)], True, red, 2, cv2.LINE_AA)


def render_id_card(rng: np.random.Generator) -> DocumentSpec:
    """An ID-card-like card (ISO ID-1, 85.6 x 54 mm) at 10 px/mm."""
    w, h = 856, 540
    tint = (int(rng.integers(215, 235)), int(rng.integers(225, 240)), int(rng.integers(220, 238)))
    canvas = Canvas(w, h, tint, rng)
    img = canvas.image
    # Guilloche-like background pattern: the real card is not a flat colour.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    wave = (np.sin(xx / 23.0 + 3 * np.sin(yy / 41.0)) * 6).astype(np.int16)
    img[:] = np.clip(img.astype(np.int16) + wave[:, :, None], 0, 255).astype(np.uint8)
    # Photo box with a head-and-shoulders silhouette.
    px, py, pw, ph = 600, 90, 200, 250
    cv2.rectangle(img, (px, py), (px + pw, py + ph), (205, 205, 200), -1)
    cv2.ellipse(img, (px + pw // 2, py + 95), (50, 62), 0, 0, 360, (120, 120, 125), -1)
    cv2.ellipse(img, (px + pw // 2, py + ph), (90, 70), 0, 180, 360, (90, 90, 95), -1)
    birth_year = int(rng.integers(1935, 1960))
    month, day = int(rng.integers(1, 13)), int(rng.integers(1, 29))
    label = (110, 90, 60)
    canvas.text((50, 60), "姓名", 30, label)
    canvas.text((140, 56), _name(rng), 36)
    canvas.text((50, 130), "性别", 30, label)
    canvas.text((140, 128), str(rng.choice(["男", "女"])), 32)
    canvas.text((250, 130), "民族", 30, label)
    canvas.text((340, 128), "汉", 32)
    canvas.text((50, 195), "出生", 30, label)
    canvas.text((140, 193), f"{birth_year} 年 {month} 月 {day} 日", 32)
    canvas.text((50, 260), "住址", 30, label)
    address = _address(rng)
    canvas.text((140, 258), address[:12], 32)
    canvas.text((140, 300), address[12:], 32)
    canvas.text((50, 440), "公民身份号码", 30, label)
    canvas.text((270, 436), demo_id_number(rng, f"{birth_year}{month:02d}{day:02d}"), 38)
    canvas.text((640, 370), "样本 仅供测试", 24, (60, 60, 190))
    return DocumentSpec("id_card", canvas.finish(), 85.6 / 54.0)


HOUSEHOLD_FIELDS = ("姓名", "户主或与户主关系", "曾用名", "性别", "出生地", "民族", "籍贯", "出生日期",
                    "本市其他住址", "宗教信仰", "公民身份证件编号", "身高", "血型", "文化程度",
                    "婚姻状况", "兵役状况", "服务处所", "职业", "何时由何地迁来本市", "何时由何地迁来本址")


def render_household_page(rng: np.random.Generator) -> DocumentSpec:
    """A household-register-like page (常住人口登记卡), portrait, ISO-216 aspect."""
    w, h = 760, 1075
    paper = (int(rng.integers(220, 236)), int(rng.integers(228, 240)), int(rng.integers(232, 242)))
    canvas = Canvas(w, h, paper, rng)
    img = canvas.image
    ink = (70, 60, 150)
    canvas.text((230, 40), "常住人口登记卡", 40, ink)
    top, left, right = 120, 40, w - 40
    rows = len(HOUSEHOLD_FIELDS) // 2
    row_h = (h - top - 80) // rows
    for r in range(rows + 1):
        cv2.line(img, (left, top + r * row_h), (right, top + r * row_h), ink, 2)
    for x in (left, left + 170, w // 2, w // 2 + 170, right):
        cv2.line(img, (x, top), (x, top + rows * row_h), ink, 2)
    birth = f"{int(rng.integers(1935, 1960))}{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}"
    values = {"姓名": _name(rng), "性别": str(rng.choice(["男", "女"])), "民族": "汉", "出生地": "上海",
              "籍贯": "浙江宁波", "出生日期": birth, "户主或与户主关系": "户主", "血型": "O",
              "公民身份证件编号": demo_id_number(rng, birth)}
    for i, field in enumerate(HOUSEHOLD_FIELDS):
        r, c = i // 2, i % 2
        x0 = left if c == 0 else w // 2
        size = 18 if len(field) > 6 else 22
        canvas.text((x0 + 8, top + r * row_h + 14), field[:8], size, ink)
        value = values.get(field, "")
        if value:
            canvas.text((x0 + 178, top + r * row_h + 12), value[:10] if c else value[:8], 20)
    canvas.text((60, h - 60), "承办人签章  样本", 22, ink)
    _seal(img, (w - 150, h - 130), 70)
    return DocumentSpec("household", canvas.finish(), 1.414)


def render_certificate(rng: np.random.Generator) -> DocumentSpec:
    """A certificate-like landscape page with a decorative border and a seal (aspect 1.25)."""
    w, h = 1000, 800
    paper = (int(rng.integers(200, 225)), int(rng.integers(225, 240)), int(rng.integers(236, 248)))
    canvas = Canvas(w, h, paper, rng)
    img = canvas.image
    border = (40, 60, 170) if rng.random() < 0.5 else (60, 120, 40)
    cv2.rectangle(img, (30, 30), (w - 30, h - 30), border, 8)
    cv2.rectangle(img, (50, 50), (w - 50, h - 50), border, 2)
    title = str(rng.choice(CERT_TITLES))
    canvas.text((w // 2 - len(title) * 30, 100), title, 60, border)
    canvas.text((120, 260), f"{_name(rng)} 同志：", 36)
    canvas.text((160, 330), "经审核，符合相关条件，特发此证。", 34)
    canvas.text((160, 390), f"住址：{_address(rng)}", 30)
    canvas.text((160, 450), f"证号：静安 {int(rng.integers(100000, 999999))}（样本）", 30)
    canvas.text((560, 620), "上海市静安区", 32)
    canvas.text((560, 670), f"{int(rng.integers(2015, 2026))} 年 {int(rng.integers(1, 13))} 月", 30)
    _seal(img, (760, 640), 90)
    return DocumentSpec("certificate", canvas.finish(), 1.25)


RENDERERS: dict[str, Callable[[np.random.Generator], DocumentSpec]] = {
    "id_card": render_id_card,
    "household": render_household_page,
    "certificate": render_certificate,
}
