"""HTTP endpoints of call recording: chunk upload, resume, close and the replay with byte ranges.

Upload and close belong to the session's caseworker (docs/recording.md); the replay to supervisors
(and the session's caseworker when JINGLIN_RECORDING_CASEWORKER_REPLAY is on). Every replay
request is written to the audit log before the bytes leave; responses are never cached.
"""

from __future__ import annotations

import logging

from aiohttp import web
from pydantic import BaseModel, Field, field_validator

from server.auth.principal import require_role
from server.http import app_keys
from server.http.errors import ApiError
from server.http.request_body import read_model
from server.http.routing import Param, Route
from server.recording import access
from server.recording.context import RECORDING
from server.recording.disk import low_on_space
from server.recording.ranges import RangeNotSatisfiable, parse_range
from server.recording.service import ChunkConflict, RecordingClosed
from server.recording.state import CONSOLE_REASONS
from server.recording.storage import ChunkError
from server.recording.texts import ERRORS
from server.reports.schemas import RecordingSummaryOut

log = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# 5 s chunks for 100 hours; nothing legitimate comes near it.
MAX_INDEX = 99_999
READ_STEP = 64 * 1024


class ChunkOut(BaseModel):
    """An accepted chunk: stored now (false: the same bytes were stored before) and the next index."""

    index: int
    stored: bool
    next_index: int


class ResumeOut(BaseModel):
    """Where a reloaded console continues: the next index and what is stored so far."""

    next_index: int
    chunks: int
    bytes: int
    state: str


class CloseIn(BaseModel):
    """The console's end of a recording."""

    chunks: int = Field(ge=0, le=MAX_INDEX + 1, description="chunks the console produced (indexes 0..chunks-1)")
    duration_s: float | None = Field(default=None, ge=0, le=24 * 3600, description="recorded seconds")
    reason: str = Field(default="", description="why the recording is missing or stopped early, if it is: "
                        + ", ".join(CONSOLE_REASONS))

    @field_validator("reason")
    @classmethod
    def _known_reason(cls, value: str) -> str:
        if value and value not in CONSOLE_REASONS:
            raise ValueError("reason must be empty or one of " + ", ".join(CONSOLE_REASONS))
        return value


