"""A small set of document scenes drawn by other means than the broad generator (world.py).

Plain OpenCV shapes and Hershey fonts instead of the generator's rendered Chinese documents, its
desks, lights and camera model: a dense form grid, a deep red register cover, a green card on a
dark desk and on a checked cloth, a page with a large dark photograph, a white card; each also
with a thumb over its edge, and three of them under dim light. And the same pages made bad in
simple, obvious ways (a lamp's spot, defocus, shake, dark, washed out, cut off, far away, no
page). The analyser was not tuned on
them: they check that its verdicts do not hang on the generator's way of drawing.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

W, H = 1280, 720


@dataclass(frozen=True)
class DrawnScene:
    """One drawn camera frame (BGR, 1280x720) and the reason expected ("ok" for a good one)."""

    name: str
    image: np.ndarray
    expected: str


def _desk(kind: str) -> np.ndarray:
    if kind == "grey":
        return np.full((H, W, 3), (128, 132, 135), np.uint8)
    if kind == "dark":
        return np.full((H, W, 3), (40, 42, 45), np.uint8)
    if kind == "wood":
        x = np.arange(W)[None, :] + 15 * np.sin(np.arange(H)[:, None] / 40.0)
        v = 110 + 25 * np.sin(x / 9.0) + 10 * np.sin(x / 3.1)
        return np.stack([v * 0.55, v * 0.8, v * 1.1], -1).clip(0, 255).astype(np.uint8)
    yy, xx = np.mgrid[0:H, 0:W]  # a checked tablecloth
    c = (((xx // 40) + (yy // 40)) % 2).astype(np.float32)
    return np.stack([150 + 60 * c, 90 + 40 * c, 80 + 30 * c], -1).astype(np.uint8)


def _text(page: np.ndarray, text: str, at: tuple[int, int], size: float, colour: tuple[int, int, int],
          thick: int, font: int = cv2.FONT_HERSHEY_SIMPLEX) -> None:
    cv2.putText(page, text, at, font, size, colour, thick, cv2.LINE_AA)


def _page(kind: str) -> np.ndarray:
    if kind == "form":
        p = np.full((990, 700, 3), 245, np.uint8)
        for y in range(120, 900, 45):
            cv2.line(p, (50, y), (650, y), (20, 20, 20), 2)
        for x in (50, 250, 450, 650):
            cv2.line(p, (x, 120), (x, 885), (20, 20, 20), 2)
        _text(p, "APPLICATION FORM", (120, 80), 1.4, (10, 10, 10), 3)
        for y in range(150, 880, 45):
            _text(p, "Name  Zhang San 1955", (60, y + 25), 0.6, (30, 30, 30), 1)
        return p
    if kind == "red_cover":
        p = np.full((880, 620, 3), (30, 30, 150), np.uint8)
        _text(p, "HUKOU", (150, 300), 2.5, (60, 190, 230), 4, cv2.FONT_HERSHEY_TRIPLEX)
        cv2.circle(p, (310, 550), 90, (60, 190, 230), 4)
        return p
    if kind == "green_card":
        p = np.full((540, 856, 3), (70, 120, 30), np.uint8)
        cv2.rectangle(p, (60, 200), (160, 280), (40, 180, 220), -1)
        _text(p, "SOCIAL SECURITY 3101 0619 5501", (60, 400), 1.0, (240, 240, 240), 2)
        _text(p, "SHANGHAI", (60, 120), 1.6, (240, 240, 240), 3)
        return p
    if kind == "photo_page":
        p = np.full((990, 700, 3), 240, np.uint8)
        cv2.rectangle(p, (60, 80), (640, 520), (60, 70, 90), -1)
        cv2.circle(p, (350, 300), 120, (120, 150, 190), -1)
        for y in range(580, 940, 35):
            _text(p, "Certificate of residence No 2026", (60, y), 0.8, (20, 20, 20), 2)
        return p
    p = np.full((540, 856, 3), 250, np.uint8)  # a white bank card
    _text(p, "BANK 6222 0210 0112 3456", (60, 330), 1.3, (60, 60, 60), 2)
    cv2.rectangle(p, (60, 150), (170, 230), (40, 170, 210), -1)
    return p


def _place(desk: np.ndarray, page: np.ndarray, scale: float, angle: float, centre: tuple[float, float],
           thumb: bool = False) -> np.ndarray:
    """The page on the desk: turned, with a slight perspective and a soft shadow; thumb: a thumb
    over its lower edge, as a resident holding it."""
    h, w = page.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    sw, sh = w * scale, h * scale
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    cx, cy = centre
    corners = [[-sw / 2, -sh / 2], [sw / 2, -sh / 2], [sw / 2, sh / 2], [-sw / 2, sh / 2]]
    dst = np.float32([[cx + x * c - y * s, cy + x * s + y * c] for x, y in corners])
    dst[0][0] += 0.03 * sw  # the far edge a little shorter: a camera looking down at an angle
    dst[1][0] -= 0.03 * sw
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(page, matrix, (W, H))
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), matrix, (W, H))
    shadow = cv2.GaussianBlur(np.roll(mask, (8, 8), (0, 1)), (31, 31), 0).astype(np.float32) / 255 * 0.35
    out = (desk.astype(np.float32) * (1 - shadow[..., None])).astype(np.uint8)
    out[mask > 128] = warped[mask > 128]
    if thumb:
        x, y = dst[3]
        centre_thumb = (int(x + 0.3 * (dst[2][0] - x)), int(y))
        cv2.ellipse(out, centre_thumb, (45, 70), angle + 10, 0, 360, (120, 150, 200), -1)
    return out


def _camera(image: np.ndarray, rng: np.random.Generator, blur: float = 1.0, noise: float = 3.0,
            quality: int = 85) -> np.ndarray:
    """Optics, sensor noise and a JPEG round trip."""
    image = cv2.GaussianBlur(image, (0, 0), blur)
    image = np.clip(image.astype(np.float32) + rng.normal(0, noise, image.shape), 0, 255).astype(np.uint8)
    _, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(encoded, cv2.IMREAD_COLOR)


_GOOD = [
    ("form", "wood", 0.62, 4), ("form", "grey", 0.66, -3), ("red_cover", "grey", 0.7, 5),
    ("red_cover", "wood", 0.7, -6), ("green_card", "dark", 0.8, 3), ("green_card", "checks", 0.85, -4),
    ("photo_page", "grey", 0.66, 2), ("photo_page", "checks", 0.64, -5), ("white_card", "grey", 0.85, 6),
    ("white_card", "wood", 0.85, -2),
]


def drawn_scenes(seed: int = 7) -> list[DrawnScene]:
    """The 23 good scenes (each page on two desks, without and with a thumb; three under dim light)
    and 8 bad ones."""
    rng = np.random.default_rng(seed)
    scenes = []
    for page, desk, scale, angle in _GOOD:
        for thumb in (False, True):
            image = _camera(_place(_desk(desk), _page(page), scale, angle, (W / 2 + 20, H / 2), thumb), rng)
            scenes.append(DrawnScene(f"{page}_{desk}{'_thumb' if thumb else ''}", image, "ok"))
    # Dim light (0.45 of the above): still sharp and readable, only less contrast.
    for page, desk, scale, angle in (_GOOD[9], _GOOD[0], _GOOD[7]):
        lit = _place(_desk(desk), _page(page), scale, angle, (W / 2 + 20, H / 2))
        scenes.append(DrawnScene(f"{page}_{desk}_dim", _camera((lit * 0.45).astype(np.uint8), rng), "ok"))
    base = _place(_desk("grey"), _page("photo_page"), 0.66, 2, (W / 2 + 20, H / 2))
    yy, xx = np.mgrid[0:H, 0:W]
    spot = np.exp(-(((xx - 700) ** 2 + (yy - 500) ** 2) / (2 * 45.0 ** 2))) * 400
    bad = [
        ("lamp_spot", np.clip(base.astype(np.float32) + spot[..., None], 0, 255).astype(np.uint8), {}, "glare"),
        ("defocus", base, {"blur": 5.0}, "blurry"),
        ("shake", cv2.filter2D(base, -1, np.ones((1, 25), np.float32) / 25), {}, "blurry"),
        ("dark", (base * 0.12).astype(np.uint8), {"noise": 2.0}, "too_dark"),
        ("washed_out", np.clip(base.astype(np.float32) * 2.6, 0, 255).astype(np.uint8), {}, "too_bright"),
        ("cut_off", _place(_desk("wood"), _page("form"), 0.66, 2, (W / 2 + 20, H / 2 + 300)), {},
         "document_cut_off"),
        ("far_away", _place(_desk("wood"), _page("white_card"), 0.28, 5, (W / 2, H / 2)), {},
         "document_too_small"),
        ("no_page", _desk("checks"), {}, "no_document"),
    ]
    for name, image, optics, expected in bad:
        scenes.append(DrawnScene(name, _camera(image, rng, **optics), expected))
    return scenes
