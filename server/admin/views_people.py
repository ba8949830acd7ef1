"""HTTP handlers for kiosks and staff accounts."""

from __future__ import annotations

import contextlib

from aiohttp import web
from redis.exceptions import RedisError
from session_queue import QueueError

from server.admin import kiosks, staff
from server.admin.http import ADMIN_ERRORS, admin_transaction, base_url, json_out
from server.admin.schemas import (
    KioskIn,
    KioskOut,
    KiosksOut,
    KioskTokenOut,
    PasswordResetOut,
    UserCreatedOut,
    UserIn,
    UserOut,
    UserPatch,
    UsersOut,
)
from server.admin.staff import UserFilter
from server.http import app_keys
from server.http.errors import ApiError
from server.http.request_body import read_model
from server.http.routing import Param, Route
from server.protocol.addresses import id_of, role_of
from server.queueing.service import QUEUE
from server.runtime.ids import parse_id

ADMIN = ("admin",)


async def _close(request: web.Request, address: str | None) -> None:
    # After the commit: the sessions are revoked, now end the live sockets in every process.
    if address is not None:
        await request.app[app_keys.CLOSE_SOCKETS](address, None)


async def _sign_out_of_queue(request: web.Request, address: str | None) -> None:
    """A disabled caseworker leaves the queue at once (a held offer or call goes back to the front
    of its line), rather than after the departure grace a dropped socket gets: the board must not
    show as 空闲 someone who can no longer take a call. Redis down: the grace does it later."""
    if address is None or role_of(address) != "caseworker":
        return
    service = request.app[QUEUE]
    caseworker_id = id_of(address)
    with contextlib.suppress(QueueError, RedisError):
        if await service.queue.caseworker(caseworker_id) is not None:
            await service.set_offline(caseworker_id)


def _kiosk_id(request: web.Request) -> int | None:
    return parse_id(request.match_info["kiosk_id"])


async def admin_list_kiosks(request: web.Request) -> web.Response:
    """Every kiosk with site, online state, last seen and camera health."""
    async with admin_transaction(request) as (session, _):
        return json_out(KiosksOut(kiosks=await kiosks.list_kiosks(session, request.app[app_keys.REDIS],
                                                                  request.app[app_keys.REDIS_KEYS])))


async def admin_add_kiosk(request: web.Request) -> web.Response:
    """Enrol a kiosk at a site; the answer holds its token, this once."""
    async with admin_transaction(request) as (session, actor):
        out = await kiosks.enrol_kiosk(session, await read_model(request, KioskIn), actor, base_url(request))
    return json_out(out, 201)


async def admin_rotate_kiosk_token(request: web.Request) -> web.Response:
    """Give a kiosk a new token; the old one and every session made from it stop working at once."""
    async with admin_transaction(request) as (session, actor):
        out, address = await kiosks.rotate_token(session, _kiosk_id(request), actor, base_url(request))
    await _close(request, address)
    return json_out(out)


async def admin_disable_kiosk(request: web.Request) -> web.Response:
    """Disable a kiosk and end its sessions."""
    async with admin_transaction(request) as (session, actor):
        out, address = await kiosks.set_kiosk_enabled(session, _kiosk_id(request), False, actor)
    await _close(request, address)
    return json_out(out)


async def admin_enable_kiosk(request: web.Request) -> web.Response:
    """Enable a disabled kiosk (its current token works again)."""
    async with admin_transaction(request) as (session, actor):
        out, _ = await kiosks.set_kiosk_enabled(session, _kiosk_id(request), True, actor)
    return json_out(out)


def _user_filter(request: web.Request) -> UserFilter:
    # A filter that cannot be read is refused rather than ignored (which would list everyone).
    enabled = request.query.get("enabled", "")
    if enabled not in ("", "true", "false"):
        raise ApiError(400, "bad_enabled", "enabled 只能是 true 或 false")
    raw_centre = request.query.get("centre_id", "")
    centre_id = parse_id(raw_centre) if raw_centre else None
    if raw_centre and centre_id is None:
        raise ApiError(400, "bad_centre_id", "centre_id 必须是整数编号")
    return UserFilter(role=request.query.get("role") or None, centre_id=centre_id,
                      q=request.query.get("q", "")[:64] or None,
                      enabled=None if enabled == "" else enabled == "true")


