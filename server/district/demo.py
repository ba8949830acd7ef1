"""Idempotent demo data: the district's streets and centres, 249 kiosk sites, staff accounts.

Committee names are generated and marked 演示 (demo). Demo credentials are derived from the
server's secret key, so every run prints credentials that work; real accounts never are.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.passwords import hash_password
from server.auth.tokens import derived_secret, token_hash
from server.catalog.db_sync import load_catalog_from_db
from server.catalog.setup import ensure_catalog
from server.db.models import AppMeta, Centre, Kiosk, Site, Street, User
from server.district.accounts import set_kiosk_token, upsert_user
from server.district.geography import COMMITTEE_COUNT, EXTRA_SITES, STREETS

DEMO_MARK = "（演示）"
SKILLS_PER_CASEWORKER = 4
MIN_CASEWORKERS_PER_CENTRE = 3
SUPERVISORS = ("supervisor1", "supervisor2")
ADMIN = "admin"
# Password hashes as seeded, so a re-run skips the (deliberately slow) Argon2 check of accounts
# whose password nobody changed since.
SEEDED_HASHES_KEY = "demo_password_hashes"


@dataclass
class DemoData:
    """What `jinglin demo --json` prints."""

    kiosks: list[dict[str, Any]] = field(default_factory=list)
    caseworkers: list[dict[str, Any]] = field(default_factory=list)
    supervisors: list[dict[str, str]] = field(default_factory=list)
    admin: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The documented JSON shape."""
        return {"kiosks": self.kiosks, "caseworkers": self.caseworkers,
                "supervisors": self.supervisors, "admin": self.admin}


def demo_password(secret_key: str) -> str:
    """The password of every demo account: one per secret key, so seeding hashes it only once."""
    return derived_secret(secret_key, "demo-user", 16)


def demo_kiosk_token(secret_key: str, site_name: str) -> str:
    """The device token of a demo kiosk."""
    return derived_secret(secret_key, f"demo-kiosk:{site_name}", 43)


def committee_names() -> list[tuple[str, str]]:
    """(street code, committee name) for the 244 generated residents' committees."""
    base, extra = divmod(COMMITTEE_COUNT, len(STREETS))
    names = []
    for index, street in enumerate(STREETS):
        count = base + (1 if index < extra else 0)
        short = street.name.removesuffix("街道")
        names += [(street.code, f"{short}第{n:02d}居民区{DEMO_MARK}") for n in range(1, count + 1)]
    return names


def assign_skills(skills: list[str], centre_index: int) -> list[list[str]]:
    """Split the skill vocabulary over a centre's caseworkers so together they cover all of it."""
    count = max(MIN_CASEWORKERS_PER_CENTRE, math.ceil(len(skills) / SKILLS_PER_CASEWORKER))
    # Rotate per centre so centres differ in which person holds which skills.
    rotated = skills[centre_index % len(skills):] + skills[: centre_index % len(skills)]
    groups: list[list[str]] = [[] for _ in range(count)]
    for i, skill in enumerate(rotated):
        groups[i % count].append(skill)
    return [sorted(group) for group in groups]


async def _streets_and_centres(session: AsyncSession) -> dict[str, tuple[Street, Centre]]:
    result: dict[str, tuple[Street, Centre]] = {}
    for info in STREETS:
        street = await session.scalar(select(Street).where(Street.code == info.code))
        if street is None:
            street = Street(code=info.code, name=info.name)
            session.add(street)
            await session.flush()
        centre = await session.scalar(select(Centre).where(Centre.street_id == street.id))
        if centre is None:
            centre = Centre(street_id=street.id, name=info.centre_name)
            session.add(centre)
            await session.flush()
        result[info.code] = (street, centre)
    return result


