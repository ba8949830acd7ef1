"""Record the analyser's verdicts on whole splits, and compare two records (speed work must keep them).

    python scripts/bench/quality_verdicts.py record OUT.json [--split train --split validation]
                                                   [--cache DIR]
    python scripts/bench/quality_verdicts.py compare BEFORE.json AFTER.json

record: every scene of the splits (train 400, validation 200, test 600 scenes) through the
product's path (tests/quality_fixtures/scoring.verdict), one entry per scene: ok, reasons,
whether the outline was found, and its label (condition, expected reason, kind, desk, split).
--cache keeps the generated scenes as pickles in DIR (the VP8 round trips make generating them
the slow part), so a second record of the same splits takes a fraction of the time.
compare: the scenes whose ok or reasons differ, then good accepted / bad rejected / right reason
per split and desk kind and per split and document kind, and per split how many bad scenes have
the expected reason first (the one the live guidance shows) and how many good scenes were
accepted on the document's own outline (overlap >= 0.9 with it as laid), before -> after.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np

from server.quality.result import QualityResult
from tests.quality_fixtures.scoring import OUTLINE_MIN_IOU, quad_iou, verdict
from tests.quality_fixtures.world import WorldSample, expected_reason, world_samples

SPLIT_SIZES = {"train": 400, "validation": 200, "test": 600}


def _scenes(split: str, cache: Path | None) -> list[WorldSample]:
    if cache is None:
        return list(world_samples(split, SPLIT_SIZES[split]))
    path = cache / f"{split}.pickle"
    if path.exists():
        with path.open("rb") as f:
            scenes: list[WorldSample] = pickle.load(f)  # our own cache file
        # The pixels do not depend on the labelling rule: a cache made before a label change
        # (world.expected_reason) is labelled by the current rule.
        for sample in scenes:
            if sample.factors is not None:
                sample.expected = expected_reason(sample.condition, sample.factors.desk)
        return scenes
    scenes = list(world_samples(split, SPLIT_SIZES[split]))
    cache.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        pickle.dump(scenes, f)
    return scenes


def record(out: Path, splits: list[str], cache: Path | None) -> None:
    """Write the verdict of every scene of splits to out (JSON, keyed by scene name)."""
    entries: dict[str, dict[str, Any]] = {}
    for split in splits:
        for sample in _scenes(split, cache):
            result = verdict(sample)
            desk = sample.factors.desk if sample.factors is not None else ""
            entries[sample.name] = {
                "split": split, "condition": sample.condition, "expected": sample.expected, "kind": sample.kind,
                "desk": desk, "ok": result.ok, "reasons": list(result.reasons),
                "found": result.metrics.document.found, "on_outline": _on_outline(sample, result),
            }
    out.write_text(json.dumps(entries, indent=0, sort_keys=True))
    print(f"{len(entries)} verdicts written to {out}")


def _on_outline(sample: WorldSample, result: QualityResult) -> bool | None:
    """For a good scene that was accepted: whether the outline it was accepted on covers the
    document as it was laid (overlap >= OUTLINE_MIN_IOU, as quality_heldout counts); else None.
    An outline over a printed panel or a wedge of the card would rectify the wrong picture."""
    corners = result.metrics.document.corners
    if sample.expected != "ok" or not result.ok or sample.corners is None or len(corners) != 4:
        return None
    return quad_iou(np.array(corners), sample.corners) >= OUTLINE_MIN_IOU


def _outlines(entries: dict[str, dict[str, Any]], split: str) -> int:
    return sum(e["split"] == split and bool(e.get("on_outline")) for e in entries.values())


def _shares(entries: dict[str, dict[str, Any]], key: str) -> dict[tuple[str, str], tuple[int, int, int, int, int]]:
    """Per (split, key value): good, accepted, bad, rejected, right reason."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for e in entries.values():
        c = counts[(e["split"], e[key])]
        if e["expected"] == "ok":
            c[0] += 1
            c[1] += e["ok"]
        else:
            c[2] += 1
            c[3] += not e["ok"]
            c[4] += e["expected"] in e["reasons"]
    return {k: (v[0], v[1], v[2], v[3], v[4]) for k, v in sorted(counts.items())}


def compare(before_path: Path, after_path: Path) -> int:
    """Print the changed verdicts and the shares before -> after; 0 when nothing changed."""
    before = json.loads(before_path.read_text())
    after = json.loads(after_path.read_text())
    changed = [name for name in sorted(before) if name in after
               and (before[name]["ok"], before[name]["reasons"]) != (after[name]["ok"], after[name]["reasons"])]
    for name in changed:
        b, a = before[name], after[name]
        print(f"{name} ({b['desk']}): ok {b['ok']} {b['reasons']} -> ok {a['ok']} {a['reasons']}")
    print(f"{len(changed)} of {len(before)} verdicts changed")
    for key in ("desk", "kind"):
        old, new = _shares(before, key), _shares(after, key)
        for group, (good, acc, bad, rej, right) in new.items():
            o = old.get(group, (0, 0, 0, 0, 0))
            if o != (good, acc, bad, rej, right):
                print(f"  {group[0]} {key} {group[1]}: good accepted {o[1]}/{o[0]} -> {acc}/{good}, "
                      f"bad rejected {o[3]}/{o[2]} -> {rej}/{bad}, right reason {o[4]}/{o[2]} -> {right}/{bad}")
    for split in sorted({e["split"] for e in after.values()}):
        old_first, new_first, bad = (_first(before, split), _first(after, split), _bad(after, split))
        if old_first != new_first:
            print(f"  {split}: expected reason first {old_first}/{bad} -> {new_first}/{bad}")
        old_on, new_on, good = _outlines(before, split), _outlines(after, split), _good(after, split)
        if old_on != new_on:
            print(f"  {split}: good accepted on the document's outline {old_on}/{good} -> {new_on}/{good}")
    return 1 if changed else 0


def _good(entries: dict[str, dict[str, Any]], split: str) -> int:
    return sum(e["split"] == split and e["expected"] == "ok" for e in entries.values())


def _bad(entries: dict[str, dict[str, Any]], split: str) -> int:
    return sum(e["split"] == split and e["expected"] != "ok" for e in entries.values())


def _first(entries: dict[str, dict[str, Any]], split: str) -> int:
    """Bad scenes of split whose first reason (the one the live guidance shows) is the expected one."""
    return sum(e["split"] == split and e["expected"] != "ok" and e["reasons"][:1] == [e["expected"]]
               for e in entries.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("out", type=Path)
    rec.add_argument("--split", action="append", choices=list(SPLIT_SIZES))
    rec.add_argument("--cache", type=Path)
    cmp = sub.add_parser("compare")
    cmp.add_argument("before", type=Path)
    cmp.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "record":
        record(args.out, args.split or ["train", "validation"], args.cache)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
