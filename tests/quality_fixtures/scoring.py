"""Score the analyser on labelled samples: overall, per document kind and per factor.

One place computes verdicts and shares, so the test suite, scripts/make_quality_set.py and the
tables in docs/quality.md count the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from server.quality import QualityResult, analyse_document, analyse_luma
from tests.quality_fixtures.dataset import Sample
from tests.quality_fixtures.world import WorldSample


def verdict(sample: Sample) -> QualityResult:
    """The analyser's verdict as the product would reach it: a live frame's Y plane through
    analyse_luma, a still through analyse_document."""
    if isinstance(sample, WorldSample) and sample.luma is not None:
        return analyse_luma(sample.luma, uv_planes=sample.chroma)
    return analyse_document(sample.image)


# Quadrilaterals overlapping by this much are the same page (a rounded card's corners, a corner a
# few pixels off); a printed box, or a page with the desk beside it, overlaps far less.
OUTLINE_MIN_IOU = 0.9


def quad_iou(first: np.ndarray, second: np.ndarray) -> float:
    """Intersection over union of two convex quadrilaterals (4 x 2 points): how well a found
    outline covers the document as it was laid (1.0 the same page; a printed panel, or the page
    with the desk beside it, far less)."""
    a = cv2.convexHull(np.asarray(first, np.float32).reshape(-1, 1, 2))
    b = cv2.convexHull(np.asarray(second, np.float32).reshape(-1, 1, 2))
    inter, _ = cv2.intersectConvexConvex(a, b)
    union = cv2.contourArea(a) + cv2.contourArea(b) - inter
    return float(inter / union) if union > 0 else 0.0


@dataclass
class Tally:
    """Counts for one group of samples."""

    good: int = 0
    accepted: int = 0
    bad: int = 0
    rejected: int = 0
    right_reason: int = 0

    def add(self, sample: Sample, result: QualityResult) -> None:
        """Count one verdict."""
        if sample.expected == "ok":
            self.good += 1
            self.accepted += result.ok
        else:
            self.bad += 1
            self.rejected += not result.ok
            self.right_reason += sample.expected in result.reasons

    def shares(self) -> tuple[float | None, float | None, float | None]:
        """(good accepted, bad rejected, right reason) as shares, None where nothing was counted."""
        good = self.accepted / self.good if self.good else None
        if not self.bad:
            return good, None, None
        return good, self.rejected / self.bad, self.right_reason / self.bad

    def row(self, name: str) -> str:
        """One markdown table row: name, then each share with its counts."""
        def cell(num: int, den: int) -> str:
            return f"{num}/{den} = {100 * num / den:.1f}%" if den else "-"
        return (f"| {name} | {cell(self.accepted, self.good)} | {cell(self.rejected, self.bad)} | "
                f"{cell(self.right_reason, self.bad)} |")


def tally_by(pairs: Iterable[tuple[Sample, QualityResult]], key: Callable[[Sample], str]) -> dict[str, Tally]:
    """Tallies grouped by key(sample) (e.g. the document kind or one factor)."""
    groups: dict[str, Tally] = defaultdict(Tally)
    for sample, result in pairs:
        groups[key(sample)].add(sample, result)
    return dict(sorted(groups.items()))


TABLE_HEAD = "| {} | good accepted | bad rejected | right reason |\n| --- | --- | --- | --- |"


def factor_tables(pairs: list[tuple[Sample, QualityResult]]) -> str:
    """Markdown tables: overall, per condition, per document kind and per drawn factor."""
    def factor(name: str) -> Callable[[Sample], str]:
        def key(sample: Sample) -> str:
            label = sample.label()
            value = label.get(name)
            if name == "light_level" and isinstance(value, float):
                return "dim (< 0.7)" if value < 0.7 else "bright (> 1.2)" if value > 1.2 else "normal"
            return str(value)
        return key

    out = [TABLE_HEAD.format("set"), tally_by(pairs, lambda s: "all")["all"].row("all")]
    for title, key in (("condition", factor("condition")), ("document kind", document_kind),
                       *((name, factor(name)) for name in ("desk", "paper", "glossy", "light_colour", "light_level",
                                                           "light_shape", "specular", "resolution", "path"))):
        out.append("")
        out.append(TABLE_HEAD.format(title))
        out += [tally.row(name) for name, tally in tally_by(pairs, key).items()]
    return "\n".join(out)


def document_kind(sample: Sample) -> str:
    """The document kind in view ("none" for a desk without a document)."""
    return sample.kind
