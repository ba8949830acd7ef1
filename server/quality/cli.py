"""`jinglin quality`: check document photos or camera frames from the command line.

    jinglin quality [--mode document|camera] [--json] [--rectify DIR] IMAGE...

Prints one line per image (a JSON object with --json). Exit status: 0 when every image is ok,
1 when any is not (including unreadable files), 2 on usage errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import cv2

from server.quality.analyser import analyse_camera, analyse_document
from server.quality.document import rectify_document
from server.quality.guidance import guidance_text
from server.quality.loading import read_image
from server.quality.result import QualityResult, unreadable

EXIT_OK, EXIT_NOT_OK, EXIT_USAGE = 0, 1, 2


def register(subparsers: Any) -> None:
    """Add the `quality` command to an argparse subparsers object (handler in set_defaults)."""
    parser = subparsers.add_parser(
        "quality",
        help="check document photos or camera frames",
        description="Check document photos (sharp, well lit, glare-free, whole document) or camera "
        "frames (lens not covered, not dark, not blurred). Exit status: 0 all ok, 1 any not ok, "
        "2 usage error.",
    )
    parser.add_argument("--mode", choices=("document", "camera"), default="document",
                        help="document: capture acceptance (default); camera: device check")
    parser.add_argument("--json", action="store_true", help="one JSON object per image per line")
    parser.add_argument("--rectify", metavar="DIR", type=_directory_argument,
                        help="write the rectified document of each ok image into DIR as N-NAME.jpg")
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.set_defaults(handler=run)


def _directory_argument(text: str) -> Path:
    """--rectify's DIR: any path but an empty one (which would silently mean the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("DIR must not be empty")
    return Path(text)


def rectified_name(position: int, image_path: str) -> str:
    """File name for the rectified image of the position-th (1-based) IMAGE argument."""
    return f"{position}-{Path(image_path).stem}.jpg"


def run(args: argparse.Namespace) -> int:
    """Analyse every image named in args; return the exit status."""
    rectify_dir: Path | None = args.rectify
    if rectify_dir is not None:
        if rectify_dir.exists() and not rectify_dir.is_dir():
            print(f"jinglin quality: --rectify {rectify_dir} is not a directory", file=sys.stderr)
            return EXIT_USAGE
        try:
            rectify_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # under a file, or a folder not writable
            print(f"jinglin quality: --rectify {rectify_dir} cannot be created ({exc.strerror})", file=sys.stderr)
            return EXIT_USAGE
    status = EXIT_OK
    for position, path in enumerate(args.images, start=1):
        image = read_image(path)
        if image is None:
            result = unreadable()
        else:
            result = analyse_document(image) if args.mode == "document" else analyse_camera(image)
        note = ""
        if image is not None and result.ok and rectify_dir is not None and args.mode == "document":
            target = rectify_dir / rectified_name(position, path)
            if _written(target, rectify_document(image, result.metrics.document.corners)):
                note = f" -> {target}"
            else:
                # The image is fine but its rectified copy is not there: a failure of the run
                # (exit 1), never a success line naming a file that does not exist.
                print(f"jinglin quality: cannot write {target}", file=sys.stderr)
                status = EXIT_NOT_OK
        print(result.to_json(path) if args.json else _readable(path, result, args.mode) + note, flush=True)
        if not result.ok:
            status = EXIT_NOT_OK
    return status


def _written(target: Path, image: Any) -> bool:
    """Write image as the JPEG target; whether the file is there now (cv2.imwrite answers False
    for an unwritable folder, but True for some targets it never wrote, such as /proc)."""
    try:
        ok = cv2.imwrite(str(target), image)
    except cv2.error:
        return False
    return bool(ok) and target.is_file() and target.stat().st_size > 0


def _readable(path: str, result: QualityResult, mode: str) -> str:
    m = result.metrics
    values = (f"sharpness={m.sharpness:.0f} brightness={m.brightness:.0f} contrast={m.contrast:.0f} "
              f"glare={m.glare_ratio:.3f}")
    if mode == "document":
        values += f" document={m.document.coverage:.2f}" if m.document.found else " document=none"
    if result.ok:
        return f"OK    {path}  {values}  {result.ms:.1f} ms"
    hint = guidance_text(result.reasons[0], "camera" if mode == "camera" else "document")
    return f"FAIL  {path}  {','.join(result.reasons)} ({hint})  {values}  {result.ms:.1f} ms"


def main(argv: list[str] | None = None) -> int:
    """Run `quality` as a stand-alone program (argv without the program name)."""
    parser = argparse.ArgumentParser(prog="jinglin")
    subparsers = parser.add_subparsers(dest="command", required=True)
    register(subparsers)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 for --help
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    handler = args.handler
    return int(handler(args))


if __name__ == "__main__":
    sys.exit(main())
