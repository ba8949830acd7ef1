"""HTTP endpoints of the capture pipeline: upload a still, read images back, list a session's captures.

Reading is limited to the session's caseworker and supervisors: a kiosk, an admin or another
caseworker gets 403, nobody signed in 401, an unknown capture 404, a purged one 410. Every image
served is written to the audit log first; responses are never cached.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import MultipartReader, web
from pydantic import BaseModel
from redis.exceptions import RedisError
from sqlalchemy import select

from server.auth.centre_scope import outside_own_centre
from server.auth.principal import Principal, require_role
from server.capture import texts
from server.capture.context import CAPTURE
from server.capture.state import LIVE_STATES
from server.capture.storage import StorageError
from server.capture.upload import MAX_UPLOAD_BYTES, UploadError
from server.capture.uploads import image_urls
from server.db.models import AuditLog, Capture, ServiceSession
from server.db.types import utcnow
from server.http import app_keys
from server.http.errors import ApiError
from server.http.multipart import named_part
from server.http.routing import Param, Route
from server.protocol import outbound as out

log = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Multipart framing around the image: boundaries and part headers.
MULTIPART_SLACK = 64 * 1024
CHUNK = 256 * 1024


class UploadOut(BaseModel):
    """The server's verdict on an uploaded still (also sent as `capture_result`)."""

    capture_id: str
    ok: bool
    reasons: list[str]
    text: str


class CaptureItem(BaseModel):
    """A stored capture's metadata (no image content)."""

    capture_id: str
    material: str
    document_type: str
    state: str
    width: int
    height: int
    created_at: str
    purged_at: str | None
    image_url: str | None
    original_url: str | None


class OpenRequest(BaseModel):
    """The call's capture request still waiting for its still (nothing uploaded for it yet)."""

    capture_id: str
    material: str
    document_type: str
    state: str


class CapturesOut(BaseModel):
    """The captures of a session, oldest first, and the request still open in its call, if any
    (so a console reloaded mid-capture shows it again)."""

    captures: list[CaptureItem]
    open_request: OpenRequest | None = None


def _upload_error(exc: UploadError) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message)


