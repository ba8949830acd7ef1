"""The labelled synthetic sets: document captures and camera (device check) views.

Sample i is generated from its own Generator seeded with (seed, i), so a sample does not depend on
how many others are generated: the test's 200 are the first 200 of the script's full set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import cv2
import numpy as np

from tests.quality_fixtures import scenes
from tests.quality_fixtures.documents import RENDERERS

# condition -> the reason the analyser is expected to give ("ok" for a good capture).
CONDITIONS: dict[str, str] = {
    "good": "ok",
    "defocus": "blurry",
    "motion": "blurry",
    "dark": "too_dark",
    "overexposed": "too_bright",
    "glare": "glare",
    "cut_off": "document_cut_off",
    "far_away": "document_too_small",
    "no_document": "no_document",
    "low_resolution": "low_resolution",
    "haze": "low_contrast",
}
BAD_CONDITIONS = [c for c in CONDITIONS if c != "good"]

CAMERA_CONDITIONS: dict[str, str] = {
    "good": "ok",
    "covered_black": "camera_blocked",
    "covered_finger": "camera_blocked",
    "dim": "too_dark",
    "defocus": "blurry",
    "smeared": "low_contrast",
}


@dataclass
class Sample:
    """One labelled image. corners are the document's true TL, TR, BR, BL in image pixels."""

    name: str
    image: np.ndarray
    condition: str
    expected: str
    kind: str = "none"
    corners: np.ndarray | None = None
    aspect: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def label(self) -> dict[str, Any]:
        """The JSON-able label written beside the image by scripts/make_quality_set.py."""
        h, w = self.image.shape[:2]
        return {
            "name": self.name, "condition": self.condition, "expected": self.expected, "kind": self.kind,
            "width": w, "height": h, "aspect": self.aspect,
            "corners": None if self.corners is None else np.round(self.corners, 2).tolist(),
        }


def _frame_size(rng: np.random.Generator) -> tuple[int, int]:
    # Mostly 720p (what a kiosk camera sends), some full-HD stills.
    return (1920, 1080) if rng.random() < 0.2 else (1280, 720)


def _document_sample(index: int, seed: int, condition: str) -> Sample:
    rng = np.random.default_rng([seed, index])
    w, h = _frame_size(rng)
    frame = scenes.background(str(rng.choice(scenes.BACKGROUNDS)), w, h, rng)
    kind = str(rng.choice(list(RENDERERS)))
    spec = RENDERERS[kind](rng)
    doc = spec.image
    if kind == "household" and rng.random() < 0.3:
        doc = cv2.rotate(doc, cv2.ROTATE_90_CLOCKWISE)  # a page held sideways
    corners: np.ndarray | None = None
    if condition == "no_document":
        scenes.add_distractors(frame, rng)
        kind = "none"
    else:
        if condition == "far_away":
            coverage = rng.uniform(0.015, 0.05)
        elif condition == "cut_off":
            coverage = rng.uniform(0.2, 0.45)
        else:
            coverage = rng.uniform(0.18, 0.55)
        corners = scenes.target_corners(doc.shape[1], doc.shape[0], w, h, coverage, rng,
                                        cut_off=condition == "cut_off")
        scenes.place(frame, doc, corners, rng)
    # Auto-exposure keeps white paper below clipping in a good capture (paper peaks near 240).
    frame = scenes.lighting(frame, rng, gain=rng.uniform(0.75, 0.92))
    if condition == "good" and rng.random() < 0.5:
        # Good captures are not perfectly sharp either: a slight, acceptable softness.
        frame = cv2.GaussianBlur(frame, (0, 0), rng.uniform(0.3, 0.9))
    corrupt: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
        "defocus": scenes.defocus_blur, "motion": scenes.motion_blur, "dark": scenes.darken,
        "overexposed": scenes.overexpose, "haze": scenes.haze,
    }
    if condition in corrupt:
        frame = corrupt[condition](frame, rng)
    elif condition == "glare" and corners is not None:
        frame = scenes.glare(frame, corners, rng)
    noise = rng.uniform(1.0, 3.0) if condition != "dark" else rng.uniform(1.0, 2.0)
    frame = scenes.sensor(frame, rng, noise, int(rng.integers(80, 95)))
    if condition == "low_resolution":
        scale_from = frame.shape[0]
        frame = scenes.low_resolution(frame, rng)
        if corners is not None:
            corners = corners * (frame.shape[0] / scale_from)
    return Sample(
        name=f"{index:04d}_{condition}_{kind}", image=frame, condition=condition,
        expected=CONDITIONS[condition], kind=kind, corners=corners,
        aspect=None if kind == "none" else spec.aspect,
    )


