"""Who is really asking: client address, scheme and host behind trusted reverse proxies.

A TLS-terminating proxy connects over plain HTTP from its own address, so without this every
request would look like `http://upstream` from one client (one district-wide sign-in throttle, no
`Secure` cookie, the public https origin refused as foreign). `X-Forwarded-For/-Proto/-Host` are
believed only when the direct peer is one of `JINGLIN_TRUSTED_PROXIES`: anyone else can send them.
`JINGLIN_PUBLIC_URL`, when set, is the one origin the site answers for: its scheme and host apply,
and a request naming another host is refused, so a forged `Host` cannot make a forged `Origin`
look like the server's own.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

from server.http.errors import ApiError
from server.settings import Settings

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Probes address a process directly (load balancer, Prometheus), by its own host and port.
PROBE_PATHS = frozenset({"/healthz", "/metrics"})


def _in(address: str | None, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str | None, forwarded_for: str, proxies: Sequence[Network]) -> str | None:
    """The client behind the proxies: the right-most X-Forwarded-For hop that is not a trusted proxy.

    Hops left of it were written by the client itself and prove nothing.
    """
    address = peer
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        address = hop
        if not _in(hop, proxies):
            break
    return address


def _first(value: str | None) -> str:
    return (value or "").split(",")[0].strip()


def forwarded_middleware(settings: Settings) -> Middleware:
    """The middleware applying settings.trusted_proxies and settings.public_url to each request."""
    proxies = [ipaddress.ip_network(item, strict=False) for item in settings.trusted_proxies]
    public = urlsplit(settings.public_url) if settings.public_url else None

    @web.middleware
    async def forwarded(request: web.Request, handler: Handler) -> web.StreamResponse:
        changes: dict[str, Any] = {}
        if proxies and _in(request.remote, proxies):
            headers = request.headers
            if "X-Forwarded-For" in headers:
                changes["remote"] = client_address(request.remote, headers["X-Forwarded-For"], proxies)
            if _first(headers.get("X-Forwarded-Proto")) in {"http", "https"}:
                changes["scheme"] = _first(headers["X-Forwarded-Proto"])
            if _first(headers.get("X-Forwarded-Host")):
                changes["host"] = _first(headers["X-Forwarded-Host"])
        if public is not None and request.path not in PROBE_PATHS:
            host = changes.get("host", request.host)
            if host.lower() != public.netloc.lower():
                raise ApiError(400, "bad_host", "请求的主机名不正确")
            changes.update(scheme=public.scheme, host=public.netloc)
        return await handler(request.clone(**changes) if changes else request)

    return forwarded
