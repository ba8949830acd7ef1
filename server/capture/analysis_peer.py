"""The server's end of a capture peer connection: the kiosk's camera track, analysed live.

The kiosk offers a second RTCPeerConnection carrying only its camera track; this process answers
and decodes it. Every decoded frame must be taken off the track (aiortc queues them), but only
SAMPLE_FPS of them a second are analysed: the Y plane (and the U/V planes, read only when the grey
edges give no page) goes through the capture's `PageTracker`
(the page followed from frame to frame, see server/quality/tracking.py) in a worker thread
(numpy and OpenCV release the GIL, so the event loop keeps serving), `LiveGuidance` decides
when the page is ready, and `capture_guidance` goes to kiosk and caseworker whenever what they
should see changes. When ready, the peer moves the request to `taking` and sends `capture_take`.

The request's state in Redis is read at every sample, so whatever happens in another process
(the caseworker's manual capture or cancel, an upload, the call ending) reaches the peer within
one sample interval. A peer ends when the request leaves open/taking, when the call ends, when
the kiosk's connection fails, or at MAX_LIFETIME_S.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import av
import numpy as np
from aiortc import RTCConfiguration, RTCIceCandidate, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

from server.capture.state import CaptureState, CaptureStates
from server.protocol.messages import CandidatePayload
from server.quality import LiveGuidance, PageTracker, QualityResult, analyse_luma
from server.quality.guidance import LiveState

log = logging.getLogger(__name__)

# 6 analysed frames/s: inside the 5-10 the guidance needs, with 4 steady frames = 0.67 s.
SAMPLE_FPS = 6.0
# The kiosk has this long after capture_take to upload before guidance resumes.
TAKE_TIMEOUT_S = 20.0
# Guidance is re-sent at least this often even when unchanged (a reconnecting screen catches up).
GUIDANCE_REFRESH_S = 1.0
CALL_CHECK_S = 2.0
FIRST_FRAME_TIMEOUT_S = 30.0
MAX_LIFETIME_S = 15 * 60
# Chrome sends ~200 kbps 640x360 to an aiortc peer unless the answer raises the bitrate
# (docs/capture.md); a low-bitrate stream looks blurry to the analyser, so the answer asks for more.
BITRATE_FMTP = "x-google-min-bitrate=1500;x-google-start-bitrate=1500;x-google-max-bitrate=4500"
VIDEO_CODECS = ("VP8", "VP9", "H264", "AV1")


class PeerHost(Protocol):
    """What an analysis peer reports to (and asks of) the capture service that runs it."""

    async def call_live(self, call_id: str) -> bool:
        """True while the call runs (a peer of an ended call stops)."""

    async def guidance(self, state: CaptureState, live: LiveState) -> None:
        """What the members should see changed (or is due again)."""

    async def take(self, state: CaptureState) -> None:
        """The page was ready and the request moved to `taking`: the kiosk should take the still."""

    async def camera_sample(self, state: CaptureState, result: QualityResult) -> None:
        """A look at the kiosk camera's health, from the capture's first analysed frame."""


def raise_bitrate(sdp: str) -> str:
    """Add the x-google bitrate hints to every video codec's fmtp line of an SDP."""
    lines = sdp.splitlines()
    video_pts: set[str] = set()
    in_video = False
    for line in lines:
        if line.startswith("m="):
            in_video = line.startswith("m=video")
        elif in_video and line.startswith("a=rtpmap:"):
            pt, codec = line[len("a=rtpmap:"):].split(" ", 1)
            if codec.split("/")[0].upper() in VIDEO_CODECS:
                video_pts.add(pt)
    out: list[str] = []
    with_fmtp = {line[len("a=fmtp:"):].split(" ", 1)[0] for line in lines if line.startswith("a=fmtp:")}
    for line in lines:
        if line.startswith("a=fmtp:") and line[len("a=fmtp:"):].split(" ", 1)[0] in video_pts:
            line = f"{line};{BITRATE_FMTP}"
        out.append(line)
        if line.startswith("a=rtpmap:"):
            pt = line[len("a=rtpmap:"):].split(" ", 1)[0]
            if pt in video_pts and pt not in with_fmtp:
                out.append(f"a=fmtp:{pt} {BITRATE_FMTP}")
    return "\r\n".join(out) + "\r\n"


def luma(frame: av.VideoFrame) -> np.ndarray:
    """The Y plane of a decoded frame, without a colour conversion when the format is planar YUV."""
    if frame.format.name in ("yuv420p", "yuvj420p", "nv12"):
        plane = frame.planes[0]
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
        return np.ascontiguousarray(rows[:, : plane.width])
    return frame.to_ndarray(format="gray")


