"""Held-out synthetic camera frames of documents on desks, made independently of the checker.

The scenes are built only from the public contract of the quality check (the reasons and what
they mean, docs/quality.md "Thresholds"), not from the analyser's internals nor the project's
other scene generators, so that they test whether the checker generalises to frames made by
someone else, in another style.

Each scene is a BGR uint8 frame: a desk (plain, wood, fabric, tablecloth, clutter or a second
card), a document rendered with Pillow (ID card, household register, A4 form, certificate, bank
cards, social security card, passport page, marriage certificate), placed with a rotation and a
mild perspective, lit (gain, colour temperature, gradient or shadow band, vignetting) and seen
through a camera (softness, sensor noise, gamma, JPEG) at 1280x720, 1920x1080 or 960x720.
Even indices are good scenes (expected "ok"), odd ones bad, their condition cycling over
``BAD_CONDITIONS``; the document kind cycles over ``KINDS``.

    from tests.quality_fixtures.heldout import scenes
    for s in scenes("dev", 240):
        ...  # s.image, s.expected, s.kind, s.desk, s.condition

Splits "dev" and "holdout" use disjoint seeds (index and 1_000_000 + index).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

KINDS: tuple[str, ...] = (
    "id_front",
    "id_back",
    "register_page",
    "register_cover",
    "a4_form",
    "certificate",
    "bank_card_light",
    "bank_card_dark",
    "social_card",
    "passport_page",
    "marriage_cert",
)
DESKS: tuple[str, ...] = ("plain", "wood", "fabric", "tablecloth", "clutter", "second_card")
BAD_CONDITIONS: tuple[str, ...] = (
    "blurry",
    "too_dark",
    "too_bright",
    "glare",
    "document_cut_off",
    "document_too_small",
    "no_document",
    "low_contrast",
)
SPLIT_SEEDS: dict[str, int] = {"dev": 0, "holdout": 1_000_000}

# Physical size (width, height) in mm of each kind, as it lies on the desk.
_SIZES_MM: dict[str, tuple[float, float]] = {
    "id_front": (85.6, 54.0),
    "id_back": (85.6, 54.0),
    "register_page": (130.0, 185.0),
    "register_cover": (135.0, 190.0),
    "a4_form": (210.0, 297.0),
    "certificate": (297.0, 210.0),
    "bank_card_light": (85.6, 54.0),
    "bank_card_dark": (85.6, 54.0),
    "social_card": (85.6, 54.0),
    "passport_page": (125.0, 88.0),
    "marriage_cert": (186.0, 128.0),
}
_GLOSSY = {"id_front", "id_back", "bank_card_light", "bank_card_dark", "social_card", "passport_page",
           "register_cover"}

_DEJAVU = "/usr/share/fonts/truetype/dejavu/"
_LIBERATION = "/usr/share/fonts/truetype/liberation/"
_SANS = (_DEJAVU + "DejaVuSans.ttf", _DEJAVU + "DejaVuSansCondensed.ttf", _LIBERATION + "LiberationSans-Regular.ttf",
         _LIBERATION + "LiberationSansNarrow-Regular.ttf")
_SANS_BOLD = (_DEJAVU + "DejaVuSans-Bold.ttf", _DEJAVU + "DejaVuSansCondensed-Bold.ttf",
              _LIBERATION + "LiberationSans-Bold.ttf", _LIBERATION + "LiberationSansNarrow-Bold.ttf")
_SERIF = (_DEJAVU + "DejaVuSerif.ttf", _DEJAVU + "DejaVuSerifCondensed.ttf",
          _LIBERATION + "LiberationSerif-Regular.ttf")
_SERIF_BOLD = (_DEJAVU + "DejaVuSerif-Bold.ttf", _DEJAVU + "DejaVuSerifCondensed-Bold.ttf",
               _LIBERATION + "LiberationSerif-Bold.ttf")
_MONO = (_DEJAVU + "DejaVuSansMono.ttf", _LIBERATION + "LiberationMono-Regular.ttf")
_MONO_BOLD = (_DEJAVU + "DejaVuSansMono-Bold.ttf", _LIBERATION + "LiberationMono-Bold.ttf")
_HAND = (_DEJAVU + "DejaVuSans-Oblique.ttf", _DEJAVU + "DejaVuSansCondensed-Oblique.ttf",
         _LIBERATION + "LiberationSans-Italic.ttf", _LIBERATION + "LiberationSerif-Italic.ttf",
         _DEJAVU + "DejaVuSerifCondensed-Italic.ttf", _LIBERATION + "LiberationSansNarrow-Italic.ttf")

_SURNAMES = ("ZHANG", "WANG", "LI", "LIU", "CHEN", "YANG", "HUANG", "ZHAO", "WU", "ZHOU", "XU", "SUN", "MA", "ZHU",
             "HU", "GUO", "HE", "LIN", "LUO", "GAO")
_GIVEN = ("WEI", "FANG", "NA", "XIUYING", "MIN", "JING", "LEI", "QIANG", "JUN", "YANG", "YONG", "YAN", "JIE",
          "TAO", "MING", "CHAO", "XIA", "PING", "GANG", "HUI", "LING", "JIAN", "HONG", "XIN")
_STREETS = ("Heping Road", "Jiefang Avenue", "Renmin Road", "Zhongshan Road", "Xinhua Street", "Changjiang Road",
            "Binhe Avenue", "Wenhua Lane", "Jianshe Road", "Yingbin Avenue")
_DISTRICTS = ("Xuhui District", "Haidian District", "Tianhe District", "Wuhou District", "Jiangbei District",
              "Gulou District", "Lianhu District", "Nanshan District")

Rgb = tuple[int, int, int]


@dataclass(frozen=True)
class HeldoutScene:
    """One held-out frame with its label.

    ``expected`` is "ok" for a good scene, else the reason the checker should give; ``condition``
    is "good" or the bad condition (equal to ``expected`` for bad scenes).
    """

    name: str
    image: np.ndarray
    expected: str
    kind: str
    desk: str
    condition: str
    split: str
    # The document's four corners in frame pixels as it was laid (None without a document); for a
    # cut-off document some lie outside the frame.
    corners: np.ndarray | None = None


def scene(index: int, split: str) -> HeldoutScene:
    """Build scene ``index`` of ``split`` ("dev" or "holdout"), deterministically from its seed."""
    if split not in SPLIT_SEEDS:
        raise ValueError(f"unknown split {split!r}; expected one of {sorted(SPLIT_SEEDS)}")
    rng = np.random.default_rng(SPLIT_SEEDS[split] + index)
    good = index % 2 == 0
    condition = "good" if good else BAD_CONDITIONS[(index // 2) % len(BAD_CONDITIONS)]
    kind = KINDS[(index * 7 + SPLIT_SEEDS[split] // 1_000_000 * 5) % len(KINDS)]
    desks = DESKS if condition != "no_document" else DESKS[:-1]
    desk = desks[int(rng.integers(len(desks)))]
    builder = _Builder(rng, kind, desk, condition)
    image = builder.build()
    name = f"{split}-{index:05d}-{condition}-{kind}-{desk}"
    return HeldoutScene(name=name, image=image, expected="ok" if good else condition, kind=kind, desk=desk,
                        condition=condition, split=split, corners=builder.doc_quad)


def scenes(split: str, count: int) -> Iterator[HeldoutScene]:
    """The first ``count`` scenes of ``split``, half good, half bad (alternating)."""
    for index in range(count):
        yield scene(index, split)


# --------------------------------------------------------------------------------------------------
# Small helpers


@lru_cache(maxsize=512)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, max(6, size))


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _jitter(rng: np.random.Generator, colour: Rgb, amount: int) -> Rgb:
    r, g, b = (int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in colour)
    return (r, g, b)


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cell: int) -> np.ndarray:
    """Low-frequency noise in [0, 1], float32 (h, w): random values on a coarse grid, resized."""
    grid = rng.random((max(2, h // cell + 2), max(2, w // cell + 2))).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def _name(rng: np.random.Generator) -> str:
    return f"{_pick(rng, _SURNAMES)} {_pick(rng, _GIVEN)}{_pick(rng, ('', '', _GIVEN[int(rng.integers(24))]))}"


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(int(d)) for d in rng.integers(0, 10, n))


def _date(rng: np.random.Generator, lo: int = 1950, hi: int = 2024, sep: str = ".") -> str:
    return f"{int(rng.integers(lo, hi))}{sep}{int(rng.integers(1, 13)):02d}{sep}{int(rng.integers(1, 29)):02d}"


def _address(rng: np.random.Generator) -> str:
    return f"No. {int(rng.integers(1, 300))}, {_pick(rng, _STREETS)}, {_pick(rng, _DISTRICTS)}"


def _id_number(rng: np.random.Generator) -> str:
    return _digits(rng, 6) + _date(rng, 1950, 2005, "") + _digits(rng, 3) + _pick(rng, tuple("0123456789X"))


def _paper_colour(rng: np.random.Generator) -> Rgb:
    base = (
        (248, 248, 246),  # white
        (240, 237, 228),  # off-white
        (226, 226, 222),  # grey-ish
        (244, 234, 206),  # cream
    )[int(rng.integers(4))]
    return _jitter(rng, base, 5)


def _ink(rng: np.random.Generator) -> Rgb:
    return _jitter(rng, ((28, 28, 30), (22, 26, 48), (40, 36, 34))[int(rng.integers(3))], 10)


def _gradient(h: int, w: int, c0: Rgb, c1: Rgb, angle: float) -> np.ndarray:
    """A linear gradient from c0 to c1 along ``angle`` (radians), uint8 RGB (h, w, 3)."""
    # Linear, so computed on a small grid and resized.
    hs, ws = max(2, h // 8), max(2, w // 8)
    ys = np.linspace(-0.5, 0.5, hs, dtype=np.float32)[:, None]
    xs = np.linspace(-0.5, 0.5, ws, dtype=np.float32)[None, :]
    t = (xs * math.cos(angle) + ys * math.sin(angle)) * 1.2 + 0.5
    t = np.clip(t, 0, 1)[..., None]
    a = np.array(c0, np.float32)
    b = np.array(c1, np.float32)
    return cv2.resize(a + (b - a) * t, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.uint8)


def _guilloche(rng: np.random.Generator, h: int, w: int, strength: float) -> np.ndarray:
    """Alpha map (h, w) float32 of interlaced wavy lines, like a banknote's security print."""
    hs, ws = max(8, h // 2), max(8, w // 2)
    ys = np.arange(hs, dtype=np.float32)[:, None] / hs
    xs = np.arange(ws, dtype=np.float32)[None, :] / ws
    alpha = np.zeros((hs, ws), np.float32)
    for _ in range(2):
        lines = float(rng.uniform(14, 30))
        amp = float(rng.uniform(0.03, 0.09))
        freq = float(rng.uniform(1.5, 4.0))
        phase = float(rng.uniform(0, 6.28))
        wob = float(rng.uniform(0.5, 2.0))
        field = ys * lines + amp * lines * np.sin(2 * np.pi * (xs * freq + phase) + wob * np.sin(2 * np.pi * ys * 2))
        dist = np.abs(field - np.round(field))
        alpha = np.maximum(alpha, np.exp(-((dist / 0.09) ** 2)))
    return cv2.resize(alpha, (w, h), interpolation=cv2.INTER_LINEAR) * strength


def _tint(base: np.ndarray, alpha: np.ndarray, colour: Rgb) -> np.ndarray:
    """Blend ``colour`` into the RGB uint8 ``base`` with the (h, w) alpha map."""
    flat = np.empty_like(base)
    flat[:] = colour
    a = alpha.astype(np.float32)
    return cv2.blendLinear(base, flat, 1 - a, a)


def _fibres(rng: np.random.Generator, arr: np.ndarray, amount: float) -> np.ndarray:
    """Paper grain: low-amplitude mottling of an RGB uint8 array."""
    h, w = arr.shape[:2]
    mottle = _smooth_noise(rng, h, w, max(4, w // 60)) - 0.5
    fine = cv2.resize(rng.random((max(2, h // 3), max(2, w // 3))).astype(np.float32), (w, h)) - 0.5
    out = arr.astype(np.float32) + (mottle * amount * 2 + fine * amount)[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


class _Canvas:
    """A Pillow RGB canvas of a document, sized in pixels, with text and shape helpers."""

    def __init__(self, arr: np.ndarray) -> None:
        self.image = Image.fromarray(arr, "RGB")
        self.draw = ImageDraw.Draw(self.image)
        self.w, self.h = self.image.size

    def px(self, fraction: float) -> int:
        """A length as a fraction of the document's width, in pixels."""
        return max(1, round(fraction * self.w))

    def text(self, xy: tuple[float, float], s: str, font: str, size: float, fill: Rgb, anchor: str = "ls") -> float:
        """Draw ``s`` at (x, y) fractions of (w, h); ``size`` in fractions of the width. Returns its width."""
        f = _font(font, self.px(size))
        x, y = xy[0] * self.w, xy[1] * self.h
        self.draw.text((x, y), s, font=f, fill=fill, anchor=anchor)
        return float(self.draw.textlength(s, font=f)) / self.w

    def rect(self, box: tuple[float, float, float, float], fill: Rgb | None = None, outline: Rgb | None = None,
             width: float = 0.0) -> None:
        """A rectangle in fractions (x0, y0, x1, y1) of (w, h)."""
        x0, y0, x1, y1 = box
        self.draw.rectangle((x0 * self.w, y0 * self.h, x1 * self.w, y1 * self.h), fill=fill, outline=outline,
                            width=self.px(width) if width else 0)

    def ellipse(self, box: tuple[float, float, float, float], fill: Rgb | None = None, outline: Rgb | None = None,
                width: float = 0.0) -> None:
        """An ellipse in its bounding box of fractions (x0, y0, x1, y1) of (w, h)."""
        x0, y0, x1, y1 = box
        self.draw.ellipse((x0 * self.w, y0 * self.h, x1 * self.w, y1 * self.h), fill=fill, outline=outline,
                          width=self.px(width) if width else 0)

    def line(self, points: list[tuple[float, float]], fill: Rgb, width: float) -> None:
        """A polyline through points in fractions of (w, h)."""
        self.draw.line([(x * self.w, y * self.h) for x, y in points], fill=fill, width=self.px(width), joint="curve")

    def array(self) -> np.ndarray:
        """The canvas as an RGB uint8 array."""
        return np.asarray(self.image).copy()


def _portrait(cv: _Canvas, rng: np.random.Generator, box: tuple[float, float, float, float], bg: Rgb) -> None:
    """A photo in ``box`` (fractions of the canvas): background, shoulders, neck, face, hair, eyes, mouth."""
    x0, y0 = round(box[0] * cv.w), round(box[1] * cv.h)
    pw, ph = max(4, round(box[2] * cv.w) - x0), max(4, round(box[3] * cv.h) - y0)
    photo = Image.new("RGB", (pw, ph), _jitter(rng, bg, 8))
    d = ImageDraw.Draw(photo)
    skin = _jitter(rng, (226, 188, 158), 18)
    cloth = _jitter(rng, ((30, 32, 40), (60, 60, 70), (235, 235, 235), (40, 50, 90))[int(rng.integers(4))], 10)
    hair = _jitter(rng, (25, 20, 18), 10)
    cx = pw * float(rng.uniform(0.46, 0.54))

    def box_at(a: float, b: float, c: float, e: float) -> tuple[float, float, float, float]:
        return (cx + a * pw, b * ph, cx + c * pw, e * ph)

    d.ellipse(box_at(-0.48, 0.74, 0.48, 1.5), fill=cloth)
    d.rectangle(box_at(-0.09, 0.55, 0.09, 0.8), fill=skin)
    d.ellipse(box_at(-0.27, 0.12, 0.27, 0.56), fill=hair)
    d.ellipse(box_at(-0.23, 0.2, 0.23, 0.66), fill=skin)
    d.ellipse(box_at(-0.25, 0.1, 0.25, 0.3), fill=hair)
    for ex in (-0.09, 0.09):
        d.ellipse(box_at(ex - 0.035, 0.39, ex + 0.035, 0.42), fill=(40, 30, 30))
    d.line([box_at(-0.07, 0.54, 0.07, 0.54)[:2], box_at(-0.07, 0.54, 0.07, 0.54)[2:]], fill=(150, 80, 80),
           width=max(1, round(pw * 0.012)))
    cv.image.paste(photo, (x0, y0))


def _emblem(cv: _Canvas, centre: tuple[float, float], radius: float, ring: Rgb, star: Rgb,
            fill: Rgb | None = None) -> None:
    """A round emblem: rings, a five-pointed star and small stars; radius as a fraction of the width."""
    cx, cy = centre[0] * cv.w, centre[1] * cv.h
    r = radius * cv.w
    cv.draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill, outline=ring, width=max(1, round(r * 0.08)))
    cv.draw.ellipse((cx - r * 0.78, cy - r * 0.78, cx + r * 0.78, cy + r * 0.78), outline=ring,
                    width=max(1, round(r * 0.04)))

    def star_at(x: float, y: float, size: float) -> None:
        pts = []
        for k in range(10):
            rad = size if k % 2 == 0 else size * 0.42
            a = -math.pi / 2 + k * math.pi / 5
            pts.append((x + rad * math.cos(a), y + rad * math.sin(a)))
        cv.draw.polygon(pts, fill=star)

    star_at(cx, cy - r * 0.08, r * 0.42)
    for k in range(4):
        a = -math.pi * 0.85 + k * math.pi * 0.23
        star_at(cx + r * 0.56 * math.cos(a) + r * 0.25, cy + r * 0.56 * math.sin(a) + r * 0.1, r * 0.1)
    cv.draw.rectangle((cx - r * 0.5, cy + r * 0.42, cx + r * 0.5, cy + r * 0.52), fill=star)


def _seal(arr: np.ndarray, rng: np.random.Generator, centre: tuple[float, float], radius: float) -> np.ndarray:
    """A red ink seal (ring, star, inner ring), multiplied into the RGB uint8 array."""
    h, w = arr.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    cx, cy, r = int(centre[0] * w), int(centre[1] * h), max(4, int(radius * w))
    cv2.circle(mask, (cx, cy), r, 255, max(2, r // 9), cv2.LINE_AA)
    cv2.circle(mask, (cx, cy), int(r * 0.8), 255, max(1, r // 30), cv2.LINE_AA)
    pts = []
    for k in range(10):
        rad = r * (0.36 if k % 2 == 0 else 0.15)
        a = -math.pi / 2 + k * math.pi / 5
        pts.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
    cv2.fillPoly(mask, [np.array(pts, np.int32)], 255, cv2.LINE_AA)
    # Ink unevenness: holes in the stamp.
    holes = _smooth_noise(rng, h, w, max(3, r // 6)) > float(rng.uniform(0.75, 0.9))
    alpha = mask.astype(np.float32) / 255 * np.where(holes, 0.35, 0.85).astype(np.float32)
    red = np.array(_jitter(rng, (205, 40, 45), 15), np.float32) / 255
    out = arr.astype(np.float32) * (1 - alpha[..., None] * (1 - red))
    return out.astype(np.uint8)


# --------------------------------------------------------------------------------------------------
# Documents. Each renderer takes (rng, width, height) and returns an RGB uint8 array.


def _id_front(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    base = _gradient(h, w, _jitter(rng, (238, 244, 250), 5), _jitter(rng, (214, 228, 242), 6),
                     float(rng.uniform(0, 6.28)))
    base = _tint(base, _guilloche(rng, h, w, 0.35), _jitter(rng, (170, 196, 226), 12))
    base = _tint(base, _guilloche(rng, h, w, 0.2), _jitter(rng, (230, 190, 200), 12))
    cv = _Canvas(_fibres(rng, base, 3))
    label = _jitter(rng, (60, 110, 160), 15)
    ink = _ink(rng)
    sans, bold = _pick(rng, _SANS), _pick(rng, _SANS_BOLD)
    _portrait(cv, rng, (0.63, 0.12, 0.93, 0.76), (232, 238, 244))
    y = 0.2
    cv.text((0.06, y), "Name", sans, 0.033, label)
    cv.text((0.18, y), _name(rng), bold, 0.048, ink)
    y += 0.13
    cv.text((0.06, y), "Sex", sans, 0.033, label)
    cv.text((0.14, y), _pick(rng, ("M", "F")), sans, 0.04, ink)
    cv.text((0.25, y), "Ethnicity", sans, 0.033, label)
    cv.text((0.43, y), _pick(rng, ("Han", "Hui", "Zhuang", "Man")), sans, 0.04, ink)
    y += 0.13
    cv.text((0.06, y), "Born", sans, 0.033, label)
    cv.text((0.18, y), _date(rng, 1950, 2005, " . "), sans, 0.04, ink)
    y += 0.13
    cv.text((0.06, y), "Address", sans, 0.033, label)
    addr = _address(rng)
    cut = addr.find(",", 10) + 1 or len(addr)
    cv.text((0.22, y), addr[:cut], sans, 0.037, ink)
    cv.text((0.22, y + 0.085), addr[cut:].strip(), sans, 0.037, ink)
    cv.text((0.06, 0.88), "Citizen ID Number", sans, 0.033, label)
    cv.text((0.36, 0.885), _id_number(rng), _pick(rng, _MONO_BOLD), 0.05, ink)
    return cv.array()


def _id_back(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    base = _gradient(h, w, _jitter(rng, (240, 245, 250), 5), _jitter(rng, (218, 232, 244), 6),
                     float(rng.uniform(0, 6.28)))
    base = _tint(base, _guilloche(rng, h, w, 0.4), _jitter(rng, (160, 190, 225), 12))
    cv = _Canvas(_fibres(rng, base, 3))
    red = _jitter(rng, (200, 40, 40), 15)
    gold = _jitter(rng, (230, 190, 60), 15)
    _emblem(cv, (0.16, 0.3), 0.11, gold, gold, fill=red)
    title = _pick(rng, _SERIF_BOLD)
    ink = _ink(rng)
    cv.text((0.6, 0.26), "REPUBLIC RESIDENT", title, 0.058, ink, anchor="ms")
    cv.text((0.6, 0.43), "IDENTITY CARD", title, 0.075, ink, anchor="ms")
    sans = _pick(rng, _SANS)
    label = _jitter(rng, (60, 110, 160), 15)
    cv.text((0.1, 0.72), "Issuing Authority", sans, 0.032, label)
    cv.text((0.38, 0.72), f"{_pick(rng, _DISTRICTS).split()[0]} Public Security Bureau", sans, 0.036, ink)
    start = int(rng.integers(2005, 2024))
    cv.text((0.1, 0.85), "Valid Period", sans, 0.032, label)
    cv.text((0.38, 0.85), f"{start}.{int(rng.integers(1, 13)):02d}.{int(rng.integers(1, 29)):02d}-"
            f"{start + 20}.{int(rng.integers(1, 13)):02d}.{int(rng.integers(1, 29)):02d}", sans, 0.036, ink)
    return cv.array()


def _register_page(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    paper = _paper_colour(rng)
    if rng.random() < 0.5:
        paper = _jitter(rng, (246, 236, 218), 6)
    base = np.empty((h, w, 3), np.uint8)
    base[:] = paper
    cv = _Canvas(_fibres(rng, base, 4))
    rule = _jitter(rng, ((196, 60, 60), (60, 90, 170))[int(rng.integers(2))], 15)
    serif = _pick(rng, _SERIF_BOLD)
    cv.text((0.5, 0.07), "RESIDENT REGISTRATION PAGE", serif, 0.052, rule, anchor="ms")
    x0, x1, top, bottom = 0.07, 0.93, 0.1, 0.93
    rows = int(rng.integers(10, 15))
    heights = rng.uniform(0.7, 1.3, rows)
    ys = top + np.concatenate([[0], np.cumsum(heights)]) / heights.sum() * (bottom - top)
    lw = float(rng.uniform(0.0025, 0.004))
    cv.rect((x0, top, x1, bottom), outline=rule, width=lw * 2)
    labels = ("Name", "Relation to head", "Former name", "Sex", "Place of birth", "Ethnicity", "Native place",
              "Date of birth", "Other address", "Religion", "ID number", "Height", "Blood type", "Education",
              "Marital status", "Military service", "Employer", "Occupation", "Moved in", "Moved from")
    hand = _pick(rng, _HAND)
    pen = _jitter(rng, ((30, 40, 110), (25, 25, 35), (20, 60, 120))[int(rng.integers(3))], 12)
    label_font = _pick(rng, _SANS)
    order = rng.permutation(len(labels))
    k = 0
    for r in range(rows):
        ya, yb = float(ys[r]), float(ys[r + 1])
        if r > 0:
            cv.line([(x0, ya), (x1, ya)], rule, lw)
        cells = int(rng.integers(1, 3))
        edges = [x0, *sorted(rng.uniform(x0 + 0.3, x1 - 0.2, cells - 1).tolist()), x1]
        for c in range(cells):
            ca, cb = edges[c], edges[c + 1]
            split = ca + 0.15 * (x1 - x0)
            if c > 0:
                cv.line([(ca, ya), (ca, yb)], rule, lw)
            cv.line([(split, ya), (split, yb)], rule, lw * 0.7)
            size = min(0.026, (yb - ya) * cv.h / cv.w * 0.45)
            cv.text((ca + 0.01, (ya + yb) / 2), labels[int(order[k % len(order)])][:12], label_font, size, rule,
                    anchor="lm")
            k += 1
            value = _pick(rng, (_name(rng).title(), _date(rng, sep="-"), _pick(rng, _STREETS), _digits(rng, 6),
                                _pick(rng, ("Han", "Self", "Son", "Wife", "Clerk", "Teacher", "Graduate"))))
            if cb - split > 0.12:
                dy = float(rng.uniform(-0.15, 0.15)) * (yb - ya)
                cv.text((split + 0.02 + float(rng.uniform(0, 0.03)), (ya + yb) / 2 + dy), value, hand,
                        size * float(rng.uniform(1.1, 1.45)), pen, anchor="lm")
    arr = cv.array()
    if rng.random() < 0.7:
        arr = _seal(arr, rng, (float(rng.uniform(0.6, 0.8)), float(rng.uniform(0.7, 0.85))), 0.12)
    return arr


def _register_cover(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    colour = _jitter(rng, ((128, 18, 24), (20, 34, 86), (110, 20, 30), (24, 44, 100))[int(rng.integers(4))], 10)
    dark = tuple(int(c * 0.8) for c in colour)
    base = _gradient(h, w, colour, (dark[0], dark[1], dark[2]), float(rng.uniform(0, 6.28)))
    leather = _smooth_noise(rng, h, w, max(2, w // 200)) - 0.5
    base = np.clip(base.astype(np.float32) * (1 + leather[..., None] * 0.12), 0, 255).astype(np.uint8)
    cv = _Canvas(base)
    gold = _jitter(rng, (222, 186, 96), 15)
    _emblem(cv, (0.5, 0.3), 0.16, gold, gold)
    serif = _pick(rng, _SERIF_BOLD)
    cv.text((0.5, 0.6), "HOUSEHOLD", serif, 0.11, gold, anchor="ms")
    cv.text((0.5, 0.7), "REGISTER", serif, 0.11, gold, anchor="ms")
    cv.text((0.5, 0.88), "PUBLIC SECURITY BUREAU", _pick(rng, _SANS_BOLD), 0.045, gold, anchor="ms")
    cv.rect((0.05, 0.035, 0.95, 0.965), outline=gold, width=0.006)
    return cv.array()


def _a4_form(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    base = np.empty((h, w, 3), np.uint8)
    base[:] = _paper_colour(rng)
    cv = _Canvas(_fibres(rng, base, 3))
    ink = _ink(rng)
    title = _pick(rng, ("APPLICATION FOR RESIDENCE PERMIT", "HOUSEHOLD TRANSFER APPLICATION",
                        "SOCIAL INSURANCE ENROLMENT FORM", "CERTIFICATE OF NO CRIMINAL RECORD REQUEST",
                        "BUSINESS LICENCE CHANGE FORM"))
    bold, sans, hand = _pick(rng, _SANS_BOLD), _pick(rng, _SANS), _pick(rng, _HAND)
    cv.text((0.5, 0.075), title, bold, 0.036, ink, anchor="ms")
    cv.text((0.5, 0.105), f"Form No. {_digits(rng, 4)}-{_digits(rng, 2)}   Issued by the City Service Centre",
            sans, 0.018, ink, anchor="ms")
    x0, x1 = 0.08, 0.92
    y = 0.14
    lw = float(rng.uniform(0.0015, 0.003))
    rows = int(rng.integers(9, 14))
    row_h = float(rng.uniform(0.032, 0.045))
    pen = _jitter(rng, (30, 40, 120), 15)
    fields = ("Applicant", "ID number", "Telephone", "Address", "Employer", "Reason", "Date", "Relation",
              "Postcode", "Email", "Previous address", "Attachment")
    cv.rect((x0, y, x1, y + rows * row_h), outline=ink, width=lw * 1.5)
    for r in range(rows):
        ya = y + r * row_h
        if r:
            cv.line([(x0, ya), (x1, ya)], ink, lw)
        cv.line([(x0 + 0.2, ya), (x0 + 0.2, ya + row_h)], ink, lw)
        cv.text((x0 + 0.012, ya + row_h * 0.65), fields[r % len(fields)], sans, 0.019, ink)
        if rng.random() < 0.75:
            value = _pick(rng, (_name(rng).title(), _id_number(rng), _address(rng), _digits(rng, 11),
                                _date(rng, 2015, 2025, "-")))
            cv.text((x0 + 0.22, ya + row_h * 0.7), value, hand, 0.024, pen)
    y += rows * row_h + 0.04
    words = ("the", "applicant", "declares", "that", "information", "given", "above", "is", "true", "and",
             "complete", "office", "will", "verify", "documents", "within", "working", "days", "of", "receipt")
    while y < 0.86:
        line = " ".join(words[int(i)] for i in rng.integers(0, len(words), int(rng.integers(9, 14))))
        cv.text((x0, y), line.capitalize() + ".", sans, 0.0175, ink)
        y += float(rng.uniform(0.024, 0.03))
    cv.text((0.55, 0.92), "Signature", sans, 0.02, ink)
    pts = [(0.68 + 0.012 * k + float(rng.uniform(-0.004, 0.004)), 0.915 + float(rng.uniform(-0.012, 0.012)))
           for k in range(16)]
    cv.line(pts, pen, 0.003)
    return cv.array()


def _certificate(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    base = np.empty((h, w, 3), np.uint8)
    base[:] = _jitter(rng, (244, 240, 228), 6)
    cv = _Canvas(_fibres(rng, base, 3))
    frame = _jitter(rng, ((30, 70, 130), (120, 30, 30), (40, 100, 60), (150, 120, 50))[int(rng.integers(4))], 12)
    m = 0.03
    band = float(rng.uniform(0.018, 0.03))
    cv.rect((m, m * w / h, 1 - m, 1 - m * w / h), outline=frame, width=band)
    inner = m + band + 0.012
    cv.rect((inner, inner * w / h, 1 - inner, 1 - inner * w / h), outline=frame, width=0.003)
    # Diamonds along the top and bottom of the band.
    step = 0.035
    d = band * w * 0.3
    band_y = (m + band / 2) * w / h
    x = m + step
    while x < 1 - m - step / 2:
        for yf in (band_y, 1 - band_y):
            cx, cy = x * w, yf * h
            cv.draw.polygon([(cx - d, cy), (cx, cy - d), (cx + d, cy), (cx, cy + d)], fill=(240, 225, 170))
        x += step
    for cx, cy in ((inner, inner * w / h), (1 - inner, inner * w / h), (inner, 1 - inner * w / h),
                   (1 - inner, 1 - inner * w / h)):
        cv.ellipse((cx - 0.02, cy - 0.02 * w / h, cx + 0.02, cy + 0.02 * w / h), fill=frame)
    ink = _ink(rng)
    serif, serif_bold = _pick(rng, _SERIF), _pick(rng, _SERIF_BOLD)
    cv.text((0.5, 0.25), _pick(rng, ("CERTIFICATE", "CERTIFICATE OF HONOUR", "DIPLOMA", "CERTIFICATE OF AWARD")),
            serif_bold, 0.06, frame, anchor="ms")
    cv.text((0.5, 0.37), "This is to certify that", serif, 0.024, ink, anchor="ms")
    cv.text((0.5, 0.47), _name(rng).title(), _pick(rng, _HAND), 0.045, ink, anchor="ms")
    for k, line in enumerate((
        f"has successfully completed the {_pick(rng, ('training course', 'programme', 'examination'))}",
        f"held at the {_pick(rng, _DISTRICTS)} Community Service Centre",
        f"from {_date(rng, 2015, 2024, '-')} to {_date(rng, 2015, 2024, '-')}",
    )):
        cv.text((0.5, 0.56 + k * 0.06), line, serif, 0.022, ink, anchor="ms")
    cv.text((0.2, 0.84), f"No. {_digits(rng, 8)}", serif, 0.02, ink)
    cv.text((0.2, 0.79), f"Date: {_date(rng, 2015, 2025, '-')}", serif, 0.02, ink)
    arr = cv.array()
    return _seal(arr, rng, (float(rng.uniform(0.7, 0.78)), float(rng.uniform(0.74, 0.8))), 0.07)


def _chip(cv: _Canvas, rng: np.random.Generator, x: float, y: float) -> None:
    gold = _jitter(rng, (214, 182, 110), 15)
    w, h = 0.13, 0.15
    cv.draw.rounded_rectangle((x * cv.w, y * cv.h, (x + w) * cv.w, (y + h) * cv.h), radius=cv.px(0.015), fill=gold,
                              outline=(150, 120, 60), width=cv.px(0.003))
    line = (160, 130, 70)
    cv.line([(x, y + h / 2), (x + w, y + h / 2)], line, 0.003)
    cv.line([(x + w / 2, y), (x + w / 2, y + h * 0.3)], line, 0.003)
    cv.line([(x + w / 2, y + h * 0.7), (x + w / 2, y + h)], line, 0.003)
    cv.rect((x + w * 0.3, y + h * 0.3, x + w * 0.7, y + h * 0.7), outline=line, width=0.003)


def _bank_card(rng: np.random.Generator, w: int, h: int, dark: bool) -> np.ndarray:
    if dark:
        c0 = _jitter(rng, ((18, 30, 70), (16, 16, 20), (14, 54, 40), (40, 20, 60))[int(rng.integers(4))], 8)
        c1 = (min(255, c0[0] + 40), min(255, c0[1] + 40), min(255, c0[2] + 50))
        text = _jitter(rng, ((235, 235, 235), (220, 200, 140), (200, 205, 215))[int(rng.integers(3))], 10)
    else:
        c0 = _jitter(rng, ((246, 246, 244), (214, 216, 222), (232, 214, 160))[int(rng.integers(3))], 6)
        c1 = _jitter(rng, ((222, 226, 232), (244, 244, 246), (246, 236, 196))[int(rng.integers(3))], 6)
        text = _jitter(rng, (40, 40, 48), 12)
    base = _gradient(h, w, c0, c1, float(rng.uniform(0, 6.28)))
    # Sweeping arcs of the card's design.
    ys, xs = np.mgrid[0:h:2, 0:w:2].astype(np.float32)
    r = np.hypot(xs - w * float(rng.uniform(0.6, 1.2)), ys - h * float(rng.uniform(-0.5, 1.5)))
    arcs = (np.sin(r / (w * 0.02)) > 0.6).astype(np.float32) * 0.12
    arcs = cv2.resize(arcs, (w, h))
    base = _tint(base, arcs, c1 if not dark else (c1[0] + 20, c1[1] + 20, c1[2] + 20))
    cv = _Canvas(base)
    bank = _pick(rng, ("CITY COMMERCIAL BANK", "UNION SAVINGS BANK", "PEOPLE'S CREDIT", "RIVER BANK",
                       "AGRICULTURAL BANK"))
    cv.text((0.07, 0.16), bank, _pick(rng, _SANS_BOLD), 0.05, text)
    _chip(cv, rng, 0.09, 0.3)
    for k in range(3):
        r0 = 0.02 + k * 0.015
        cv.draw.arc(((0.28 - r0) * w, 0.37 * h - r0 * w, (0.28 + r0) * w, 0.37 * h + r0 * w), -50, 50, fill=text,
                    width=cv.px(0.004))
    number = " ".join(_digits(rng, 4) for _ in range(4))
    mono = _pick(rng, _MONO_BOLD)
    size = 0.066
    f = _font(mono, cv.px(size))
    x, y = 0.07 * w, 0.66 * h
    light = (255, 255, 255) if not dark else (250, 250, 250)
    shade = (110, 110, 118) if not dark else (10, 10, 12)
    cv.draw.text((x - 1, y - 1), number, font=f, fill=light, anchor="ls")
    cv.draw.text((x + 1.5, y + 1.5), number, font=f, fill=shade, anchor="ls")
    cv.draw.text((x, y), number, font=f, fill=text, anchor="ls")
    sans = _pick(rng, _SANS)
    cv.text((0.07, 0.78), f"VALID THRU {int(rng.integers(1, 13)):02d}/{int(rng.integers(26, 34))}", sans, 0.032, text)
    cv.text((0.07, 0.9), _name(rng), _pick(rng, _MONO), 0.042, text)
    cx, cy, rr = 0.8, 0.82, 0.055
    cv.ellipse((cx - rr, cy - rr * w / h, cx + rr, cy + rr * w / h), fill=(220, 40, 40))
    cv.ellipse((cx + rr * 0.8 - rr, cy - rr * w / h, cx + rr * 1.8, cy + rr * w / h), fill=(240, 170, 30))
    return cv.array()


def _bank_card_light(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    return _bank_card(rng, w, h, dark=False)


def _bank_card_dark(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    return _bank_card(rng, w, h, dark=True)


def _social_card(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    colour = _jitter(rng, ((70, 140, 190), (80, 160, 120), (200, 120, 70), (150, 90, 170), (60, 150, 160))[
        int(rng.integers(5))], 12)
    light = tuple(min(255, int(c + (255 - c) * 0.45)) for c in colour)
    base = _gradient(h, w, colour, (light[0], light[1], light[2]), float(rng.uniform(0, 6.28)))
    base = _tint(base, _guilloche(rng, h, w, 0.18), (255, 255, 255))
    cv = _Canvas(base)
    white = (250, 250, 250)
    cv.text((0.06, 0.15), "SOCIAL SECURITY CARD", _pick(rng, _SANS_BOLD), 0.058, white)
    cv.draw.rounded_rectangle((0.04 * w, 0.24 * h, 0.96 * w, 0.94 * h), radius=cv.px(0.02),
                              fill=_jitter(rng, (244, 246, 246), 4))
    _portrait(cv, rng, (0.07, 0.3, 0.3, 0.86), (240, 244, 250))
    ink = _ink(rng)
    sans, bold = _pick(rng, _SANS), _pick(rng, _SANS_BOLD)
    label = tuple(int(c * 0.7) for c in colour)
    lab: Rgb = (label[0], label[1], label[2])
    rows = (("Name", _name(rng)), ("Social security no.", _id_number(rng)), ("Card no.", _digits(rng, 9)),
            ("Issued", _date(rng, 2010, 2024, "-")))
    for k, (key, value) in enumerate(rows):
        y = 0.38 + k * 0.14
        cv.text((0.35, y), key, sans, 0.03, lab)
        cv.text((0.35, y + 0.065), value, bold if k == 0 else sans, 0.04, ink)
    return cv.array()


def _mrz(rng: np.random.Generator, surname: str, given: str) -> tuple[str, str]:
    line1 = f"P<CHN{surname}<<{given.replace(' ', '<')}"
    line1 = (line1 + "<" * 44)[:44]
    line2 = f"E{_digits(rng, 8)}<{_digits(rng, 1)}CHN{_date(rng, 1950, 2005, '')[2:]}{_digits(rng, 1)}" \
            f"{_pick(rng, ('M', 'F'))}{_date(rng, 2026, 2036, '')[2:]}{_digits(rng, 1)}"
    line2 = (line2 + "<" * 44)[:42] + _digits(rng, 2)
    return line1, line2


def _passport_page(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    bg = _jitter(rng, ((236, 244, 236), (246, 236, 240), (232, 240, 248))[int(rng.integers(3))], 5)
    base = np.empty((h, w, 3), np.uint8)
    base[:] = bg
    base = _tint(base, _guilloche(rng, h, w, 0.3), _jitter(rng, (170, 200, 180), 20))
    base = _tint(base, _guilloche(rng, h, w, 0.2), _jitter(rng, (210, 170, 190), 20))
    cv = _Canvas(_fibres(rng, base, 3))
    ink = _ink(rng)
    label = _jitter(rng, (80, 90, 110), 10)
    sans, bold = _pick(rng, _SANS), _pick(rng, _SANS_BOLD)
    cv.text((0.05, 0.09), "PASSPORT", bold, 0.04, ink)
    cv.text((0.3, 0.09), "Type P    Code CHN    Passport No. E" + _digits(rng, 8), sans, 0.025, ink)
    _portrait(cv, rng, (0.05, 0.16, 0.3, 0.66), (240, 242, 246))
    surname, given = _pick(rng, _SURNAMES), _pick(rng, _GIVEN)
    columns = (
        (0.35, (("Surname", surname), ("Given names", given), ("Date of birth", _date(rng, 1950, 2005, " ")),
                ("Place of birth", _pick(rng, _DISTRICTS).split()[0]))),
        (0.7, (("Sex", _pick(rng, ("M", "F"))), ("Nationality", "CHN"), ("Date of issue", _date(rng, 2016, 2025, " ")),
               ("Date of expiry", _date(rng, 2026, 2036, " ")))),
    )
    for x, fields in columns:
        for k, (key, value) in enumerate(fields):
            y = 0.2 + k * 0.115
            cv.text((x, y), key, sans, 0.02, label)
            cv.text((x, y + 0.055), value, bold, 0.03, ink)
    cv.text((0.05, 0.715), "Authority", sans, 0.02, label)
    cv.text((0.2, 0.715), "National Immigration Administration", bold, 0.026, ink)
    cv.rect((0.0, 0.76, 1.0, 1.0), fill=_jitter(rng, (246, 246, 242), 4))
    l1, l2 = _mrz(rng, surname, given)
    mono = _pick(rng, _MONO)
    # Size the monospace lines to span ~90% of the page.
    f = _font(mono, 100)
    frac = 0.9 / (cv.draw.textlength(l1, font=f) / cv.w) * 100 / cv.w
    cv.text((0.05, 0.85), l1, mono, frac, ink)
    cv.text((0.05, 0.95), l2, mono, frac, ink)
    return cv.array()


def _marriage_cert(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    red = _jitter(rng, (170, 24, 30), 12)
    base = np.empty((h, w, 3), np.uint8)
    base[:] = red
    leather = _smooth_noise(rng, h, w, max(2, w // 250)) - 0.5
    base = np.clip(base.astype(np.float32) * (1 + leather[..., None] * 0.1), 0, 255).astype(np.uint8)
    cv = _Canvas(base)
    page = _jitter(rng, ((246, 238, 228), (248, 232, 230), (242, 240, 234))[int(rng.integers(3))], 4)
    b = 0.022
    bh = b * w / h
    for x0, x1 in ((b, 0.5 - 0.004), (0.5 + 0.004, 1 - b)):
        cv.rect((x0, bh, x1, 1 - bh), fill=page)
    arr = _fibres(rng, cv.array(), 3)
    # Fold shadow down the middle.
    xs = np.arange(w, dtype=np.float32) / w
    fold = 1 - 0.25 * np.exp(-(((xs - 0.5) / 0.02) ** 2))
    arr = (arr.astype(np.float32) * fold[None, :, None]).astype(np.uint8)
    cv = _Canvas(arr)
    ink = _ink(rng)
    pink = _jitter(rng, (190, 60, 60), 12)
    serif, sans, hand = _pick(rng, _SERIF_BOLD), _pick(rng, _SANS), _pick(rng, _HAND)
    cv.text((0.26, 0.16), "MARRIAGE", serif, 0.04, pink, anchor="ms")
    cv.text((0.26, 0.23), "CERTIFICATE", serif, 0.04, pink, anchor="ms")
    for k, (key, value) in enumerate((("Holder", _name(rng).title()), ("Registered on", _date(rng, 2000, 2025, "-")),
                                      ("Certificate No.", f"J{_digits(rng, 6)}-{_digits(rng, 4)}-{_digits(rng, 6)}"),
                                      ("Registry", f"{_pick(rng, _DISTRICTS)} Civil Affairs"))):
        y = 0.36 + k * 0.12
        cv.text((0.06, y), key, sans, 0.017, pink)
        cv.text((0.06, y + 0.055), value, hand, 0.022, ink)
    arr = _seal(cv.array(), rng, (0.33, 0.82), 0.055)
    cv = _Canvas(arr)
    px0, py0, px1, py1 = 0.56, 0.1, 0.93, 0.46
    cv.rect((px0, py0, px1, py1), fill=_jitter(rng, (200, 30, 40), 10))
    _portrait(cv, rng, (px0 + 0.01, py0 + 0.03, px0 + 0.18, py1), (200, 30, 40))
    _portrait(cv, rng, (px0 + 0.19, py0 + 0.03, px1 - 0.01, py1), (200, 30, 40))
    for k in range(2):
        y = 0.55 + k * 0.2
        cv.text((0.56, y), "Name", sans, 0.016, pink)
        cv.text((0.66, y), _name(rng).title(), hand, 0.022, ink)
        cv.text((0.56, y + 0.07), "ID No.", sans, 0.016, pink)
        cv.text((0.66, y + 0.07), _id_number(rng), sans, 0.019, ink)
    return cv.array()


_RENDERERS: dict[str, Callable[[np.random.Generator, int, int], np.ndarray]] = {
    "id_front": _id_front,
    "id_back": _id_back,
    "register_page": _register_page,
    "register_cover": _register_cover,
    "a4_form": _a4_form,
    "certificate": _certificate,
    "bank_card_light": _bank_card_light,
    "bank_card_dark": _bank_card_dark,
    "social_card": _social_card,
    "passport_page": _passport_page,
    "marriage_cert": _marriage_cert,
}


def render_document(rng: np.random.Generator, kind: str, long_side: int) -> np.ndarray:
    """A flat document of ``kind`` as a BGR uint8 array whose longer side is ``long_side`` px."""
    wmm, hmm = _SIZES_MM[kind]
    if wmm >= hmm:
        w, h = long_side, max(8, round(long_side * hmm / wmm))
    else:
        w, h = max(8, round(long_side * wmm / hmm)), long_side
    rgb = _RENDERERS[kind](rng, w, h)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def _card_alpha(h: int, w: int, kind: str) -> np.ndarray:
    """Alpha (h, w) float32 of a document's own outline: rounded corners for cards."""
    alpha = np.zeros((h, w), np.uint8)
    if kind in ("id_front", "id_back", "bank_card_light", "bank_card_dark", "social_card", "other_card"):
        r = max(2, round(0.04 * w))
        cv2.rectangle(alpha, (r, 0), (w - 1 - r, h - 1), 255, -1)
        cv2.rectangle(alpha, (0, r), (w - 1, h - 1 - r), 255, -1)
        for cx, cy in ((r, r), (w - 1 - r, r), (r, h - 1 - r), (w - 1 - r, h - 1 - r)):
            cv2.circle(alpha, (cx, cy), r, 255, -1, cv2.LINE_AA)
    else:
        alpha[:] = 255
    return alpha.astype(np.float32) / 255


# --------------------------------------------------------------------------------------------------
# Desks


def _hsv_colour(rng: np.random.Generator, light: bool | None = None) -> Rgb:
    hue = float(rng.uniform(0, 180))
    sat = float(rng.uniform(0, 0.55)) ** 1.3 * 255
    if light is None:
        light = bool(rng.random() < 0.5)
    val = float(rng.uniform(0.62, 0.9) if light else rng.uniform(0.1, 0.45)) * 255
    bgr = cv2.cvtColor(np.array([[[hue, sat, val]]], np.uint8), cv2.COLOR_HSV2BGR)[0, 0]
    return (int(bgr[2]), int(bgr[1]), int(bgr[0]))


def _plain_desk(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    colour = _hsv_colour(rng)[::-1]
    shade = cv2.resize(1 + (_smooth_noise(rng, h // 8, w // 8, 12) - 0.5) * 0.08, (w, h))
    return cv2.merge([shade * float(c) for c in colour])


def _wood_desk(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    hs, ws = h // 2, w // 2
    vertical = rng.random() < 0.35
    gh, gw = (ws, hs) if vertical else (hs, ws)
    base = np.array(_jitter(rng, ((196, 150, 104), (150, 98, 60), (96, 60, 38), (214, 180, 136),
                                  (120, 80, 50))[int(rng.integers(5))], 12)[::-1], np.float32)
    # The grain runs along x: its waves vary slowly along the grain, faster across it.
    coarse = rng.random((max(2, gh // 25 + 2), max(2, gw // 160 + 2))).astype(np.float32)
    fine = rng.random((max(2, gh // 6 + 2), max(2, gw // 60 + 2))).astype(np.float32)
    warp = cv2.resize(coarse, (gw, gh), interpolation=cv2.INTER_CUBIC) * float(rng.uniform(15, 40)) + cv2.resize(
        fine, (gw, gh), interpolation=cv2.INTER_CUBIC) * float(rng.uniform(2, 6))
    streak = cv2.resize(rng.random((max(2, gh // 3), 6)).astype(np.float32), (gw, gh), interpolation=cv2.INTER_CUBIC)
    ys = np.arange(gh, dtype=np.float32)[:, None]
    period = float(rng.uniform(5, 14))
    rings = 0.5 + 0.5 * np.sin(2 * np.pi * (ys + warp + streak * 8) / period)
    grain = rings**3 * 0.18 + (streak - 0.5) * 0.16
    planks = float(rng.uniform(90, 200))
    seam = np.abs(((ys + 0 * warp) % planks) - planks / 2) > planks / 2 - 1.0
    tone = 1 - grain + (_smooth_noise(rng, gh, gw, 60) - 0.5) * 0.12
    tone = np.where(seam, tone * 0.6, tone)
    img = base[None, None, :] * tone[..., None]
    if vertical:
        img = img.transpose(1, 0, 2)
    img = cv2.resize(np.ascontiguousarray(img), (w, h), interpolation=cv2.INTER_LINEAR)
    angle = float(rng.uniform(-8, 8))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT)


def _weave(rng: np.random.Generator, h: int, w: int, period: float, amount: float) -> np.ndarray:
    """A fine woven texture (h, w) around 1.0: crossing threads with irregular thickness."""
    xs = np.arange(w, dtype=np.float32)
    ys = np.arange(h, dtype=np.float32)
    wx = np.sin(2 * np.pi * xs / period)
    wy = np.sin(2 * np.pi * ys / period)
    row_noise = rng.normal(0, 0.5, h).astype(np.float32)
    col_noise = rng.normal(0, 0.5, w).astype(np.float32)
    pattern = np.outer(wy, wx) + 0.5 * row_noise[:, None] + 0.5 * col_noise[None, :]
    return 1 + pattern * amount


def _fabric_desk(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    colour = np.array(_jitter(rng, ((60, 80, 120), (110, 110, 112), (40, 90, 60), (200, 190, 170), (150, 40, 45),
                                    (70, 60, 90))[int(rng.integers(6))], 12)[::-1], np.float32)
    weave = _weave(rng, h, w, float(rng.uniform(3, 6)) * h / 720, float(rng.uniform(0.05, 0.12)))
    folds = 1 + (_smooth_noise(rng, h // 8, w // 8, 20) - 0.5) * float(rng.uniform(0.1, 0.3))
    speck = cv2.resize(rng.random((h // 2, w // 2)).astype(np.float32), (w, h)) - 0.5
    tone = weave * cv2.resize(folds, (w, h)) + speck * 0.08
    return colour[None, None, :] * tone[..., None]


def _tablecloth_desk(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    hs, ws = h // 2, w // 2
    ground = np.array(_jitter(rng, ((244, 242, 236), (230, 226, 210), (250, 250, 250))[int(rng.integers(3))], 8)[::-1],
                      np.float32)
    ink = np.array(_jitter(rng, ((200, 40, 40), (40, 70, 160), (50, 130, 70), (230, 170, 40), (120, 60, 140))[
        int(rng.integers(5))], 15)[::-1], np.float32)
    angle = float(rng.uniform(-0.25, 0.25))
    ys, xs = np.mgrid[0:hs, 0:ws].astype(np.float32)
    u = xs * math.cos(angle) + ys * math.sin(angle)
    v = -xs * math.sin(angle) + ys * math.cos(angle)
    period = float(rng.uniform(18, 60))
    style = int(rng.integers(3))
    if style == 0:  # stripes
        alpha = ((u % period) < period * float(rng.uniform(0.3, 0.5))).astype(np.float32)
    elif style == 1:  # gingham checks
        a = ((u % period) < period / 2).astype(np.float32)
        b = ((v % period) < period / 2).astype(np.float32)
        alpha = 0.45 * a + 0.45 * b + 0.1 * a * b
    else:  # dots
        du = (u % period) - period / 2
        dv = (v % period) - period / 2
        alpha = (np.hypot(du, dv) < period * float(rng.uniform(0.15, 0.3))).astype(np.float32)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 0.7)
    img = ground[None, None, :] * (1 - alpha[..., None]) + ink[None, None, :] * alpha[..., None]
    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)
    weave = _weave(rng, h, w, float(rng.uniform(2.5, 4)) * h / 720, 0.04)
    folds = cv2.resize(1 + (_smooth_noise(rng, h // 8, w // 8, 18) - 0.5) * 0.12, (w, h))
    return img * (weave * folds)[..., None]


# --------------------------------------------------------------------------------------------------
# Desk objects (drawn on a uint8 BGR desk, each with a soft shadow)


def _rot(points: np.ndarray, angle: float, centre: tuple[float, float]) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, -s], [s, c]], np.float32)
    return points @ rot.T + np.array(centre, np.float32)


def _draw_pen(img: np.ndarray, rng: np.random.Generator, centre: tuple[float, float], ppm: float,
              shadow: np.ndarray) -> None:
    length, width = float(rng.uniform(130, 150)) * ppm, float(rng.uniform(8, 11)) * ppm
    angle = float(rng.uniform(0, math.pi))
    body = _jitter(rng, ((30, 30, 180), (200, 60, 20), (20, 20, 20), (240, 240, 240), (40, 140, 40))[
        int(rng.integers(5))], 20)
    ends = _rot(np.array([[-length / 2, 0], [length / 2, 0]], np.float32), angle, centre)
    p0, p1 = (tuple(int(v) for v in ends[0]), tuple(int(v) for v in ends[1]))
    off = (int(width * 0.4), int(width * 0.6))
    cv2.line(shadow, (p0[0] + off[0], p0[1] + off[1]), (p1[0] + off[0], p1[1] + off[1]), 255, int(width), cv2.LINE_AA)
    cv2.line(img, p0, p1, body, max(2, int(width)), cv2.LINE_AA)
    tip = _rot(np.array([[length / 2, 0], [length / 2 + width * 1.5, 0]], np.float32), angle, centre)
    cv2.line(img, tuple(int(v) for v in tip[0]), tuple(int(v) for v in tip[1]), (160, 160, 165),
             max(1, int(width * 0.5)), cv2.LINE_AA)
    clip = _rot(np.array([[-length / 2 + width, width * 0.5], [-length / 2 + length * 0.35, width * 0.5]], np.float32),
                angle, centre)
    cv2.line(img, tuple(int(v) for v in clip[0]), tuple(int(v) for v in clip[1]), (190, 190, 195),
             max(1, int(width * 0.3)), cv2.LINE_AA)
    hl = _rot(np.array([[-length / 2 + width, -width * 0.2], [length / 2 - width, -width * 0.2]], np.float32), angle,
              centre)
    lighter = tuple(min(255, int(c) + 60) for c in body)
    cv2.line(img, tuple(int(v) for v in hl[0]), tuple(int(v) for v in hl[1]), lighter, max(1, int(width * 0.15)),
             cv2.LINE_AA)


def _draw_phone(img: np.ndarray, rng: np.random.Generator, centre: tuple[float, float], ppm: float,
                shadow: np.ndarray) -> None:
    pw, ph = 72 * ppm, 150 * ppm
    angle = float(rng.uniform(0, math.pi))
    corners = np.array([[-pw / 2, -ph / 2], [pw / 2, -ph / 2], [pw / 2, ph / 2], [-pw / 2, ph / 2]], np.float32)
    quad = _rot(corners, angle, centre)
    off = np.array([pw * 0.06, pw * 0.09], np.float32)
    cv2.fillConvexPoly(shadow, (quad + off).astype(np.int32), 255, cv2.LINE_AA)
    body = _jitter(rng, ((24, 24, 28), (200, 200, 205), (40, 50, 70))[int(rng.integers(3))], 10)
    cv2.fillConvexPoly(img, quad.astype(np.int32), body, cv2.LINE_AA)
    screen = _rot(corners * np.array([0.9, 0.93], np.float32), angle, centre)
    cv2.fillConvexPoly(img, screen.astype(np.int32), (18, 16, 14), cv2.LINE_AA)
    glint = _rot(np.array([[-pw * 0.4, -ph * 0.1], [pw * 0.4, -ph * 0.4]], np.float32), angle, centre)
    cv2.line(img, tuple(int(v) for v in glint[0]), tuple(int(v) for v in glint[1]), (48, 46, 44),
             max(1, int(pw * 0.2)), cv2.LINE_AA)


def _draw_keys(img: np.ndarray, rng: np.random.Generator, centre: tuple[float, float], ppm: float,
               shadow: np.ndarray) -> None:
    metal = _jitter(rng, ((150, 150, 155), (70, 160, 190))[int(rng.integers(2))], 10)
    ring_r = int(12 * ppm)
    c = (int(centre[0]), int(centre[1]))
    thick = max(1, int(1.5 * ppm))
    cv2.circle(shadow, (c[0] + thick * 2, c[1] + thick * 3), ring_r, 255, thick, cv2.LINE_AA)
    cv2.circle(img, c, ring_r, metal, thick, cv2.LINE_AA)
    for _ in range(int(rng.integers(1, 4))):
        angle = float(rng.uniform(0, 2 * math.pi))
        col = _jitter(rng, metal, 20)
        # A key along +x from the ring: a rounded head with a hole, a blade with cut teeth.
        head_len, head_w = 24.0, 22.0
        blade_len, blade_w = 38.0, 8.0
        x0 = ring_r / ppm - 3.0
        teeth = [(x0 + head_len + 4 + k * 5.0, -blade_w / 2 - float(rng.uniform(1.0, 3.5))) for k in range(6)]
        outline = np.array([
            [x0 + head_len, -blade_w / 2], *teeth, [x0 + head_len + blade_len - 3, -blade_w / 2],
            [x0 + head_len + blade_len, 0.0], [x0 + head_len + blade_len, blade_w / 2],
            [x0 + head_len, blade_w / 2],
        ], np.float32) * ppm
        blade = _rot(outline, angle, centre).astype(np.int32)
        head_c = _rot(np.array([[x0 + head_len / 2, 0.0]], np.float32) * ppm, angle, centre)[0]
        axes = (int(head_len / 2 * ppm), int(head_w / 2 * ppm))
        hc = (int(head_c[0]), int(head_c[1]))
        off = np.array([thick * 2, thick * 3], np.int32)
        cv2.fillPoly(shadow, [blade + off], 255, cv2.LINE_AA)
        cv2.ellipse(shadow, (hc[0] + int(off[0]), hc[1] + int(off[1])), axes, math.degrees(angle), 0, 360, 255, -1,
                    cv2.LINE_AA)
        cv2.fillPoly(img, [blade], col, cv2.LINE_AA)
        cv2.ellipse(img, hc, axes, math.degrees(angle), 0, 360, col, -1, cv2.LINE_AA)
        darker = tuple(max(0, v - 45) for v in col)
        cv2.ellipse(img, hc, axes, math.degrees(angle), 0, 360, darker, max(1, int(0.8 * ppm)), cv2.LINE_AA)
        hole = _rot(np.array([[x0 + 4.0, 0.0]], np.float32) * ppm, angle, centre)[0]
        cv2.circle(img, (int(hole[0]), int(hole[1])), max(1, int(2.5 * ppm)), darker, -1, cv2.LINE_AA)
        groove = _rot(np.array([[x0 + head_len + 2, 0.0], [x0 + head_len + blade_len - 4, 0.0]], np.float32) * ppm,
                      angle, centre).astype(np.int32)
        cv2.line(img, tuple(int(v) for v in groove[0]), tuple(int(v) for v in groove[1]), darker,
                 max(1, int(1.0 * ppm)), cv2.LINE_AA)


def _draw_cup_ring(img: np.ndarray, rng: np.random.Generator, centre: tuple[float, float], ppm: float,
                   shadow: np.ndarray) -> None:
    r = int(float(rng.uniform(36, 45)) * ppm)
    layer = img.copy()
    cv2.circle(layer, (int(centre[0]), int(centre[1])), r, (40, 70, 110), max(1, int(2.5 * ppm)), cv2.LINE_AA)
    alpha = float(rng.uniform(0.25, 0.45))
    cv2.addWeighted(layer, alpha, img, 1 - alpha, 0, dst=img)
    del shadow  # a stain casts no shadow


def _draw_coin(img: np.ndarray, rng: np.random.Generator, centre: tuple[float, float], ppm: float,
               shadow: np.ndarray) -> None:
    r = int(float(rng.uniform(10, 13)) * ppm)
    c = (int(centre[0]), int(centre[1]))
    cv2.circle(shadow, (c[0] + 2, c[1] + 3), r, 255, -1, cv2.LINE_AA)
    col = _jitter(rng, ((170, 170, 175), (60, 150, 200))[int(rng.integers(2))], 15)
    cv2.circle(img, c, r, col, -1, cv2.LINE_AA)
    cv2.circle(img, c, int(r * 0.8), tuple(max(0, v - 40) for v in col), max(1, r // 10), cv2.LINE_AA)


_OBJECTS = (_draw_pen, _draw_phone, _draw_keys, _draw_cup_ring, _draw_coin, _draw_pen)
# How far each object reaches from its centre, in mm.
_REACH_MM = (75.0, 82.0, 75.0, 46.0, 13.0, 75.0)


@lru_cache(maxsize=1)
def _noise_bank() -> np.ndarray:
    """A fixed block of unit gaussian noise (float32), from which each frame takes a random window."""
    bank = np.random.default_rng(20240917).standard_normal((1400, 2400, 3), dtype=np.float32)
    bank += np.random.default_rng(20240918).standard_normal((1400, 2400, 1), dtype=np.float32) * 0.6
    return bank


def _noise(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Unit noise (h, w, 3) float32 with a luma part shared by the channels: a window of the bank."""
    bank = _noise_bank()
    y = int(rng.integers(0, bank.shape[0] - h + 1))
    x = int(rng.integers(0, bank.shape[1] - w + 1))
    return bank[y : y + h, x : x + w]


# --------------------------------------------------------------------------------------------------
# Geometry


def _quad(w: float, h: float, angle: float, keystone: float, key_axis: int, jitter: np.ndarray) -> np.ndarray:
    """Corners (TL, TR, BR, BL) of a w x h rectangle centred at the origin, keystoned, jittered and rotated."""
    pts = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]], np.float32)
    if key_axis == 0:  # top edge narrower or wider than the bottom edge
        pts[:, 0] *= np.array([1 - keystone, 1 - keystone, 1 + keystone, 1 + keystone], np.float32)
    else:
        pts[:, 1] *= np.array([1 - keystone, 1 + keystone, 1 + keystone, 1 - keystone], np.float32)
    pts += jitter * np.array([w, h], np.float32)
    return _rot(pts, angle, (0.0, 0.0))


def _area(quad: np.ndarray) -> float:
    return float(abs(cv2.contourArea(quad.astype(np.float32))))


def _inside_area(quad: np.ndarray, w: int, h: int) -> float:
    frame = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    area, _ = cv2.intersectConvexConvex(quad.astype(np.float32), frame)
    return float(area)


# --------------------------------------------------------------------------------------------------
# The scene builder


class _Builder:
    """Builds one frame: desk, objects, document, light, camera."""

    def __init__(self, rng: np.random.Generator, kind: str, desk: str, condition: str) -> None:
        self.rng = rng
        self.kind = kind
        self.desk = desk
        self.condition = condition
        # Mostly 720p, some 1080p and some 4:3 frames. The 4:3 ones are 960x720, not 640x480: the
        # contract rejects stills whose short side is under 540 px (low_resolution) whatever they show.
        r = rng.random()
        self.w, self.h = (1280, 720) if r < 0.7 else (1920, 1080) if r < 0.85 else (960, 720)
        self.doc_quad: np.ndarray | None = None  # set by build()
        self.s = self.h / 720  # scale of blur and noise lengths relative to a 720p frame

    # -- placement ---------------------------------------------------------------------------------

    def _place(self) -> np.ndarray:
        rng, w, h = self.rng, self.w, self.h
        wmm, hmm = _SIZES_MM[self.kind]
        aspect = wmm / hmm
        angle = math.radians(float(rng.uniform(-20, 20)))
        keystone = float(rng.uniform(-0.06, 0.06))
        key_axis = int(rng.integers(2))
        jitter = rng.uniform(-0.015, 0.015, (4, 2)).astype(np.float32)
        if self.condition == "document_too_small":
            coverage = float(rng.uniform(0.025, 0.075))
        elif self.condition == "document_cut_off":
            coverage = float(rng.uniform(0.2, 0.6))
        else:
            coverage = float(rng.uniform(0.17, 0.7))
        area = coverage * w * h
        dh = math.sqrt(area / aspect)
        quad = _quad(dh * aspect, dh, angle, keystone, key_axis, jitter)
        quad *= math.sqrt(area / _area(quad))
        if self.condition == "document_cut_off":
            return self._cut_off(quad)
        mx, my = 0.04 * w, 0.04 * h
        for _ in range(8):
            span = quad.max(0) - quad.min(0)
            fit = min((w - 2 * mx) / span[0], (h - 2 * my) / span[1])
            if fit >= 1:
                break
            if _area(quad) * fit * fit / (w * h) >= 0.17:
                quad *= fit * 0.98
                break
            angle *= 0.5  # too large to fit at this angle: straighten it, then try again
            quad = _quad(dh * aspect, dh, angle, keystone, key_axis, jitter)
            quad *= math.sqrt(area / _area(quad))
        else:
            span = quad.max(0) - quad.min(0)
            quad *= min((w - 2 * mx) / span[0], (h - 2 * my) / span[1]) * 0.98
        lo = -quad.min(0) + np.array([mx, my], np.float32)
        hi = np.array([w - mx, h - my], np.float32) - quad.max(0)
        centre = lo + (hi - lo) * rng.uniform(0.1, 0.9, 2).astype(np.float32)
        return quad + centre

    def _cut_off(self, quad: np.ndarray) -> np.ndarray:
        rng, w, h = self.rng, self.w, self.h
        target = float(rng.uniform(0.17, 0.43))
        full = _area(quad)
        corner = rng.random() < 0.3
        if corner:
            direction = np.array([rng.choice([-1.0, 1.0]) * w, rng.choice([-1.0, 1.0]) * h], np.float32)
        else:
            side = int(rng.integers(4))
            direction = np.array([[1, 0], [-1, 0], [0, 1], [0, -1]][side], np.float32) * np.array([w, h], np.float32)
        direction /= float(np.linalg.norm(direction))
        # Start from a centre where the document fits across the other axis when it can.
        centre = np.array([w / 2, h / 2], np.float32)
        perp = np.array([-direction[1], direction[0]], np.float32)
        if not corner:
            span = float(np.abs(quad @ perp).max())
            room = max(0.0, (w if abs(perp[0]) > 0.5 else h) / 2 - span - 0.05 * h)
            centre += perp * float(rng.uniform(-room, room))
        lo, hi = 0.0, float(w + h)
        for _ in range(30):
            mid = (lo + hi) / 2
            outside = 1 - _inside_area(quad + centre + direction * mid, w, h) / full
            if outside < target:
                lo = mid
            else:
                hi = mid
        return quad + centre + direction * (lo + hi) / 2

    # -- desk --------------------------------------------------------------------------------------

    def _desk(self) -> np.ndarray:
        rng, h, w = self.rng, self.h, self.w
        kind = self.desk
        if kind in ("clutter", "second_card"):
            kind = ("plain", "wood", "fabric")[int(rng.integers(3))]
        if kind == "plain":
            img = _plain_desk(rng, h, w)
        elif kind == "wood":
            img = _wood_desk(rng, h, w)
        elif kind == "fabric":
            img = _fabric_desk(rng, h, w)
        else:
            img = _tablecloth_desk(rng, h, w)
        return np.clip(img, 0, 255).astype(np.uint8)

    def _objects(self, desk: np.ndarray, doc: np.ndarray | None, ppm: float) -> None:
        rng, h, w = self.rng, self.h, self.w
        shadow = np.zeros((h, w), np.uint8)
        count = int(rng.integers(2, 5))
        lo = doc.min(0) if doc is not None else np.zeros(2, np.float32)
        hi = doc.max(0) if doc is not None else np.zeros(2, np.float32)
        for k in range(count):
            index = int(rng.integers(len(_OBJECTS))) if k else int(rng.integers(3))
            draw, reach = _OBJECTS[index], _REACH_MM[index] * ppm
            best, best_gap = (w / 2, h / 2), -math.inf
            for _ in range(40):
                c = (float(rng.uniform(-0.08, 1.08)) * w, float(rng.uniform(-0.08, 1.08)) * h)
                if doc is None:
                    best, best_gap = c, math.inf
                    break
                # Distance from the document's box: objects lie around the document, at most a
                # little of them under it.
                gap = math.hypot(max(lo[0] - c[0], c[0] - hi[0], 0.0), max(lo[1] - c[1], c[1] - hi[1], 0.0))
                if gap > best_gap:
                    best, best_gap = c, gap
                if gap >= 0.75 * reach:
                    break
            if best_gap >= 0.6 * reach or k == 0:
                draw(desk, rng, best, ppm, shadow)
        if shadow.any():
            small = cv2.resize(shadow, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
            small = cv2.GaussianBlur(small, (0, 0), 2.0)
            soft = cv2.resize(small, (w, h)).astype(np.float32) / 255
            np.copyto(desk, (desk.astype(np.float32) * (1 - 0.35 * soft[..., None])).astype(np.uint8))

    def _second_card(self, doc: np.ndarray, ppm: float) -> tuple[np.ndarray, np.ndarray]:
        """Another card beside the document, touching it or partly under it: (texture BGR, quad)."""
        rng = self.rng
        cw, ch = 85.6 * ppm, 54.0 * ppm
        other = ("bank_card_light", "bank_card_dark", "social_card", "id_back", "id_front")[int(rng.integers(5))]
        tex = render_document(rng, other, int(np.clip(cw * 1.1, 120, 900)))
        quad = _quad(cw, ch, float(rng.uniform(-0.6, 0.6)), float(rng.uniform(-0.04, 0.04)), int(rng.integers(2)),
                     rng.uniform(-0.01, 0.01, (4, 2)).astype(np.float32))
        # A point on one of the document's sides, and the outward normal there: the card lies
        # beyond that side, from partly under the document to just touching it.
        side = int(rng.integers(4))
        a, b = doc[side], doc[(side + 1) % 4]
        point = a + (b - a) * float(rng.uniform(0.2, 0.8))
        normal = np.array([(b - a)[1], -(b - a)[0]], np.float32)
        normal /= float(np.linalg.norm(normal))
        if float(np.dot(normal, doc.mean(0) - point)) > 0:
            normal = -normal
        half = float(np.abs(quad @ normal).max())
        return tex, quad + point + normal * half * float(rng.uniform(0.25, 0.97))

    # -- light and camera --------------------------------------------------------------------------

    def _light(self, doc: np.ndarray | None) -> np.ndarray:
        """The light field at 1/8 of the frame's size, float32 around 1 (before the exposure gain)."""
        rng, h, w = self.rng, self.h, self.w
        hs, ws = h // 8, w // 8
        ys, xs = np.mgrid[0:hs, 0:ws].astype(np.float32)
        xs /= ws
        ys /= hs
        field = np.ones((hs, ws), np.float32)
        angle = float(rng.uniform(0, 2 * math.pi))
        ramp = (xs - 0.5) * math.cos(angle) + (ys - 0.5) * math.sin(angle)
        field *= 1 + ramp * float(rng.uniform(0.0, 0.35))
        if rng.random() < 0.35 and self.condition not in ("too_dark", "too_bright", "glare"):
            # A soft shadow band (an arm, a lamp's post) across the page.
            c = (doc.mean(0) / np.array([w, h], np.float32)) if doc is not None else np.array([0.5, 0.5])
            c = c + rng.uniform(-0.15, 0.15, 2)
            a = float(rng.uniform(0, math.pi))
            dist = np.abs((xs - c[0]) * math.cos(a) + (ys - c[1]) * math.sin(a))
            width = float(rng.uniform(0.05, 0.15))
            soft = float(rng.uniform(0.03, 0.08))
            band = 1 / (1 + np.exp((dist - width) / soft))
            field *= 1 - band * float(rng.uniform(0.15, 0.32))
        r2 = ((xs - 0.5) ** 2 + (ys - 0.5) ** 2) / 0.5
        field *= 1 - r2 * float(rng.uniform(0.05, 0.3))
        return field

    def _glare(self, doc: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A compact specular reflection on the page: weights (h, w) of its clipped core and its halo."""
        rng, h, w = self.rng, self.h, self.w
        src = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
        hom = cv2.getPerspectiveTransform(src, doc.astype(np.float32))
        page = _area(doc)
        frac = float(rng.uniform(0.025, 0.09))
        ratio = float(rng.uniform(1.0, 1.8))
        a = math.sqrt(frac * page * ratio / math.pi)
        b = a / ratio
        # Keep the core inside the page: a centre in the middle of the page.
        uv = rng.uniform(0.3, 0.7, 2).astype(np.float32)
        centre = cv2.perspectiveTransform(uv.reshape(1, 1, 2), hom)[0, 0]
        theta = float(rng.uniform(0, math.pi))
        halo = a * float(rng.uniform(0.6, 1.2))
        x0, x1 = int(max(0, centre[0] - a - 3 * halo)), int(min(w, centre[0] + a + 3 * halo))
        y0, y1 = int(max(0, centre[1] - a - 3 * halo)), int(min(h, centre[1] + a + 3 * halo))
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        dx, dy = xs - centre[0], ys - centre[1]
        u = (dx * math.cos(theta) + dy * math.sin(theta)) / a
        v = (-dx * math.sin(theta) + dy * math.cos(theta)) / b
        rn = np.sqrt(u * u + v * v)
        # The core saturates the sensor (its edge anti-aliased over ~1.5 px); the halo around it
        # brightens the page toward white without reaching it, so the clipped area is the core's.
        core = np.clip((1 - rn) * a / 1.5 + 0.5, 0, 1)
        excess = np.maximum(rn - 1, 0) * a
        glow = 0.85 * np.exp(-((excess / halo) ** 2) * 2.5) * (1 - core)
        core_map = np.zeros((h, w), np.float32)
        glow_map = np.zeros((h, w), np.float32)
        core_map[y0:y1, x0:x1] = core
        glow_map[y0:y1, x0:x1] = glow
        return core_map * mask, glow_map * mask

    def build(self) -> np.ndarray:
        """The finished BGR uint8 frame."""
        rng, h, w, s = self.rng, self.h, self.w, self.s
        has_doc = self.condition != "no_document"
        desk = self._desk()
        doc_quad: np.ndarray | None = None
        if has_doc:
            doc_quad = self._place()
            self.doc_quad = doc_quad.astype(np.float32)
            wmm, hmm = _SIZES_MM[self.kind]
            top, right = doc_quad[1] - doc_quad[0], doc_quad[2] - doc_quad[1]
            ppm = float((np.linalg.norm(top) / wmm + np.linalg.norm(right) / hmm) / 2)
        else:
            ppm = float(rng.uniform(2.0, 5.0)) * s
        if self.desk == "clutter" or (not has_doc and rng.random() < 0.35):
            self._objects(desk, doc_quad, ppm)
        frame = desk.astype(np.float32) / 255
        mask = np.zeros((h, w), np.float32)
        if doc_quad is not None:
            if self.desk == "second_card":
                tex, quad = self._second_card(doc_quad, ppm)
                frame, _ = self._lay(frame, tex, quad, "other_card", shadow=True)
            long_side = float(max(np.linalg.norm(doc_quad[1] - doc_quad[0]), np.linalg.norm(doc_quad[2] - doc_quad[1]),
                                  np.linalg.norm(doc_quad[3] - doc_quad[2]), np.linalg.norm(doc_quad[0] - doc_quad[3])))
            tex = render_document(rng, self.kind, int(np.clip(long_side * 1.15, 360, 1500)))
            tex = self._surface(tex)
            frame, mask = self._lay(frame, tex, doc_quad, self.kind, shadow=True)
        return self._camera(frame, doc_quad, mask)

    def _surface(self, tex: np.ndarray) -> np.ndarray:
        """Glossy kinds get a gentle sheen: a broad brightening band across the card."""
        if self.kind not in _GLOSSY or self.rng.random() < 0.3:
            return tex
        th, tw = tex.shape[:2]
        ys, xs = np.mgrid[0:th:4, 0:tw:4].astype(np.float32)
        a = float(self.rng.uniform(0, math.pi))
        d = (xs / tw - 0.5) * math.cos(a) + (ys / th - 0.5) * math.sin(a) - float(self.rng.uniform(-0.3, 0.3))
        sheen = np.exp(-((d / 0.3) ** 2)) * float(self.rng.uniform(5, 14))
        sheen = cv2.resize(sheen, (tw, th))
        return np.clip(tex.astype(np.float32) + sheen[..., None], 0, 255).astype(np.uint8)

    def _lay(self, frame: np.ndarray, tex: np.ndarray, quad: np.ndarray, kind: str,
             shadow: bool) -> tuple[np.ndarray, np.ndarray]:
        """Lay the texture on the frame over ``quad`` with a soft contact shadow; returns (frame, mask)."""
        h, w = self.h, self.w
        th, tw = tex.shape[:2]
        long_side = float(max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[1])))
        if max(th, tw) > long_side * 1.4:
            f = long_side * 1.15 / max(th, tw)
            tex = cv2.resize(tex, (max(4, round(tw * f)), max(4, round(th * f))), interpolation=cv2.INTER_AREA)
            th, tw = tex.shape[:2]
        src = np.array([[0, 0], [tw, 0], [tw, th], [0, th]], np.float32)
        hom = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
        # Only warp the frame's region that the quad covers.
        x0, y0 = np.floor(np.clip(quad.min(0) - 2, 0, [w, h])).astype(int)
        x1, y1 = np.ceil(np.clip(quad.max(0) + 2, 0, [w, h])).astype(int)
        mask = np.zeros((h, w), np.float32)
        if x1 <= x0 or y1 <= y0:
            return frame, mask
        shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64)
        hom_roi = shift @ hom
        size = (int(x1 - x0), int(y1 - y0))
        warped = cv2.warpPerspective(tex, hom_roi, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        alpha_tex = _card_alpha(th, tw, kind)
        alpha = cv2.warpPerspective(alpha_tex, hom_roi, size, flags=cv2.INTER_LINEAR, borderValue=0.0)
        mask[y0:y1, x0:x1] = alpha
        if shadow:
            # A soft contact shadow, offset from the object, computed on a quarter-size region.
            rng = self.rng
            off = rng.uniform(0.003, 0.012, 2) * w * rng.choice([-1.0, 1.0], 2)
            blur = float(rng.uniform(1.0, 3.0))
            pad = int(abs(off).max() + 4 * blur * 4 + 8)
            sx0, sy0, sx1, sy1 = max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad)
            region = mask[sy0:sy1, sx0:sx1]
            rw, rh = max(1, (sx1 - sx0) // 4), max(1, (sy1 - sy0) // 4)
            small = cv2.resize(region, (rw, rh), interpolation=cv2.INTER_AREA)
            m = np.array([[1, 0, off[0] / 4], [0, 1, off[1] / 4]], np.float32)
            small = cv2.warpAffine(small, m, (rw, rh))
            small = cv2.GaussianBlur(small, (0, 0), blur)
            soft = cv2.resize(small, (sx1 - sx0, sy1 - sy0))
            dark = 1 - float(rng.uniform(0.15, 0.4)) * soft
            region3 = frame[sy0:sy1, sx0:sx1]
            region3[:] = cv2.multiply(region3, cv2.merge([dark, dark, dark]))
        roi = frame[y0:y1, x0:x1]
        roi[:] = cv2.blendLinear(roi, warped.astype(np.float32) * np.float32(1 / 255), 1 - alpha, alpha)
        return frame, mask

    def _camera(self, frame: np.ndarray, doc: np.ndarray | None, mask: np.ndarray) -> np.ndarray:
        rng, h, w, s = self.rng, self.h, self.w, self.s
        cond = self.condition
        light = self._light(doc)
        if cond == "too_dark":
            light = light / float(light.max())
        temp = float(rng.uniform(-1, 1))
        tint = np.array([1 - 0.1 * temp, 1.0, 1 + 0.1 * temp], np.float32)  # B, G, R: warm when temp > 0
        tint /= float(tint.max())
        gamma = float(rng.uniform(0.85, 1.2))
        if cond == "too_dark":
            # Paper (albedo ~0.9-0.95) ends at 30-68 grey after the gamma.
            target = float(rng.uniform(30, 68)) / 255
            gain = target**gamma / 0.95
        elif cond == "glare":
            gain = float(rng.uniform(0.75, 1.0))
        elif cond == "too_bright":
            gain = float(rng.uniform(1.2, 1.6))
        else:
            gain = float(rng.uniform(0.6, 1.3))
        small = light[..., None] * (tint * np.float32(gain))
        frame = cv2.multiply(frame, cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR))
        if cond == "glare" and doc is not None:
            core, glow = self._glare(doc, mask)
            frame = frame + cv2.multiply(1.6 - frame, cv2.merge([core] * 3))
            frame = frame + cv2.multiply(1.0 - np.minimum(frame, 1.0), cv2.merge([glow] * 3))
        # Optics: a little softness on good frames, strong blur on blurry ones, a smear's diffusion.
        if cond == "blurry":
            if rng.random() < 0.5:
                sigma = float(rng.uniform(3.6, 7.0)) * s
                frame = cv2.GaussianBlur(frame, (0, 0), sigma)
            else:
                frame = self._motion(frame, float(rng.uniform(15, 32)) * s)
        else:
            sigma = float(rng.uniform(0.0, 0.6)) * s
            if sigma > 0.2:
                frame = cv2.GaussianBlur(frame, (0, 0), sigma)
        if cond == "low_contrast":
            # A smeared lens: a flat light veil over the whole picture (its grey given after the gamma).
            veil = (float(rng.uniform(140, 190)) / 255) ** gamma
            strength = float(rng.uniform(0.75, 0.9))
            frame = cv2.GaussianBlur(frame, (0, 0), 1.0 * s)
            frame = frame * (1 - strength) + veil * strength
        elif cond == "too_bright":
            # Washed out: everything pushed toward white, the print only a light grey.
            keep = float(rng.uniform(0.08, 0.22))
            frame = 1 - (1 - np.clip(frame, 0, 1)) * keep
        # Sensor noise (stronger in the highlights: shot noise), then the sensor's saturation, so
        # clipped highlights stay flat at full scale, then the tone curve.
        sigma_n = float(rng.uniform(1.0, 6.0)) / 255
        noise = _noise(rng, h, w)
        frame = cv2.scaleAdd(noise, 0.5 * sigma_n, frame + cv2.multiply(noise, frame, scale=0.8 * sigma_n))
        np.clip(frame, 0, 1, out=frame)
        frame = cv2.pow(frame, 1 / gamma)
        out = cv2.convertScaleAbs(frame, alpha=255.0)
        if rng.random() < 0.5:
            quality = int(rng.integers(60, 96))
            ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
            decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
            if decoded is not None:
                out = decoded
        return out

    def _motion(self, frame: np.ndarray, length: float) -> np.ndarray:
        size = math.ceil(length) | 1
        kernel = np.zeros((size, size), np.float32)
        angle = float(self.rng.uniform(0, math.pi))
        c = size / 2 - 0.5
        dx, dy = math.cos(angle) * length / 2, math.sin(angle) * length / 2
        cv2.line(kernel, (round((c - dx) * 16), round((c - dy) * 16)), (round((c + dx) * 16), round((c + dy) * 16)),
                 1.0, 1, cv2.LINE_AA, shift=4)
        kernel /= float(kernel.sum())
        return cv2.filter2D(frame, -1, kernel, borderType=cv2.BORDER_REFLECT)
