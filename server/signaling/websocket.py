"""`GET /api/v1/ws`: the WebSocket of kiosks, caseworkers and supervisors (docs/protocol.md)."""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any

from aiohttp import WSMsgType, web
from pydantic import BaseModel, ValidationError
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from server.auth.middleware import allowed_origin
from server.auth.principal import require_role
from server.http.errors import ApiError
from server.http.json_input import MalformedJson, loads_untrusted
from server.protocol import messages as m
from server.protocol import outbound as out
from server.signaling.connection import CLOSE_FLOOD, CLOSE_SETUP, HEARTBEAT_S, Connection
from server.signaling.context import SIGNALING
from server.signaling.handlers import SignalingError
from server.signaling.service import SignalingService

log = logging.getLogger(__name__)

HELLO_TIMEOUT_S = 10.0
# RFC 6455 "Try Again Later": the client reconnects with backoff.
CLOSE_TRY_AGAIN = 1013
# The most frequent messages, validated by their own model: the same result as the discriminated
# union (which is consulted for the wording of any refusal), several times cheaper.
_FAST_MODELS: dict[str, type[BaseModel]] = {"signal": m.Signal, "ping": m.Ping, "capture_signal": m.CaptureSignal}


def _parse(raw: str, allowed: frozenset[str] | None = None) -> tuple[Any, tuple[str, str] | None, Any]:
    """(message, error, ref): a validated message, or the error to send back.

    The role check (`allowed`) comes before field validation, so a role learns nothing about
    the fields of messages it may not send.
    """
    # A character is at most 4 bytes of UTF-8: only long frames need encoding to be measured.
    if len(raw) > m.MAX_MESSAGE_BYTES // 4 and len(raw.encode()) > m.MAX_MESSAGE_BYTES:
        return None, ("too_large", f"消息不能超过 {m.MAX_MESSAGE_BYTES} 字节"), None
    try:
        data = loads_untrusted(raw)
    except MalformedJson:
        return None, ("malformed", "消息不是有效的 JSON"), None
    if not isinstance(data, dict):
        return None, ("malformed", "消息必须是带 type 的 JSON 对象"), None
    # A request id is echoed as `ref` on every answer to a frame that was read as an object.
    ref = data.get("id") if isinstance(data.get("id"), int | str) and not isinstance(data.get("id"), bool) else None
    if isinstance(ref, str) and _has_lone_surrogate(ref):
        ref = None  # it could not be sent back as UTF-8 text: no id, as for any other unusable one
    if not isinstance(data.get("type"), str):
        return None, ("malformed", "消息必须是带 type 的 JSON 对象"), ref
    # A "\\ud800" escape parses to a lone surrogate, which cannot be sent on as UTF-8 text: refuse
    # it here rather than fail while relaying. Only frames with an escape need the check.
    if "\\u" in raw and _has_lone_surrogate(data):
        return None, ("malformed", "消息含有无效的字符"), ref
    if allowed is not None and data["type"] in m.ALL_TYPES and data["type"] not in allowed:
        return None, ("forbidden", "当前身份不能发送这种消息"), ref
    fast = _FAST_MODELS.get(data["type"])
    if fast is not None:
        try:
            return fast.model_validate(data), None, ref
        except ValidationError:
            pass  # refused below, with the union's wording
    try:
        return m.CLIENT_MESSAGE.validate_python(data), None, ref
    except ValidationError as exc:
        if any(e["type"] == "union_tag_invalid" for e in exc.errors()):
            return None, ("malformed", f"未知的消息类型 {str(data['type'])[:40]}"), ref
        fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) or "message" for e in exc.errors())
        return None, ("invalid", f"字段无效: {fields}"), ref


_HELLO_ONLY = frozenset({"hello"})


def _type_of(raw: str) -> str | None:
    """The `type` of a frame that is a JSON object with a string type, else None."""
    try:
        data = loads_untrusted(raw)
    except MalformedJson:
        return None
    kind = data.get("type") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else None


def _has_lone_surrogate(data: object) -> bool:
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


async def websocket(request: web.Request) -> web.StreamResponse:
    """Upgrade a signed-in client to the WebSocket protocol."""
    principal = require_role(request, "kiosk", "caseworker", "supervisor", "admin")
    origin = request.headers.get("Origin")
    if origin is not None and not allowed_origin(request, origin):
        raise ApiError(403, "bad_origin", "请求来源不被允许")
    service = request.app[SIGNALING]
    retry_after_ms = service.admission.try_admit()
    if retry_after_ms is not None:
        return await _try_again(request, retry_after_ms)
    in_setup = True
    try:
        if not service.limits.admit(principal.address, principal.role):
            raise ApiError(429, "too_many_connections", "连接数过多，请关闭其他页面后重试")
        try:
            ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=m.MAX_MESSAGE_BYTES * 2)
            await ws.prepare(request)
            connection = Connection(ws=ws, principal=principal)
            try:
                welcomed = await _hello(service, connection)
                service.admission.done()
                in_setup = False
                if welcomed:
                    await _serve(service, connection)
            finally:
                # A burst of closes is cleaned up a few per loop turn, the calls' messages between.
                await service.close_gate.turn()
                if not ws.closed:
                    await ws.close()
                with contextlib.suppress(RedisError, OSError, SQLAlchemyError):
                    await service.closed(connection)
        finally:
            service.limits.release(principal.address)
    finally:
        if in_setup:
            service.admission.done()
    return ws


