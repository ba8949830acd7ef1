"""Kiosks: list with online state and camera health, enrol (token shown once), rotate, disable/enable.

Rotating or disabling revokes every kiosk session made from the old token; the caller closes the
kiosk's live sockets with the address returned (the app through its socket port, the CLI over
Redis), so the old token stops working at once everywhere.
"""

from __future__ import annotations

import redis.asyncio as aioredis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.admin import audit
from server.admin import texts as t
from server.admin.enrolment import enrolment_qr, enrolment_url
from server.admin.errors import not_found
from server.admin.schemas import KioskIn, KioskOut, KioskTokenOut
from server.admin.structure import find_site
from server.auth.tokens import new_token, token_hash
from server.db.models import AuthSession, Kiosk, Site, Street
from server.district.accounts import add_kiosk
from server.protocol.addresses import kiosk_address
from server.reports.directory import KioskEntry
from server.reports.kiosks import presence_of
from server.runtime.redis_keys import RedisKeys


async def list_kiosks(session: AsyncSession, redis: aioredis.Redis, keys: RedisKeys) -> list[KioskOut]:
    """Every kiosk (enabled or not) with site, street, online state, last seen and camera health."""
    rows = (await session.execute(
        select(Kiosk, Site, Street).join(Site, Site.id == Kiosk.site_id).join(Street, Street.id == Site.street_id)
        .order_by(Kiosk.id))).all()
    entries = [KioskEntry(k.id, k.label, site.name, street.id, street.name, k.last_seen_at, k.camera_health)
               for k, site, street in rows]
    presence = await presence_of(redis, keys, entries, [])
    return [KioskOut(id=k.id, label=k.label, site_id=site.id, site=site.name, street=street.name, enabled=k.enabled,
                     online=bool(state["online"]) and k.enabled, last_seen_at=state["last_seen_at"],
                     camera_health=k.camera_health)
            for (k, site, street), state in zip(rows, presence, strict=True)]


async def _kiosk_out(session: AsyncSession, kiosk: Kiosk) -> KioskOut:
    site = await session.get(Site, kiosk.site_id)
    assert site is not None
    street = await session.get(Street, site.street_id)
    assert street is not None
    return KioskOut(id=kiosk.id, label=kiosk.label, site_id=site.id, site=site.name, street=street.name,
                    enabled=kiosk.enabled, online=False, last_seen_at=None, camera_health=kiosk.camera_health)


async def _token_out(session: AsyncSession, kiosk: Kiosk, token: str, base_url: str) -> KioskTokenOut:
    url = enrolment_url(base_url, token)
    return KioskTokenOut(kiosk=await _kiosk_out(session, kiosk), token=token, url=url, qr_svg=enrolment_qr(url))


async def enrol_kiosk(session: AsyncSession, body: KioskIn, actor: str, base_url: str) -> KioskTokenOut:
    """Create a kiosk at a site; its token is answered this once (stored only hashed)."""
    site = await find_site(session, body.site)
    kiosk, token = await add_kiosk(session, site_id=site.id, label=(body.label or "").strip() or f"{site.name}终端")
    audit.record(session, actor, "kiosk_added", "kiosk", kiosk.id, site_id=site.id)
    return await _token_out(session, kiosk, token, base_url)


async def find_kiosk(session: AsyncSession, kiosk_id: int | None) -> Kiosk:
    """A kiosk by id; 404 when none."""
    kiosk = await session.get(Kiosk, kiosk_id) if kiosk_id is not None else None
    if kiosk is None:
        raise not_found(t.UNKNOWN_KIOSK.format(id=kiosk_id if kiosk_id is not None else "（编号无效）"))
    return kiosk


async def _revoke_kiosk_sessions(session: AsyncSession, kiosk_id: int) -> None:
    await session.execute(update(AuthSession).where(AuthSession.kiosk_id == kiosk_id, AuthSession.revoked.is_(False))
                          .values(revoked=True))


async def rotate_token(session: AsyncSession, kiosk_id: int | None, actor: str, base_url: str
                       ) -> tuple[KioskTokenOut, str]:
    """Give a kiosk a new token; the old one and its sessions stop working. Returns the address to close."""
    kiosk = await find_kiosk(session, kiosk_id)
    token = new_token()
    kiosk.token_hash = token_hash(token)
    await _revoke_kiosk_sessions(session, kiosk.id)
    audit.record(session, actor, "kiosk_token_rotated", "kiosk", kiosk.id)
    await session.flush()
    return await _token_out(session, kiosk, token, base_url), kiosk_address(kiosk.id)


async def set_kiosk_enabled(session: AsyncSession, kiosk_id: int | None, enabled: bool, actor: str
                            ) -> tuple[KioskOut, str | None]:
    """Enable or disable a kiosk; disabling ends its sessions (returns the address to close)."""
    kiosk = await find_kiosk(session, kiosk_id)
    kiosk.enabled = enabled
    if not enabled:
        await _revoke_kiosk_sessions(session, kiosk.id)
    audit.record(session, actor, "kiosk_enabled" if enabled else "kiosk_disabled", "kiosk", kiosk.id)
    await session.flush()
    return await _kiosk_out(session, kiosk), None if enabled else kiosk_address(kiosk.id)
