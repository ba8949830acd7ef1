"""Capture building blocks without a server: encryption, watermark, upload checks, health score, SDP."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import struct
import zlib
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from server.capture import cli, watermark
from server.capture.analysis_peer import BITRATE_FMTP, raise_bitrate
from server.capture.health import camera_score
from server.capture.storage import CaptureStore, StorageError
from server.capture.upload import UploadError, header_size, validate_upload
from tests.helpers import make_settings, prepare_database
from tests.test_capture_support import jpeg

SECRET = "s" * 48


def test_stored_files_are_encrypted_and_authenticated(tmp_path: Path) -> None:
    store = CaptureStore(tmp_path, SECRET)
    name = store.new_name()
    plaintext = jpeg(np.full((64, 64, 3), 128, np.uint8))
    path = store.write(name, "original", plaintext)
    blob = path.read_bytes()
    assert b"\xff\xd8\xff" not in blob
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert store.read(name, "original") == plaintext
    with pytest.raises(StorageError):
        CaptureStore(tmp_path, "another secret").read(name, "original")
    path.with_name(f"{name}.rectified.jlc").write_bytes(blob)  # a file moved to another variant
    with pytest.raises(StorageError):
        store.read(name, "rectified")
    path.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    with pytest.raises(StorageError):
        store.read(name, "original")
    assert store.delete(name) == 2
    with pytest.raises(StorageError):
        store.path("../../etc/passwd", "original")


def test_watermark_band_changes_pixels_and_reads_the_sentence() -> None:
    image = np.full((720, 1280, 3), 200, np.uint8)
    text = watermark.watermark_text("敬老卡申领、发放", date(2026, 11, 27), "ab12cd34ef56")
    assert text == "仅供静安区社区事务受理【敬老卡申领、发放】使用 2026-11-27 编号AB12CD34"
    marked = watermark.apply_watermark(image, text, watermark.ascii_text(date(2026, 11, 27), "ab12cd34ef56"))
    assert marked.shape == image.shape
    band = np.abs(marked[-40:].astype(int) - 200).mean()
    assert band > 60
    # The faint repeats touch the area above the band too, but only lightly.
    above = np.abs(marked[:-60].astype(int) - 200)
    assert 0 < above.mean() < 20


def test_watermark_without_a_cjk_font_falls_back_to_ascii(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watermark, "FONT_CANDIDATES", ())
    watermark.cjk_font_path.cache_clear()
    try:
        marked = watermark.apply_watermark(np.full((400, 600, 3), 200, np.uint8), "中文", "ASCII")
        assert np.abs(marked[-20:].astype(int) - 200).mean() > 40
    finally:
        watermark.cjk_font_path.cache_clear()


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(("data", "code"), [
    (b"", "missing_image"),
    (b"GIF89a....", "unsupported_type"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "not_an_image"),
])
def test_upload_refusals(data: bytes, code: str) -> None:
    with pytest.raises(UploadError) as info:
        validate_upload(data)
    assert info.value.code == code
    assert info.value.message


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims a size in its header and holds no pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [6000, 12000, 60000])
def test_a_huge_header_is_refused_without_decoding(side: int) -> None:
    # A tiny file claiming a huge picture: refused from the header (Pillow's bomb warning included).
    with pytest.raises(UploadError) as info:
        validate_upload(_png_header(side, side))
    assert info.value.code == "too_many_pixels"
    assert header_size(_png_header(100, 50)) == (100, 50)


def test_camera_score_falls_as_the_lens_gets_dirty() -> None:
    good = {"brightness": 140.0, "contrast": 45.0, "sharpness": 120.0}
    assert camera_score(good) == 1.0
    dirtier = [camera_score({**good, "sharpness": s, "contrast": c}) for s, c in
               ((70, 32), (50, 26), (35, 20), (30, 16), (15, 12))]
    assert dirtier == sorted(dirtier, reverse=True)
    assert dirtier[3] == pytest.approx(0.5)
    assert camera_score({"brightness": 4.0}) == 0.0
    assert camera_score(good, camera_ok=False) == 0.0
    assert camera_score({}) == 1.0  # nothing measured: nothing against the camera


def test_answer_sdp_asks_for_bitrate() -> None:
    sdp = ("v=0\r\nm=audio 9 UDP 0\r\na=rtpmap:0 PCMU/8000\r\nm=video 9 UDP/TLS/RTP/SAVPF 97 99\r\n"
           "a=rtpmap:97 VP8/90000\r\na=rtpmap:98 rtx/90000\r\na=rtpmap:99 H264/90000\r\n"
           "a=fmtp:99 packetization-mode=1\r\n")
    out = raise_bitrate(sdp)
    assert f"a=fmtp:97 {BITRATE_FMTP}" in out
    assert f"a=fmtp:99 packetization-mode=1;{BITRATE_FMTP}" in out
    assert "a=fmtp:98" not in out and "PCMU/8000\r\na=fmtp" not in out


def test_purge_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(prepare_database(make_settings(tmp_path)))
    monkeypatch.setenv("JINGLIN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINGLIN_SECRET_KEY", "k" * 48)
    parser = argparse.ArgumentParser(prog="jinglin")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["purge", "--dry-run", "--json"])
    assert args.handler(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["captures"] == 0 and out["dry_run"] is True
    assert out["kiosk_health"] == {"samples": 0, "dry_run": True}
