"""The broad evaluation set: document scenes whose factors are drawn independently, split by seed.

Every sample draws, each on its own: the document kind and paper (tone, gloss), the desk (plain,
wood, fabric, patterned cloth, clutter, a second card partly in view), the light (colour, level,
a gradient or a shadow across the page, a small specular spot on glossy stock), and the camera
(auto-exposure that meters the whole scene and may clip white paper, sensor noise growing with
gain, a JPEG still or a live frame through a real VP8 round trip, 640x480 / 1280x720 /
1920x1080, in-plane turn, tilt, distance). Then half the samples get one corruption, each
labelled with the reason the analyser must give.

Splits: sample i of split s comes from its own Generator seeded with (SPLIT_SEEDS[s], i), so the
train, validation and test scenes never share a seed and a sample never depends on how many
others are drawn. Thresholds may be tuned on train and validation only; the test split is scored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from tests.quality_fixtures import codec, scenes
from tests.quality_fixtures.dataset import BAD_CONDITIONS, CONDITIONS, Sample
from tests.quality_fixtures.kinds import KINDS, PAPERS

SPLIT_SEEDS = {"train": 11, "validation": 22, "test": 33, "bench": 44}
DESKS = ("plain", "wood", "fabric", "pattern", "clutter", "second_card")
LIGHT_COLOURS = {"warm": (0.78, 0.92, 1.08), "neutral": (1.0, 1.0, 1.0), "cool": (1.08, 1.0, 0.86)}  # B, G, R
LIGHT_SHAPES = ("even", "gradient", "shadow")
RESOLUTIONS = ((640, 480), (1280, 720), (1920, 1080))
# Auto-exposure aims the scene's mean grey here and its gain stays within these bounds; highlight
# protection keeps white paper from going more than this far past full scale in a good capture.
AE_TARGET = (95.0, 150.0)
AE_GAIN = (0.55, 2.4)
MAX_PAPER_OVERSHOOT = 1.3


@dataclass(frozen=True)
class Factors:
    """The independently drawn factors of one scene (all recorded in the label)."""

    kind: str
    paper: str
    glossy: bool
    desk: str
    light_colour: str
    light_level: float  # scene illumination relative to a well-lit office
    light_shape: str
    specular: bool  # a small lamp reflection (glossy stock only), too small to hide text
    resolution: tuple[int, int]
    path: str  # "still" (JPEG, analyse_document) or "live" (VP8, analyse_luma on the Y plane)
    jpeg_quality: int
    bitrate: int
    noise: float
    turn_deg: float  # in-plane turn and tilt are drawn within plus or minus these
    tilt_deg: float
    coverage: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-able view; resolution as WxH."""
        out = dict(self.__dict__)
        out["resolution"] = f"{self.resolution[0]}x{self.resolution[1]}"
        return out


