"""What the camera path does to a frame: sensor noise, then a JPEG still or a real VP8 round trip.

VP8 goes through PyAV's libvpx encoder (as the browser's would) at a given bitrate and back through
its decoder; a few frames of the same scene are sent so the decoded frame is a refined inter
frame, as in a steady live stream, not only the first key frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fractions import Fraction

import av
import cv2
import numpy as np

VP8_FRAMES = 4


def add_noise(frame: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Gaussian sensor noise of sigma grey levels, the same on all channels (luma noise)."""
    cv2.setRNGSeed(int(rng.integers(0, 2**31 - 1)))
    noise = np.empty(frame.shape[:2], np.int16)
    cv2.randn(noise, 0, sigma)
    return cv2.add(frame, cv2.merge([noise] * 3), dtype=cv2.CV_8U)


def jpeg_round_trip(frame: np.ndarray, quality: int) -> np.ndarray:
    """Encode as JPEG at quality and decode again (BGR)."""
    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def vp8_round_trip(frame: np.ndarray, bitrate: int) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Encode frame (BGR) as a short VP8 stream at bitrate bits/s and decode it.

    Returns the last decoded frame as BGR, its Y plane (what the live analysis reads from
    frame.planes[0]) and its U and V planes (planes[1], planes[2]). Odd sizes are cropped to even,
    as yuv420p requires.
    """
    decoded = list(vp8_stream([frame] * VP8_FRAMES, bitrate))[-1]
    return decoded.to_ndarray(format="bgr24"), luma(decoded), chroma(decoded)


def vp8_stream(frames: Iterable[np.ndarray], bitrate: int, fps: int = 30) -> Iterator[av.VideoFrame]:
    """Encode BGR frames as a real-time VP8 stream at bitrate bits/s and yield the decoded frames
    in order (libvpx in real-time mode, no lag: one decoded frame per input frame)."""
    encoder: av.CodecContext | None = None
    decoder = av.CodecContext.create("vp8", "r")
    for index, frame in enumerate(frames):
        h, w = frame.shape[:2]
        frame = frame[: h - h % 2, : w - w % 2]
        if encoder is None:
            encoder = _vp8_encoder(frame.shape[1], frame.shape[0], bitrate, fps)
        source = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="bgr24")
        source.pts = index
        for packet in encoder.encode(source):
            yield from decoder.decode(packet)
    if encoder is not None:
        for packet in encoder.encode(None):
            yield from decoder.decode(packet)


def luma(frame: av.VideoFrame) -> np.ndarray:
    """The Y plane of a decoded yuv420p frame as a (height, width) array (row padding dropped)."""
    plane = frame.planes[0]
    y = np.frombuffer(bytes(plane), np.uint8).reshape(frame.height, plane.line_size)[:, : frame.width]
    return np.ascontiguousarray(y)


def chroma(frame: av.VideoFrame) -> tuple[np.ndarray, np.ndarray]:
    """The U and V planes of a decoded yuv420p frame (half size each way, row padding dropped)."""
    planes = []
    for plane in frame.planes[1:3]:
        rows = np.frombuffer(bytes(plane), np.uint8).reshape(plane.height, plane.line_size)
        planes.append(np.ascontiguousarray(rows[:, : plane.width]))
    return planes[0], planes[1]


def _vp8_encoder(width: int, height: int, bitrate: int, fps: int) -> av.CodecContext:
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height = width, height
    encoder.pix_fmt = "yuv420p"
    encoder.bit_rate = bitrate
    encoder.time_base = Fraction(1, fps)
    encoder.framerate = fps
    # A negative cpu-used is a fixed speed: a positive one lets libvpx adapt its speed to the time
    # each frame took, which made the same scene encode differently on a loaded machine.
    encoder.options = {"deadline": "realtime", "cpu-used": "-8", "lag-in-frames": "0", "threads": "1"}
    return encoder
