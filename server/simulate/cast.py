"""Choosing who plays: demo kiosks and caseworkers of the same streets, and matters they can serve.

The queue routes a ticket only to caseworkers of the kiosk's own street until it has waited
JINGLIN_WIDEN_AFTER_S (300 s by default), so every simulated kiosk sits in a street that has at
least one simulated caseworker, and picks a matter whose skill one of them holds.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any


class CastError(ValueError):
    """The demo data cannot provide the requested kiosks and caseworkers."""


@dataclass(frozen=True)
class KioskRole:
    """A demo kiosk and the matters it may ask for."""

    name: str
    token: str
    street: str
    matters: tuple[tuple[str, str], ...]  # (matter_id, session mode)


@dataclass(frozen=True)
class CaseworkerRole:
    """A demo caseworker account."""

    username: str
    password: str
    street: str
    skills: tuple[str, ...]


def _street_of_centre(centre: str, streets: set[str]) -> str:
    # Demo centres are named "<street>社区事务受理服务中心".
    for street in streets:
        if centre.startswith(street):
            return street
    raise CastError(f"centre {centre!r} matches no kiosk street")


def _modes(mode: str) -> tuple[str, ...]:
    return ("handle", "consult") if mode == "both" else (mode,)


def pick_cast(demo: dict[str, Any], matters: list[dict[str, Any]], kiosks: int, caseworkers: int,
              rng: random.Random) -> tuple[list[KioskRole], list[CaseworkerRole]]:
    """`kiosks` kiosks and `caseworkers` caseworkers spread over as few streets as fit them."""
    if kiosks < 1 or caseworkers < 1:
        raise CastError("need at least one kiosk and one caseworker")
    kiosks_by_street: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for kiosk in demo["kiosks"]:
        kiosks_by_street[kiosk["street"]].append(kiosk)
    streets = sorted(kiosks_by_street)
    cws_by_street: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for cw in demo["caseworkers"]:
        cws_by_street[_street_of_centre(cw["centre"], set(streets))].append(cw)
    per_street = min(len(v) for v in kiosks_by_street.values())
    count = min(len(streets), caseworkers, max(1, math.ceil(kiosks / per_street)))
    chosen = streets[:count]
    if kiosks > sum(len(kiosks_by_street[s]) for s in chosen):
        raise CastError(f"{kiosks} kiosks need more streets than {caseworkers} caseworkers cover")
    cw_roles = [_caseworker(cws_by_street[chosen[i % count]][i // count], chosen[i % count])
                for i in range(caseworkers)]
    skills_by_street: dict[str, set[str]] = defaultdict(set)
    for role in cw_roles:
        skills_by_street[role.street].update(role.skills)
    kiosk_roles = []
    for i in range(kiosks):
        street = chosen[i % count]
        kiosk = kiosks_by_street[street][i // count]
        options = tuple((m["id"], mode) for m in matters if m["skill"] in skills_by_street[street]
                        for mode in _modes(m["mode"]))
        if not options:
            raise CastError(f"no matter fits the skills of the caseworkers of {street}")
        picked = tuple(rng.sample(options, min(8, len(options))))
        kiosk_roles.append(KioskRole(kiosk["site"], kiosk["token"], street, picked))
    return kiosk_roles, cw_roles


def _caseworker(entry: dict[str, Any], street: str) -> CaseworkerRole:
    return CaseworkerRole(entry["username"], entry["password"], street, tuple(entry["skills"]))
