"""The protocol's version and where clients open its WebSocket: one definition for the server, the
simulator and (rendered into every page) the browsers."""

from __future__ import annotations

PROTOCOL_VERSION = 1
WS_PATH = "/api/v1/ws"
