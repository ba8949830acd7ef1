"""Security headers on every response (CSP without inline script, no framing, nosniff)."""

from __future__ import annotations

from aiohttp import web

# Pages load only our own ES modules and styles; media streams come from getUserMedia/WebRTC.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob: mediastream:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(self), geolocation=()",
    # In place of aiohttp's default, which names the Python and aiohttp versions to every prober.
    "Server": "jinglin",
}


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Add the headers to every response as it is prepared (an `on_response_prepare` signal
    handler): JSON errors, pages and files, and also what a middleware would see too late, whose
    headers are sent inside the handler (the WebSocket upgrade, a streamed recording)."""
    response.headers.update(HEADERS)
    if request.path.startswith("/api/") and "Cache-Control" not in response.headers:
        # API answers carry residents' and staff's data (masked numbers, names, queue state): no
        # browser or proxy keeps a copy, unless a handler chose otherwise.
        response.headers["Cache-Control"] = "no-store"
    elif request.path.startswith("/static/") and "Cache-Control" not in response.headers:
        # ES modules import each other by plain URL; revalidating (cheap 304s) keeps a kiosk
        # from mixing old and new modules after an upgrade.
        response.headers["Cache-Control"] = "no-cache"
