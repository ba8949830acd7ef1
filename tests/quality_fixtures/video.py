"""A fake-camera video of a synthetic ID card held up to the kiosk, for Chromium's
`--use-file-for-fake-video-capture`: the card slides into place, then stays still, sharp and well
lit, so the server's live guidance first says what is wrong and then auto-captures.

Y4M (I420) is written with OpenCV and numpy alone. Chromium loops the file, so the steady part is
most of it.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tests.quality_fixtures import codec, scenes
from tests.quality_fixtures.documents import render_id_card


def _card_corners(doc_w: int, doc_h: int, w: int, h: int, coverage: float) -> np.ndarray:
    """A card a little left of the middle, turned a few degrees in its plane (TL, TR, BR, BL).

    No tilt towards the camera: the rectified image must come out at the card's own shape."""
    scale = np.sqrt(coverage * w * h / (doc_w * doc_h))
    half = np.array([[-doc_w, -doc_h], [doc_w, -doc_h], [doc_w, doc_h], [-doc_w, doc_h]], np.float64) * scale / 2
    angle = np.deg2rad(4.0)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = half @ rotation.T
    return (corners + np.array([w * 0.47, h * 0.5])).astype(np.float32)


def write_document_y4m(path: Path, *, width: int = 1280, height: int = 720, fps: int = 15,
                       seconds: float = 4.0, settle_s: float = 0.8, seed: int = 2026) -> np.ndarray:
    """Write the video to path; returns the steady frame (BGR) for comparisons."""
    rng = np.random.default_rng(seed)
    desk = scenes.background("desk", width, height, rng)
    card = render_id_card(rng).image
    steady = _card_corners(card.shape[1], card.shape[0], width, height, coverage=0.3)
    light_seed = int(rng.integers(0, 2**31 - 1))

    def frame_at(offset: np.ndarray) -> np.ndarray:
        frame = desk.copy()
        scenes.place(frame, card, steady + offset.astype(np.float32), np.random.default_rng(seed))
        # The same uneven room light on every frame: only the card moves.
        return scenes.lighting(frame, np.random.default_rng(light_seed), gain=0.86)

    total = max(1, round(seconds * fps))
    moving = min(total - 1, round(settle_s * fps))
    header = f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode()
    still = frame_at(np.zeros(2))
    still_i420 = cv2.cvtColor(still, cv2.COLOR_BGR2YUV_I420).tobytes()
    with path.open("wb") as out:
        out.write(header)
        for index in range(total):
            if index < moving:
                # Slides in from the lower right and slows down as it settles.
                left = (1.0 - index / moving) ** 2
                data = cv2.cvtColor(frame_at(np.array([90.0, 40.0]) * left), cv2.COLOR_BGR2YUV_I420).tobytes()
            else:
                data = still_i420
            out.write(b"FRAME\n")
            out.write(data)
    return still


def write_steady_y4m(path: Path, frame: np.ndarray, noise_sigma: float, *, fps: int = 30, frames: int = 30,
                     seed: int = 0) -> None:
    """Write frame (BGR, even size) held perfectly still, with fresh sensor noise of noise_sigma
    grey levels in every frame. Chromium loops the file; a still scene loops without a jump."""
    h, w = frame.shape[:2]
    rng = np.random.default_rng(seed)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(codec.add_noise(frame, rng, noise_sigma), cv2.COLOR_BGR2YUV_I420).tobytes())
