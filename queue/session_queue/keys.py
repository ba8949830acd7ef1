"""Every Redis key name used by the queue engine, in one place.

The Lua scripts build the keys they derive at run time (a ticket's queue, a caseworker's
availability sets, ...) from the same table: the loader (scripts.py) writes `KEY_PARTS` into every
script's text as the Lua table `K`, so a name is never spelled twice. All keys live under one
configurable prefix so several installations or test runs can share a Redis; the engine assumes a
standalone Redis (not Cluster), because scripts touch keys they derive from ticket and caseworker
ids.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "jl:"

# name -> suffix after the prefix. Composite keys append ids: `route` is `r:{skill}:{street}`.
KEY_PARTS: dict[str, str] = {
    # marker: present while the live queue is valid; missing after Redis lost its data
    "epoch": "epoch",
    # pub/sub channel carrying transition records and queue-moved notices
    "channel": "events",
    # stream of every script's transitions until the database has recorded them (outbox.py),
    # and the id up to which the reconciler has checked it
    "outbox": "outbox",
    "outbox_mark": "outbox:mark",
    # global counter used as a FIFO tie-break inside equal millisecond scores
    "seq": "seq",
    # hash per ticket / per caseworker
    "ticket": "t:",
    "caseworker": "cw:",
    # waiting tickets of a skill by queue score (positions), and by created time (longest wait)
    "queue": "q:",
    "created": "qc:",
    # routable waiting tickets: own-street sets (skill:street) and widened set (skill)
    "route": "r:",
    "route_wide": "rw:",
    # caseworkers who rejected a ticket (set per ticket)
    "declined": "dec:",
    # available caseworkers by idle-since: per skill, and per skill:street
    "avail": "av:",
    "avail_street": "avs:",
    # due-time sorted sets driven by the timer
    "due_offer": "due:offer",
    "due_grace": "due:grace",
    "due_wrap": "due:wrap",
    "due_widen": "due:widen",
    # registry of skills seen, for live figures in O(skills)
    "skills": "skills",
    # counters (hashes): live ticket states, caseworker states, waiting per street,
    # eligible (logged-in) caseworkers per skill, handle-time sums per skill / matter
    "ticket_states": "n:tstate",
    "caseworker_states": "n:cwstate",
    "street_waiting": "n:street",
    "eligible": "n:elig",
    "handle_sum": "n:hsum",
    "matter_handle_sum": "n:mhsum",
    # rolling handle-time windows (lists, newest first)
    "handle": "h:",
    "matter_handle": "mh:",
}


@dataclass(frozen=True)
class Keys:
    """Key names under one prefix, for the keys Python itself passes or reads."""

    prefix: str = DEFAULT_PREFIX

    def name(self, part: str, *ids: str) -> str:
        """The key `part` with ids appended (joined by ':'), as the scripts build it."""
        return self.prefix + KEY_PARTS[part] + ":".join(ids)

    @property
    def epoch(self) -> str:
        """Marker key whose absence means the live queue must be rebuilt."""
        return self.name("epoch")

    @property
    def channel(self) -> str:
        """Pub/sub channel of transition records and queue-moved notices."""
        return self.name("channel")

    @property
    def outbox(self) -> str:
        """Stream of transitions awaiting confirmation that the database recorded them."""
        return self.name("outbox")

    @property
    def outbox_mark(self) -> str:
        """Stream id up to which the outbox has been reconciled with the database."""
        return self.name("outbox_mark")

    def ticket(self, ticket_id: str) -> str:
        """Hash of one ticket."""
        return self.name("ticket", ticket_id)

    def caseworker(self, caseworker_id: str) -> str:
        """Hash of one caseworker."""
        return self.name("caseworker", caseworker_id)
