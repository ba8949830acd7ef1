"""Reading and validating JSON request bodies into pydantic models, with clear 4xx errors."""

from __future__ import annotations

from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from server.http.errors import ApiError
from server.http.json_input import MalformedJson, loads_untrusted

M = TypeVar("M", bound=BaseModel)

MAX_JSON_BYTES = 64 * 1024


async def read_model(request: web.Request, model: type[M]) -> M:
    """Parse the body as JSON into `model`: 415 not JSON, 413 too big, 400 malformed, 422 invalid."""
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "请求体必须是 JSON (application/json)")
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise ApiError(413, "payload_too_large", f"请求体不能超过 {MAX_JSON_BYTES} 字节")
    raw = await request.content.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        raise ApiError(413, "payload_too_large", f"请求体不能超过 {MAX_JSON_BYTES} 字节")
    try:
        data = loads_untrusted(raw)
    except MalformedJson:
        raise ApiError(400, "malformed_json", "请求体不是有效的 JSON") from None
    wrong = _wrong_top_level_fields(model, data)
    if wrong:
        raise ApiError(422, "invalid", f"字段无效: {', '.join(wrong)}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors())
        raise ApiError(422, "invalid", f"字段无效: {fields}") from None


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
