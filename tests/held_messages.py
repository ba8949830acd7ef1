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
    kept back until release(); with `drop`, the server messages it matches are never delivered (as
    if lost); everything else passes at once."""

    def __init__(self, kind: str, drop: Callable[[dict[str, Any]], bool] | None = None) -> None:
        self.kind = kind
        self.drop = drop
        self.dropped = 0
        self.held: list[str | bytes] = []
        self.routes: list[_Route] = []

    def relay(self, route: _Route) -> None:
        """The route handler: connect to the server and pass its messages on, but for the one held."""
        upstream = route.connect_to_server()

        def from_server(message: str | bytes) -> None:
            data = json.loads(message)
            if self.drop is not None and self.drop(data):
                self.dropped += 1
            elif not self.held and data.get("type") == self.kind:
                self.held.append(message)
            else:
                route.send(message)

        upstream.on_message(from_server)
        self.routes.append(route)

    def release(self) -> None:
        """Deliver the held message to the page on its latest socket."""
        assert self.held, f"no {self.kind} message was held back"
        self.routes[-1].send(self.held[0])


class _ClosableRoute(_Route, Protocol):
    def close(self, *, code: int | None = None, reason: str | None = None) -> None: ...


class NetworkOutage:
    """page.route_web_socket("**/api/v1/ws", outage.relay): the page's sockets, with a network
    outage to switch on and off. During the outage a socket opens but nothing answers its hello."""

    def __init__(self) -> None:
        self.on = False
        self.sockets: list[_ClosableRoute] = []

    def relay(self, route: _ClosableRoute) -> None:
        """The route handler."""
        if not self.on:
            route.connect_to_server()
        self.sockets.append(route)

    def start(self) -> None:
        """Cut the page's socket; its reconnects reach nothing until end()."""
        self.on = True
        self.sockets[-1].close(code=4000, reason="blip")

    def end(self) -> None:
        """Let the next reconnect through (the hanging socket is closed so the page tries again)."""
        self.on = False
        self.sockets[-1].close(code=4000, reason="still down")
