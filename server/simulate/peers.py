"""aiortc peer connections for the two sides of a call, signaled through `signal` messages.

The caseworker is the offerer, the kiosk the answerer (docs/protocol.md "Signaling"). aiortc
gathers every candidate inside setLocalDescription, so its SDP already carries them; with
`trickle=True` (the default) they are taken out of the SDP and sent one by one as `candidate`
signals followed by an end-of-candidates, the way browsers trickle, so the server's candidate
relay is exercised. Received candidates are applied either way, and candidates inside a remote
SDP work too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

from server.simulate.media import FrameCounter, SineToneTrack, TestPatternTrack

log = logging.getLogger(__name__)

SignalData = dict[str, Any]
SendSignal = Callable[[SignalData], Awaitable[None]]
Role = Literal["offerer", "answerer"]


def ice_servers_from(entries: list[dict[str, Any]] | None) -> list[RTCIceServer]:
    """RTCIceServer objects from a `welcome`'s `ice_servers`."""
    return [RTCIceServer(urls=e["urls"], username=e.get("username"), credential=e.get("credential"))
            for e in entries or []]


def split_candidates(sdp: str) -> tuple[str, list[dict[str, Any]]]:
    """The SDP without candidate lines, and those candidates as RTCIceCandidateInit dicts."""
    lines, candidates = [], []
    mline, mid = -1, None
    for line in sdp.splitlines():
        if line.startswith("m="):
            mline, mid = mline + 1, None
        elif line.startswith("a=mid:"):
            mid = line[len("a=mid:"):]
        if line.startswith("a=candidate:"):
            candidates.append({"candidate": line[2:], "sdpMid": mid, "sdpMLineIndex": mline})
            continue
        if line == "a=end-of-candidates":
            continue
        lines.append(line)
    return "\r\n".join(lines) + "\r\n", candidates


class CallPeer:
    """One side of a call: a peer connection sending synthetic media and counting what it decodes."""

    def __init__(self, call_id: str, role: Role, send: SendSignal, ice_servers: list[dict[str, Any]] | None = None,
                 *, video: tuple[int, int, float] = (640, 480, 15.0), trickle: bool = True) -> None:
        self.call_id = call_id
        self.role = role
        self.trickle = trickle
        self._send = send
        # An explicit (possibly empty) list: aiortc's default would reach for a public STUN server.
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=ice_servers_from(ice_servers)))
        self.counter = FrameCounter()
        self.pc.on("track", self.counter.consume)
        self.pc.addTrack(TestPatternTrack(*video))
        self.pc.addTrack(SineToneTrack())
        self.states: list[str] = []
        self.pc.on("connectionstatechange", lambda: self.states.append(self.pc.connectionState))
        self.signals_received = 0
        self.candidates_ignored = 0
        self.offers_resent = 0
        self._last_offer_sdp: str | None = None
        self.failure: str | None = None
        self._inbox: asyncio.Queue[SignalData] = asyncio.Queue()
        self._pending_candidates: list[dict[str, Any]] = []
        self._worker = asyncio.create_task(self._work(), name=f"peer-{role}-{call_id}")

    async def start(self) -> None:
        """Offerer: create and send the offer (the answerer waits for it)."""
        if self.role == "offerer":
            await self.pc.setLocalDescription(await self.pc.createOffer())
            await self._send_local_description()

    async def resend(self) -> None:
        """After either side reconnected: repeat what the other side may have missed.

        The server replays nothing, so signals relayed while a member was away are lost. The
        offerer repeats an offer nobody answered; otherwise both sides repeat their candidates
        (a duplicate is ignored by the receiver). The protocol asks the offerer for an ICE-restart
        offer here; aiortc cannot restart ICE, and the media path between the peers does not
        depend on the WebSocket, so an established call is left as it is.
        """
        if self.role == "offerer" and self.pc.signalingState == "have-local-offer":
            self.offers_resent += 1
            await self._send_local_description()
        elif self.pc.localDescription is not None and self.trickle:
            await self._send_candidates(split_candidates(self.pc.localDescription.sdp)[1])

    def feed(self, data: SignalData) -> None:
        """Hand over the `data` of a received `signal`; processed in arrival order."""
        self._inbox.put_nowait(data)

    async def _work(self) -> None:
        while True:
            data = await self._inbox.get()
            self.signals_received += 1
            try:
                await self._apply(data)
            except Exception as exc:  # a bad signal must not kill the worker silently
                self.failure = f"{type(exc).__name__}: {exc}"
                log.warning("peer %s %s: %s", self.role, self.call_id, self.failure)

    async def _apply(self, data: SignalData) -> None:
        description = data.get("description")
        if description and description["type"] == "offer" and description["sdp"] == self._last_offer_sdp:
            # The same offer again (our answer was lost in a blip): answer it again.
            await self._send_local_description()
            return
        if description:
            if description["type"] == "offer":
                self._last_offer_sdp = description["sdp"]
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=description["sdp"], type=description["type"]))
            if description["type"] == "offer":
                await self.pc.setLocalDescription(await self.pc.createAnswer())
                await self._send_local_description()
            pending, self._pending_candidates = self._pending_candidates, []
            for init in pending:
                await self._add_candidate(init)
        candidate = data.get("candidate")
        if candidate is not None:
            if self.pc.remoteDescription is None:
                # Candidates may overtake the description they belong to; keep them until it comes.
                self._pending_candidates.append(candidate)
            else:
                await self._add_candidate(candidate)

    async def _add_candidate(self, init: dict[str, Any]) -> None:
        text = init.get("candidate") or ""
        try:
            if not text:
                await self.pc.addIceCandidate(None)
                return
            candidate = candidate_from_sdp(text.removeprefix("candidate:"))
            candidate.sdpMid = init.get("sdpMid")
            candidate.sdpMLineIndex = init.get("sdpMLineIndex")
            await self.pc.addIceCandidate(candidate)
        except ValueError:
            # After end-of-candidates (e.g. the SDP carried them all) aioice refuses more: harmless.
            self.candidates_ignored += 1

    async def _send_local_description(self) -> None:
        local = self.pc.localDescription
        assert local is not None  # set just before by setLocalDescription
        if not self.trickle:
            await self._send({"description": {"type": local.type, "sdp": local.sdp}})
            return
        sdp, candidates = split_candidates(local.sdp)
        await self._send({"description": {"type": local.type, "sdp": sdp}})
        await self._send_candidates(candidates)

    async def _send_candidates(self, candidates: list[dict[str, Any]]) -> None:
        for candidate in candidates:
            await self._send({"candidate": candidate})
        await self._send({"candidate": {"candidate": "", "sdpMid": candidates[0]["sdpMid"] if candidates else "0",
                                        "sdpMLineIndex": 0}})

    @property
    def video_frames(self) -> int:
        """Video frames decoded from the other side so far."""
        return self.counter.video_frames

    async def wait_first_frame(self, timeout: float) -> bool:
        """True once a video frame from the other side was decoded, False on timeout."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.counter.first_video.wait(), timeout)
        return self.counter.first_video.is_set()

    async def close(self) -> None:
        """Stop the worker, close the peer connection and the frame counters."""
        self._worker.cancel()
        await asyncio.gather(self._worker, return_exceptions=True)
        await self.pc.close()
        await self.counter.stop()
