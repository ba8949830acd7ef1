"""Streets, acceptance centres and kiosk sites: listing, creating and finding them by id/code/name."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pypinyin import lazy_pinyin
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.admin import audit
from server.admin import texts as t
from server.admin.errors import conflict, invalid, not_found
from server.admin.schemas import CentreIn, CentreOut, SiteIn, SiteOut, StreetIn, StreetOut
from server.db.models import Centre, Kiosk, Site, Street
from server.runtime.ids import parse_id

_CODE = re.compile(r"^[a-z0-9-]{1,40}$")
T = TypeVar("T", Street, Centre, Site)


async def _find(session: AsyncSession, model: type[T], ref: str, message: str, *by_name: Any) -> T:
    ref = ref.strip()
    found = await session.scalar(select(model).where(or_(model.id == parse_id(ref),
                                                        *(column == ref for column in by_name))))
    if found is None:
        raise not_found(message.format(name=ref))
    return found


async def find_street(session: AsyncSession, ref: str) -> Street:
    """A street by id, code or name; 404 when none."""
    return await _find(session, Street, ref, t.UNKNOWN_STREET, Street.code, Street.name)


async def find_centre(session: AsyncSession, ref: str) -> Centre:
    """A centre by id or name; 404 when none."""
    return await _find(session, Centre, ref, t.UNKNOWN_CENTRE, Centre.name)


async def find_site(session: AsyncSession, ref: str) -> Site:
    """A site by id or name; 404 when none."""
    return await _find(session, Site, ref, t.UNKNOWN_SITE, Site.name)


def street_code(name: str) -> str:
    """The default code of a street: its name in pinyin without the 街道/镇 suffix (江宁路街道 → jiangninglu)."""
    core = name.removesuffix("街道") or name
    suffix = "zhen" if core.endswith("镇") else ""
    return ("".join(lazy_pinyin(core.removesuffix("镇"))) + suffix).lower()[:40]


def street_out(street: Street) -> StreetOut:
    """The API form of a street."""
    return StreetOut(id=street.id, code=street.code, name=street.name)


async def list_streets(session: AsyncSession) -> list[StreetOut]:
    """Every street in id order."""
    return [street_out(s) for s in await session.scalars(select(Street).order_by(Street.id))]


async def add_street(session: AsyncSession, body: StreetIn, actor: str) -> StreetOut:
    """Create a street; 409 on a duplicate name or code."""
    name = body.name.strip()
    if not name:
        raise invalid(t.EMPTY_NAME)
    code = (body.code or street_code(name)).strip()
    if not _CODE.match(code):
        raise invalid(t.BAD_STREET_CODE.format(code=code))
    if await session.scalar(select(Street.id).where(or_(Street.name == name, Street.code == code))):
        raise conflict(t.DUPLICATE_STREET.format(name=name))
    street = Street(code=code, name=name)
    session.add(street)
    await session.flush()
    audit.record(session, actor, "street_added", "street", street.id)
    return street_out(street)


def centre_out(centre: Centre, street: Street) -> CentreOut:
    """The API form of a centre."""
    return CentreOut(id=centre.id, name=centre.name, street_id=street.id, street=street.name,
                     address=centre.address, phone=centre.phone)


async def list_centres(session: AsyncSession) -> list[CentreOut]:
    """Every centre in id order, with its street."""
    rows = await session.execute(select(Centre, Street).join(Street, Centre.street_id == Street.id)
                                 .order_by(Centre.id))
    return [centre_out(centre, street) for centre, street in rows]


async def add_centre(session: AsyncSession, body: CentreIn, actor: str) -> CentreOut:
    """Create a street's centre; 404 for an unknown street, 409 on a duplicate."""
    name = body.name.strip()
    if not name:
        raise invalid(t.EMPTY_NAME)
    street = await find_street(session, body.street)
    if await session.scalar(select(Centre.id).where(or_(Centre.name == name, Centre.street_id == street.id))):
        raise conflict(t.DUPLICATE_CENTRE.format(name=name))
    centre = Centre(street_id=street.id, name=name, address=body.address.strip(), phone=body.phone.strip())
    session.add(centre)
    await session.flush()
    audit.record(session, actor, "centre_added", "centre", centre.id)
    return centre_out(centre, street)


async def list_sites(session: AsyncSession) -> list[SiteOut]:
    """Every site in id order, with its street and kiosk count."""
    kiosks = (select(Kiosk.site_id, func.count().label("n")).group_by(Kiosk.site_id).subquery())
    rows = await session.execute(
        select(Site, Street, kiosks.c.n).join(Street, Site.street_id == Street.id)
        .outerjoin(kiosks, kiosks.c.site_id == Site.id).order_by(Site.id))
    return [SiteOut(id=site.id, name=site.name, street_id=street.id, street=street.name, kind=site.kind,
                    address=site.address, kiosks=count or 0) for site, street, count in rows]


async def add_site(session: AsyncSession, body: SiteIn, actor: str) -> SiteOut:
    """Create a site; 404 for an unknown street, 409 on a duplicate name."""
    name = body.name.strip()
    if not name:
        raise invalid(t.EMPTY_NAME)
    street = await find_street(session, body.street)
    if await session.scalar(select(Site.id).where(Site.name == name)):
        raise conflict(t.DUPLICATE_SITE.format(name=name))
    site = Site(street_id=street.id, name=name, kind=body.kind, address=body.address.strip(), is_demo=False)
    session.add(site)
    await session.flush()
    audit.record(session, actor, "site_added", "site", site.id)
    return SiteOut(id=site.id, name=site.name, street_id=street.id, street=street.name, kind=site.kind,
                   address=site.address, kiosks=0)
