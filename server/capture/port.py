"""What capture needs of the call it serves, as one narrow port (built from signaling in context.py).

Capture sends messages to the call's members wherever they are connected, reads the live call
(the queue's ticket), looks materials up in the current catalog, gives its peers ICE servers and
registers its message handlers. Nothing else of signaling or the queue is within its reach.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from session_queue import TicketStatus

from matters_catalog.loader import Catalog
from server.protocol.outbound import ServerMessage
from server.signaling.handlers import Handler


@dataclass(frozen=True)
class CallDirectory:
    """The calls and their members, as capture sees them."""

    send_to: Callable[[Iterable[str], ServerMessage], Awaitable[None]]
    """Deliver a message to principals (by address) in whichever process holds them."""
    ticket: Callable[[str], Awaitable[TicketStatus | None]]
    """The live ticket (call) by id, or None."""
    catalog: Callable[[], Awaitable[Catalog]]
    """The current catalog of matters and their materials."""
    ice_servers: Callable[[str], list[dict[str, Any]]]
    """The RTCConfiguration.iceServers (as JSON) for a client of this actor."""
    register: Callable[[tuple[str, ...], str, Handler], None]
    """Handle a message type from these roles."""
