"""Who is making a request: a signed-in staff member, a kiosk, or nobody."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from server.http.errors import ApiError
from server.protocol.addresses import KIOSK, address


@dataclass(frozen=True)
class Principal:
    """The authenticated party of a request or WebSocket."""

    role: str  # kiosk | caseworker | supervisor | admin
    token_hash: str
    user_id: int | None = None
    kiosk_id: int | None = None
    username: str = ""
    centre_id: int | None = None

    @property
    def address(self) -> str:
        """Where messages for this principal go (`kiosk:3`, `caseworker:7`): see server.protocol.addresses."""
        return address(self.role, self.kiosk_id if self.role == KIOSK else self.user_id)

    @property
    def actor(self) -> str:
        """How this principal appears in audit trails (ids only, no personal data): its address."""
        return self.address


PRINCIPAL_KEY = web.RequestKey("principal", Principal)


def current_principal(request: web.Request) -> Principal | None:
    """The principal the auth middleware found, if any."""
    return request.get(PRINCIPAL_KEY)


def require_role(request: web.Request, *roles: str) -> Principal:
    """The request's principal if it has one of `roles`; 401 when signed out, 403 otherwise."""
    principal = current_principal(request)
    if principal is None:
        raise ApiError(401, "unauthorized", "请先登录")
    if principal.role not in roles:
        raise ApiError(403, "forbidden", "当前身份无权进行此操作")
    return principal
