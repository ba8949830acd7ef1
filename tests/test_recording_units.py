"""Recording rules without a server: close verdicts, byte ranges, chunk encryption."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import av
import numpy as np
import pytest

from server.capture.rotate import rotate_all
from server.cli import build_parser
from server.recording.ranges import RangeNotSatisfiable, parse_range
from server.recording.remux import remux_isolated, segments
from server.recording.state import open_state, verdict
from server.recording.storage import ChunkError, ChunkStore, delete_recording
from tests.helpers import make_settings, prepare_database


def test_verdicts() -> None:
    assert verdict([0, 1, 2], 3).state == "complete"
    assert verdict([0, 1, 2], 0).state == "complete"  # under-declared: stored chunks still count
    gap = verdict([0, 2], 4)
    assert (gap.state, gap.reason, gap.missing) == ("partial", "gap", [1, 3])
    assert (verdict([], 0, "unsupported").state, verdict([], 0, "unsupported").reason) == ("missing", "unsupported")
    assert verdict([], 3).reason == "no_chunks"
    assert verdict([0], 1, "stopped_early").state == "partial"
    assert open_state(3, session_live=True).state == "recording"
    assert (open_state(3, session_live=False).state, open_state(3, session_live=False).reason) == ("partial",
                                                                                                   "not_closed")
    assert open_state(0, session_live=False).reason == "not_started"


@pytest.mark.parametrize(("header", "expected"), [
    (None, None), ("", None), ("bytes=0-9", (0, 9)), ("bytes=5-", (5, 99)), ("bytes=-10", (90, 99)),
    ("bytes=-1000", (0, 99)), ("bytes=90-500", (90, 99)), ("items=0-1", None), ("bytes=0-1,5-6", None),
    ("bytes=-", None),
])
def test_ranges(header: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=100-200", "bytes=9-3", "bytes=-0"])
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 100)


def test_chunks_are_bound_to_their_index_and_key(tmp_path: Path) -> None:
    store = ChunkStore(tmp_path, "secret-one-" + "x" * 32)
    name = store.new_name()
    store.write(name, 0, b"first")
    store.write(name, 1, b"second")
    assert store.read(name, 1) == b"second"
    # A chunk moved to another index does not decrypt; nor with another secret.
    store.path(name, 1).write_bytes(store.path(name, 0).read_bytes())
    with pytest.raises(ChunkError):
        store.read(name, 1)
    with pytest.raises(ChunkError):
        ChunkStore(tmp_path, "secret-two-" + "x" * 32).read(name, 0)
    with pytest.raises(ChunkError):
        store.read(name, 7)
    with pytest.raises(ChunkError):
        store.path("../etc", 0)
    assert delete_recording(tmp_path, name) == 2
    assert delete_recording(tmp_path, name) == 0


def test_purge_command_covers_recordings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(prepare_database(make_settings(tmp_path)))
    monkeypatch.setenv("JINGLIN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINGLIN_SECRET_KEY", "k" * 48)
    monkeypatch.delenv("JINGLIN_DATABASE_URL", raising=False)
    args = build_parser().parse_args(["purge", "--dry-run", "--json"])
    assert args.handler(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["captures"] == 0 and out["recordings"]["recordings"] == 0 and out["recordings"]["dry_run"] is True


def test_key_rotation_covers_recording_chunks(tmp_path: Path) -> None:
    old, new = "old-secret-" + "x" * 32, "new-secret-" + "y" * 32
    store = ChunkStore(tmp_path, old)
    name = store.new_name()
    store.write(name, 0, b"zero")
    store.write(name, 1, b"one")
    build_parser()  # registers the recording rotation with `rotate-key`
    first = rotate_all(tmp_path, old, new)
    assert (first.rotated, first.already, first.unreadable) == (2, 0, 0)
    assert ChunkStore(tmp_path, new).read(name, 1) == b"one"
    again = rotate_all(tmp_path, old, new)
    assert (again.rotated, again.already) == (0, 2)


def _webm(seconds: float, fps: int = 10) -> bytes:
    """A small VP8 WebM whose clock starts at 0, as a freshly started MediaRecorder writes."""
    out = io.BytesIO()
    with av.open(out, "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for n in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), n * 8 % 256, np.uint8), format="rgb24")
            frame.pts = n
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def test_remux_joins_webm_streams_with_continuous_time() -> None:
    first, second = _webm(1.0), _webm(1.5)
    chunks = [first[:300], first[300:], second[:200], second[200:]]  # a reload between the two
    parts = segments(chunks)
    assert parts == [first, second]
    joined = remux_isolated(parts)
    assert joined is not None
    with av.open(io.BytesIO(joined)) as container:
        times = [float(p.pts * p.time_base) for p in container.demux(video=0) if p.pts is not None]
    assert times == sorted(times) and 2.3 <= times[-1] <= 2.5, times
    assert remux_isolated([b"not a webm" * 50]) is None
