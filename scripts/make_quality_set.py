"""Write a split of the broad labelled quality set and score the analyser on it.

    python scripts/make_quality_set.py OUTDIR [--split train|validation|test] [--count N]
                                       [--start I] [--camera N] [--tables FILE]

Writes OUTDIR/<name>.jpg (stills, JPEG quality 95 over the camera's own JPEG round trip) or
OUTDIR/<name>.png (live frames, the decoded VP8 picture) plus labels.csv and labels.json (split,
condition, expected reason, document kind, true corners and every drawn factor, with the
analyser's verdict), then prints the accept/reject shares overall, per condition, per document
kind and per factor as markdown tables (also written to --tables). Sample i of a split is the same
scene whatever --count is, so the test suite's split is the first part of a larger run. Tune
thresholds on train and validation only; report the test split.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.quality import analyse_camera
from tests.quality_fixtures import generate_camera_samples
from tests.quality_fixtures.scoring import Tally, factor_tables, verdict
from tests.quality_fixtures.world import SPLIT_SEEDS, world_samples

LABEL_COLUMNS = ("file", "split", "condition", "expected", "kind", "desk", "paper", "glossy", "light_colour",
                 "light_level", "light_shape", "specular", "resolution", "path", "ok", "reasons")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--split", choices=[s for s in SPLIT_SEEDS if s != "bench"], default="test")
    parser.add_argument("--count", type=int, default=1000, help="document scenes (half good)")
    parser.add_argument("--start", type=int, default=0, help="index of the first scene")
    parser.add_argument("--camera", type=int, default=0, help="camera-mode (device check) images")
    parser.add_argument("--tables", type=Path, help="also write the markdown tables here")
    args = parser.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    labels = []
    pairs = []
    for sample in world_samples(args.split, args.count, args.start):
        result = verdict(sample)
        pairs.append((sample, result))
        suffix = ".png" if sample.luma is not None else ".jpg"
        options = [cv2.IMWRITE_JPEG_QUALITY, 95] if suffix == ".jpg" else []
        cv2.imwrite(str(args.outdir / f"{sample.name}{suffix}"), sample.image, options)
        labels.append(sample.label() | {"mode": "document", "file": f"{sample.name}{suffix}", "ok": result.ok,
                                        "reasons": result.reasons, "ms": round(result.ms, 3)})
    camera = Tally()
    for sample in generate_camera_samples(args.camera):
        result = analyse_camera(sample.image)
        camera.add(sample, result)
        cv2.imwrite(str(args.outdir / f"{sample.name}.jpg"), sample.image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        labels.append(sample.label() | {"mode": "camera", "split": "camera", "file": f"{sample.name}.jpg",
                                        "ok": result.ok, "reasons": result.reasons})
    (args.outdir / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=1), encoding="utf-8")
    with (args.outdir / "labels.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(LABEL_COLUMNS)
        for label in labels:
            writer.writerow([" ".join(label[c]) if c == "reasons" else label.get(c, "") for c in LABEL_COLUMNS])
    tables = factor_tables(pairs)
    print(f"split {args.split}, scenes {args.start}..{args.start + args.count - 1}\n")
    print(tables)
    if args.camera:
        print("\n" + camera.row("camera mode (device check)"))
    if args.tables:
        args.tables.write_text(tables + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
