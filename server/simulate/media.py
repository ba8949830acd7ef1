"""Synthetic media: a moving test-pattern video track, a sine-tone audio track, frame counters.

The tracks pace themselves in real time like a camera and a microphone would, so the encoder
and the network see a realistic load; the counters consume what the other side sends and
record when the first frame was decoded (call setup time).
"""

from __future__ import annotations

import asyncio
import fractions
import math
import time

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

VIDEO_CLOCK = 90_000
AUDIO_RATE = 48_000
AUDIO_PTIME_S = 0.020


class TestPatternTrack(MediaStreamTrack):
    """A moving bar over a gradient, in yuv420p, paced at `fps`."""

    kind = "video"

    def __init__(self, width: int = 640, height: int = 480, fps: float = 15.0) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        # Build the planes once; each frame only rolls the luma so the encoder sees motion.
        ramp = np.linspace(16, 235, width, dtype=np.float32)
        self._luma = np.tile(ramp, (height, 1)).astype(np.uint8)
        self._luma[:, : width // 16] = 235
        self._chroma = np.full((height // 2, width), 128, dtype=np.uint8)
        self._index = 0
        self._start: float | None = None

    async def recv(self) -> av.VideoFrame:
        """The next frame, no earlier than its presentation time."""
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._index / self.fps
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        shift = (self._index * 8) % self.width
        yuv = np.concatenate([np.roll(self._luma, shift, axis=1), self._chroma])
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = int(self._index * VIDEO_CLOCK / self.fps)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self._index += 1
        return frame


class SineToneTrack(MediaStreamTrack):
    """A 440 Hz tone, mono 16-bit at 48 kHz, in 20 ms frames."""

    kind = "audio"

    def __init__(self, frequency: float = 440.0) -> None:
        super().__init__()
        self._samples = int(AUDIO_RATE * AUDIO_PTIME_S)
        self._phase_step = 2 * math.pi * frequency / AUDIO_RATE
        self._sent = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        """The next 20 ms of tone, no earlier than its time."""
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._sent / AUDIO_RATE
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        t = np.arange(self._sent, self._sent + self._samples, dtype=np.float64)
        pcm = (np.sin(t * self._phase_step) * 8000).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = self._sent
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self._sent += self._samples
        return frame


class FrameCounter:
    """Counts frames decoded from the remote tracks of one peer connection."""

    def __init__(self) -> None:
        self.video_frames = 0
        self.audio_frames = 0
        self.first_video_at: float | None = None
        self.last_video_at: float | None = None
        self.first_video = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def consume(self, track: MediaStreamTrack) -> None:
        """Start reading `track` until it ends."""
        self._tasks.append(asyncio.create_task(self._run(track), name=f"consume-{track.kind}"))

    async def _run(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return
            now = time.monotonic()
            if track.kind == "video":
                self.video_frames += 1
                self.last_video_at = now
                if self.first_video_at is None:
                    self.first_video_at = now
                    self.first_video.set()
            else:
                self.audio_frames += 1

    async def stop(self) -> None:
        """Stop consuming (the tracks end when the peer connection closes)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