def chroma(frame: av.VideoFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """The U and V planes of a decoded yuv420p frame (half size each way), or None for other
    formats: the quality check then searches the page on grey edges alone."""
    if frame.format.name not in ("yuv420p", "yuvj420p"):
        return None
    planes = []
    for plane in frame.planes[1:3]:
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
        planes.append(np.ascontiguousarray(rows[:, : plane.width]))
    return planes[0], planes[1]


def _aiortc_candidate(candidate: CandidatePayload) -> RTCIceCandidate:
    """aiortc's form of a browser's RTCIceCandidateInit (its SDP line, media id and index)."""
    parsed = candidate_from_sdp(candidate.candidate.removeprefix("candidate:"))
    parsed.sdpMid, parsed.sdpMLineIndex = candidate.sdpMid, candidate.sdpMLineIndex
    return parsed


@dataclass
class PeerStats:
    """What a peer measured: for logs, docs/capture.md and tests."""

    frames_received: int = 0
    frames_analysed: int = 0
    analysis_ms: list[float] = field(default_factory=list)
    first_frame_at: float | None = None
    last_analysed_at: float | None = None
    guidance_sent: int = 0
    takes: int = 0

    def summary(self) -> dict[str, float]:
        """Analysed frames per second and median analysis time."""
        span = (self.last_analysed_at or 0) - (self.first_frame_at or 0)
        return {
            "frames_received": self.frames_received, "frames_analysed": self.frames_analysed,
            "analysed_fps": round(self.frames_analysed / span, 2) if span > 0 else 0.0,
            "median_analysis_ms": round(statistics.median(self.analysis_ms), 2) if self.analysis_ms else 0.0,
        }


class AnalysisPeer:
    """One capture's peer connection and its frame loop."""

    def __init__(self, capture: CaptureState, states: CaptureStates, host: PeerHost,
                 ice_servers: list[dict[str, Any]]) -> None:
        self.capture = capture
        self.states = states
        self.host = host
        self.stats = PeerStats()
        self.guidance = LiveGuidance()
        self.tracker = PageTracker()  # the page's outline from frame to frame of this capture
        self.closed = asyncio.Event()
        servers = [RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
                   for s in ice_servers]
        # An explicit (possibly empty) list: aiortc's default would reach for a public STUN server.
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_connection_state)
        self._tasks: set[asyncio.Task[None]] = set()
        self._got_track = asyncio.Event()
        self._last_guidance: tuple[Any, ...] | None = None
        self._last_guidance_at = 0.0
        self.on_closed: list[Callable[[], None]] = []  # as closing starts
        self.on_finished: list[Callable[[], None]] = []  # once the connection has closed
        self._closing: asyncio.Future[None] | None = None
        self._spawn(self._watchdog(), "watchdog")

    def _spawn(self, coroutine: Awaitable[None], name: str) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        task.set_name(f"capture-{name}-{self.capture.capture_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def answer(self, sdp: str, kind: str) -> str:
        """Apply the kiosk's offer; the answer SDP (all candidates included) for the kiosk."""
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type=kind))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        local = self.pc.localDescription
        assert local is not None
        return raise_bitrate(local.sdp)

    async def add_candidate(self, candidate: CandidatePayload) -> None:
        """Apply a trickled candidate (an empty one means end of candidates)."""
        # A candidate aioice cannot read, or one after end-of-candidates, is refused: harmless.
        with contextlib.suppress(ValueError):
            await self.pc.addIceCandidate(_aiortc_candidate(candidate) if candidate.candidate else None)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video" and not self._got_track.is_set():
            self._got_track.set()
            self._spawn(self._consume(track), "frames")

    def _on_connection_state(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            self._spawn(self.close(), "close")

    async def _watchdog(self) -> None:
        """End a peer whose kiosk never sends video, and any peer after its maximum lifetime."""
        try:
            await asyncio.wait_for(self._got_track.wait(), FIRST_FRAME_TIMEOUT_S)
            await asyncio.wait_for(self.closed.wait(), MAX_LIFETIME_S)
        except TimeoutError:
            log.info("capture peer timed out", extra={"capture_id": self.capture.capture_id})
            await self.close()

    async def _consume(self, track: MediaStreamTrack) -> None:
        interval = 1.0 / SAMPLE_FPS
        next_sample = next_call_check = 0.0
        seen_attempt = -1
        try:
            while not self.closed.is_set():
                frame = await track.recv()
                if not isinstance(frame, av.VideoFrame):
                    continue
                now = time.monotonic()
                self.stats.frames_received += 1
                if self.stats.first_frame_at is None:
                    self.stats.first_frame_at = now
                if now < next_sample:
                    continue
                next_sample = now + interval
                state = await self.states.get(self.capture.capture_id)
                if state is None or state.state not in ("open", "taking", "checking"):
                    break
                if now >= next_call_check:
                    next_call_check = now + CALL_CHECK_S
                    if not await self.host.call_live(state.call_id):
                        break
                if state.attempt != seen_attempt:
                    # A new attempt (after a take, failed upload or timeout) starts steadiness over.
                    seen_attempt = state.attempt
                    self.guidance.reset()
                if state.state != "open":
                    await self._expire_take(state)
                    continue
                await self._analyse(state, frame, now)
        except MediaStreamError:
            pass  # the kiosk closed its side
        finally:
            log.info("capture peer finished", extra={"capture_id": self.capture.capture_id, **self.stats.summary()})
            await self.close()

    async def _analyse(self, state: CaptureState, frame: av.VideoFrame, now: float) -> None:
        y = luma(frame)
        # The chroma lets the tracker find a card whose edge against the desk is one of colour;
        # it is read only when the grey edges give no page.
        result = await asyncio.to_thread(self.tracker.analyse, y, chroma(frame))
        self.stats.frames_analysed += 1
        self.stats.analysis_ms.append(result.ms)
        self.stats.last_analysed_at = now
        if self.stats.frames_analysed == 1:
            self._spawn(self._health_sample(state, y), "health")
        live = self.guidance.update(result, self.tracker.change)
        await self._guide(live, now)
        if live.ready:
            taken = await self.states.move(state.capture_id, {"open"}, "taking", next_attempt=True, manual="0")
            if taken is not None:
                self.stats.takes += 1
                await self.host.take(state)

    async def _guide(self, live: LiveState, now: float) -> None:
        shown = (live.ready, live.reason, live.text, live.steady_frames)
        if shown == self._last_guidance and now - self._last_guidance_at < GUIDANCE_REFRESH_S:
            return
        self._last_guidance, self._last_guidance_at = shown, now
        self.stats.guidance_sent += 1
        await self.host.guidance(self.capture, live)

    async def _expire_take(self, state: CaptureState) -> None:
        """Resume guidance when a taken still never arrived."""
        if state.state == "taking" and time.time() - state.changed_at > TAKE_TIMEOUT_S:
            await self.states.move(state.capture_id, {"taking"}, "open", next_attempt=True)

    async def _health_sample(self, state: CaptureState, y: np.ndarray) -> None:
        # The first frame of every capture doubles as a look at the camera's health.
        result = await asyncio.to_thread(analyse_luma, y, "camera")
        try:
            await self.host.camera_sample(state, result)
        except Exception as exc:  # health is a by-product: never let it end the capture
            log.warning("live camera sample not recorded", extra={"error": type(exc).__name__})

    async def close(self) -> None:
        """Close the peer connection and stop the frame loop (idempotent: a second caller waits
        for the first one's close to finish)."""
        if self._closing is None:
            self.closed.set()
            for callback in self.on_closed:
                callback()
            self._closing = asyncio.ensure_future(self._close_connection(asyncio.current_task()))
        # Shielded: a caller cancelled meanwhile (a socket's handler as the server stops) must not
        # leave the connection half closed, its decoder thread still running once the loop is gone.
        await asyncio.shield(self._closing)

    async def _close_connection(self, closer: asyncio.Task[Any] | None) -> None:
        try:
            await self.pc.close()
            for task in list(self._tasks):
                if task is not closer:
                    task.cancel()
        finally:
            for callback in self.on_finished:
                callback()


class PeerPool:
    """This process's analysis peers, at most `limit` at a time (each decodes a video stream)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.peers: dict[str, AnalysisPeer] = {}
        self._unfinished: set[AnalysisPeer] = set()  # open, or closing but not yet closed

    def full(self) -> bool:
        """True when another peer would exceed the limit."""
        return len(self.peers) >= self.limit

    def add(self, peer: AnalysisPeer) -> None:
        """Track a peer until it closes."""
        capture_id = peer.capture.capture_id
        self.peers[capture_id] = peer

        def forget() -> None:
            if self.peers.get(capture_id) is peer:
                del self.peers[capture_id]

        peer.on_closed.append(forget)
        self._unfinished.add(peer)
        peer.on_finished.append(lambda: self._unfinished.discard(peer))

    async def close(self, capture_id: str) -> None:
        """Close one peer if this process holds it."""
        peer = self.peers.pop(capture_id, None)
        if peer is not None:
            await peer.close()

    async def close_all(self) -> None:
        """Close every peer, and wait for those already closing (shutdown)."""
        for peer in list(self._unfinished):
            await peer.close()
