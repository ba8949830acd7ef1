"""HTTP endpoints of the signature: the kiosk uploads the resident's signature on the confirmed form
version; the session's caseworker and supervisors view it (every view and every refusal audited)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from pydantic import BaseModel, Field

from server.acceptance import texts
from server.acceptance.access import audit, readable_session
from server.acceptance.context import CONSENTS, SIGNATURES
from server.acceptance.forms import SIGNED
from server.acceptance.signature_image import MAX_BYTES, SignatureImageError, check_signature
from server.acceptance.signatures import SignatureRefused, iso
from server.auth.principal import require_role
from server.capture.storage import StorageError
from server.db.models import ServiceSession
from server.http import app_keys
from server.http.errors import ApiError
from server.http.routing import Param, Route
from server.protocol import outbound as out
from server.protocol.addresses import caseworker_address
from server.signaling.context import SIGNALING

log = logging.getLogger(__name__)
NO_STORE = {"Cache-Control": "no-store"}
READ_STEP = 64 * 1024
MAX_VERSION = 9999
VIEWERS = ("caseworker", "supervisor")


def _refuse(status: int, code: str) -> ApiError:
    return ApiError(status, code, texts.SIGNATURE_ERRORS[code])


class SignatureOut(BaseModel):
    """A stored signature: the form version it signs and when."""

    form_version: int = Field(description="the confirmed form version signed")
    at: str = Field(description="ISO 8601 UTC")
    verified: bool = Field(description="the HMAC binding checks out (always true right after signing)")


def _version(request: web.Request) -> int:
    raw = request.query.get("version", "")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 4 or not 1 <= int(raw) <= MAX_VERSION:
        raise _refuse(400, "bad_version")
    return int(raw)


async def _png(request: web.Request) -> bytes:
    too_large = _refuse(413, "too_large")
    if request.content_length is not None and request.content_length > MAX_BYTES:
        raise too_large  # refused before a byte is read
    data = bytearray()
    while chunk := await request.content.read(READ_STEP):
        data.extend(chunk)
        if len(data) > MAX_BYTES:
            raise too_large
    return bytes(data)


async def post_signature(request: web.Request) -> web.Response:
    """The session's kiosk: store the resident's signature on the confirmed form version `version`."""
    principal = require_role(request, "kiosk")
    session_id = request.match_info["session_id"]
    version = _version(request)
    async with request.app[app_keys.DB_SESSIONS]() as db:
        session = await db.get(ServiceSession, session_id)
    if session is None:
        raise ApiError(404, "unknown_session", texts.HTTP_ERRORS["unknown_session"])
    if session.kiosk_id != principal.kiosk_id:
        await audit(request, principal, "signature_upload_denied", session_id)
        raise _refuse(403, "not_allowed")
    consent = await request.app[CONSENTS].get(session_id)
    if consent is None or consent.choice != "accepted":
        await audit(request, principal, "signature_refused", session_id, {"reason": "consent_required"})
        raise _refuse(409, "consent_required")
    try:
        # Before the image is read: nothing to sign means nothing to decode.
        await request.app[SIGNATURES].signable(session_id, version)
        data = await _png(request)
        try:
            # Decoding (up to MAX_PIXELS) is CPU work: off the event loop, as capture stills are.
            ink = await asyncio.to_thread(check_signature, data)
        except SignatureImageError as exc:
            raise _refuse(exc.status, exc.code) from None
        row = await request.app[SIGNATURES].record(session_id, principal.kiosk_id or 0, version, data)
    except SignatureRefused as exc:
        await audit(request, principal, "signature_refused", session_id, {"reason": exc.code, "version": version})
        raise _refuse(409, exc.code) from None
    except OSError as exc:
        log.error("signature not stored", extra={"error": type(exc).__name__, "errno": exc.errno})
        raise _refuse(507, "storage_failed") from None
    await audit(request, principal, "signature_stored", session_id,
                {"form_version": version, "bytes": len(data), "ink_pixels": ink.pixels})
    if session.caseworker_id is not None:
        # Through the fan-out like every form_status, so the console sees it in whichever process holds it.
        await request.app[SIGNALING].hub.send_to([caseworker_address(session.caseworker_id)],
                                                 out.form_status(session_id, version, SIGNED))
    body = SignatureOut(form_version=row.form_version, at=iso(row.signed_at), verified=True)
    return web.json_response(body.model_dump(), status=201, headers=NO_STORE)


async def get_signature_png(request: web.Request) -> web.Response:
    """The session's caseworker and supervisors: the signature image (audited before it is sent);
    anyone else signed in gets 403, audited."""
    principal = require_role(request, "kiosk", "caseworker", "supervisor", "admin")
    session_id = request.match_info["session_id"]
    if principal.role not in VIEWERS:
        await audit(request, principal, "signature_view_denied", session_id)
        raise ApiError(403, "not_allowed", texts.HTTP_ERRORS["not_allowed"])
    await readable_session(request, principal, session_id, "signature", kiosk=False)
    store = request.app[SIGNATURES]
    row = await store.get(session_id)
    if row is None:
        raise ApiError(404, "no_signature", texts.HTTP_ERRORS["no_signature"])
    try:
        image = store.image(row)
    except StorageError:
        raise ApiError(410, "signature_unreadable", texts.HTTP_ERRORS["signature_unreadable"]) from None
    await audit(request, principal, "signature_viewed", session_id, {"form_version": row.form_version})
    return web.Response(body=image, content_type="image/png", headers=NO_STORE)


SESSION = Param("session_id", location="path", description="the session (= call) id")

ROUTES: list[Route] = [
    Route("POST", "/api/v1/sessions/{session_id}/signature", post_signature,
          "The session's kiosk: the resident's signature (PNG, at most 1 MB, enough ink) on the confirmed form "
          "version `version`; once per session, only after consent; stored encrypted and bound by an HMAC to "
          "the session, the form version's JSON, the image hash and the time", "acceptance", roles=("kiosk",),
          params=(SESSION, Param("version", description="the form version shown and confirmed", required=True,
                                 schema={"type": "integer", "minimum": 1, "maximum": MAX_VERSION})),
          raw_body="image/png", response=SignatureOut, success_status=201,
          errors=(400, 401, 403, 404, 409, 413, 415, 422, 507)),
    Route("GET", "/api/v1/sessions/{session_id}/signature.png", get_signature_png,
          "The session's caseworker and supervisors: the signature image (every view audited; others 403, audited)",
          "acceptance", roles=VIEWERS, params=(SESSION,), response_content_type="image/png",
          errors=(401, 403, 404, 410)),
]
