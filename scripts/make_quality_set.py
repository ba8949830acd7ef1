"""Write the labelled synthetic quality set and score the analyser on it.

    python scripts/make_quality_set.py OUTDIR [--count N] [--seed S] [--camera N]

Writes OUTDIR/<name>.jpg (quality 95) plus labels.csv and labels.json (condition, expected reason,
document kind, size, true corners), then prints accept/reject shares per condition. Sample i is the
same image whatever N is, so the test suite's first 200 are part of the full set.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.quality import analyse_camera, analyse_document
from tests.quality_fixtures import generate_camera_samples, generate_samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--count", type=int, default=440, help="document images (half good)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--camera", type=int, default=60, help="camera-mode images")
    args = parser.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    labels = []
    tally: Counter[tuple[str, str]] = Counter()
    for mode, samples in (("document", generate_samples(args.count, args.seed)),
                          ("camera", generate_camera_samples(args.camera, args.seed))):
        for sample in samples:
            cv2.imwrite(str(args.outdir / f"{sample.name}.jpg"), sample.image, [cv2.IMWRITE_JPEG_QUALITY, 95])
            result = analyse_document(sample.image) if mode == "document" else analyse_camera(sample.image)
            label = sample.label() | {"mode": mode, "file": f"{sample.name}.jpg", "ok": result.ok,
                                      "reasons": result.reasons}
            labels.append(label)
            if sample.expected == "ok":
                verdict = "accepted" if result.ok else "rejected"
            elif result.ok:
                verdict = "accepted"
            else:
                verdict = "right_reason" if sample.expected in result.reasons else "wrong_reason"
            tally[(f"{mode}:{sample.condition}", verdict)] += 1
    (args.outdir / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=1), encoding="utf-8")
    with (args.outdir / "labels.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "mode", "condition", "expected", "kind", "width", "height", "ok", "reasons"])
        for lab in labels:
            writer.writerow([lab["file"], lab["mode"], lab["condition"], lab["expected"], lab["kind"],
                             lab["width"], lab["height"], lab["ok"], " ".join(lab["reasons"])])
    _report(tally)
    return 0


def _report(tally: Counter[tuple[str, str]]) -> None:
    conditions = sorted({c for c, _ in tally})
    print(f"{'condition':28s} {'n':>4s} {'accepted':>9s} {'right':>6s} {'wrong':>6s}")
    for cond in conditions:
        n = sum(v for (c, _), v in tally.items() if c == cond)
        print(f"{cond:28s} {n:4d} {tally[(cond, 'accepted')]:9d} {tally[(cond, 'right_reason')]:6d} "
              f"{tally[(cond, 'wrong_reason')]:6d}")
    for mode in ("document", "camera"):
        good = [(c, v) for c, v in tally if c == f"{mode}:good"]
        good_n = sum(tally[k] for k in good)
        bad = [k for k in tally if k[0].startswith(mode + ":") and k[0] != f"{mode}:good"]
        bad_n = sum(tally[k] for k in bad)
        if not good_n or not bad_n:
            continue
        accepted = tally[(f"{mode}:good", "accepted")] / good_n
        rejected = 1 - sum(tally[k] for k in bad if k[1] == "accepted") / bad_n
        right = sum(tally[k] for k in bad if k[1] == "right_reason") / bad_n
        print(f"{mode}: good accepted {accepted:.3f} ({good_n}), bad rejected {rejected:.3f} ({bad_n}), "
              f"with the right reason {right:.3f}")


if __name__ == "__main__":
    sys.exit(main())
