"""Score the document check on the held-out scenes (tests/quality_fixtures/heldout.py).

    python scripts/bench/quality_heldout.py [--split dev|holdout] [--count N] [--out DIR]

Runs ``analyse_document`` on every scene of the split and prints: good scenes accepted, bad
scenes rejected, right reason (the bad scene's reasons include the expected one) and expected
reason first (the one the kiosk's guidance shows); then the same per document kind, per desk kind
and per bad condition (markdown tables), the analysis time (median / p90 of ``result.ms``) and the
failures (scene, expected, got). ``--out DIR`` writes each failing scene as DIR/<name>.png.

A good scene accepted on the wrong outline (a box printed on the page, a quadrilateral over the
card and the desk beside it) would be rectified into the wrong picture: good scenes are also
counted as "accepted on the document's outline", where the outline's overlap with the document
as it was laid (intersection over union of the two quadrilaterals) is at least OUTLINE_MIN_IOU,
and those accepted on another outline are listed with the failures.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from server.quality.analyser import analyse_document
from tests.quality_fixtures.heldout import BAD_CONDITIONS, DESKS, KINDS, HeldoutScene, scenes
from tests.quality_fixtures.scoring import OUTLINE_MIN_IOU, quad_iou


@dataclass(frozen=True)
class Outcome:
    """One scene's label and the analyser's verdict on it."""

    name: str
    expected: str
    kind: str
    desk: str
    condition: str
    ok: bool
    reasons: tuple[str, ...]
    ms: float
    outline_iou: float | None = None  # good scenes: the found outline's overlap with the document

    @property
    def right_outline(self) -> bool:
        """A good scene accepted on the document's own outline."""
        return self.ok and self.outline_iou is not None and self.outline_iou >= OUTLINE_MIN_IOU

    @property
    def good(self) -> bool:
        """Whether the scene is a good one (expected "ok")."""
        return self.expected == "ok"

    @property
    def passed(self) -> bool:
        """A good scene accepted, or a bad one rejected with the expected reason among its reasons."""
        return self.ok if self.good else (not self.ok and self.expected in self.reasons)


def judge(item: HeldoutScene) -> Outcome:
    """Run the analyser on one scene."""
    result = analyse_document(item.image)
    iou = None
    if item.expected == "ok" and item.corners is not None:
        found = result.metrics.document
        iou = quad_iou(np.array(found.corners), item.corners) if found.found and len(found.corners) == 4 else 0.0
    return Outcome(name=item.name, expected=item.expected, kind=item.kind, desk=item.desk, condition=item.condition,
                   ok=bool(result.ok), reasons=tuple(result.reasons), ms=float(result.ms), outline_iou=iou)


def _ratio(n: int, d: int) -> str:
    return f"{n}/{d} ({100 * n / d:.1f}%)" if d else "-"


def _row(label: str, group: list[Outcome]) -> str:
    good = [o for o in group if o.good]
    bad = [o for o in group if not o.good]
    accepted = sum(o.ok for o in good)
    rejected = sum(not o.ok for o in bad)
    right = sum(o.expected in o.reasons for o in bad)
    first = sum(bool(o.reasons) and o.reasons[0] == o.expected for o in bad)
    return (f"| {label} | {_ratio(accepted, len(good))} | {_ratio(rejected, len(bad))} | {_ratio(right, len(bad))} "
            f"| {_ratio(first, len(bad))} |")


def _table(title: str, key: str, order: Iterable[str], outcomes: list[Outcome]) -> list[str]:
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups[getattr(o, key)].append(o)
    lines = [f"### {title}", "", f"| {key} | good accepted | bad rejected | right reason | expected first |",
             "| --- | --- | --- | --- | --- |"]
    lines += [_row(k, groups[k]) for k in order if k in groups]
    return [*lines, ""]


def _condition_table(outcomes: list[Outcome]) -> list[str]:
    lines = ["### Per bad condition", "",
             "| condition | rejected | right reason | expected first | first reasons given |",
             "| --- | --- | --- | --- | --- |"]
    for cond in BAD_CONDITIONS:
        group = [o for o in outcomes if o.condition == cond]
        if not group:
            continue
        rejected = sum(not o.ok for o in group)
        right = sum(cond in o.reasons for o in group)
        first = sum(bool(o.reasons) and o.reasons[0] == cond for o in group)
        given = Counter(o.reasons[0] if o.reasons else "ok" for o in group)
        top = ", ".join(f"{r} {n}" for r, n in given.most_common())
        lines.append(f"| {cond} | {_ratio(rejected, len(group))} | {_ratio(right, len(group))} "
                     f"| {_ratio(first, len(group))} | {top} |")
    return [*lines, ""]


def report(outcomes: list[Outcome], split: str) -> str:
    """The printed report: totals, tables per kind / desk / condition, timings, failures."""
    good = [o for o in outcomes if o.good]
    bad = [o for o in outcomes if not o.good]
    ms = np.array([o.ms for o in outcomes]) if outcomes else np.zeros(1)
    lines = [
        f"## Held-out scenes, split {split}: {len(outcomes)} scenes ({len(good)} good, {len(bad)} bad)",
        "",
        f"- good accepted: {_ratio(sum(o.ok for o in good), len(good))}",
        f"- good accepted on the document's outline (overlap >= {OUTLINE_MIN_IOU}): "
        f"{_ratio(sum(o.right_outline for o in good), len(good))}",
        f"- bad rejected: {_ratio(sum(not o.ok for o in bad), len(bad))}",
        f"- right reason: {_ratio(sum(o.expected in o.reasons for o in bad), len(bad))}",
        f"- expected first: {_ratio(sum(bool(o.reasons) and o.reasons[0] == o.expected for o in bad), len(bad))}",
        f"- analysis time (result.ms): median {np.median(ms):.1f} ms, p90 {np.percentile(ms, 90):.1f} ms, "
        f"max {ms.max():.1f} ms",
        "",
    ]
    lines += _table("Per document kind", "kind", KINDS, outcomes)
    lines += _table("Per desk kind", "desk", DESKS, outcomes)
    lines += _condition_table(bad)
    failures = [o for o in outcomes if not o.passed]
    lines += [f"### Failures ({len(failures)})", "", "| scene | expected | got |", "| --- | --- | --- |"]
    lines += [f"| {o.name} | {o.expected} | {'ok' if o.ok else ', '.join(o.reasons)}"
              f"{' (ok)' if o.ok and o.reasons else ''} |" for o in failures]
    elsewhere = [o for o in good if o.ok and not o.right_outline]
    lines += ["", f"### Good scenes accepted on another outline ({len(elsewhere)})", "",
              "| scene | overlap with the document |", "| --- | --- |"]
    lines += [f"| {o.name} | {o.outline_iou:.2f} |" for o in elsewhere]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Score one split and print the report; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--split", choices=("dev", "holdout"), default="dev")
    parser.add_argument("--count", type=int, default=240)
    parser.add_argument("--out", type=Path, help="write the failing scenes here as PNG files")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    outcomes: list[Outcome] = []
    written = 0
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    for item in scenes(args.split, args.count):
        outcome = judge(item)
        outcomes.append(outcome)
        if args.out is not None and (not outcome.passed or (outcome.ok and outcome.good and not outcome.right_outline)):
            cv2.imwrite(str(args.out / f"{item.name}.png"), item.image)
            written += 1
    print(report(outcomes, args.split))
    if args.out is not None:
        print(f"\nwrote {written} failing scenes to {args.out}")
    print(f"\ntotal run time {time.perf_counter() - start:.1f} s (generation and analysis)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
