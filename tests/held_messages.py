"""A page's protocol socket relayed with one server message held back: to make a message arrive
after the ones the server sent behind it, as when another server process relays those first."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol


class _Route(Protocol):
    """What both Playwright APIs' WebSocketRoute offer (their sync methods)."""

    def connect_to_server(self) -> _Route: ...

    def on_message(self, handler: Callable[[str | bytes], Any]) -> None: ...

    def send(self, message: str | bytes) -> None: ...


class HeldMessage:
    """page.route_web_socket("**/api/v1/ws", held.relay): the first server message of `kind` is
    kept back until release(); everything else passes at once."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.held: list[str | bytes] = []
        self.routes: list[_Route] = []

    def relay(self, route: _Route) -> None:
        """The route handler: connect to the server and pass its messages on, but for the one held."""
        upstream = route.connect_to_server()

        def from_server(message: str | bytes) -> None:
            if not self.held and json.loads(message).get("type") == self.kind:
                self.held.append(message)
            else:
                route.send(message)

        upstream.on_message(from_server)
        self.routes.append(route)

    def release(self) -> None:
        """Deliver the held message to the page on its latest socket."""
        assert self.held, f"no {self.kind} message was held back"
        self.routes[-1].send(self.held[0])
