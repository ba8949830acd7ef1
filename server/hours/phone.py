"""Residents' phone numbers: personal information, checked strictly and shown masked (docs/hours.md)."""

from __future__ import annotations

import re

# An 11-digit mainland mobile (1[3-9]…), or a landline with its area code (010/02x: 8 digits after;
# 0xxx: 7 or 8), written with or without a hyphen. The one rule for residents' numbers: those left
# at the kiosk (回电, 回访, 预约) and the application form's phone field (server/acceptance/checks.py,
# mirrored in the console by web/static/agent/application_checks.js).
# re.ASCII: \d would also take full-width and other scripts' digits, which no phone dials.
_MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)
_LANDLINE = re.compile(r"(0(?:10|2\d)-?\d{8})|(0[3-9]\d{2}-?\d{7,8})", re.ASCII)
# A form may add an extension to a landline (021-62345678-123); a number to call back may not.
_LANDLINE_EXTENSION = re.compile(rf"(?:{_LANDLINE.pattern})-\d{{1,6}}", re.ASCII)


class PhoneError(ValueError):
    """Not a number the centre can call."""


def normalise_phone(raw: str) -> str:
    """The number without spaces; PhoneError when it is no mainland mobile or landline with area code."""
    text = re.sub(r"\s", "", raw or "")
    if not is_phone(text):
        raise PhoneError("请输入11位手机号，或带区号的固定电话（如 021-12345678）")
    if _MOBILE.fullmatch(text) or "-" in text:
        return text
    return _with_hyphen(text)


def is_phone(raw: str, *, extension: bool = False) -> bool:
    """True for a mainland mobile or a landline with area code (spaces ignored); `extension`
    also allows a landline's extension after a hyphen."""
    text = re.sub(r"\s", "", raw or "")
    if _MOBILE.fullmatch(text) or _LANDLINE.fullmatch(text):
        return True
    return extension and _LANDLINE_EXTENSION.fullmatch(text) is not None


def _with_hyphen(text: str) -> str:
    area = 3 if text[1] in "12" else 4
    return f"{text[:area]}-{text[area:]}"


def mask_phone(phone: str) -> str:
    """138****1234 / 021-****5678: enough to tell numbers apart, not to call them."""
    if "-" in phone:
        area, number = phone.split("-", 1)
        return f"{area}-{'*' * (len(number) - 4)}{number[-4:]}"
    return f"{phone[:3]}****{phone[-4:]}"
