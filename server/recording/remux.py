"""One continuous WebM for the player when a recording holds several WebM streams.

A console reloaded mid-call starts a new MediaRecorder, whose first chunk starts a new WebM stream
(an EBML header) with its clock at 0 again. FFmpeg decodes across such joins, but a browser's
`<video>` does not: it stops or overlaps at the first one. At close, such a recording is remuxed
(packets copied, nothing decoded or encoded) into one stream whose timestamps continue across the
joins; the uploaded chunks stay as they are, the record of truth that `sha256` covers.

The bytes come from a browser, so FFmpeg reads them in a child process (`remux_isolated`): a
malformed file that crashes FFmpeg (a SIGFPE was seen while writing this) ends the child, not the
server. The child reads length-prefixed parts on stdin and writes the WebM to stdout.
"""

from __future__ import annotations

import io
import logging
import struct
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import av
from av.error import FFmpegError

log = logging.getLogger(__name__)

EBML_MAGIC = b"\x1a\x45\xdf\xa3"


def segments(chunks: Sequence[bytes]) -> list[bytes]:
    """The WebM streams in a recording's chunks (a chunk starting with an EBML header opens one)."""
    found: list[bytearray] = []
    for chunk in chunks:
        if chunk.startswith(EBML_MAGIC) or not found:
            found.append(bytearray())
        found[-1].extend(chunk)
    return [bytes(segment) for segment in found]


def _add_stream(output: Any, template: Any) -> Any:
    # PyAV 14 renamed add_stream(template=…) to add_stream_from_template(…).
    from_template = getattr(output, "add_stream_from_template", None)
    stream = from_template(template) if from_template else output.add_stream(template=template)
    stream.time_base = template.time_base  # the muxer divides by it
    return stream


def remux(parts: Sequence[bytes]) -> bytes | None:
    """The WebM streams joined into one with continuous timestamps; None when they cannot be read."""
    out = io.BytesIO()
    try:
        with av.open(out, "w", format="webm") as output:
            # Every output stream exists before the first packet: the header is written with it.
            with av.open(io.BytesIO(parts[0]), format="webm") as first:
                streams: dict[str, Any] = {stream.type: _add_stream(output, stream)
                                           for stream in first.streams if stream.type in ("video", "audio")}
            offset_s = 0.0
            for part in parts:
                offset_s = _copy(part, output, streams, offset_s)
    except (FFmpegError, ValueError, KeyError, IndexError) as exc:
        log.warning("recording not remuxed; the player gets the chunks as uploaded",
                    extra={"error": type(exc).__name__})
        return None
    return out.getvalue()


def _copy(part: bytes, output: Any, streams: dict[str, Any], offset_s: float) -> float:
    """Mux one WebM stream's packets shifted by offset_s; returns where it ends (seconds)."""
    end_s = offset_s
    with av.open(io.BytesIO(part), "r", format="webm") as source:
        for packet in source.demux():
            kind = packet.stream.type
            if packet.dts is None or packet.pts is None or kind not in streams:
                continue  # the demuxer's flush packet, or a stream the first part did not have
            base = packet.stream.time_base
            if base is None:
                continue
            shift = int(offset_s / base)
            packet.pts += shift
            packet.dts += shift
            end_s = max(end_s, float((packet.pts + (packet.duration or 0)) * base))
            packet.stream = streams[kind]
            output.mux(packet)
    return end_s


REMUX_TIMEOUT_S = 300


def remux_isolated(parts: Sequence[bytes]) -> bytes | None:
    """`remux` in a child process (blocking: call it from a thread); None when it fails."""
    framed = b"".join(struct.pack(">Q", len(part)) + part for part in parts)
    try:
        done = subprocess.run([sys.executable, "-m", "server.recording.remux"], input=framed, capture_output=True,
                              timeout=REMUX_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("recording remux did not run", extra={"error": type(exc).__name__})
        return None
    if done.returncode != 0 or not done.stdout:
        log.warning("recording not remuxed; the player gets the chunks as uploaded",
                    extra={"returncode": done.returncode})
        return None
    return done.stdout


def _main() -> int:
    data = sys.stdin.buffer.read()
    parts, offset = [], 0
    while offset + 8 <= len(data):
        (size,) = struct.unpack_from(">Q", data, offset)
        parts.append(data[offset + 8:offset + 8 + size])
        offset += 8 + size
    result = remux(parts) if parts else None
    if result is None:
        return 1
    sys.stdout.buffer.write(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
