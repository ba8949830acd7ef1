"""A synthetic city for the city-size run (scripts/bench/city.py): streets, centres, kiosks, staff.

`--centres` streets, each with one acceptance centre; `--kiosks` residents' committees (one
kiosk each) spread evenly over the streets; `--caseworkers` accounts spread evenly over the
centres, each centre's caseworkers splitting the skill vocabulary so that together they hold all
of it. Every name carries （合成）. Kiosk sign-in sessions are written straight into the database
(the run measures connections and the queue, not 6,000 token exchanges); caseworkers sign in over
HTTP. Wipes the target database's schema first: use a database of its own.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, text

from server.auth.passwords import hash_password
from server.auth.sessions import KIOSK_ABSOLUTE
from server.auth.tokens import token_hash
from server.cli import prepare_database
from server.db.engine import make_engine, make_session_factory
from server.db.models import AuthSession, Centre, Kiosk, Matter, Site, Street, User, UserSkill
from server.db.types import utcnow
from server.settings import Settings

MARK = "（合成）"
PASSWORD = "city-run-password"


@dataclass
class City:
    """Credentials of the synthetic city."""

    kiosks: list[dict[str, Any]] = field(default_factory=list)  # id, street, cookie
    caseworkers: list[dict[str, Any]] = field(default_factory=list)  # username, password, street, skills
    matters: list[dict[str, Any]] = field(default_factory=list)  # id, skill, mode


def _token(kind: str, n: int) -> str:
    return hashlib.sha256(f"city-run:{kind}:{n}".encode()).hexdigest()


def _split(skills: list[str], people: int, offset: int) -> list[list[str]]:
    rotated = skills[offset % len(skills):] + skills[: offset % len(skills)]
    groups: list[list[str]] = [[] for _ in range(people)]
    for i, skill in enumerate(rotated):
        groups[i % people].append(skill)
    return groups


async def seed_city(settings: Settings, kiosks: int, caseworkers: int, centres: int) -> City:
    """Wipe the database, migrate it, and write the synthetic city."""
    engine = make_engine(settings.resolved_database_url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    await prepare_database(settings)
    engine = make_engine(settings.resolved_database_url)
    city = City()
    now = utcnow()
    try:
        async with make_session_factory(engine)() as session, session.begin():
            matters = (await session.scalars(select(Matter).where(Matter.retired.is_(False)))).all()
            city.matters = [{"id": m.id, "skill": m.skill, "mode": "consult" if m.mode == "consult" else "handle"}
                            for m in matters]
            skills = sorted({m.skill for m in matters})
            street_ids = (await session.execute(insert(Street).returning(Street.id), [
                {"code": f"city{n:03d}", "name": f"合成街道{n:03d}"} for n in range(centres)])).scalars().all()
            centre_ids = (await session.execute(insert(Centre).returning(Centre.id), [
                {"street_id": s, "name": f"合成街道{n:03d}受理中心{MARK}"} for n, s in enumerate(street_ids)
            ])).scalars().all()
            site_rows = [{"street_id": street_ids[n % centres], "name": f"合成居民区{n:05d}{MARK}", "kind": "committee",
                          "is_demo": True} for n in range(kiosks)]
            site_ids = (await session.execute(insert(Site).returning(Site.id), site_rows)).scalars().all()
            kiosk_ids = (await session.execute(insert(Kiosk).returning(Kiosk.id), [
                {"site_id": site, "label": f"合成终端{n:05d}", "token_hash": token_hash(_token("kiosk", n)),
                 "enabled": True, "created_at": now} for n, site in enumerate(site_ids)])).scalars().all()
            await session.execute(insert(AuthSession), [
                {"token_hash": token_hash(_token("session", n)), "role": "kiosk", "kiosk_id": k, "created_at": now,
                 "last_seen_at": now, "expires_at": now + KIOSK_ABSOLUTE, "revoked": False}
                for n, k in enumerate(kiosk_ids)])
            city.kiosks = [{"id": k, "street": n % centres, "cookie": _token("session", n)}
                           for n, k in enumerate(kiosk_ids)]
            hashed = hash_password(PASSWORD)
            per_centre = [caseworkers // centres + (1 if n < caseworkers % centres else 0) for n in range(centres)]
            users, user_skills = [], []
            for n, centre in enumerate(centre_ids):
                groups = _split(skills, max(1, per_centre[n]), n) if per_centre[n] else []
                for number, group in enumerate(groups[: per_centre[n]], start=1):
                    username = f"city-cw-{n:03d}-{number}"
                    users.append({"username": username, "display_name": f"合成受理员{n:03d}-{number}",
                                  "role": "caseworker", "password_hash": hashed, "centre_id": centre,
                                  "enabled": True, "is_demo": True})
                    city.caseworkers.append({"username": username, "password": PASSWORD, "street": n,
                                             "skills": group})
            user_ids = (await session.execute(insert(User).returning(User.id), users)).scalars().all()
            for user_id, cw in zip(user_ids, city.caseworkers, strict=True):
                user_skills += [{"user_id": user_id, "skill": s} for s in cw["skills"]]
            if user_skills:
                await session.execute(insert(UserSkill), user_skills)
    finally:
        await engine.dispose()
    return city


def skills_cover(city: City) -> bool:
    """True when every street's caseworkers hold every skill a matter needs (routing can serve all)."""
    needed = {m["skill"] for m in city.matters}
    held: dict[int, set[str]] = {}
    for cw in city.caseworkers:
        held.setdefault(cw["street"], set()).update(cw["skills"])
    return all(needed <= skills for skills in held.values())


def streets_of(city: City) -> int:
    """How many streets have caseworkers."""
    return len({cw["street"] for cw in city.caseworkers}) or math.ceil(len(city.kiosks) / 27)
