"""Capture messages over the WebSocket, and the acceptance of uploaded stills.

Handlers are registered with `SignalingService.register`; everything about a request lives
in Redis (`state.py`) so any process may handle any message. The analysis peer lives in the
process that received the kiosk's offer; candidates that reach another process are relayed to it
over a Redis channel (`relay_signal` / `apply_relayed`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from server.auth.principal import Principal
from server.capture import signal_check, texts
from server.capture.analysis_peer import AnalysisPeer, PeerPool
from server.capture.health import device_check_due, record_health
from server.capture.intake import StoredImages, store_still
from server.capture.state import LIVE_STATES, CaptureState, CaptureStates
from server.capture.storage import CaptureStore
from server.capture.upload import UploadError, check_still, validate_upload
from server.db.models import AuditLog, Capture
from server.db.types import utcnow
from server.protocol import messages as m
from server.protocol.addresses import CASEWORKER, KIOSK
from server.quality import QualityResult, guidance_text
from server.runtime import redis_keys
from server.signaling.connection import Connection
from server.signaling.handlers import SignalingError
from server.signaling.ice import ice_servers
from server.signaling.service import SignalingService

log = logging.getLogger(__name__)


def _refuse(code: str) -> SignalingError:
    return SignalingError(code, texts.SIGNAL_ERRORS[code])


def image_urls(capture_id: str) -> dict[str, str]:
    """The two read-back addresses of a stored capture."""
    base = f"/api/v1/captures/{capture_id}/image"
    return {"image_url": f"{base}?variant=rectified", "original_url": f"{base}?variant=original"}


class CaptureService:
    """Capture requests, the analysis peers of this process, and stored stills."""

    def __init__(self, signaling: SignalingService, store: CaptureStore, max_peers: int) -> None:
        self.signaling = signaling
        self.hub = signaling.hub
        self.queue = signaling.queue
        self.sessions = signaling.sessions
        self.settings = signaling.settings
        self.store = store
        self.states = CaptureStates(self.hub.redis)
        self.pool = PeerPool(max_peers)

    def register(self) -> None:
        """Install the message handlers into the signaling service."""
        kiosk, caseworker = (KIOSK,), (CASEWORKER,)
        for roles, message_type, handler in (
            (caseworker, "capture_request", self.on_capture_request), (caseworker, "capture_now", self.on_capture_now),
            (caseworker, "capture_review", self.on_capture_review), ((KIOSK, CASEWORKER), "capture_cancel",
                                                                     self.on_capture_cancel),
            (kiosk, "capture_signal", self.on_capture_signal), (kiosk, "device_check", self.on_device_check),
        ):
            self.signaling.register(roles, message_type, handler)

    async def send(self, keys: list[str], message: dict[str, Any]) -> None:
        """Deliver to principals in whichever process holds them."""
        await self.hub.send_to(keys, message)

    # -- opening and closing requests -------------------------------------------------------

    async def on_capture_request(self, connection: Connection, message: m.CaptureRequest) -> None:
        """Caseworker: open a request for one material of the call's matter."""
        live = await self.queue.ticket(message.call_id)
        if (live is None or live.state != "in_call" or live.caseworker_id != str(connection.principal.user_id)):
            raise _refuse("not_in_call")
        matter = (await self.signaling.catalog.current()).by_id(live.matter_id)
        material = next((x for x in matter.materials if x.name == message.material), None) if matter else None
        if matter is None or material is None:
            raise _refuse("unknown_material")
        await self.open_capture(CaptureState(
            capture_id=secrets.token_hex(16), call_id=live.id, kiosk_id=int(live.kiosk_id),
            caseworker_id=int(live.caseworker_id), matter_id=matter.id, matter_name=matter.name,
            material=material.name, document_type=str(material.document_type), state="open", attempt=0,
            manual=False, changed_at=0.0))

    async def open_capture(self, capture: CaptureState) -> None:
        """Store a new request (cancelling the call's previous one) and tell both members."""
        replaced = await self.states.create(capture)
        if replaced is not None and replaced != capture.capture_id:
            await self._end(replaced, "cancelled")
        fields = {"capture_id": capture.capture_id, "call_id": capture.call_id, "material": capture.material,
                  "document_type": capture.document_type}
        servers = [s.model_dump(exclude_none=True) for s in ice_servers(self.settings, capture.kiosk_key)]
        await self.send([capture.kiosk_key], m.out("capture_request", **fields, ice_servers=servers))
        await self.send([capture.caseworker_key], m.out("capture_opened", **fields))

    async def _end(self, capture_id: str, decision: str) -> CaptureState | None:
        """Move a live request to done, close its peer here, tell both members."""
        state = await self.states.move(capture_id, LIVE_STATES, "done")
        if state is None:
            return None
        await self.states.finish(capture_id, state.call_id)
        await self.pool.close(capture_id)
        await self.send(state.members, m.out("capture_done", capture_id=capture_id, decision=decision))
        # An image uploaded but never reviewed is closed too, so a reloaded console does not offer
        # a review that can no longer be decided (after telling the members: they need not wait).
        try:
            async with self.sessions() as session, session.begin():
                await session.execute(update(Capture).where(Capture.id == capture_id, Capture.state == "pending")
                                      .values(state="closed"))
        except SQLAlchemyError as exc:
            log.warning("capture row not closed", extra={"capture_id": capture_id, "error": type(exc).__name__})
        return state

    async def _member_state(self, principal: Principal, capture_id: str) -> CaptureState:
        state = await self.states.get(capture_id)
        if state is None:
            raise _refuse("unknown_capture")
        member = ((principal.role == "kiosk" and principal.kiosk_id == state.kiosk_id)
                  or (principal.role == "caseworker" and principal.user_id == state.caseworker_id))
        if not member:
            raise _refuse("not_capture_member")
        return state

    async def on_capture_cancel(self, connection: Connection, message: m.CaptureCancel) -> None:
        """Either member: stop the request."""
        await self._member_state(connection.principal, message.capture_id)
        if await self._end(message.capture_id, "cancelled") is None:
            raise _refuse("capture_closed")

    async def on_capture_now(self, connection: Connection, message: m.CaptureNow) -> None:
        """Caseworker: manual capture — the kiosk takes the still at once, kept whatever its quality."""
        await self._member_state(connection.principal, message.capture_id)
        state = await self.states.move(message.capture_id, {"open", "taking"}, "taking", next_attempt=True,
                                       manual="1")
        if state is None:
            raise _refuse("wrong_state")
        await self.send([state.kiosk_key], m.out("capture_take", capture_id=state.capture_id, manual=True))

    async def on_capture_review(self, connection: Connection, message: m.CaptureReview) -> None:
        """Caseworker: accept the stored image, or discard it and ask for the same material again."""
        state = await self._member_state(connection.principal, message.capture_id)
        if await self.states.move(message.capture_id, {"review"}, "done") is None:
            raise _refuse("wrong_state")
        await self.states.finish(state.capture_id, state.call_id)
        async with self.sessions() as session, session.begin():
            row = await session.get(Capture, message.capture_id)
            if row is not None:
                row.state = "accepted" if message.decision == "accept" else "retake"
        await self.send(state.members, m.out("capture_done", capture_id=state.capture_id, decision=message.decision))
        if message.decision == "retake":
            await self.open_capture(CaptureState(**{**state.__dict__, "capture_id": secrets.token_hex(16)}))

    # -- the analysis peer ------------------------------------------------------------------

    async def on_capture_signal(self, connection: Connection, message: m.CaptureSignal) -> None:
        """Kiosk: the offer creates this process's analysis peer; candidates go to wherever it is."""
        state = await self._member_state(connection.principal, message.capture_id)
        if state.state not in ("open", "taking", "checking"):
            raise _refuse("capture_closed")
        data = message.data.model_dump(exclude_none=True)
        description = data.get("description")
        if not signal_check.valid_signal(data):
            raise _refuse("bad_signal")
        if description is not None:
            if description["type"] != "offer":
                raise _refuse("bad_signal")
            await self._start_peer(state, description["sdp"])
        if "candidate" in data and not await self.apply_candidate(state.capture_id, data["candidate"]):
            await self.hub.redis.publish(redis_keys.CAPTURE_SIGNAL_CHANNEL, json.dumps(
                {"capture_id": state.capture_id, "candidate": data["candidate"]}))

    async def _start_peer(self, state: CaptureState, sdp: str) -> None:
        await self.pool.close(state.capture_id)  # a new offer (kiosk reload) replaces the old peer
        if self.pool.full():
            await self.send([state.caseworker_key], m.out(
                "capture_guidance", capture_id=state.capture_id, ready=False, reason="analysis_busy",
                text=texts.ANALYSIS_BUSY, steady_frames=0))
            raise _refuse("analysis_busy")
        servers = [s.model_dump(exclude_none=True) for s in ice_servers(self.settings, "capture-analyser")]
        peer = AnalysisPeer(state, self.states, self.send, self._call_live, self._live_sample, servers)
        self.pool.add(peer)
        try:
            answer = await peer.answer(sdp, "offer")
        except (ValueError, RuntimeError) as exc:
            await peer.close()
            log.info("capture offer refused", extra={"capture_id": state.capture_id, "error": type(exc).__name__})
            raise _refuse("bad_signal") from None
        await self.send([state.kiosk_key], m.out("capture_signal", capture_id=state.capture_id,
                                                 data={"description": {"type": "answer", "sdp": answer}}))

    async def apply_candidate(self, capture_id: str, candidate: dict[str, Any]) -> bool:
        """Apply a candidate to this process's peer; False when the peer lives elsewhere."""
        peer = self.pool.peers.get(capture_id)
        if peer is None:
            return False
        await peer.add_candidate(candidate)
        return True

    async def _call_live(self, call_id: str) -> bool:
        live = await self.queue.ticket(call_id)
        if live is not None and live.state == "in_call":
            return True
        current = await self.states.current_of_call(call_id)
        if current is not None:
            await self._end(current, "cancelled")
        return False

    async def _live_sample(self, state: CaptureState, result: QualityResult) -> None:
        metrics = {"brightness": round(result.metrics.brightness, 2), "contrast": round(result.metrics.contrast, 2),
                   "sharpness": round(result.metrics.sharpness, 2)}
        await record_health(self.sessions, state.kiosk_id, source="live",
                            camera_ok="camera_blocked" not in result.reasons, microphone_ok=None, metrics=metrics)

    # -- device check -----------------------------------------------------------------------

    async def on_device_check(self, connection: Connection, message: m.DeviceCheck) -> None:
        """Kiosk: record the device check in its health history."""
        kiosk_id = connection.principal.kiosk_id
        assert kiosk_id is not None
        if not await device_check_due(self.hub.redis, kiosk_id, message.camera_ok, message.microphone_ok):
            return
        metrics: dict[str, Any] = {k: round(v, 3) for k, v in message.metrics.items()}
        if message.speaker_ok is not None:
            metrics["speaker_ok"] = message.speaker_ok
        await record_health(self.sessions, kiosk_id, source="device_check", camera_ok=message.camera_ok,
                            microphone_ok=message.microphone_ok, metrics=metrics)

    # -- uploads ----------------------------------------------------------------------------

    async def accept_upload(self, principal: Principal, capture_id: str, data: bytes) -> dict[str, Any]:
        """Check an uploaded still and store it, or say why not. Raises UploadError."""
        state = await self.states.get(capture_id)
        if state is None:
            async with self.sessions() as session:
                existing = await session.get(Capture, capture_id)
            raise UploadError(409, "capture_closed") if existing is not None else UploadError(404, "unknown_capture")
        if principal.kiosk_id != state.kiosk_id:
            raise UploadError(403, "wrong_kiosk")
        if state.state == "checking":
            raise UploadError(409, "capture_busy")
        if state.state not in ("open", "taking"):
            raise UploadError(409, "capture_closed")
        image = await asyncio.to_thread(validate_upload, data)
        moved = await self.states.move(capture_id, {"open", "taking"}, "checking")
        if moved is None:
            raise UploadError(409, "capture_busy")
        try:
            check = await asyncio.to_thread(check_still, image.image, manual=moved.manual)
            if not check.ok:
                await self.states.move(capture_id, {"checking"}, "open", next_attempt=True, manual="0")
                result = {"capture_id": capture_id, "ok": False, "reasons": check.reasons,
                          "text": guidance_text(check.reasons[0])}
                await self.send(state.members, m.out("capture_result", **result))
                return result
            stored: StoredImages = await asyncio.to_thread(store_still, self.store, capture_id, state.matter_name, data,
                                             image.image, check)
        except BaseException:
            await self.states.move(capture_id, {"checking"}, "open", next_attempt=True)
            raise
        return await self._record(principal, moved, stored, check.reasons, check.facts)

    async def _record(self, principal: Principal, state: CaptureState, stored: StoredImages, warnings: Sequence[str],
                      facts: dict[str, float]) -> dict[str, Any]:
        try:
            async with self.sessions() as session, session.begin():
                session.add(Capture(id=state.capture_id, session_id=state.call_id, material_name=state.material,
                                    document_type=state.document_type, state="pending",
                                    storage_name=stored.storage_name, width=stored.width, height=stored.height,
                                    sha256=stored.sha256, created_at=utcnow()))
                session.add(AuditLog(actor=principal.actor, action="capture_stored", object_type="capture",
                                     object_id=state.capture_id,
                                     data={"session_id": state.call_id, "manual": state.manual, **facts}))
        except SQLAlchemyError:
            self.store.delete(stored.storage_name)
            await self.states.move(state.capture_id, {"checking"}, "open", next_attempt=True)
            raise
        if await self.states.move(state.capture_id, {"checking"}, "review") is None:
            # Cancelled while being checked: nothing of it may stay behind.
            self.store.delete(stored.storage_name)
            async with self.sessions() as session, session.begin():
                row = await session.get(Capture, state.capture_id)
                if row is not None:
                    await session.delete(row)
            raise UploadError(409, "capture_closed")
        await self.pool.close(state.capture_id)
        result = {"capture_id": state.capture_id, "ok": True, "reasons": list(warnings), "text": texts.ACCEPTED}
        await self.send(state.members, m.out("capture_result", **result))
        await self.send([state.caseworker_key], m.out("capture_ready", capture={
            "capture_id": state.capture_id, "material": state.material, "document_type": state.document_type,
            **image_urls(state.capture_id), "width": stored.width, "height": stored.height,
            "rectified": stored.rectified, "manual": state.manual, "warnings": list(warnings)}))
        return result
