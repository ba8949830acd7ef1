"""One JSON error shape for every 4xx/5xx: {"error": {"code", "message"}}."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Codes for the statuses aiohttp raises itself (routing, method, body size).
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    503: "unavailable",
}


class ApiError(web.HTTPException):
    """An HTTP error carrying our JSON body."""

    def __init__(self, status: int, code: str, message: str, details: list[str] | None = None) -> None:
        self.status_code = status
        body: dict[str, object] = {"code": code, "message": message}
        if details:
            body["details"] = details  # every problem of a bulk input (rows of a sheet), one line each
        super().__init__(
            text=json.dumps({"error": body}, ensure_ascii=False),
            content_type="application/json",
        )
        self.code = code


def error_response(status: int, code: str, message: str) -> web.Response:
    """A JSON error response (for places that return rather than raise)."""
    return web.json_response(
        {"error": {"code": code, "message": message}},
        status=status,
        dumps=lambda obj: json.dumps(obj, ensure_ascii=False),
    )


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every HTTP exception and unexpected failure into the JSON error shape."""
    try:
        return await handler(request)
    except ApiError:
        raise
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        return error_response(exc.status, code, exc.reason or code)
    except Exception:
        log.exception("unhandled error", extra={"path": request.path, "method": request.method})
        return error_response(500, "internal_error", "internal server error")
