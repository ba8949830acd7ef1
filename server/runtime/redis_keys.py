"""Redis key names the server itself uses (the queue engine's own keys are in session_queue.keys).

Every name starts with the deployment's prefix (`JINGLIN_REDIS_PREFIX`, the same one the queue
engine's keys use), so several deployments can share one Redis server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from session_queue import DEFAULT_PREFIX


@dataclass(frozen=True)
class RedisKeys:
    """The server's key and channel names under one prefix."""

    prefix: str = DEFAULT_PREFIX

    def kiosk_requests(self, kiosk_id: int) -> str:
        """Counter of a kiosk's callback and booking requests in the current minute."""
        return f"{self.prefix}hours:requests:{kiosk_id}"

    def kiosk_checkins(self, kiosk_id: int) -> str:
        """Counter of a kiosk's appointment check-in attempts in the current minute."""
        return f"{self.prefix}hours:checkins:{kiosk_id}"

    @property
    def hours_sweep_lock(self) -> str:
        """Held by the one process that ends unservable waiting tickets this round (server/hours)."""
        return f"{self.prefix}hours:sweep"

    @property
    def ws_channel(self) -> str:
        """Pub/sub channel carrying messages for WebSocket clients, whichever process holds them."""
        return f"{self.prefix}ws"

    @property
    def capture_signal_channel(self) -> str:
        """Pub/sub channel carrying capture_signal data to the process that holds the capture's peer."""
        return f"{self.prefix}capture_signal"

    def ticket_counter(self, day: date) -> str:
        """Daily counter behind the ticket numbers residents see."""
        return f"{self.prefix}ticketno:{day:%Y%m%d}"

    def presence(self, principal_address: str) -> str:
        """Sorted set of a principal's live connections (member: connection id, score: expiry)."""
        return f"{self.prefix}presence:{principal_address}"

    def kiosk_joins(self, kiosk_id: int) -> str:
        """Counter bumped before every ticket row of a kiosk is written: a process that found the
        kiosk without an open ticket may trust that answer while the counter stays the same."""
        return f"{self.prefix}kioskjoins:{kiosk_id}"

    def kiosk_join_lock(self, kiosk_id: int) -> str:
        """Lock held while a join of the kiosk checks for its open ticket and writes a new one."""
        return f"{self.prefix}kioskjoinlock:{kiosk_id}"

    @property
    def admin_write_lock(self) -> str:
        """Lock held by an administration write while it checks and commits (server/admin/http.py)."""
        return f"{self.prefix}adminwritelock"

    def call_close_lock(self, ticket_id: str) -> str:
        """Lock held while a call is ended or transferred (one of them, once, across processes)."""
        return f"{self.prefix}callcloselock:{ticket_id}"

    def kiosk_no_ticket(self, kiosk_id: int) -> str:
        """"No open ticket" as some process read it from the database, with the epoch and join
        counter it was read at (server/signaling/open_tickets.py); deleted by every join."""
        return f"{self.prefix}kiosknoticket:{kiosk_id}"

    def resume_token(self, token: str) -> str:
        """A resume token of a connection, mapping to its principal."""
        return f"{self.prefix}resume:{token}"

    def login_failures(self, kind: str, digest: str) -> str:
        """Failed sign-in counter for an account or a client address (hashed)."""
        return f"{self.prefix}loginfail:{kind}:{digest}"

    def capture(self, capture_id: str) -> str:
        """Hash of an open capture request: call, kiosk, caseworker, material, state, attempt."""
        return f"{self.prefix}capture:{capture_id}"

    def capture_of_call(self, call_id: str) -> str:
        """The id of the call's open capture (one at a time per call)."""
        return f"{self.prefix}capture_call:{call_id}"

    def login_slot(self, digest: str) -> str:
        """An account's sign-in slot: held during one attempt and for the delay after a failure."""
        return f"{self.prefix}loginslot:{digest}"

    def device_check_count(self, kiosk_id: int) -> str:
        """How many device checks of a kiosk were stored in its current hour (expires with it)."""
        return f"{self.prefix}devcheckn:{kiosk_id}"

    def device_check_gate(self, kiosk_id: int) -> str:
        """The last stored device-check verdict of a kiosk, kept while further checks are coalesced."""
        return f"{self.prefix}devcheck:{kiosk_id}"
