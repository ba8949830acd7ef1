"""Sign-in for staff (username + password) and kiosks (device token → kiosk session)."""

from __future__ import annotations

import asyncio
import hmac
import logging

from aiohttp import web
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.middleware import SESSION_COOKIE
from server.auth.passwords import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    unknown_user_hash,
    verify_password_async,
)
from server.auth.principal import current_principal, require_role
from server.auth.sessions import (
    KIOSK_ABSOLUTE,
    STAFF_ABSOLUTE,
    revoke_older_kiosk_sessions,
    revoke_principal_sessions,
    revoke_session,
    revoke_user_sessions,
    start_session,
)
from server.auth.throttle import Attempt, LoginThrottle, Throttled
from server.auth.tokens import token_hash
from server.db.models import AuditLog, Kiosk, Site, User
from server.http import app_keys
from server.http.api_models import KioskOut, SessionUserOut
from server.http.errors import ApiError
from server.http.request_body import read_model
from server.protocol.addresses import address, kiosk_address

log = logging.getLogger(__name__)


class LoginIn(BaseModel):
    """Staff sign-in."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class PasswordChangeIn(BaseModel):
    """A staff member choosing a new password (also after an administrator's reset)."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=256)


class KioskSessionIn(BaseModel):
    """A kiosk's device token, exchanged for a session cookie."""

    token: str = Field(min_length=16, max_length=128)


async def _reserve(request: web.Request, kind: str, account: str | None = None) -> Attempt:
    """Reserve a sign-in attempt before any check, or answer 429 with Retry-After."""
    try:
        throttle = LoginThrottle(request.app[app_keys.REDIS], request.app[app_keys.REDIS_KEYS])
        return await throttle.reserve(kind, request.remote or "", account)
    except Throttled as exc:
        log.warning("sign-in throttled", extra={"kind": kind})
        error = ApiError(429, "too_many_attempts", f"尝试次数过多，请 {exc.retry_after_s} 秒后再试")
        error.headers["Retry-After"] = str(exc.retry_after_s)
        raise error from None


def _set_cookie(request: web.Request, response: web.Response, token: str, max_age: int) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="Strict",
                        secure=request.secure, path="/")


async def _checked_user(session: AsyncSession, attempt: Attempt, username: str, password: str) -> User:
    """The enabled account these credentials open; 401 (counted by the reserved attempt) otherwise."""
    user = await session.scalar(select(User).where(User.username == username))
    # The unknown-user hash is made once, off the event loop (Argon2 takes ~0.1 s).
    stored = user.password_hash if user else await asyncio.to_thread(unknown_user_hash)
    ok = await verify_password_async(stored, password)
    if user is None or not ok or not user.enabled:
        await attempt.failed()
        session.add(AuditLog(actor="anonymous", action="login_failed", object_type="user",
                             object_id=str(user.id) if user else ""))
        # Never the typed name: a mistyped field can hold a password or an ID number.
        log.info("sign-in refused", extra={"user_id": user.id if user else None,
                                           "reason": "disabled" if user and ok else "bad_credentials"})
        raise ApiError(401, "bad_credentials", "用户名或密码不正确")
    await attempt.succeeded()
    return user


async def login(request: web.Request) -> web.Response:
    """Sign a staff member in; sets an HttpOnly session cookie."""
    body = await read_model(request, LoginIn)
    attempt = await _reserve(request, "staff", body.username)
    async with request.app[app_keys.DB_SESSIONS]() as session, session.begin():
        user = await _checked_user(session, attempt, body.username, body.password)
        if user.must_change_password:
            # A one-time password from an administrator opens only the change-password form.
            raise ApiError(403, "password_change_required", "请先修改密码：管理员重置的一次性密码只能用来设置新密码")
        if needs_rehash(user.password_hash):
            user.password_hash = await asyncio.to_thread(hash_password, body.password)
        token = await start_session(session, role=user.role, user_id=user.id)
        session.add(AuditLog(actor=f"{user.role}:{user.id}", action="login", object_type="user",
                             object_id=str(user.id)))
        out = SessionUserOut.model_validate({
            "id": user.id, "username": user.username, "role": user.role, "display_name": user.display_name,
            "centre_id": user.centre_id, "skills": [s.skill for s in user.skills],
        })
    response = web.json_response({"user": out.model_dump()})
    _set_cookie(request, response, token, int(STAFF_ABSOLUTE.total_seconds()))
    return response


