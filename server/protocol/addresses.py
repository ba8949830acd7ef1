"""Principal addresses: how messages (and audit entries) name a kiosk or a staff member.

An address is `ROLE:ID` (`kiosk:3`, `caseworker:7`, `supervisor:2`). It is the key of a principal's
connections, its presence and its queue role, in every process; nothing else spells the format.
"""

from __future__ import annotations

KIOSK = "kiosk"
CASEWORKER = "caseworker"
SUPERVISOR = "supervisor"
ADMIN = "admin"
STAFF_ROLES = (CASEWORKER, SUPERVISOR, ADMIN)
# Who watches the live board: their connections get `stats` pushes.
WATCHER_ROLES = (SUPERVISOR, ADMIN)


def address(role: str, principal_id: int | str | None) -> str:
    """The address of a principal of `role` with this id."""
    return f"{role}:{principal_id}"


def kiosk_address(kiosk_id: int | str | None) -> str:
    """`kiosk:ID`."""
    return address(KIOSK, kiosk_id)


def caseworker_address(user_id: int | str | None) -> str:
    """`caseworker:ID`."""
    return address(CASEWORKER, user_id)


def role_of(principal_address: str) -> str:
    """The role part of an address."""
    return principal_address.split(":", 1)[0]


def id_of(principal_address: str) -> str:
    """The id part of an address."""
    return principal_address.split(":", 1)[1]


KIOSK_PREFIX = f"{KIOSK}:"
CASEWORKER_PREFIX = f"{CASEWORKER}:"
