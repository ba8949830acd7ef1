"""What every administration handler shares: the admin-only transaction, errors as JSON, uploads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from aiohttp import web
from pydantic import BaseModel
from redis.exceptions import LockError, RedisError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.admin import texts as t
from server.admin.errors import AdminError
from server.admin.limits import MAX_UPLOAD_BYTES
from server.admin.sheets import read_rows
from server.auth.principal import require_role
from server.http import app_keys
from server.http.errors import ApiError
from server.http.multipart import named_part
from server.http.request_body import read_json_bytes

ADMIN_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422)
# Administration writes run one at a time across the district's processes (admin_transaction):
# each checks the database and then writes (the last enabled administrator, a username whatever
# its case, a duplicate site, an override removed), and two at once would both pass the check.
# Admins are few and their writes short; a write waits up to WRITE_LOCK_WAIT_S for the one before.
WRITE_LOCK_TTL_S = 60
WRITE_LOCK_WAIT_S = 20


@asynccontextmanager
async def admin_transaction(request: web.Request) -> AsyncIterator[tuple[AsyncSession, str]]:
    """(database session in a transaction, audit actor) for a signed-in admin; 401/403 otherwise.

    Service errors become JSON errors and roll the transaction back: nothing is half written.
    """
    actor = require_role(request, "admin").actor
    if request.method in ("GET", "HEAD"):
        async with _transaction(request) as session:
            yield session, actor
        return
    if request.content_type == "application/json":
        # The body is read before the lock is taken: a slow client must not hold every other
        # administrator's writes for as long as it takes to send it.
        await read_json_bytes(request)
    lock = request.app[app_keys.REDIS].lock(request.app[app_keys.REDIS_KEYS].admin_write_lock,
                                            timeout=WRITE_LOCK_TTL_S, blocking_timeout=WRITE_LOCK_WAIT_S)
    if not await lock.acquire():
        raise ApiError(503, "unavailable", t.BUSY)
    try:
        async with _transaction(request) as session:
            yield session, actor
    finally:
        with suppress(LockError, RedisError):
            await lock.release()


@asynccontextmanager
async def _transaction(request: web.Request) -> AsyncIterator[AsyncSession]:
    try:
        async with request.app[app_keys.DB_SESSIONS]() as session, session.begin():
            yield session
    except AdminError as exc:
        raise ApiError(exc.status, exc.code, exc.message, exc.details) from None
    except IntegrityError:
        # A uniqueness the checks did not see (a write from the command line at the same moment):
        # a conflict to report, not an outage to retry.
        raise ApiError(409, "conflict", t.CONFLICT) from None


def json_out(model: BaseModel, status: int = 200) -> web.Response:
    """A pydantic model as the JSON response."""
    return web.json_response(text=model.model_dump_json(), status=status)


def base_url(request: web.Request) -> str:
    """The origin the admin reached us on, for kiosk enrolment links."""
    return f"{request.scheme}://{request.host}"


def query_flag(request: web.Request, name: str, default: bool) -> bool:
    """A true/false query parameter; 400 for anything else."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise ApiError(400, "bad_request", f"{name} 只能是 true 或 false")


async def uploaded_rows(request: web.Request) -> list[list[str]]:
    """The rows of the spreadsheet in the multipart field `file`; 400/413/415 before anything is written."""
    require_role(request, "admin")  # refuse before reading a byte of the upload
    if not request.content_type.startswith("multipart/"):
        raise ApiError(415, "unsupported_media_type", t.NO_FILE)
    if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES + 64 * 1024:
        raise ApiError(413, "payload_too_large", t.FILE_TOO_LARGE.format(limit=MAX_UPLOAD_BYTES // 2**20))
    try:
        part = await named_part(await request.multipart(), "file")
    except ValueError:  # aiohttp's framing errors, and more than MAX_PARTS parts before the file
        raise ApiError(400, "bad_multipart", t.BAD_MULTIPART) from None
    if part is None:
        raise ApiError(400, "no_file", t.NO_FILE)
    data = bytearray()
    while chunk := await part.read_chunk():
        data += chunk
        if len(data) > MAX_UPLOAD_BYTES:
            raise ApiError(413, "payload_too_large", t.FILE_TOO_LARGE.format(limit=MAX_UPLOAD_BYTES // 2**20))
    try:
        # Unpacking and parsing a spreadsheet is CPU work of up to seconds (a sheet of many short
        # rows): off the event loop, so the process's calls go on meanwhile.
        return await asyncio.to_thread(read_rows, part.filename or "", bytes(data))
    except AdminError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