def _bitrate(resolution: tuple[int, int], rng: np.random.Generator) -> int:
    """300 kbps to 2 Mbps, but at least ~0.5 bit per pixel and second: a browser's encoder scales
    the picture down rather than send full HD at 300 kbps."""
    low = max(300_000, min(1_200_000, resolution[0] * resolution[1] // 2))
    return int(np.exp(rng.uniform(np.log(low), np.log(2_000_000))))


def draw_factors(rng: np.random.Generator) -> Factors:
    """Draw one scene's factors, each independently of the others."""
    resolution = RESOLUTIONS[int(rng.integers(0, len(RESOLUTIONS)))]
    # A 640x480 camera is a live stream's size; as a still it is low resolution by contract.
    path = "live" if resolution == (640, 480) or rng.random() < 0.4 else "still"
    glossy = bool(rng.random() < 0.4)
    return Factors(
        kind=str(rng.choice(list(KINDS))), paper=str(rng.choice(list(PAPERS))), glossy=glossy,
        desk=str(rng.choice(DESKS)), light_colour=str(rng.choice(list(LIGHT_COLOURS))),
        light_level=float(np.exp(rng.uniform(np.log(0.45), np.log(1.6)))),
        light_shape=str(rng.choice(LIGHT_SHAPES)), specular=glossy and bool(rng.random() < 0.4),
        resolution=resolution, path=path, jpeg_quality=int(rng.integers(70, 96)),
        bitrate=_bitrate(resolution, rng),
        noise=float(rng.uniform(0.8, 2.5)), turn_deg=float(rng.uniform(0, 35)),
        tilt_deg=float(rng.uniform(0, 25)), coverage=float(rng.uniform(0.15, 0.6)),
    )


@dataclass
class WorldSample(Sample):
    """A Sample of the broad set: its factors and, for live frames, the decoded Y plane."""

    factors: Factors | None = None
    luma: np.ndarray | None = field(default=None, repr=False)
    chroma: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)  # U, V of a live frame
    split: str = ""
    noise_sigma: float = 0.0  # the sensor noise of this scene (grey levels), set for camera scenes

    def label(self) -> dict[str, Any]:
        """The base label plus split and every factor."""
        out = super().label()
        out["split"] = self.split
        if self.factors is not None:
            out |= self.factors.as_dict()
        return out


def _clutter(frame: np.ndarray, rng: np.random.Generator, count: int) -> None:
    """Desk objects: pens, a phone, a cup, sticky notes, a keyboard corner (not documents)."""
    h, w = frame.shape[:2]
    for _ in range(count):
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        shape = rng.integers(0, 4)
        if shape == 0:
            end = (x + int(rng.integers(-w // 4, w // 4)), y + int(rng.integers(-h // 4, h // 4)))
            cv2.line(frame, (x, y), end, colour, max(3, h // 90), cv2.LINE_AA)
        elif shape == 1:
            cv2.circle(frame, (x, y), int(rng.integers(h // 14, h // 6)), colour, -1, cv2.LINE_AA)
            cv2.circle(frame, (x, y), int(rng.integers(h // 30, h // 16)), (40, 30, 20), -1, cv2.LINE_AA)
        elif shape == 2:
            size = int(rng.integers(h // 14, h // 7))
            box = cv2.boxPoints(((x, y), (size, size * rng.uniform(0.5, 2.0)), rng.uniform(0, 90)))
            cv2.fillConvexPoly(frame, box.astype(np.int32), colour, cv2.LINE_AA)
        else:
            step = max(6, h // 40)
            for i in range(6):
                for j in range(10):
                    key = (x + j * step, y + i * step)
                    cv2.rectangle(frame, key, (key[0] + step - 3, key[1] + step - 3), (50, 50, 50), -1)


def _desk(f: Factors, rng: np.random.Generator, doc_area: float) -> np.ndarray:
    w, h = f.resolution
    base = {"plain": "desk", "wood": "wood", "fabric": "cloth", "pattern": "pattern"}.get(f.desk)
    frame = scenes.background(base or str(rng.choice(["desk", "wood", "dark_mat"])), w, h, rng)
    if f.desk == "plain" and rng.random() < 0.5:
        frame[:] = np.array(rng.uniform(40, 200, 3), np.uint8)  # a smooth coloured desk
        frame[:] = cv2.GaussianBlur(scenes.background("desk", w, h, rng), (0, 0), 3) // 4 + frame * 3 // 4
    if f.desk == "clutter":
        _clutter(frame, rng, int(rng.integers(4, 10)))
    elif f.desk == "second_card":
        _second_card(frame, rng, doc_area)
    return frame


def _second_card(frame: np.ndarray, rng: np.random.Generator, doc_area: float) -> None:
    """Another card, smaller than the document and partly out of the picture at one edge."""
    h, w = frame.shape[:2]
    spec = KINDS[str(rng.choice(["bank_card_light", "bank_card_dark", "social_security", "id_front"]))](
        rng, PAPERS["white"])
    area = doc_area * rng.uniform(0.35, 0.7)
    corners = scenes.target_corners(spec.image.shape[1], spec.image.shape[0], w, h, area / (w * h), rng,
                                    cut_off=True)
    scenes.place(frame, spec.image, corners, rng)


def _light_field(f: Factors, rng: np.random.Generator, corners: np.ndarray | None) -> np.ndarray:
    """Per-pixel illumination (float32, h x w): level, unevenness, and a gradient or shadow."""
    w, h = f.resolution
    field = (0.9 + 0.15 * scenes.smooth_noise(rng, w // 4, h // 4, 3)) * f.light_level
    if f.light_shape == "gradient":
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0 : h // 4, 0 : w // 4].astype(np.float32)
        ramp = (np.cos(angle) * xx + np.sin(angle) * yy) / max(w // 4, h // 4)
        ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
        field *= 1.0 - rng.uniform(0.3, 0.5) * ramp
    elif f.light_shape == "shadow":
        # A soft shadow (a head or an arm) lying across part of the page.
        centre = np.array([w / 8, h / 8]) if corners is None else corners.mean(axis=0) / 4
        shadow = np.zeros((h // 4, w // 4), np.float32)
        axes = (int(rng.uniform(0.15, 0.35) * w / 4), int(rng.uniform(0.2, 0.6) * h / 4))
        offset = rng.uniform(-0.25, 0.25, 2) * (w / 4, h / 4)
        cv2.ellipse(shadow, tuple(int(v) for v in centre + offset), axes, rng.uniform(0, 180), 0, 360, 1.0, -1)
        shadow = cv2.GaussianBlur(shadow, (0, 0), w / 4 * rng.uniform(0.01, 0.03))
        field *= 1.0 - rng.uniform(0.3, 0.5) * shadow
    return cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)


def _expose(frame: np.ndarray, f: Factors, light: np.ndarray, rng: np.random.Generator,
            paper_level: float) -> np.ndarray:
    """Scene times light colour and field, then auto-exposure metering the whole scene."""
    colour = np.array(LIGHT_COLOURS[f.light_colour], np.float32)
    lit = frame.astype(np.float32) * light[:, :, None] * colour
    grey_mean = float(cv2.mean(cv2.cvtColor(np.clip(lit, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY))[0])
    gain = min(max(rng.uniform(*AE_TARGET) / max(grey_mean, 1.0), AE_GAIN[0]), AE_GAIN[1])
    # Highlight protection: paper under the brightest light must not overshoot too far.
    brightest_paper = paper_level * float(light.max()) * float(colour.max())
    gain = min(gain, MAX_PAPER_OVERSHOOT * 255 / max(brightest_paper, 1.0))
    return lit * gain


def expected_reason(condition: str, desk: str) -> str:
    """The reason the analyser must give for a scene of condition on desk.

    A desk-only scene ("no_document": no document was put down) whose desk holds a second card,
    20-45% of it out of the picture at one edge, shows a real card running off the frame: what
    the resident must be told is to bring the whole card into the picture (document_cut_off),
    not to put a document down. Every other scene gets its condition's reason.
    """
    if condition == "no_document" and desk == "second_card":
        return "document_cut_off"
    return CONDITIONS[condition]


def _sample(split: str, index: int, condition: str, overrides: dict[str, Any] | None = None, *,
            camera_only: bool = False) -> WorldSample:
    rng = np.random.default_rng([SPLIT_SEEDS[split], index])
    f = draw_factors(rng)
    if overrides:
        f = replace(f, **overrides)
    if condition == "low_resolution" and f.path == "live":
        f = replace(f, path="still", resolution=(1280, 720))
    w, h = f.resolution
    spec = KINDS[f.kind](rng, PAPERS[f.paper])
    doc = spec.image
    if spec.aspect > 1.3 and doc.shape[0] > doc.shape[1] and rng.random() < 0.3:
        doc = cv2.rotate(doc, cv2.ROTATE_90_CLOCKWISE)  # a page held sideways
    coverage = {"far_away": rng.uniform(0.015, 0.05), "cut_off": rng.uniform(0.2, 0.45)}.get(condition, f.coverage)
    frame = _desk(f, rng, coverage * w * h)
    corners: np.ndarray | None = None
    if condition != "no_document":
        corners = scenes.target_corners(doc.shape[1], doc.shape[0], w, h, coverage, rng,
                                        cut_off=condition == "cut_off", max_turn=f.turn_deg, max_tilt=f.tilt_deg)
        scenes.place(frame, doc, corners, rng)
    elif f.desk != "clutter":
        _clutter(frame, rng, int(rng.integers(1, 4)))
    if corners is not None and f.glossy:
        frame = scenes.sheen(frame, corners, rng)
    if corners is not None and f.specular and condition != "glare":
        # A lamp's small reflection: its clipped core 0.03-0.15% of the page, hiding no text.
        frame = scenes.glare(frame, corners, rng, core_share=(0.0003, 0.0015), spots=1)
    paper_level = float(np.percentile(cv2.cvtColor(doc, cv2.COLOR_BGR2GRAY), 95))
    radiance = _expose(frame, f, _light_field(f, rng, corners), rng, paper_level)
    if condition == "dark":
        radiance *= rng.uniform(0.12, 0.28)
    elif condition == "overexposed" and corners is not None:
        # Exposure set on the document's own tones, whatever its colours: even its darkest print
        # (the 2% tone of its weakest colour channel) is lifted to 70-90% of full scale, so the
        # ground clips and the print is washed towards white (a lifted black level included).
        lift = rng.uniform(10, 40)
        darkest = _document_tone(radiance, corners, 0.02)
        radiance = radiance * ((rng.uniform(0.7, 0.9) * 255 - lift) / max(darkest, 1.0)) + lift
    frame = np.clip(radiance, 0, 255).astype(np.uint8)
    if condition == "good" and rng.random() < 0.5:
        frame = cv2.GaussianBlur(frame, (0, 0), rng.uniform(0.3, 0.9) * w / 1280)
    elif condition == "defocus":
        frame = scenes.defocus_blur(frame, rng)
    elif condition == "motion":
        frame = scenes.motion_blur(frame, rng)
    elif condition == "haze":
        frame = scenes.haze(frame, rng)
    elif condition == "glare" and corners is not None:
        frame = scenes.glare(frame, corners, rng)
    sigma = f.noise * (1.0 if condition == "dark" else min(2.0, f.light_level ** -0.5))
    if camera_only:
        # What reaches the sensor: noise and codec are the caller's (a live camera's own stream).
        kind = "none" if corners is None else f.kind
        return WorldSample(name=f"{split}_{index:04d}_{condition}_{kind}", image=frame, condition=condition,
                           expected=expected_reason(condition, f.desk), kind=kind, corners=corners,
                           aspect=None if corners is None else spec.aspect, factors=f, split=split, noise_sigma=sigma)
    frame = codec.add_noise(frame, rng, sigma)
    luma = chroma = None
    if f.path == "live":
        frame, luma, chroma = codec.vp8_round_trip(frame, f.bitrate)
    else:
        frame = codec.jpeg_round_trip(frame, f.jpeg_quality)
    if condition == "low_resolution":
        scale_from = frame.shape[0]
        frame = scenes.low_resolution(frame, rng)
        if corners is not None:
            corners = corners * (frame.shape[0] / scale_from)
    kind = "none" if corners is None else f.kind
    return WorldSample(
        name=f"{split}_{index:04d}_{condition}_{kind}", image=frame, condition=condition,
        expected=expected_reason(condition, f.desk), kind=kind, corners=corners,
        aspect=None if corners is None else spec.aspect, factors=f, luma=luma, chroma=chroma, split=split,
    )


def _document_tone(radiance: np.ndarray, corners: np.ndarray, share: float) -> float:
    """The level below which share of the document's pixels lie (true outline), in each pixel's
    weakest colour channel: a coloured cover washes out only when every channel is lifted."""
    h, w = radiance.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(mask, np.round(corners).astype(np.int32), 255)
    weakest = radiance.min(axis=2)
    return float(np.percentile(weakest[mask > 0], 100 * share))


def condition_for(index: int) -> str:
    """Even indices are good captures; odd ones cycle through the bad conditions."""
    return "good" if index % 2 == 0 else BAD_CONDITIONS[(index // 2) % len(BAD_CONDITIONS)]


def world_samples(split: str, count: int, start: int = 0) -> Iterator[WorldSample]:
    """Yield count samples of split (half good), sample indices start .. start + count - 1."""
    for index in range(start, start + count):
        yield _sample(split, index, condition_for(index))


def good_scenes(split: str, count: int, **overrides: Any) -> Iterator[WorldSample]:
    """Yield count good captures of split with some factors fixed (e.g. desk="clutter",
    resolution=(1280, 720), path="still"): benchmark frames and live videos per scene kind."""
    for index in range(count):
        yield _sample(split, 2 * index, "good", overrides)


def world_scene(split: str, index: int, condition: str, **overrides: Any) -> WorldSample:
    """Scene index of split drawn with condition (any index: extra scenes beyond a split's
    scored ones, e.g. for a test of one failure kind) and some factors fixed."""
    return _sample(split, index, condition, overrides or None)


def camera_scene(split: str, index: int) -> WorldSample:
    """Scene index of split as the camera sees it, before sensor noise and codec: for a video that
    holds it steady with fresh noise in every frame (WorldSample.noise_sigma) and lets a real
    encoder do the rest."""
    return _sample(split, index, condition_for(index), camera_only=True)


_CACHE: dict[str, list[WorldSample]] = {}


def cached_world(split: str, count: int) -> tuple[WorldSample, ...]:
    """The first count scenes of split, each generated once per process: test modules asking for
    different counts of one split share the scenes they have in common."""
    have = _CACHE.setdefault(split, [])
    if len(have) < count:
        have.extend(world_samples(split, count - len(have), start=len(have)))
    return tuple(have[:count])
