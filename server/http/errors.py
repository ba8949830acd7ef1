"""One JSON error shape for every 4xx/5xx: {"error": {"code", "message"}}."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Awaitable, Callable

from aiohttp import web
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

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
        super().__init__(text=error_json({"error": body}), content_type="application/json")
        self.code = code


def error_response(status: int, code: str, message: str) -> web.Response:
    """A JSON error response (for places that return rather than raise)."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status, dumps=error_json)


def error_json(body: object) -> str:
    """body as JSON text with Chinese as it is, and any lone surrogate (a validator quoting input
    such as "\\ud800") as its JSON escape: UTF-8 cannot encode it, and the response would fail."""
    text = json.dumps(body, ensure_ascii=False)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


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
    except (SQLAlchemyError, RedisError, ConnectionError) as exc:
        # The database or Redis is down (a restart, a failover): the client retries, and the log
        # gets one line rather than a stack per request for the length of the outage.
        log.warning("request failed: dependency unavailable", extra={"route": route_template(request),
                                                                     "error": type(exc).__name__})
        return error_response(503, "unavailable", "服务暂时不可用，请稍后重试")
    except Exception as exc:
        # The route template, never the raw path (a client can put an ID number in it), and the
        # stack without the exception's message (which may quote the input).
        log.error("unhandled error", extra={"route": route_template(request), "method": request.method,
                                            "error": type(exc).__name__,
                                            "stack": "".join(traceback.format_tb(exc.__traceback__))})
        return error_response(500, "internal_error", "internal server error")


def route_template(request: web.Request) -> str:
    """The matched route's template (`/api/v1/captures/{capture_id}/image`), or "unmatched"."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"
