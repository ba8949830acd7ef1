"""Request middlewares: find the signed-in principal; refuse cross-site state changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from server.auth.principal import PRINCIPAL_KEY
from server.auth.sessions import resolve_session
from server.http import app_keys
from server.http.errors import ApiError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SESSION_COOKIE = "jl_session"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach the principal of the session cookie (if live) to the request."""
    token = request.cookies.get(SESSION_COOKIE)
    if token and len(token) <= 128:
        async with request.app[app_keys.DB_SESSIONS]() as session, session.begin():
            principal = await resolve_session(session, token)
        if principal is not None:
            request[PRINCIPAL_KEY] = principal
    return await handler(request)


def allowed_origin(request: web.Request, origin: str) -> bool:
    """True for the server's own origin and the configured allow-list."""
    own = f"{request.scheme}://{request.host}"
    return origin == own or origin in request.app[app_keys.SETTINGS].allowed_origins


@web.middleware
async def csrf_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse state-changing API requests from foreign origins.

    Session cookies are SameSite=Strict already; browsers also send Origin on every cross-site
    POST, so checking it closes the gap for older browsers and same-site subdomains.
    """
    if request.method in UNSAFE_METHODS and request.path.startswith("/api/"):
        origin = request.headers.get("Origin")
        if origin is not None and not allowed_origin(request, origin):
            raise ApiError(403, "bad_origin", "请求来源不被允许")
    return await handler(request)
