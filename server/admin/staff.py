"""Staff accounts: list and filter, create, change centre and skills, disable/enable, reset passwords.

Disabling revokes every sign-in session of the account; the caller closes its live sockets with
the address returned (as `jinglin user disable` always has). The last enabled administrator can
be neither disabled nor created away, so a district never locks itself out.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from matters_catalog.loader import load_skills
from server.admin import audit
from server.admin import texts as t
from server.admin.errors import AdminError, conflict, invalid, not_found
from server.admin.limits import ONE_TIME_PASSWORD_CHARS
from server.admin.schemas import PasswordResetOut, UserCreatedOut, UserIn, UserOut, UserPatch
from server.admin.structure import find_centre
from server.auth.passwords import MIN_PASSWORD_LENGTH, hash_password
from server.auth.sessions import revoke_user_sessions
from server.db.models import Centre, User, UserSkill
from server.district.accounts import AccountError, upsert_user, username_taken
from server.protocol.addresses import address


@dataclass(frozen=True)
class UserFilter:
    """Which accounts to list; None means any."""

    role: str | None = None
    centre_id: int | None = None
    q: str | None = None
    enabled: bool | None = None


async def _out(session: AsyncSession, user: User) -> UserOut:
    centre = await session.get(Centre, user.centre_id) if user.centre_id is not None else None
    return UserOut(id=user.id, username=user.username, display_name=user.display_name, role=user.role,
                   centre_id=user.centre_id, centre=centre.name if centre else None,
                   skills=[s.skill for s in user.skills], enabled=user.enabled,
                   must_change_password=user.must_change_password)


async def list_users(session: AsyncSession, where: UserFilter) -> list[UserOut]:
    """Accounts matching the filter, by username."""
    query = select(User).order_by(User.username)
    if where.role:
        query = query.where(User.role == where.role)
    if where.centre_id is not None:
        query = query.where(User.centre_id == where.centre_id)
    if where.enabled is not None:
        query = query.where(User.enabled.is_(where.enabled))
    if where.q:
        pattern = f"%{where.q}%"
        query = query.where(or_(User.username.ilike(pattern), User.display_name.ilike(pattern)))
    return [await _out(session, user) for user in await session.scalars(query)]


async def find_user(session: AsyncSession, username: str) -> User:
    """An account by username; 404 when none."""
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        raise not_found(t.UNKNOWN_USER.format(name=username))
    return user


def check_skills(skills: list[str]) -> list[str]:
    """The skills, sorted and de-duplicated; 422 naming the first unknown one."""
    known = {skill.id for skill in load_skills()}
    for skill in skills:
        if skill not in known:
            raise invalid(t.UNKNOWN_SKILL.format(skill=skill))
    return sorted(set(skills))


def one_time_password() -> str:
    """A random password for a new or reset account, to be changed at the next sign-in."""
    return secrets.token_urlsafe(ONE_TIME_PASSWORD_CHARS)[:ONE_TIME_PASSWORD_CHARS]


def check_password(password: str) -> None:
    """422 for a password shorter than the minimum."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise invalid(t.SHORT_PASSWORD.format(length=MIN_PASSWORD_LENGTH))


async def create_user(session: AsyncSession, body: UserIn, actor: str) -> UserCreatedOut:
    """Create an account; without a password a one-time one is made and answered once."""
    taken = await username_taken(session, body.username)
    if taken is not None:
        raise conflict(t.DUPLICATE_USER.format(name=taken))
    centre_id = (await find_centre(session, body.centre)).id if body.centre else None
    if body.role == "caseworker" and centre_id is None:
        raise invalid(t.CASEWORKER_NEEDS_CENTRE)
    skills = check_skills(body.skills)
    one_time = None
    if body.password is None:
        one_time = one_time_password()
    else:
        check_password(body.password)
    try:
        user = await upsert_user(session, username=body.username, password=body.password or one_time,
                                 role=body.role, display_name=body.display_name, centre_id=centre_id, skills=skills)
    except AccountError as exc:
        raise invalid(str(exc)) from None
    user.must_change_password = one_time is not None
    await session.refresh(user, ["skills"])  # loaded now: the async session cannot lazy-load later
    audit.record(session, actor, "user_added", "user", user.id, role=user.role, centre_id=centre_id, skills=skills)
    await session.flush()
    return UserCreatedOut(user=await _out(session, user), password=one_time)


async def _other_enabled_admins(session: AsyncSession, user: User) -> int:
    count = await session.scalar(select(func.count()).select_from(User).where(
        User.role == "admin", User.enabled.is_(True), User.id != user.id))
    return int(count or 0)


async def set_enabled(session: AsyncSession, user: User, enabled: bool, actor: str) -> str | None:
    """Enable or disable an account; disabling revokes its sessions and returns the address to close."""
    if not enabled and user.role == "admin" and user.enabled and not await _other_enabled_admins(session, user):
        raise conflict(t.LAST_ADMIN)
    user.enabled = enabled
    audit.record(session, actor, "user_enabled" if enabled else "user_disabled", "user", user.id)
    if enabled:
        return None
    await revoke_user_sessions(session, user.id)
    return address(user.role, user.id)


async def update_user(session: AsyncSession, username: str, patch: UserPatch, actor: str
                      ) -> tuple[UserOut, str | None]:
    """Apply a patch (centre, skills, disabled, display name); returns the address to close if disabled."""
    user = await find_user(session, username)
    fields = patch.model_fields_set
    changes: dict[str, object] = {}
    if "centre" in fields:
        centre_id = (await find_centre(session, patch.centre)).id if patch.centre else None
        if user.role == "caseworker" and centre_id is None:
            raise invalid(t.CASEWORKER_NEEDS_CENTRE)
        user.centre_id = changes["centre_id"] = centre_id
    if patch.skills is not None:
        skills = check_skills(patch.skills)
        user.skills = [UserSkill(skill=skill) for skill in skills]
        changes["skills"] = skills
    if patch.display_name is not None:
        user.display_name = patch.display_name.strip() or user.display_name
    if changes or patch.display_name is not None:
        audit.record(session, actor, "user_changed", "user", user.id, **changes)
    closing = None
    if patch.disabled is not None and patch.disabled == user.enabled:
        closing = await set_enabled(session, user, not patch.disabled, actor)
    await session.flush()
    return await _out(session, user), closing


async def reset_password(session: AsyncSession, username: str, actor: str) -> tuple[PasswordResetOut, str]:
    """Give an account a one-time password (changed at next sign-in) and end its sessions."""
    user = await find_user(session, username)
    password = one_time_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    await revoke_user_sessions(session, user.id)
    audit.record(session, actor, "password_reset", "user", user.id)
    return PasswordResetOut(username=user.username, password=password), address(user.role, user.id)


async def create_first_admin(session: AsyncSession, username: str, password: str, display_name: str | None,
                             actor: str) -> UserOut:
    """The first administrator of an empty installation; refused once any admin exists."""
    if await session.scalar(select(func.count()).select_from(User).where(User.role == "admin")):
        raise AdminError(409, "admin_exists", t.ADMIN_EXISTS)
    out = await create_user(session, UserIn(username=username, role="admin", display_name=display_name,
                                            password=password), actor)
    return out.user
