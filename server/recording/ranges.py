"""HTTP byte ranges (RFC 9110 §14) for the replay: one range per request, as players send."""

from __future__ import annotations

import re

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$", re.ASCII)


class RangeNotSatisfiable(Exception):
    """The range lies beyond the end (416) or cannot be read."""


def parse_range(header: str | None, total: int) -> tuple[int, int] | None:
    """(first, last) inclusive for a `Range` header over `total` bytes; None means the whole body.

    A header that is not a single bytes range is ignored (RFC 9110: a server may ignore Range),
    a range starting at or after the end raises RangeNotSatisfiable."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first_s, last_s = match.groups()
    if first_s == "":  # suffix range: the last n bytes
        length = int(last_s)
        if length == 0 or total == 0:
            raise RangeNotSatisfiable
        return max(0, total - length), total - 1
    first = int(first_s)
    last = int(last_s) if last_s else total - 1
    if first >= total or last < first:
        raise RangeNotSatisfiable
    return first, min(last, total - 1)
