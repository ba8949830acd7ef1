"""Request middlewares: find the signed-in principal; refuse cross-site state changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from server.auth.principal import PRINCIPAL_KEY, Principal
from server.auth.session_cache import SESSION_CACHE
from server.auth.sessions import resolve_session_hash
from server.auth.tokens import token_hash
from server.http import app_keys
from server.http.errors import ApiError
from server.protocol.version import WS_PATH

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SESSION_COOKIE = "jl_session"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach the principal of the session cookie (if live) to the request."""
    token = request.cookies.get(SESSION_COOKIE)
    if token and len(token) <= 128:
        principal = await _principal(request, token_hash(token))
        if principal is not None:
            request[PRINCIPAL_KEY] = principal
    return await handler(request)


async def _principal(request: web.Request, hashed: str) -> Principal | None:
    # WebSocket upgrades may use a session resolved a moment ago (see server.auth.session_cache):
    # a reconnect storm then costs no database round trip per socket. Every other request asks.
    # Upgrades not in the cache are resolved together, one transaction per loop turn.
    cache = request.app.get(SESSION_CACHE) if request.path == WS_PATH else None
    if cache is None:
        async with request.app[app_keys.DB_SESSIONS]() as session, session.begin():
            return await resolve_session_hash(session, hashed)
    return await cache.resolve(hashed)


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