def _index(request: web.Request) -> int:
    raw = request.match_info["index"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6 or int(raw) > MAX_INDEX:
        raise ApiError(400, "bad_index", ERRORS["bad_index"].format(max=MAX_INDEX))
    return int(raw)


async def _body(request: web.Request, limit: int) -> bytes:
    too_large = ApiError(413, "too_large", ERRORS["too_large"].format(limit=limit))
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    data = bytearray()
    while chunk := await request.content.read(READ_STEP):
        data.extend(chunk)
        if len(data) > limit:
            raise too_large
    if not data:
        raise ApiError(400, "empty_chunk", ERRORS["empty_chunk"])
    return bytes(data)


async def put_chunk(request: web.Request) -> web.Response:
    """The session's caseworker, during the call or its wrap-up: store chunk n (idempotent)."""
    principal = require_role(request, "caseworker")
    session_id = request.match_info["session_id"]
    index = _index(request)
    # Access first: a stranger's megabytes are not worth reading.
    holds_call = await access.require_uploader(request, principal, session_id)
    settings = request.app[app_keys.SETTINGS]
    data = await _body(request, settings.recording_max_chunk_bytes)
    if low_on_space(settings.data_dir, settings.min_free_disk_mb):
        log.error("recording chunk refused: data volume low on space")
        raise ApiError(507, "storage_low", ERRORS["storage_low"])
    try:
        stored = await request.app[RECORDING].put_chunk(session_id, index, data,
                                                        holder=principal.actor if holds_call else None)
    except ChunkConflict:
        await access.audit(request, principal, "recording_chunk_conflict", session_id, {"index": index})
        raise ApiError(409, "chunk_conflict", ERRORS["chunk_conflict"]) from None
    except RecordingClosed:
        raise ApiError(409, "recording_closed", ERRORS["recording_closed"]) from None
    except OSError as exc:
        log.error("recording chunk not stored", extra={"error": type(exc).__name__, "errno": exc.errno})
        raise ApiError(507, "storage_failed", ERRORS["storage_failed"]) from None
    body = ChunkOut(index=stored.index, stored=stored.stored, next_index=stored.next_index)
    return web.json_response(body.model_dump(), status=201 if stored.stored else 200, headers=NO_STORE)


async def get_resume(request: web.Request) -> web.Response:
    """The session's caseworker: the next chunk index (a reloaded console continues there)."""
    principal = require_role(request, "caseworker")
    session_id = request.match_info["session_id"]
    await access.require_session_caseworker(request, principal, session_id)
    service = request.app[RECORDING]
    row = await service.row(session_id)
    body = ResumeOut(next_index=await service.next_index(session_id), chunks=row.chunks if row else 0,
                     bytes=row.bytes if row else 0,
                     state=("recording" if row.closed_at is None else row.state) if row else "missing")
    return web.json_response(body.model_dump(), headers=NO_STORE)


async def post_close(request: web.Request) -> web.Response:
    """The session's caseworker: close the recording with the chunk count and duration."""
    principal = require_role(request, "caseworker")
    session_id = request.match_info["session_id"]
    await access.require_session_caseworker(request, principal, session_id)
    body = await read_model(request, CloseIn)
    reason = body.reason
    try:
        summary = await request.app[RECORDING].close(session_id, body.chunks, body.duration_s, reason,
                                                     actor=principal.actor)
    except ChunkError:
        raise ApiError(500, "unreadable", ERRORS["unreadable"]) from None
    return web.json_response(summary.model_dump(), headers=NO_STORE)


async def get_recording(request: web.Request) -> web.StreamResponse:
    """Supervisors (and the session's caseworker if allowed): the decrypted WebM, with byte ranges."""
    principal = require_role(request, "caseworker", "supervisor")
    session_id = request.match_info["session_id"]
    await access.require_viewer(request, principal, session_id)
    service = request.app[RECORDING]
    row = await service.row(session_id)
    if row is None or row.chunks == 0:
        raise ApiError(404, "no_recording", ERRORS["no_recording"])
    if row.purged_at is not None:
        raise ApiError(410, "purged", ERRORS["purged"])
    variant = request.query.get("variant", "original")
    if variant not in ("original", "player"):
        raise ApiError(400, "bad_variant", ERRORS["bad_variant"])
    layout = await service.chunk_sizes(session_id, player=variant == "player")
    total = sum(size for _, size in layout)
    try:
        span = parse_range(request.headers.get("Range"), total)
    except RangeNotSatisfiable:
        error = ApiError(416, "range", ERRORS["range"])
        error.headers["Content-Range"] = f"bytes */{total}"
        raise error from None
    first, last = span if span is not None else (0, total - 1)
    # Logged before the bytes leave: a view that is not in the trail never happened.
    await access.audit(request, principal, "recording_viewed", session_id,
                       {"range": request.headers.get("Range", "")[:60], "variant": variant})
    headers = {**NO_STORE, "Accept-Ranges": "bytes", "Content-Type": "video/webm",
               "Content-Length": str(last - first + 1), "Content-Disposition": "inline"}
    if span is not None:
        headers["Content-Range"] = f"bytes {first}-{last}/{total}"
    response = web.StreamResponse(status=206 if span is not None else 200, headers=headers)
    await response.prepare(request)
    try:
        async for piece in service.read_range(row.storage_name, layout, first, last):
            await response.write(piece)
    except ChunkError:
        # Headers are gone: all that is left is to cut the stream; the player reports an error.
        log.error("recording chunk unreadable during replay")
        raise
    await response.write_eof()
    return response


SESSION_ID = Param("session_id", location="path", description="the session (= call) id")
_CASEWORKER = ("caseworker",)

ROUTES: list[Route] = [
    Route("PUT", "/api/v1/sessions/{session_id}/recording/chunks/{index}", put_chunk,
          "The session's caseworker during the call or its wrap-up: upload recording chunk n (raw WebM bytes, any "
          "Content-Type (the console sends video/webm); "
          "idempotent: the same bytes again are accepted once, different bytes are refused and audited)",
          "recording", roles=_CASEWORKER,
          params=(SESSION_ID, Param("index", location="path", description="chunk index, 0..99999",
                                    schema={"type": "integer", "minimum": 0, "maximum": MAX_INDEX})),
          raw_body="application/octet-stream", response=ChunkOut, success_status=201, also_success=(200,),
          errors=(400, 401, 403, 404, 409, 413, 507)),
    Route("GET", "/api/v1/sessions/{session_id}/recording/chunks", get_resume,
          "The session's caseworker: the next chunk index to send (a reloaded console resumes there)",
          "recording", roles=_CASEWORKER, params=(SESSION_ID,), response=ResumeOut, errors=(401, 403, 404)),
    Route("POST", "/api/v1/sessions/{session_id}/recording/close", post_close,
          "The session's caseworker: close the recording (chunk count, duration; reason when it failed)",
          "recording", roles=_CASEWORKER, params=(SESSION_ID,), body=CloseIn, response=RecordingSummaryOut,
          errors=(400, 401, 403, 404, 413, 415, 422)),
    Route("GET", "/api/v1/sessions/{session_id}/recording", get_recording,
          "Supervisors (and the session's caseworker if JINGLIN_RECORDING_CASEWORKER_REPLAY): the recording as "
          "WebM; supports a single byte range (206, 416); every request is audited", "recording",
          roles=("supervisor", "caseworker"),
          params=(SESSION_ID, Param("Range", location="header", description="bytes=first-last"),
                  Param("variant", description="original (default): the chunks as uploaded, what `sha256` covers; "
                        "player: one continuous WebM with duration and cues, remuxed at close",
                        schema={"type": "string", "enum": ["original", "player"]})),
          response_content_type="video/webm", also_success=(206,), errors=(400, 401, 403, 404, 410, 416)),
]