async def admin_list_users(request: web.Request) -> web.Response:
    """Staff accounts, filtered by role, centre, text and enabled state."""
    async with admin_transaction(request) as (session, _):
        return json_out(UsersOut(users=await staff.list_users(session, _user_filter(request))))


async def admin_add_user(request: web.Request) -> web.Response:
    """Create a staff account (a one-time password is answered when none is given)."""
    async with admin_transaction(request) as (session, actor):
        return json_out(await staff.create_user(session, await read_model(request, UserIn), actor), 201)


async def admin_update_user(request: web.Request) -> web.Response:
    """Change an account's centre, skills or enabled state; disabling ends its sessions and sockets."""
    async with admin_transaction(request) as (session, actor):
        out, address = await staff.update_user(session, request.match_info["username"],
                                               await read_model(request, UserPatch), actor)
    await _close(request, address)
    await _sign_out_of_queue(request, address)
    return json_out(out)


async def admin_reset_password(request: web.Request) -> web.Response:
    """A one-time password (shown once) that must be changed at the next sign-in; ends live sessions."""
    async with admin_transaction(request) as (session, actor):
        out, address = await staff.reset_password(session, request.match_info["username"], actor)
    await _close(request, address)
    return json_out(out)


_KIOSK = Param("kiosk_id", location="path", description="the kiosk's id", schema={"type": "integer"})
_USER = Param("username", location="path", description="the account's username")

ROUTES: list[Route] = [
    Route("GET", "/api/v1/admin/kiosks", admin_list_kiosks, "Kiosks with online state and camera health", "admin",
          roles=ADMIN, response=KiosksOut, errors=ADMIN_ERRORS),
    Route("POST", "/api/v1/admin/kiosks", admin_add_kiosk, "Enrol a kiosk; answers its token once (and as QR)",
          "admin", roles=ADMIN, body=KioskIn, response=KioskTokenOut, success_status=201, errors=ADMIN_ERRORS),
    Route("POST", "/api/v1/admin/kiosks/{kiosk_id}/rotate-token", admin_rotate_kiosk_token,
          "Rotate a kiosk's token; old token and sessions stop at once", "admin", roles=ADMIN, params=(_KIOSK,),
          response=KioskTokenOut, errors=ADMIN_ERRORS),
    Route("POST", "/api/v1/admin/kiosks/{kiosk_id}/disable", admin_disable_kiosk, "Disable a kiosk", "admin",
          roles=ADMIN, params=(_KIOSK,), response=KioskOut, errors=ADMIN_ERRORS),
    Route("POST", "/api/v1/admin/kiosks/{kiosk_id}/enable", admin_enable_kiosk, "Enable a kiosk", "admin",
          roles=ADMIN, params=(_KIOSK,), response=KioskOut, errors=ADMIN_ERRORS),
    Route("GET", "/api/v1/admin/users", admin_list_users, "Staff accounts", "admin", roles=ADMIN,
          params=(Param("role", schema={"type": "string", "enum": ["caseworker", "supervisor", "admin"]}),
                  Param("centre_id", schema={"type": "integer"}), Param("q", description="username or name"),
                  Param("enabled", schema={"type": "boolean"})),
          response=UsersOut, errors=ADMIN_ERRORS),
    Route("POST", "/api/v1/admin/users", admin_add_user, "Create a staff account", "admin", roles=ADMIN,
          body=UserIn, response=UserCreatedOut, success_status=201, errors=ADMIN_ERRORS),
    Route("PATCH", "/api/v1/admin/users/{username}", admin_update_user,
          "Change an account's centre, skills or enabled state", "admin", roles=ADMIN, params=(_USER,),
          body=UserPatch, response=UserOut, errors=ADMIN_ERRORS),
    Route("POST", "/api/v1/admin/users/{username}/reset-password", admin_reset_password,
          "Reset a password to a one-time one", "admin", roles=ADMIN, params=(_USER,),
          response=PasswordResetOut, errors=ADMIN_ERRORS),
]