def condition_for(index: int) -> str:
    """Even indices are good captures; odd ones cycle through the bad conditions."""
    return "good" if index % 2 == 0 else BAD_CONDITIONS[(index // 2) % len(BAD_CONDITIONS)]


def generate_samples(count: int, seed: int = 2026, conditions: list[str] | None = None) -> Iterator[Sample]:
    """Yield count labelled document captures (half good), optionally only of some conditions."""
    produced, index = 0, 0
    while produced < count:
        condition = condition_for(index)
        if conditions is None or condition in conditions:
            yield _document_sample(index, seed, condition)
            produced += 1
        index += 1


def _room(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """What a kiosk camera sees: a wall, furniture edges, a resident, a poster."""
    img = scenes.background(str(rng.choice(["desk", "wood", "cloth"])), w, h, rng)
    wall = rng.uniform(150, 210)
    img[: h // 2] = np.clip(img[: h // 2].astype(np.float32) * 0.3 + wall * 0.7, 0, 255).astype(np.uint8)
    for _ in range(4):
        x, y = int(rng.integers(0, w - w // 5)), int(rng.integers(0, h - h // 5))
        colour = tuple(int(c) for c in rng.integers(20, 230, 3))
        cv2.rectangle(img, (x, y), (x + int(rng.integers(w // 10, w // 4)), y + int(rng.integers(h // 10, h // 3))),
                      colour, -1)
    cx = int(rng.uniform(0.3, 0.7) * w)
    cv2.ellipse(img, (cx, int(h * 0.95)), (w // 5, h // 3), 0, 180, 360, (60, 60, 80), -1)
    cv2.ellipse(img, (cx, int(h * 0.45)), (w // 14, h // 7), 0, 0, 360, (120, 150, 190), -1)
    spec = RENDERERS["certificate"](rng)
    poster = cv2.resize(spec.image, (w // 6, int(w // 6 / spec.aspect)))
    px, py = int(rng.integers(0, w - poster.shape[1])), int(rng.integers(0, h // 3))
    img[py : py + poster.shape[0], px : px + poster.shape[1]] = poster
    return img


def _camera_sample(index: int, seed: int, condition: str) -> Sample:
    rng = np.random.default_rng([seed, 7919, index])
    w, h = 1280, 720
    frame = _room(w, h, rng)
    frame = scenes.lighting(frame, rng, gain=rng.uniform(0.85, 1.05))
    if condition == "covered_black":
        frame = (frame.astype(np.float32) * rng.uniform(0.0, 0.04)).astype(np.uint8)
    elif condition == "covered_finger":
        skin = np.array(rng.uniform([90, 120, 170], [140, 170, 230]), np.float32)
        frame = np.empty_like(frame)
        frame[:] = skin.astype(np.uint8)
        frame = scenes.lighting(frame, rng, gain=rng.uniform(0.5, 1.0))
    elif condition == "dim":
        frame = (frame.astype(np.float32) * rng.uniform(0.12, 0.25)).astype(np.uint8)
    elif condition == "defocus":
        frame = scenes.defocus_blur(frame, rng)
        frame = scenes.defocus_blur(frame, rng)
    elif condition == "smeared":
        frame = scenes.haze(frame, rng)
    frame = scenes.sensor(frame, rng, rng.uniform(1.0, 3.0), 90)
    return Sample(name=f"cam_{index:04d}_{condition}", image=frame, condition=condition,
                  expected=CAMERA_CONDITIONS[condition])


def generate_camera_samples(count: int, seed: int = 2026) -> Iterator[Sample]:
    """Yield count labelled camera views for the device check, cycling through the conditions."""
    names = list(CAMERA_CONDITIONS)
    for index in range(count):
        yield _camera_sample(index, seed, names[index % len(names)])


@cache
def cached_samples(count: int, seed: int = 2026) -> tuple[Sample, ...]:
    """generate_samples, generated once per process: several test modules share one set."""
    return tuple(generate_samples(count, seed))