async def change_password(request: web.Request) -> web.Response:
    """Set a new password with the current (or one-time) one; throttled like sign-in. Does not sign in."""
    body = await read_model(request, PasswordChangeIn)
    if body.new_password == body.password:
        raise ApiError(422, "same_password", "新密码不能与原密码相同")
    attempt = await _reserve(request, "staff", body.username)
    async with request.app[app_keys.DB_SESSIONS]() as session, session.begin():
        user = await _checked_user(session, attempt, body.username, body.password)
        user.password_hash = await asyncio.to_thread(hash_password, body.new_password)
        user.must_change_password = False
        # Every sign-in made with the old password ends: a cookie taken with it is worth nothing
        # once its owner has chosen a new one.
        await revoke_user_sessions(session, user.id)
        account = address(user.role, user.id)
        session.add(AuditLog(actor=account, action="password_changed", object_type="user", object_id=str(user.id)))
    await request.app[app_keys.CLOSE_SOCKETS](account, None)
    return web.json_response({"ok": True})


async def logout(request: web.Request) -> web.Response:
    """End the current sign-in session, or with `?everywhere=true` every session of the account or kiosk."""
    principal = current_principal(request)
    everywhere = request.query.get("everywhere", "").lower() in ("1", "true")
    if principal is not None:
        async with request.app[app_keys.DB_SESSIONS]() as session, session.begin():
            if everywhere:
                await revoke_principal_sessions(session, principal)
            else:
                await revoke_session(session, principal.token_hash)
            session.add(AuditLog(actor=principal.actor, action="logout_everywhere" if everywhere else "logout"))
        # Live WebSockets of this sign-in (or of all of them) end at once, in whichever process holds them.
        await request.app[app_keys.CLOSE_SOCKETS](principal.address, None if everywhere else principal.token_hash)
    response = web.json_response({"ok": True})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def me(request: web.Request) -> web.Response:
    """Who is signed in."""
    principal = require_role(request, "kiosk", "caseworker", "supervisor", "admin")
    return web.json_response({"role": principal.role, "user_id": principal.user_id,
                              "kiosk_id": principal.kiosk_id, "username": principal.username})


async def kiosk_session(request: web.Request) -> web.Response:
    """Exchange a kiosk's device token for a kiosk session cookie (the token leaves the page URL)."""
    body = await read_model(request, KioskSessionIn)
    # Counted per address only: the "account" here is every kiosk token at once.
    attempt = await _reserve(request, "kiosk")
    hashed = token_hash(body.token)
    async with request.app[app_keys.DB_SESSIONS]() as session, session.begin():
        kiosk = await session.scalar(select(Kiosk).where(Kiosk.token_hash == hashed))
        if kiosk is None or not hmac.compare_digest(kiosk.token_hash, hashed) or not kiosk.enabled:
            await attempt.failed()
            log.info("kiosk token refused", extra={"kiosk_id": kiosk.id if kiosk else None})
            raise ApiError(401, "bad_token", "终端凭证无效，请联系管理员")
        site = await session.get(Site, kiosk.site_id)
        assert site is not None
        await attempt.succeeded()
        token = await start_session(session, role="kiosk", kiosk_id=kiosk.id)
        ended = await revoke_older_kiosk_sessions(session, kiosk.id)
        session.add(AuditLog(actor=f"kiosk:{kiosk.id}", action="kiosk_login", object_type="kiosk",
                             object_id=str(kiosk.id)))
        out = KioskOut(id=kiosk.id, site=site.name, street_id=site.street_id, label=kiosk.label)
    for hashed_token in ended:
        await request.app[app_keys.CLOSE_SOCKETS](kiosk_address(out.id), hashed_token)
    response = web.json_response({"kiosk": out.model_dump()})
    _set_cookie(request, response, token, int(KIOSK_ABSOLUTE.total_seconds()))
    return response
