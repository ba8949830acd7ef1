"""Creating and updating staff accounts and kiosks (CLI, demo seeding, admin)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.passwords import hash_password, verify_password
from server.auth.tokens import new_token, token_hash
from server.db.models import Kiosk, Site, User, UserSkill

ROLES = ("caseworker", "supervisor", "admin")


class AccountError(ValueError):
    """Bad input for an account or kiosk operation."""


async def username_taken(session: AsyncSession, username: str) -> str | None:
    """The existing account's username that `username` would duplicate, or None. Usernames are
    unique whatever their case: "Zhang" beside "zhang" would be two accounts no one can tell
    apart on a list or a phone call."""
    return await session.scalar(select(User.username).where(func.lower(User.username) == username.lower()))


async def upsert_user(
    session: AsyncSession,
    *,
    username: str,
    password: str | None,
    role: str,
    display_name: str | None = None,
    centre_id: int | None = None,
    skills: Iterable[str] = (),
    is_demo: bool = False,
    password_hash: str | None = None,
) -> User:
    """Create a user, or bring an existing one to the given state.

    `password=None` keeps an existing user's password; otherwise it is re-hashed only if it differs.
    A ready `password_hash` is stored as given (demo accounts share one, hashed once).
    """
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role == "caseworker" and centre_id is None:
        raise AccountError("a caseworker belongs to a centre")
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        taken = await username_taken(session, username)
        if taken is not None:
            raise AccountError(f"username {username!r} is taken by {taken!r} (usernames ignore case)")
        if password is None and password_hash is None:
            raise AccountError("a new user needs a password")
        user = User(username=username, password_hash=password_hash or hash_password(password or ""), role=role,
                    display_name=display_name or username, is_demo=is_demo, enabled=True)
        session.add(user)
    elif password_hash is not None:
        user.password_hash = password_hash
    elif password is not None and not verify_password(user.password_hash, password):
        user.password_hash = hash_password(password)
    user.role = role
    user.display_name = display_name or user.display_name or username
    user.centre_id = centre_id
    wanted = sorted(set(skills))
    if [s.skill for s in user.skills] != wanted:
        user.skills = [UserSkill(skill=skill) for skill in wanted]
    await session.flush()
    return user


async def add_kiosk(session: AsyncSession, *, site_id: int, label: str, token: str | None = None) -> tuple[Kiosk, str]:
    """Create a kiosk at a site; return it with its device token (shown once, stored hashed)."""
    site = await session.get(Site, site_id)
    if site is None:
        raise AccountError(f"no site with id {site_id}")
    token = token or new_token()
    kiosk = Kiosk(site_id=site_id, label=label, token_hash=token_hash(token), enabled=True)
    session.add(kiosk)
    await session.flush()
    return kiosk, token


async def set_kiosk_token(session: AsyncSession, kiosk: Kiosk, token: str) -> None:
    """Replace a kiosk's device token."""
    kiosk.token_hash = token_hash(token)
    await session.flush()