async def _read_image_part(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES + MULTIPART_SLACK:
        raise _upload_error(UploadError(413, "too_large"))
    if not request.content_type.startswith("multipart/"):
        raise _upload_error(UploadError(400, "missing_image"))
    try:
        return await _image_field(await request.multipart())
    except ValueError:
        # aiohttp's multipart reader says "no boundary", "wrong boundary" or "bad part headers"
        # with ValueError (its own errors subclass it): the client's framing, not our failure.
        raise _upload_error(UploadError(400, "bad_multipart")) from None


async def _image_field(reader: MultipartReader) -> bytes:
    part = await named_part(reader, "image")  # TooManyParts is a ValueError: bad_multipart
    if part is None:
        raise _upload_error(UploadError(400, "missing_image"))
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data.extend(chunk)
        if len(data) > MAX_UPLOAD_BYTES:
            raise _upload_error(UploadError(413, "too_large"))
    if not part.at_eof():
        # The body ended inside the part, before its closing boundary: a cut-off upload whose
        # bytes are no whole image, whatever they begin with.
        raise ValueError("multipart part not terminated")
    return bytes(data)


async def upload_image(request: web.Request) -> web.Response:
    """Kiosk of the call: upload the full-resolution still (multipart field `image`)."""
    principal = require_role(request, "kiosk")
    capture_id = request.match_info["capture_id"]
    service = request.app[CAPTURE]
    # The request is checked before the body is read: a stranger's megabytes are not worth reading.
    state = await service.states.get(capture_id)
    if state is None:
        async with request.app[app_keys.DB_SESSIONS]() as session:
            stored = await session.get(Capture, capture_id)
        raise _upload_error(UploadError(409, "capture_closed") if stored else UploadError(404, "unknown_capture"))
    if state.kiosk_id != principal.kiosk_id:
        raise _upload_error(UploadError(403, "wrong_kiosk"))
    if state.state not in ("open", "taking", "checking"):
        # Cancelled, done or in review: nothing will be taken, so nothing is read (capture_busy,
        # for one being checked, is answered after the body, as the check may end meanwhile).
        raise _upload_error(UploadError(409, "capture_closed"))
    data = await _read_image_part(request)
    try:
        result = await service.accept_upload(principal, capture_id, data)
    except UploadError as exc:
        raise _upload_error(exc) from None
    except OSError as exc:
        # The data dir is full or unwritable: nothing was stored (partial files are removed) and
        # the request is open again. Both members are told in words; the operator gets one line.
        log.error("capture not stored: storage failed", extra={"error": type(exc).__name__, "errno": exc.errno})
        await service.send(state.members, out.capture_result(capture_id, ok=False, reasons=["storage_full"],
                                                             text=texts.UPLOAD_ERRORS["storage_full"]))
        raise _upload_error(UploadError(507, "storage_full")) from None
    return web.json_response(result, headers=NO_STORE, dumps=_dumps)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


async def _readable_session(request: web.Request, principal: Principal, session_id: str) -> ServiceSession | None:
    async with request.app[app_keys.DB_SESSIONS]() as session:
        row = await session.get(ServiceSession, session_id)
        other_centre = row is not None and await outside_own_centre(session, principal, row.centre_id, row.street_id)
    if row is None:
        return None
    if other_centre or (principal.role == "caseworker" and row.caseworker_id != principal.user_id
                        and not await _holds_live_call(request, principal, session_id)):
        await _audit(request, principal, "capture_view_denied", "session", session_id, {})
        raise ApiError(403, "not_allowed", texts.VIEW_ERRORS["not_allowed"])
    return row


async def _holds_live_call(request: web.Request, principal: Principal, session_id: str) -> bool:
    """True when the caseworker holds this call in the live queue: the queue announces a call
    before its database row names the caseworker, and a console asks at once."""
    live = await request.app[CAPTURE].calls.ticket(session_id)
    return live is not None and live.state in ("in_call", "wrap_up") and live.caseworker_id == str(principal.user_id)


async def _audit(request: web.Request, principal: Principal, action: str, object_type: str, object_id: str,
                 data: dict[str, Any]) -> None:
    async with request.app[app_keys.DB_SESSIONS]() as session, session.begin():
        session.add(AuditLog(at=utcnow(), actor=principal.actor, action=action, object_type=object_type,
                             object_id=object_id, data=data))


async def get_image(request: web.Request) -> web.Response:
    """The session's caseworker or a supervisor: one variant of a stored capture, as JPEG."""
    principal = require_role(request, "caseworker", "supervisor")
    capture_id = request.match_info["capture_id"]
    variant = request.query.get("variant", "rectified")
    if variant not in ("rectified", "original"):
        raise ApiError(400, "bad_variant", texts.VIEW_ERRORS["bad_variant"])
    async with request.app[app_keys.DB_SESSIONS]() as session:
        capture = await session.get(Capture, capture_id)
    if capture is None:
        raise ApiError(404, "unknown_capture", texts.VIEW_ERRORS["unknown_capture"])
    await _readable_session(request, principal, capture.session_id)
    if capture.purged_at is not None:
        raise ApiError(410, "purged", texts.VIEW_ERRORS["purged"])
    try:
        body = request.app[CAPTURE].store.read(capture.storage_name, "original" if variant == "original"
                                               else "rectified")
    except StorageError:
        raise ApiError(410, "purged", texts.VIEW_ERRORS["purged"]) from None
    # Logged before the bytes leave: a view that is not in the trail never happened.
    await _audit(request, principal, "capture_viewed", "capture", capture_id,
                 {"session_id": capture.session_id, "variant": variant})
    return web.Response(body=body, content_type="image/jpeg",
                        headers={**NO_STORE, "Content-Disposition": "inline"})


async def list_captures(request: web.Request) -> web.Response:
    """The session's caseworker or a supervisor: the session's captures (metadata only)."""
    principal = require_role(request, "caseworker", "supervisor")
    session_id = request.match_info["session_id"]
    if await _readable_session(request, principal, session_id) is None:
        raise ApiError(404, "unknown_session", texts.VIEW_ERRORS["unknown_session"])
    async with request.app[app_keys.DB_SESSIONS]() as session:
        rows = (await session.scalars(select(Capture).where(Capture.session_id == session_id)
                                      .order_by(Capture.created_at))).all()
    items = [CaptureItem(
        capture_id=row.id, material=row.material_name, document_type=row.document_type, state=row.state,
        width=row.width, height=row.height, created_at=row.created_at.isoformat(),
        purged_at=row.purged_at.isoformat() if row.purged_at else None,
        **(image_urls(row.id) if row.purged_at is None else {"image_url": None, "original_url": None}),
    ) for row in rows]
    open_request = await _open_request(request, session_id, {row.id for row in rows})
    return web.json_response(CapturesOut(captures=items, open_request=open_request).model_dump(mode="json"),
                             headers=NO_STORE, dumps=_dumps)


async def _open_request(request: web.Request, session_id: str, stored: set[str]) -> OpenRequest | None:
    """The call's live request that has no stored image yet (an uploaded one is in `captures`)."""
    service = request.app.get(CAPTURE)
    if service is None:
        return None
    try:
        capture_id = await service.states.current_of_call(session_id)
        state = await service.states.get(capture_id) if capture_id and capture_id not in stored else None
    except RedisError:
        return None  # not fatal: the console shows the stored captures only
    if state is None or state.state not in LIVE_STATES:
        return None
    return OpenRequest(capture_id=state.capture_id, material=state.material, document_type=state.document_type,
                       state=state.state)


CAPTURE_ID = Param("capture_id", location="path", description="the capture id from `capture_opened`/`capture_request`")

ROUTES: list[Route] = [
    Route("POST", "/api/v1/captures/{capture_id}/image", upload_image,
          "Kiosk of the call: upload the full-resolution still (multipart field `image`, JPEG/PNG, "
          "at most 8 MiB and 24 megapixels)", "capture", roles=("kiosk",), params=(CAPTURE_ID,),
          response=UploadOut, errors=(400, 401, 403, 404, 409, 413, 415, 422, 507)),
    Route("GET", "/api/v1/captures/{capture_id}/image", get_image,
          "The session's caseworker or a supervisor: a stored image (watermarked JPEG); every view is audited",
          "capture", roles=("caseworker", "supervisor"),
          params=(CAPTURE_ID, Param("variant", description="rectified (default) or original",
                                    schema={"type": "string", "enum": ["rectified", "original"]})),
          response_content_type="image/jpeg", errors=(400, 401, 403, 404, 410)),
    Route("GET", "/api/v1/sessions/{session_id}/captures", list_captures,
          "The session's caseworker or a supervisor: the session's captures (metadata)", "capture",
          roles=("caseworker", "supervisor"),
          params=(Param("session_id", location="path", description="the session (= call) id"),),
          response=CapturesOut, errors=(401, 403, 404)),
]
