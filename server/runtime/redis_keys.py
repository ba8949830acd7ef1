"""Redis key names the server itself uses (the queue engine's own keys are in session_queue.keys)."""

from __future__ import annotations

from datetime import date

PREFIX = "jl:"


def ticket_counter(day: date) -> str:
    """Daily counter behind the ticket numbers residents see."""
    return f"{PREFIX}ticketno:{day:%Y%m%d}"

# Pub/sub channel carrying messages for WebSocket clients, whichever process holds them.
WS_CHANNEL = f"{PREFIX}ws"


def presence(principal_key: str) -> str:
    """Sorted set of a principal's live connections (member: connection id, score: expiry)."""
    return f"{PREFIX}presence:{principal_key}"


def resume_token(token: str) -> str:
    """A resume token of a connection, mapping to its principal."""
    return f"{PREFIX}resume:{token}"


def login_failures(kind: str, digest: str) -> str:
    """Failed sign-in counter for an account or a client address (hashed)."""
    return f"{PREFIX}loginfail:{kind}:{digest}"


def login_slot(digest: str) -> str:
    """An account's sign-in slot: held during one attempt and for the delay after a failure."""
    return f"{PREFIX}loginslot:{digest}"


def device_check_gate(kiosk_id: int) -> str:
    """The last stored device-check verdict of a kiosk, kept while further checks are coalesced."""
    return f"{PREFIX}devcheck:{kiosk_id}"


def capture(capture_id: str) -> str:
    """Hash of an open capture request: call, kiosk, caseworker, material, state, attempt."""
    return f"{PREFIX}capture:{capture_id}"


def capture_of_call(call_id: str) -> str:
    """The id of the call's open capture (one at a time per call)."""
    return f"{PREFIX}capture_call:{call_id}"

# Pub/sub channel carrying capture_signal data to the process that holds the capture's peer.
CAPTURE_SIGNAL_CHANNEL = f"{PREFIX}capture_signal"