async def _sites_and_kiosks(
    session: AsyncSession, streets: dict[str, tuple[Street, Centre]], secret_key: str, base_url: str
) -> list[dict[str, Any]]:
    wanted = [(code, name, "committee") for code, name in committee_names()]
    wanted += [(code, f"{name}{DEMO_MARK}", kind) for code, name, kind in EXTRA_SITES]
    existing_sites = {s.name: s for s in await session.scalars(select(Site))}
    kiosks_by_site = {k.site_id: k for k in await session.scalars(select(Kiosk).order_by(Kiosk.id))}
    out = []
    for code, name, kind in wanted:
        street = streets[code][0]
        site = existing_sites.get(name)
        if site is None:
            site = Site(street_id=street.id, name=name, kind=kind, is_demo=True)
            session.add(site)
            await session.flush()
        token = demo_kiosk_token(secret_key, name)
        kiosk = kiosks_by_site.get(site.id)
        if kiosk is None:
            kiosk = Kiosk(site_id=site.id, label=f"{name}终端", token_hash=token_hash(token), enabled=True)
            session.add(kiosk)
            await session.flush()
        elif kiosk.token_hash != token_hash(token):
            await set_kiosk_token(session, kiosk, token)
        out.append({"id": kiosk.id, "site": name, "street": street.name, "token": token,
                    "url": f"{base_url}/kiosk?token={token}"})
    return out


class DemoConflict(Exception):
    """A demo account's username belongs to a real account (e.g. an administrator named admin)."""

    def __init__(self, username: str) -> None:
        super().__init__(f"a real account is named {username!r}: demo data is for a database of its own "
                         "(demo logins would take it over)")
        self.username = username


class _DemoAccounts:
    """Creates demo accounts, re-checking passwords only where they may have changed."""

    def __init__(self, session: AsyncSession, secret_key: str, seeded: dict[str, str]) -> None:
        self.session = session
        self.secret_key = secret_key
        self.seeded = seeded
        self.hashes: dict[str, str] = {}
        self.password = demo_password(secret_key)
        self._hash: str | None = None

    def _password_hash(self) -> str:
        # Argon2 costs ~0.5 s a hash: one for all the demo accounts, and only when one needs it.
        if self._hash is None:
            self._hash = hash_password(self.password)
        return self._hash

    async def ensure(self, username: str, **fields: Any) -> str:
        user = await self.session.scalar(select(User).where(User.username == username))
        if user is not None and not user.is_demo:
            # Never reset a real person's password to the demo one (or rename them "演示").
            raise DemoConflict(username)
        fingerprint = _fingerprint(self.secret_key, user.password_hash) if user else None
        unchanged = fingerprint is not None and self.seeded.get(username) == fingerprint
        user = await upsert_user(self.session, username=username, password=None,
                                 password_hash=None if unchanged else self._password_hash(), is_demo=True, **fields)
        self.hashes[username] = _fingerprint(self.secret_key, user.password_hash)
        return self.password


def _fingerprint(secret_key: str, password_hash: str) -> str:
    # Bound to the secret key: a new key means new demo passwords, so every hash is re-checked.
    return hashlib.sha256(f"{secret_key}:{password_hash}".encode()).hexdigest()


async def seed_demo(session: AsyncSession, secret_key: str, base_url: str) -> DemoData:
    """Seed (or bring up to date) all demo data and return the credentials. Caller commits."""
    await ensure_catalog(session)
    catalog = await load_catalog_from_db(session)
    # The skills routing needs are the ones active matters use.
    skills = sorted({matter.skill for matter in catalog.matters})
    streets = await _streets_and_centres(session)
    data = DemoData()
    data.kiosks = await _sites_and_kiosks(session, streets, secret_key, base_url)
    meta = await session.get(AppMeta, SEEDED_HASHES_KEY)
    accounts = _DemoAccounts(session, secret_key, json.loads(meta.value) if meta else {})
    for index, info in enumerate(STREETS):
        centre = streets[info.code][1]
        short = info.name.removesuffix("街道")
        for number, group in enumerate(assign_skills(skills, index), start=1):
            username = f"cw-{info.code}-{number}"
            password = await accounts.ensure(username, role="caseworker", centre_id=centre.id, skills=group,
                                             display_name=f"{short}受理员{number}{DEMO_MARK}")
            data.caseworkers.append({"username": username, "password": password,
                                     "centre": centre.name, "skills": group})
    for number, username in enumerate(SUPERVISORS, start=1):
        password = await accounts.ensure(username, role="supervisor", display_name=f"值班主管{number}{DEMO_MARK}")
        data.supervisors.append({"username": username, "password": password})
    admin_password = await accounts.ensure(ADMIN, role="admin", display_name=f"系统管理员{DEMO_MARK}")
    data.admin = {"username": ADMIN, "password": admin_password}
    if meta is None:
        meta = AppMeta(key=SEEDED_HASHES_KEY, value="")
        session.add(meta)
    meta.value = json.dumps(accounts.hashes, sort_keys=True)
    return data
