"""`jinglin quality`: JSON shape, unreadable files, exit codes, --rectify, argparse wiring."""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from server.quality import cli
from server.quality.loading import MAX_FILE_BYTES
from tests.quality_fixtures import generate_samples

REASONS = {"blurry", "too_dark", "too_bright", "low_contrast", "glare", "no_document", "document_cut_off",
           "document_too_small", "low_resolution", "camera_blocked", "unreadable_image"}


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("quality_cli")
    out: dict[str, Path] = {}
    for sample in generate_samples(2, seed=11):  # one good, one defocused
        path = root / f"{sample.condition}.jpg"
        cv2.imwrite(str(path), sample.image)
        out[sample.condition] = path
    data = out["good"].read_bytes()
    (root / "truncated.jpg").write_bytes(data[: len(data) // 2])
    # Cut, then closed with an end-of-image marker: libjpeg grey-fills the rest without complaint.
    (root / "cut_closed.jpg").write_bytes(data[: len(data) // 2] + b"\xff\xd9")
    # Whole, with bytes after the end marker (a camera's padding, a phone's second picture).
    (root / "padded.jpg").write_bytes(data + bytes(8192))
    (root / "appended.jpg").write_bytes(data + data)
    (root / "empty.png").write_bytes(b"")
    (root / "notes.txt").write_text("not an image", encoding="utf-8")
    out.update(truncated=root / "truncated.jpg", empty=root / "empty.png", text=root / "notes.txt",
               missing=root / "missing.jpg", cut_closed=root / "cut_closed.jpg", padded=root / "padded.jpg",
               appended=root / "appended.jpg")
    return out


def _json_lines(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_json_shape_and_exit_code(images: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["quality", "--json", str(images["good"])]) == 0
    [line] = _json_lines(capsys)
    assert set(line) == {"path", "ok", "reasons", "metrics", "ms"}
    assert set(line["metrics"]) == {"sharpness", "brightness", "contrast", "glare_ratio", "document"}
    assert set(line["metrics"]["document"]) == {"found", "coverage", "corners"}
    assert line["ok"] is True and line["reasons"] == []
    assert len(line["metrics"]["document"]["corners"]) == 4
    assert line["ms"] > 0


def test_not_ok_and_unreadable(images: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    names = ["defocus", "truncated", "cut_closed", "empty", "text", "missing"]
    assert cli.main(["quality", "--json", *(str(images[n]) for n in names)]) == 1
    lines = _json_lines(capsys)
    assert [line["path"] for line in lines] == [str(images[n]) for n in names]
    assert "blurry" in lines[0]["reasons"]
    for line in lines[1:]:
        assert line["ok"] is False and line["reasons"] == ["unreadable_image"]
    assert all(set(line["reasons"]) <= REASONS for line in lines)


def test_readable_output(images: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["quality", str(images["good"]), str(images["defocus"])]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("OK") and out[1].startswith("FAIL") and "请拿稳" in out[1]


def test_camera_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "black.png"
    cv2.imwrite(str(path), np.zeros((720, 1280, 3), np.uint8))
    assert cli.main(["quality", "--mode", "camera", "--json", str(path)]) == 1
    assert _json_lines(capsys)[0]["reasons"] == ["camera_blocked"]


def test_rectify_writes_ok_documents(images: dict[str, Path], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "rectified"
    cli.main(["quality", "--rectify", str(target), str(images["good"]), str(images["defocus"])])
    capsys.readouterr()
    written = sorted(p.name for p in target.iterdir())
    assert written == [cli.rectified_name(1, str(images["good"]))]
    assert cv2.imread(str(target / written[0])) is not None


def test_usage_errors(tmp_path: Path, images: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["quality"]) == 2
    assert cli.main(["quality", "--mode", "selfie", str(images["good"])]) == 2
    afile = tmp_path / "file"
    afile.write_text("x", encoding="utf-8")
    assert cli.main(["quality", "--rectify", str(afile), str(images["good"])]) == 2
    assert cli.main(["quality", "--rectify", str(afile / "under"), str(images["good"])]) == 2  # under a file
    assert "cannot be created" in capsys.readouterr().err


def test_register_on_a_foreign_parser(images: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="jinglin")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("other")
    cli.register(sub)
    args = parser.parse_args(["quality", "--json", str(images["good"])])
    assert args.handler(args) == 0
    assert _json_lines(capsys)[0]["ok"] is True


def test_runs_as_a_program(images: dict[str, Path]) -> None:
    code = "import sys; from server.quality.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", code, "quality", "--json", str(images["text"])],
                          capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[1])
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["reasons"] == ["unreadable_image"]
    assert "Traceback" not in proc.stderr


def test_the_console_script_checks_pictures_without_loading_the_server(images: dict[str, Path]) -> None:
    """`jinglin quality` (server.entry.main) imports the quality check only: the whole application
    took 1.5-4 s to import per run, the check itself ~0.3 s. Other commands still get the full
    parser."""
    code = ("import sys; from server.entry import main; code = main(sys.argv[1:]); "
            "assert 'server.app' not in sys.modules and 'aiortc' not in sys.modules, 'server loaded'; "
            "sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", code, "quality", "--json", str(images["good"])],
                          capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[1])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["ok"] is True
    proc = subprocess.run([sys.executable, "-m", "server", "--help"], capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).parents[1])
    assert proc.returncode == 0 and "quality" in proc.stdout and "serve" in proc.stdout, proc.stderr


def test_a_picture_declaring_too_many_pixels_is_not_decoded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A few hundred bytes of PNG declaring 30,000 x 30,000 pixels: unreadable, at once."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 30_000, 30_000, 8, 2, 0, 0, 0)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(4096)))
                     + chunk(b"IEND", b""))
    assert cli.main(["quality", "--json", str(bomb)]) == 1
    assert _json_lines(capsys)[0]["reasons"] == ["unreadable_image"]


def test_bytes_after_a_whole_jpeg_are_no_defect(images: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["quality", "--json", str(images["padded"]), str(images["appended"])]) == 0
    assert [line["ok"] for line in _json_lines(capsys)] == [True, True]


def test_an_empty_rectify_folder_is_a_usage_error(images: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["quality", "--rectify", "", str(images["good"])]) == 2
    assert "must not be empty" in capsys.readouterr().err


def test_a_rectified_file_not_written_fails_the_run(images: dict[str, Path], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """cv2.imwrite answers False for a folder it cannot write in (and True for /proc, writing
    nothing): the line names no file, stderr says so and the run exits 1."""
    monkeypatch.setattr(cli.cv2, "imwrite", lambda path, image: True)  # claims a write, writes nothing
    assert cli.main(["quality", "--rectify", str(tmp_path / "out"), str(images["good"])]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("OK") and "->" not in captured.out
    assert "cannot write" in captured.err


def test_a_transparent_picture_is_judged_as_shown_over_white(images: dict[str, Path], tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A PNG's alpha channel is honoured: the colour under transparent pixels is undefined (here
    black) and is not what anyone sees. Opaque, the good scene stays ok, in 8 and 16 bits; fully
    transparent, it is a blank white picture."""
    good = cv2.imread(str(images["good"]))
    opaque = np.dstack([good, np.full(good.shape[:2], 255, np.uint8)])
    hidden = np.zeros_like(opaque)  # the colour under a fully transparent picture: black, alpha 0
    paths = {"opaque": tmp_path / "opaque.png", "opaque16": tmp_path / "opaque16.png",
             "hidden": tmp_path / "hidden.png"}
    cv2.imwrite(str(paths["opaque"]), opaque)
    cv2.imwrite(str(paths["opaque16"]), opaque.astype(np.uint16) * 257)
    cv2.imwrite(str(paths["hidden"]), hidden)
    assert cli.main(["quality", "--json", *(str(p) for p in paths.values())]) == 1
    opaque_line, opaque16_line, hidden_line = _json_lines(capsys)
    assert opaque_line["ok"] and opaque16_line["ok"], (opaque_line, opaque16_line)
    assert opaque16_line["metrics"]["brightness"] == pytest.approx(opaque_line["metrics"]["brightness"], abs=0.5)
    # Read without its alpha this picture is black ("too_dark"); as shown, it is blank white.
    assert "too_dark" not in hidden_line["reasons"] and hidden_line["metrics"]["brightness"] > 250, hidden_line


def test_files_that_are_no_pictures_are_not_read_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A FIFO without a writer, a device that never ends and a file over MAX_FILE_BYTES are
    unreadable at once: before, the FIFO blocked for ever and /dev/zero filled the memory."""
    fifo = tmp_path / "camera.fifo"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.jpg"
    with huge.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing is written
    paths = [str(fifo), "/dev/zero", str(huge)]
    assert cli.main(["quality", "--json", *paths]) == 1
    lines = _json_lines(capsys)
    assert [(line["path"], line["reasons"]) for line in lines] == [(p, ["unreadable_image"]) for p in paths]
