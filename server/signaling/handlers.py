"""The handler tables: one per role, mapping each message type that role may send to its handler.

Every feature adds its own handlers with `register` (the call handlers here, capture, ratings), so
there is one dispatch path for every message. Which types a role may send at all is the protocol's
`ALLOWED_TYPES`; registering outside it is a programming error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from session_queue import QueueError

from matters_catalog.schema import Matter
from server.catalog.service import CatalogService
from server.protocol.messages import ALLOWED_TYPES
from server.protocol.outbound import ServerMessage
from server.signaling.connection import Connection

# A handler gets the connection and the validated message; it returns an extra reply or None.
Handler = Callable[[Connection, Any], Awaitable[ServerMessage | None]]



# What a refused queue operation means to the caseworker or resident (docs/protocol.md, errors).
QUEUE_ERROR_TEXTS = {
    "unknown_ticket": "找不到这张排队号，可能已经结束",
    "unknown_caseworker": "找不到这位受理员的在岗状态，请刷新页面",
    "wrong_state": "当前状态下不能这样操作，请刷新页面",
    "stale_fence": "这个来电已经被处理或已过期",
    "not_holder": "这个通话不由你受理",
    "duplicate_ticket": "这台终端已经在排队了",
    "invalid_argument": "请求的内容无效",
    "needs_rebuild": "服务正在恢复，请稍后重试",
}

class SignalingError(Exception):
    """A refused client message: `code` and a Chinese message go back to the client."""

    def __init__(self, code: str, message: str, details: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # Fields the error carries beside code and message (docs/protocol.md lists them per code).
        self.details = dict(details or {})


async def known_matter(catalog: CatalogService, matter_id: str) -> Matter:
    """The catalog's matter of a client message, or SignalingError `unknown_matter`."""
    matter = (await catalog.current()).by_id(matter_id)
    if matter is None:
        raise SignalingError("unknown_matter", "没有这个事项")
    return matter


class HandlerTables:
    """Role -> message type -> handler."""

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, Handler]] = {role: {} for role in ALLOWED_TYPES}

    def register(self, roles: Iterable[str], message_type: str, handler: Handler) -> None:
        """Handle `message_type` from these roles with `handler` (once per role and type)."""
        for role in roles:
            if message_type not in ALLOWED_TYPES[role]:
                raise ValueError(f"{role} may not send {message_type}")
            if message_type in self._tables[role]:
                raise ValueError(f"{message_type} from {role} already has a handler")
            self._tables[role][message_type] = handler

    def types(self, role: str) -> frozenset[str]:
        """The message types a role's table handles."""
        return frozenset(self._tables.get(role, {}))

    async def dispatch(self, connection: Connection, message: Any) -> ServerMessage | None:
        """Carry out one validated message; return an extra reply, or None. Raises SignalingError."""
        handler = self._tables.get(connection.principal.role, {}).get(message.type)
        if handler is None:
            raise SignalingError("unavailable", "这项功能尚未开通")
        try:
            return await handler(connection, message)
        except QueueError as exc:
            # The queue's own messages are for developers (ids, states in English): the client
            # gets the stable code and a sentence for the person at the screen.
            raise SignalingError(exc.code, QUEUE_ERROR_TEXTS.get(exc.code, "操作未能完成，请重试")) from None
