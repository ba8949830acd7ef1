"""Parsing JSON that comes from outside: every way it can be bad is one exception.

`json.loads` raises more than `JSONDecodeError` on hostile input: `RecursionError` for thousands
of nested brackets, a plain `ValueError` for an integer of more than 4,300 digits, and it accepts
`NaN`, `Infinity` and `1e999` (which becomes infinity) although JSON has no such numbers. Bodies
and WebSocket frames are parsed here so that all of these are refused as malformed input.
"""

from __future__ import annotations

import json
import math
from typing import Any

# Deeper than any message of the protocol or body of the API needs (signal data is 3 levels).
MAX_DEPTH = 32


class MalformedJson(ValueError):
    """The input is not JSON this server accepts."""


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text[:10]} is not JSON")


def _too_deep(data: Any, limit: int) -> bool:
    # Iterative, so the check itself cannot run out of stack.
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def loads_untrusted(raw: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON from a client; raise `MalformedJson` for anything but finite, shallow JSON."""
    try:
        data = json.loads(raw, parse_float=_finite_float, parse_constant=_no_constant)
    except (RecursionError, ValueError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise MalformedJson("not valid JSON") from None
    # Counting brackets is cheap; only input with many of them needs the walk.
    brackets = raw.count("[") + raw.count("{") if isinstance(raw, str) else raw.count(b"[") + raw.count(b"{")
    if brackets > max_depth and _too_deep(data, max_depth):
        raise MalformedJson("nested too deeply")
    return data
