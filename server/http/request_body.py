"""Reading and validating JSON request bodies into pydantic models, with clear 4xx errors."""

from __future__ import annotations

from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from server.http.errors import ApiError
from server.http.json_input import MalformedJson, loads_untrusted

M = TypeVar("M", bound=BaseModel)

MAX_JSON_BYTES = 64 * 1024


PREREAD_BODY = web.RequestKey("preread_body", bytes)


async def read_json_bytes(request: web.Request) -> bytes:
    """The body's first MAX_JSON_BYTES + 1 bytes, read once: a caller that must have the body before
    it takes a lock (server/admin/http.py) reads it here, and read_model finds it again."""
    if PREREAD_BODY not in request:
        request[PREREAD_BODY] = await request.content.read(MAX_JSON_BYTES + 1)
    return request[PREREAD_BODY]


async def read_model(request: web.Request, model: type[M]) -> M:
    """Parse the body as JSON into `model`: 415 not JSON, 413 too big, 400 malformed, 422 invalid."""
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "请求体必须是 JSON (application/json)")
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise ApiError(413, "payload_too_large", f"请求体不能超过 {MAX_JSON_BYTES} 字节")
    raw = await read_json_bytes(request)
    if len(raw) > MAX_JSON_BYTES:
        raise ApiError(413, "payload_too_large", f"请求体不能超过 {MAX_JSON_BYTES} 字节")
    try:
        data = loads_untrusted(raw)
    except MalformedJson:
        raise ApiError(400, "malformed_json", "请求体不是有效的 JSON") from None
    wrong = _wrong_top_level_fields(model, data)
    if wrong:
        raise ApiError(422, "invalid", f"字段无效: {', '.join(wrong)}（未知字段，或是/否字段不是 true/false）")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in errors)
        reasons = "；".join(dict.fromkeys(_reason(e) for e in errors))
        raise ApiError(422, "invalid", f"字段无效: {fields}（{reasons}）") from None


def _reason(error: Any) -> str:
    """What is wrong with one field, in words a person acts on (the field's key precedes it)."""
    kind, ctx = error["type"], error.get("ctx") or {}
    text = str(error.get("msg", ""))
    if kind == "missing":
        return "不能缺少"
    if kind == "string_too_long":
        return f"最多 {ctx.get('max_length')} 个字符"
    if kind == "string_too_short" and int(ctx.get("min_length", 1)) > 1:
        return f"至少 {ctx.get('min_length')} 个字符"
    if kind in ("string_too_short", "too_short"):
        return "不能为空"
    if kind == "string_pattern_mismatch":
        return "格式不对"
    if kind == "value_error" and "invisible" in text:
        return "含有看不见的字符或控制字符（如换行、零宽字符、文字方向控制符）"
    if kind == "value_error" and "only spaces" in text:
        return "不能只有空格"
    if kind.startswith(("greater_than", "less_than")):
        return "超出允许的范围"
    if kind.startswith(("int_", "float_", "bool_", "string_type", "list_", "dict_", "model_")):
        return "类型不对"
    return "取值无效"


_BOOL_ANNOTATIONS = (bool, bool | None)


def _wrong_top_level_fields(model: type[BaseModel], data: Any) -> list[str]:
    """Fields of a JSON object that the model does not have (a typo such as `disable` would
    otherwise change nothing, silently), and yes/no fields not given as true/false (pydantic's lax
    mode would read "yes", "no", 0 and 1 as booleans)."""
    if not isinstance(data, dict):
        return []
    known: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        known[name] = info.annotation
        if info.alias:
            known[info.alias] = info.annotation
    wrong = [str(key)[:40] for key in data if key not in known]
    if model.model_config.get("extra") == "allow":
        wrong = []
    wrong += [key for key, value in data.items()
              if key in known and known[key] in _BOOL_ANNOTATIONS and value is not None
              and not isinstance(value, bool)]
    return wrong