async def _try_again(request: web.Request, retry_after_ms: int) -> web.WebSocketResponse:
    """Over the admission rate: accept the upgrade only to say when to come back (close 1013)."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_str(json.dumps(out.try_again(retry_after_ms), ensure_ascii=False))
    await ws.close(code=CLOSE_TRY_AGAIN, message=f"retry_after_ms={retry_after_ms}".encode())
    return ws


async def _hello(service: SignalingService, connection: Connection) -> bool:
    try:
        first = await connection.ws.receive(timeout=HELLO_TIMEOUT_S)
    except TimeoutError:
        await connection.error("hello_required", "连接后请先发送 hello")
        await connection.ws.close(code=CLOSE_SETUP)
        return False
    if first.type == WSMsgType.BINARY:
        await connection.error("hello_required", "连接后请先发送 hello（文本消息）")
        await connection.ws.close(code=CLOSE_SETUP)
        return False
    if first.type != WSMsgType.TEXT:
        return False  # the client closed or the socket failed before hello
    # Only hello is read as a message here: any other type, known or not and whatever its fields,
    # is "hello first" (docs/protocol.md, Connecting); `invalid` is for a hello's own fields.
    message, error, ref = _parse(first.data, _HELLO_ONLY)
    if not isinstance(message, m.Hello):
        if error is None or error[0] == "forbidden" or _type_of(first.data) not in (None, "hello"):
            error = ("hello_required", "连接后请先发送 hello")
        await connection.error(*error, ref=ref)
        await connection.ws.close(code=CLOSE_SETUP)
        return False
    if message.v != m.PROTOCOL_VERSION:
        await connection.error("unsupported_version", f"只支持协议版本 {m.PROTOCOL_VERSION}", ref=ref)
        await connection.ws.close(code=CLOSE_SETUP)
        return False
    try:
        welcome = await service.welcome(connection, message.resume_token())
    except (RedisError, OSError, SQLAlchemyError) as exc:
        # Redis or the database is down: say so and let the client retry, rather than drop.
        log.warning("welcome failed: dependency unavailable", extra={"error": type(exc).__name__})
        await connection.error("unavailable", "服务暂时不可用，请稍后重试", ref=ref)
        await connection.ws.close(code=CLOSE_TRY_AGAIN)
        return False
    await connection.send_welcome(welcome)
    return True


async def _serve(service: SignalingService, connection: Connection) -> None:
    # Presence and the sign-in session are re-checked by the process's keep-alive sweep.
    allowed = m.ALLOWED_TYPES.get(connection.principal.role, frozenset())
    async for frame in connection.ws:
        if frame.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            continue
        # Every data frame spends from the budget, whatever it holds: a flood of binary or
        # malformed frames costs the server as much as one of valid messages.
        if not (connection.bucket.take() and service.limits.take(connection.key)):
            flooding = connection.count_refusal()
            await connection.error("rate_limited", "消息太频繁，请稍后再试")
            if flooding:
                await connection.ws.close(code=CLOSE_FLOOD)
            continue
        if frame.type == WSMsgType.BINARY:
            await connection.error("malformed", "只接受文本消息")
            continue
        await _one(service, connection, frame.data, allowed)


async def _one(service: SignalingService, connection: Connection, raw: str, allowed: frozenset[str]) -> None:
    # A second hello, well formed or not, is a type this connection may no longer send: forbidden.
    message, error, ref = _parse(raw, allowed)
    if error is not None:
        await connection.error(*error, ref=ref)
        return
    try:
        reply = await service.handle(connection, message)
    except SignalingError as exc:
        await connection.error(exc.code, exc.message, ref=ref, details=exc.details)
        return
    except (RedisError, OSError, SQLAlchemyError) as exc:
        log.warning("message failed: dependency unavailable", extra={"error": type(exc).__name__})
        await connection.error("unavailable", "服务暂时不可用，请稍后重试", ref=ref)
        return
    except Exception as exc:
        # A handler that fails on some input must not end the client's connection: one line,
        # without the message or a traceback (either could carry what the client typed).
        log.error("message failed", extra={"type": message.type, "error": type(exc).__name__})
        await connection.error("server_error", "处理消息时出错，请重试", ref=ref)
        return
    if reply is not None:
        await connection.send(reply if ref is None else {**reply, "ref": ref})
    elif ref is not None:
        await connection.send(out.ok(ref))
