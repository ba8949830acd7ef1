"""One way for every suite to seed a small district: streets with a centre, sites with kiosks, staff.

Suites call `add_street` and `add_staff` inside an open transaction and keep the ids they need.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Centre, Site, Street
from server.district.accounts import add_kiosk, upsert_user

PASSWORD = "p" * 12
JIANGNINGLU = ("jiangninglu", "江宁路街道")
JINGANSI = ("jingansi", "静安寺街道")


@dataclass
class SeededStreet:
    """What `add_street` made."""

    street_id: int
    centre_id: int
    site_ids: list[int] = field(default_factory=list)
    kiosk_ids: list[int] = field(default_factory=list)
    kiosk_tokens: list[str] = field(default_factory=list)


def numbered(template: str, count: int) -> list[str]:
    """`template` with `{n}` filled for each of `count` items; a lone item drops the number."""
    return [template.format(n="" if count == 1 else n) for n in range(count)]


async def add_street(session: AsyncSession, street: tuple[str, str] = JIANGNINGLU, *, sites: int = 1,
                     site_names: Sequence[str] | None = None, kiosk_labels: Sequence[str] | None = None,
                     centre_name: str | None = None) -> SeededStreet:
    """A street with its acceptance centre and `sites` committee sites, each with one kiosk."""
    code, name = street
    row = Street(code=code, name=name)
    session.add(row)
    await session.flush()
    centre = Centre(street_id=row.id, name=centre_name or f"{name}社区事务受理服务中心")
    session.add(centre)
    await session.flush()
    seeded = SeededStreet(street_id=row.id, centre_id=centre.id)
    names = list(site_names or numbered("测试居民区{n}（演示）", sites))
    labels = list(kiosk_labels or numbered("终端{n}", sites))
    for site_name, label in zip(names, labels, strict=True):
        site = Site(street_id=row.id, name=site_name, kind="committee", is_demo=True)
        session.add(site)
        await session.flush()
        kiosk, token = await add_kiosk(session, site_id=site.id, label=label)
        seeded.site_ids.append(site.id)
        seeded.kiosk_ids.append(kiosk.id)
        seeded.kiosk_tokens.append(token)
    return seeded


async def add_staff(session: AsyncSession, centre_id: int | None = None, *,
                    caseworkers: Mapping[str, Sequence[str]] | None = None, supervisors: Sequence[str] = (),
                    admins: Sequence[str] = (), password: str = PASSWORD,
                    display_names: Mapping[str, str] | None = None) -> dict[str, int]:
    """Caseworkers (name → skills) of a centre, supervisors and admins; returns name → user id."""
    names = display_names or {}
    ids: dict[str, int] = {}
    for username, skills in (caseworkers or {}).items():
        user = await upsert_user(session, username=username, password=password, role="caseworker",
                                 centre_id=centre_id, skills=list(skills), display_name=names.get(username))
        ids[username] = user.id
    for role, usernames in (("supervisor", supervisors), ("admin", admins)):
        for username in usernames:
            user = await upsert_user(session, username=username, password=password, role=role,
                                     display_name=names.get(username))
            ids[username] = user.id
    return ids
