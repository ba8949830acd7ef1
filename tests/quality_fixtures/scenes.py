"""Backgrounds, document placement with perspective, and ImageNet-C-style corruptions.

All randomness comes from the numpy Generator passed in, so a seed reproduces a scene exactly.
Corruption strengths are relative to the frame width, so 1280x720 and 1920x1080 frames look alike.
"""

from __future__ import annotations

import cv2
import numpy as np

from tests.quality_fixtures import codec

BACKGROUNDS = ("wood", "cloth", "desk", "pattern", "dark_mat")


def smooth_noise(rng: np.random.Generator, w: int, h: int, cells: int) -> np.ndarray:
    """Low-frequency noise in [0, 1]: random values on a coarse grid, upscaled smoothly."""
    small = rng.random((max(2, cells * h // w), cells)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def background(kind: str, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """A desk-like BGR background of the given kind, drawn at w x h.

    Textures are computed at half size and upscaled: 4x cheaper, and a desk slightly out of the
    focal plane is realistic anyway.
    """
    sw, sh = w // 2, h // 2
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32) * 2
    if kind == "wood":
        base = np.array(rng.uniform([40, 70, 110], [70, 110, 160]), np.float32)
        warp = smooth_noise(rng, sw, sh, 6) * 40
        grain = np.sin((yy + warp) / rng.uniform(5, 12) + np.sin(xx / 150.0)) * 0.5 + 0.5
        shade = 0.75 + 0.35 * grain
    elif kind == "cloth":
        base = np.array(rng.uniform([60, 40, 40], [160, 130, 120]), np.float32)
        period = rng.uniform(3, 6)
        shade = 0.8 + 0.3 * ((np.sin(xx / period) * np.sin(yy / period)) * 0.5 + 0.5)
    elif kind == "desk":
        base = np.full(3, rng.uniform(90, 150), np.float32)
        shade = 0.85 + 0.3 * smooth_noise(rng, sw, sh, 4)
        shade += rng.standard_normal((sh, sw), np.float32) * 0.05
    elif kind == "pattern":
        # A checked tablecloth: strong edges everywhere, the hard case for outline finding.
        c1 = np.array(rng.uniform(40, 120, 3), np.float32)
        c2 = np.array(rng.uniform(100, 170, 3), np.float32)
        size = float(rng.integers(w // 40, w // 16))
        checks = ((xx // size + yy // size) % 2)[:, :, None]
        small = np.clip(c1 * checks + c2 * (1 - checks), 0, 255).astype(np.uint8)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    else:  # dark_mat
        base = np.full(3, rng.uniform(25, 60), np.float32)
        shade = 1.0 + rng.standard_normal((sh, sw), np.float32) * 0.08
    small = cv2.merge([shade * float(c) for c in base])
    return cv2.resize(np.clip(small, 0, 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)


def add_distractors(img: np.ndarray, rng: np.random.Generator) -> None:
    """A cup and a pen: things on a desk that are not documents."""
    h, w = img.shape[:2]
    for _ in range(int(rng.integers(0, 3))):
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        if rng.random() < 0.5:
            cv2.circle(img, centre, int(rng.integers(h // 12, h // 6)), colour, -1, cv2.LINE_AA)
        else:
            end = (centre[0] + int(rng.integers(-w // 5, w // 5)), centre[1] + int(rng.integers(-h // 5, h // 5)))
            cv2.line(img, centre, end, colour, max(3, h // 80), cv2.LINE_AA)


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    cz, sz, cx, sx, cy, sy = np.cos(roll), np.sin(roll), np.cos(pitch), np.sin(pitch), np.cos(yaw), np.sin(yaw)
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    return ry @ rx @ rz


def target_corners(
    doc_w: int, doc_h: int, w: int, h: int, coverage: float, rng: np.random.Generator,
    *, cut_off: bool = False, max_turn: float = 12.0, max_tilt: float = 18.0,
) -> np.ndarray:
    """Where the document's corners (TL, TR, BR, BL) land in the frame.

    A physically consistent view: the flat document, turned up to max_turn degrees in its plane and
    tilted up to max_tilt degrees towards the camera, is projected by a pinhole camera with a 65-degree
    horizontal field of view and its principal point at the centre (a typical webcam). Its size
    gives about the requested share of the frame; unless cut_off it stays 4% inside the frame.
    """
    f = w / (2 * np.tan(np.deg2rad(65) / 2))
    centre = np.array([w / 2, h / 2])
    half = np.array([[-doc_w, -doc_h], [doc_w, -doc_h], [doc_w, doc_h], [-doc_w, doc_h]]) / 2
    plane = np.hstack([half, np.zeros((4, 1))])
    margin = np.array([w, h]) * 0.04
    for attempt in range(300):
        rot = _rotation(*np.deg2rad(rng.uniform(-max_tilt, max_tilt, 2)), np.deg2rad(rng.uniform(-max_turn, max_turn)))
        depth = f * np.sqrt(doc_w * doc_h / (coverage * w * h))
        target = rng.uniform([0.2 * w, 0.2 * h], [0.8 * w, 0.8 * h])
        if cut_off:
            side = int(rng.integers(0, 4))
            target = np.array([[w / 2, 0.0], [w, h / 2], [w / 2, h], [0.0, h / 2]][side])
            target += np.array([[0, 1], [-1, 0], [0, -1], [1, 0]][side]) * rng.uniform(0.05, 0.25) * \
                np.sqrt(coverage * w * h)
        shift = np.append((target - centre) * depth / f, depth)
        points = plane @ rot.T + shift
        pts = f * points[:, :2] / points[:, 2:3] + centre
        if cut_off:
            return pts.astype(np.float32)
        if (pts.min(axis=0) >= margin).all() and (pts.max(axis=0) <= np.array([w, h]) - margin).all():
            return pts.astype(np.float32)
        if attempt % 20 == 19:
            coverage *= 0.93  # too big to fit at this tilt: step back a little
    raise RuntimeError("could not place the document")


def place(frame: np.ndarray, doc: np.ndarray, corners: np.ndarray, rng: np.random.Generator) -> None:
    """Warp doc onto frame at corners, with a soft shadow and an anti-aliased outline."""
    h, w = frame.shape[:2]
    dh, dw = doc.shape[:2]
    src = np.array([[0, 0], [dw, 0], [dw, dh], [0, dh]], np.float32)
    m = cv2.getPerspectiveTransform(src, corners)
    # Bilinear warping of a solid mask anti-aliases the document's edge like a real photo.
    mask = np.full((dh, dw), 1.0, np.float32)
    alpha = cv2.warpPerspective(mask, m, (w, h), flags=cv2.INTER_LINEAR)
    warped = cv2.warpPerspective(doc, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # Shadow: the mask shifted down-right and blurred, computed at quarter size for speed.
    small = cv2.resize(alpha, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(np.roll(small, (h // 400 + 2, w // 500 + 2), axis=(0, 1)), (0, 0), w / 600)
    shadow = 1.0 - 0.35 * cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    shaded = cv2.multiply(frame, cv2.merge([shadow] * 3), dtype=cv2.CV_8U)
    frame[:] = cv2.blendLinear(warped, shaded, alpha, 1.0 - alpha)


def lighting(frame: np.ndarray, rng: np.random.Generator, gain: float) -> np.ndarray:
    """Uneven room light times an exposure gain."""
    h, w = frame.shape[:2]
    field = (0.88 + 0.2 * smooth_noise(rng, w, h, 3)) * gain
    return cv2.multiply(frame, cv2.merge([field] * 3), dtype=cv2.CV_8U)


def sensor(frame: np.ndarray, rng: np.random.Generator, sigma: float, jpeg_quality: int) -> np.ndarray:
    """Sensor noise, then a JPEG round trip as a camera or browser would send."""
    return codec.jpeg_round_trip(codec.add_noise(frame, rng, sigma), jpeg_quality)


def sheen(frame: np.ndarray, corners: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Glossy stock: a broad, soft, unclipped brightening over part of the document."""
    h, w = frame.shape[:2]
    small = np.zeros((h // 4, w // 4), np.float32)
    u, v = rng.uniform(0.2, 0.8, 2)
    top = corners[0] + u * (corners[1] - corners[0])
    bottom = corners[3] + u * (corners[2] - corners[3])
    cx, cy = (top + v * (bottom - top)) / 4
    radius = np.sqrt(cv2.contourArea(corners)) / 4 * rng.uniform(0.2, 0.5)
    cv2.circle(small, (int(cx), int(cy)), max(2, int(radius)), 1.0, -1)
    small = cv2.GaussianBlur(small, (0, 0), max(1.0, radius * 0.6))
    mask = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    lift = rng.uniform(8, 28) * mask
    return np.clip(frame.astype(np.float32) + lift[:, :, None], 0, 255).astype(np.uint8)


# --- ImageNet-C-style corruptions (Hendrycks & Dietterich 2019), written with OpenCV/numpy ---

def defocus_blur(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Disk kernel of radius 0.45-0.9% of the width (6-12 px at 1280)."""
    radius = max(2, round(frame.shape[1] * rng.uniform(0.0045, 0.009)))
    kernel = np.zeros((2 * radius + 1, 2 * radius + 1), np.float32)
    cv2.circle(kernel, (radius, radius), radius, 1.0, -1, cv2.LINE_AA)
    return cv2.filter2D(frame, -1, kernel / kernel.sum())


def motion_blur(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A straight shake of 1.4-3% of the width (18-38 px at 1280) at a random angle."""
    length = max(5, round(frame.shape[1] * rng.uniform(0.014, 0.03)))
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1.0)
    kernel = cv2.warpAffine(kernel, rot, (length, length))
    return cv2.filter2D(frame, -1, kernel / kernel.sum())


def glare(frame: np.ndarray, corners: np.ndarray, rng: np.random.Generator,
          core_share: tuple[float, float] = (0.02, 0.08), spots: int = 0) -> np.ndarray:
    """Specular highlights on the document (spots of them, or one or two when 0): clipped cores
    with a soft falloff, each core (where the highlight clips to white) covering core_share of the
    document."""
    h, w = frame.shape[:2]
    out = frame.astype(np.float32)
    doc_area = cv2.contourArea(corners)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    peak = 1.5 * 255
    for _ in range(spots or int(rng.integers(1, 3))):
        # A random point inside the quad (bilinear in its corners keeps it inside).
        u, v = rng.uniform(0.25, 0.75, 2)
        top = corners[0] + u * (corners[1] - corners[0])
        bottom = corners[3] + u * (corners[2] - corners[3])
        cx, cy = top + v * (bottom - top)
        stretch = rng.uniform(1.0, 2.0)
        core = np.sqrt(doc_area * rng.uniform(*core_share) / (np.pi * stretch))
        # Gaussian whose value reaches the paper-to-white gap (~60 levels) at the core's edge.
        sigma = core / np.sqrt(2 * np.log(peak / 60.0))
        d2 = ((xx - cx) / stretch) ** 2 + (yy - cy) ** 2
        out += (peak * np.exp(-d2 / (2 * sigma**2)))[:, :, None]
    return np.clip(out, 0, 255).astype(np.uint8)


def darken(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Underexposure: 12-28% of the light."""
    return np.clip(frame.astype(np.float32) * rng.uniform(0.12, 0.28), 0, 255).astype(np.uint8)


def overexpose(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Overexposure: 2-3x gain plus a lifted black level, clipped like a sensor."""
    gain = rng.uniform(2.0, 3.0)
    return np.clip(frame.astype(np.float32) * gain + rng.uniform(20, 60), 0, 255).astype(np.uint8)


def haze(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A smeared lens: the picture washed towards grey, with 75-88% veil."""
    veil = rng.uniform(0.75, 0.88)
    grey = rng.uniform(140, 190)
    return np.clip(frame.astype(np.float32) * (1 - veil) + grey * veil, 0, 255).astype(np.uint8)


def low_resolution(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A still from a low-resolution camera: short side 180-400 px."""
    h, w = frame.shape[:2]
    short = int(rng.integers(180, 400))
    return cv2.resize(frame, (round(w * short / h), short), interpolation=cv2.INTER_AREA)
