"""Checks on a kiosk's capture offer and candidates before aiortc sees them.

aiortc's parsers assume well-formed input: `m=video abc`, `a=candidate:junk` or a candidate
line with too few fields end in `AssertionError`, `IndexError` or `ValueError` deep inside
`setRemoteDescription`/`addIceCandidate`. A browser never sends such text, so anything the
parsers cannot read is refused up front as `bad_signal`.
"""

from __future__ import annotations

from typing import Any

from aiortc.sdp import SessionDescription, candidate_from_sdp


def valid_offer(sdp: str) -> bool:
    """True when aiortc can parse the description and it has at least one media section."""
    try:
        parsed = SessionDescription.parse(sdp)
    except Exception:  # the parser raises whatever its asserts and conversions raise
        return False
    return bool(parsed.media)


def valid_candidate(init: dict[str, Any]) -> bool:
    """True for a parsable candidate line, or an empty one (end of candidates)."""
    text = str(init.get("candidate") or "")
    if not text:
        return True
    try:
        candidate_from_sdp(text.removeprefix("candidate:"))
    except Exception:  # as above: asserts, int() and index errors
        return False
    return True


def valid_signal(data: dict[str, Any]) -> bool:
    """True when the `capture_signal` data's description and candidate (either may be absent) parse."""
    description = data.get("description")
    if description is not None and description.get("type") == "offer" and not valid_offer(str(description.get("sdp"))):
        return False
    candidate = data.get("candidate")
    return candidate is None or valid_candidate(candidate)
