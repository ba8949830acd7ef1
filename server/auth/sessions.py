"""Sign-in sessions for staff and kiosks, stored hashed in the database.

A session has an idle timeout (refreshed on use) and an absolute lifetime; kiosks, whose
screens stand unattended, get shorter ones. Revoking (logout, disabled account) is immediate.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import Principal
from server.auth.tokens import new_token, token_hash
from server.db.models import AuthSession, Kiosk, User
from server.db.types import utcnow

STAFF_IDLE = timedelta(hours=2)
STAFF_ABSOLUTE = timedelta(hours=12)
KIOSK_IDLE = timedelta(hours=1)
KIOSK_ABSOLUTE = timedelta(hours=24)
# Live sessions per kiosk: its screen and a reload overlapping it. Each token exchange ends older
# ones, so a copied device token does not leave standing sessions behind (docs/security.md).
MAX_LIVE_KIOSK_SESSIONS = 2
# Refresh last_seen at most this often, so busy pages don't write on every request.
TOUCH_EVERY = timedelta(minutes=1)


async def start_session(session: AsyncSession, *, role: str, user_id: int | None = None,
                        kiosk_id: int | None = None) -> str:
    """Create a sign-in session and return its token (kept by the client, stored hashed)."""
    token = new_token()
    now = utcnow()
    absolute = KIOSK_ABSOLUTE if role == "kiosk" else STAFF_ABSOLUTE
    session.add(AuthSession(token_hash=token_hash(token), role=role, user_id=user_id, kiosk_id=kiosk_id,
                            created_at=now, last_seen_at=now, expires_at=now + absolute))
    await session.flush()
    return token


async def resolve_session(session: AsyncSession, token: str) -> Principal | None:
    """The principal of a live session token, or None (unknown, revoked, idle or expired, disabled)."""
    return await resolve_session_hash(session, token_hash(token))


async def resolve_session_hash(session: AsyncSession, hashed: str) -> Principal | None:
    """As `resolve_session`, from the stored hash (used to re-check live WebSockets)."""
    row = await session.get(AuthSession, hashed)
    now = utcnow()
    if row is None or row.revoked or row.expires_at <= now:
        return None
    idle = KIOSK_IDLE if row.role == "kiosk" else STAFF_IDLE
    if row.last_seen_at + idle <= now:
        return None
    principal: Principal | None = None
    if row.role == "kiosk" and row.kiosk_id is not None:
        kiosk = await session.get(Kiosk, row.kiosk_id)
        if kiosk is not None and kiosk.enabled:
            principal = Principal(role="kiosk", token_hash=hashed, kiosk_id=kiosk.id)
    elif row.user_id is not None:
        user = await session.get(User, row.user_id)
        if user is not None and user.enabled and user.role == row.role:
            principal = Principal(role=user.role, token_hash=hashed, user_id=user.id, username=user.username,
                                  centre_id=user.centre_id)
    if principal is not None and now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return principal


async def resolve_session_hashes(session: AsyncSession, hashes: Collection[str]) -> dict[str, Principal]:
    """`resolve_session_hash` for many hashes in three queries: the live ones and their principals.

    The rows are loaded first, so that `resolve_session_hash` (the one rule of what a live session
    is) finds them in the session's identity map without a query each."""
    rows = (await session.scalars(select(AuthSession).where(AuthSession.token_hash.in_(hashes)))).all()
    user_ids = {r.user_id for r in rows if r.user_id is not None}
    kiosk_ids = {r.kiosk_id for r in rows if r.kiosk_id is not None}
    if user_ids:
        (await session.scalars(select(User).where(User.id.in_(user_ids)))).all()
    if kiosk_ids:
        (await session.scalars(select(Kiosk).where(Kiosk.id.in_(kiosk_ids)))).all()
    resolved = {}
    for row in rows:
        principal = await resolve_session_hash(session, row.token_hash)
        if principal is not None:
            resolved[row.token_hash] = principal
    return resolved


async def live_kiosk_session_hashes(session: AsyncSession, limit: int) -> list[str]:
    """Token hashes of kiosk sessions that may still be live (not revoked, expired or idle), newest
    first; `resolve_session_hashes` applies the whole rule to them."""
    now = utcnow()
    rows = await session.scalars(
        select(AuthSession.token_hash)
        .where(AuthSession.kiosk_id.is_not(None), AuthSession.revoked.is_(False), AuthSession.expires_at > now,
               AuthSession.last_seen_at > now - KIOSK_IDLE)
        .order_by(AuthSession.last_seen_at.desc()).limit(limit)
    )
    return list(rows)


async def revoke_session(session: AsyncSession, hashed_token: str) -> None:
    """End one sign-in session."""
    await session.execute(update(AuthSession).where(AuthSession.token_hash == hashed_token).values(revoked=True))


async def revoke_user_sessions(session: AsyncSession, user_id: int) -> list[str]:
    """End every session of a user (account disabled); returns the revoked token hashes."""
    rows = await session.scalars(
        select(AuthSession.token_hash).where(AuthSession.user_id == user_id, AuthSession.revoked.is_(False))
    )
    return await _revoke(session, list(rows))


async def _revoke(session: AsyncSession, hashes: list[str]) -> list[str]:
    if hashes:
        await session.execute(update(AuthSession).where(AuthSession.token_hash.in_(hashes)).values(revoked=True))
    return hashes


async def revoke_older_kiosk_sessions(session: AsyncSession, kiosk_id: int,
                                      keep: int = MAX_LIVE_KIOSK_SESSIONS) -> list[str]:
    """End a kiosk's live sessions beyond the newest `keep`; returns the revoked token hashes."""
    rows = await session.scalars(
        select(AuthSession.token_hash).where(AuthSession.kiosk_id == kiosk_id, AuthSession.revoked.is_(False))
        .order_by(AuthSession.created_at.desc(), AuthSession.token_hash).offset(keep)
    )
    return await _revoke(session, list(rows))


async def revoke_principal_sessions(session: AsyncSession, principal: Principal) -> list[str]:
    """End every session of the principal's account or kiosk ("sign out everywhere")."""
    if principal.kiosk_id is not None:
        return await revoke_older_kiosk_sessions(session, principal.kiosk_id, keep=0)
    assert principal.user_id is not None
    return await revoke_user_sessions(session, principal.user_id)
