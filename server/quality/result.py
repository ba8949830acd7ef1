"""The verdict of one analysis: ok, reasons, and the measured metrics (the CLI's JSON shape)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Reason = Literal[
    "blurry", "too_dark", "too_bright", "low_contrast", "glare", "no_document", "document_cut_off",
    "document_too_small", "low_resolution", "camera_blocked", "unreadable_image",
]
Mode = Literal["document", "camera"]

# Most actionable first: the live guidance shows the first reason only, and there is no point in
# asking to hold still while the page is half out of the picture.
REASON_PRIORITY: tuple[Reason, ...] = (
    "unreadable_image", "camera_blocked", "no_document", "document_cut_off", "document_too_small",
    "too_dark", "too_bright", "glare", "low_contrast", "blurry", "low_resolution",
)
# Where no page was found, the frame's light comes first: a page under light too dim or washed
# out to white loses the edges it is found by, and asking a resident who holds the document up to
# put one down would not help; once the light is right, the page is found or no_document follows.
# So does a blur of the whole frame (a shaken or unfocused camera): it smears the page's edges
# as it does the print. (low_contrast stays after no_document: an empty plain desk spans few
# tones too.)
NO_PAGE_PRIORITY: tuple[Reason, ...] = (
    "unreadable_image", "camera_blocked", "too_dark", "too_bright", "blurry", "no_document",
    "document_cut_off", "document_too_small", "glare", "low_contrast", "low_resolution",
)


@dataclass
class DocumentMetrics:
    """Where the document is: corners in image pixels (TL, TR, BR, BL when complete)."""

    found: bool = False
    coverage: float = 0.0
    corners: list[list[float]] = field(default_factory=list)


@dataclass
class Metrics:
    """Measured values; see server/quality/thresholds.py for what each is compared with."""

    sharpness: float = 0.0
    brightness: float = 0.0
    contrast: float = 0.0
    glare_ratio: float = 0.0
    document: DocumentMetrics = field(default_factory=DocumentMetrics)


@dataclass
class QualityResult:
    """Verdict for one image: ok is True exactly when reasons is empty."""

    ok: bool
    reasons: list[Reason]
    metrics: Metrics
    ms: float = 0.0
    width: int = 0
    height: int = 0

    def to_dict(self, path: str | None = None) -> dict[str, Any]:
        """The contract's JSON object; path first when given."""
        out: dict[str, Any] = {} if path is None else {"path": path}
        metrics = asdict(self.metrics)
        for key in ("sharpness", "brightness", "contrast"):
            metrics[key] = round(metrics[key], 2)
        metrics["glare_ratio"] = round(metrics["glare_ratio"], 4)
        metrics["document"]["coverage"] = round(metrics["document"]["coverage"], 4)
        out.update(ok=self.ok, reasons=list(self.reasons), metrics=metrics, ms=round(self.ms, 3))
        return out

    def to_json(self, path: str | None = None) -> str:
        """One line of JSON (UTF-8 text kept readable)."""
        return json.dumps(self.to_dict(path), ensure_ascii=False)

    @property
    def top_reason(self) -> Reason | None:
        """The reason to act on first, or None when ok."""
        return self.reasons[0] if self.reasons else None


def make_result(reasons: set[Reason], metrics: Metrics, width: int, height: int,
                priority: tuple[Reason, ...] = REASON_PRIORITY) -> QualityResult:
    """Build a result with reasons in priority order (REASON_PRIORITY, or NO_PAGE_PRIORITY for a
    frame in which no page was found)."""
    ordered = [r for r in priority if r in reasons]
    return QualityResult(ok=not ordered, reasons=ordered, metrics=metrics, width=width, height=height)


def unreadable() -> QualityResult:
    """The result for a file that could not be decoded as an image."""
    return QualityResult(ok=False, reasons=["unreadable_image"], metrics=Metrics())
