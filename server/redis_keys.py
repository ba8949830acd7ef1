"""Redis key names the server itself uses (the queue engine's own keys are in session_queue.keys)."""

from __future__ import annotations

from datetime import date

PREFIX = "jl:"


def ticket_counter(day: date) -> str:
    """Daily counter behind the ticket numbers residents see."""
    return f"{PREFIX}ticketno:{day:%Y%m%d}"
