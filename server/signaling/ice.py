"""ICE servers for browsers: STUN URLs and TURN with short-lived TURN REST credentials.

coturn's `use-auth-secret` accepts username `EXPIRY:USER` and password
base64(HMAC-SHA1(shared secret, username)); see docs/deploy.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Literal

from server.protocol.messages import IceServer
from server.settings import Settings


def turn_credentials(secret: str, user: str, ttl_s: int, now: float | None = None) -> tuple[str, str]:
    """(username, credential) valid for `ttl_s` seconds from now."""
    expiry = int((now if now is not None else time.time()) + ttl_s)
    username = f"{expiry}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(settings: Settings, actor: str) -> list[IceServer]:
    """The RTCConfiguration.iceServers a client of `actor` should use."""
    servers: list[IceServer] = []
    if settings.stun_urls:
        servers.append(IceServer(urls=list(settings.stun_urls)))
    if settings.turn_urls and settings.turn_secret:
        username, credential = turn_credentials(settings.turn_secret, actor, settings.turn_ttl_s)
        servers.append(IceServer(urls=list(settings.turn_urls), username=username, credential=credential))
    return servers


def ice_transport_policy(settings: Settings, role: str) -> Literal["all", "relay"]:
    """RTCConfiguration.iceTransportPolicy for a client of `role`: "relay" for kiosks that must relay."""
    return "relay" if settings.kiosk_force_relay and role == "kiosk" else "all"


class IceConfig:
    """`welcome`'s `ice_servers` as plain dicts: the STUN entry built once per process, TURN
    credentials (which name the actor and expire) computed per connection."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stun = {"urls": list(settings.stun_urls)} if settings.stun_urls else None
        self._turn_urls = list(settings.turn_urls) if settings.turn_urls and settings.turn_secret else None

    def servers(self, actor: str) -> list[dict[str, object]]:
        """The same list as `ice_servers(settings, actor)`, serialised as the welcome sends it."""
        servers: list[dict[str, object]] = []
        if self._stun is not None:
            servers.append({"urls": list(self._stun["urls"])})
        if self._turn_urls is not None:
            username, credential = turn_credentials(self.settings.turn_secret, actor, self.settings.turn_ttl_s)
            servers.append({"urls": list(self._turn_urls), "username": username, "credential": credential})
        return servers
