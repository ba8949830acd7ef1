"""Field checks of the application form: 居民身份证号码 (GB 11643-1999 check digit), phone numbers, dates.

The console runs the same rules before sending (web/static/agent/application_checks.js) so a
caseworker learns at once which field is wrong; the server's answer is the one that counts.
"""

from __future__ import annotations

import re
from datetime import date

from server.hours.phone import is_phone

# GB 11643-1999: weights 2^(17-i) mod 11 of the first 17 digits; check = (12 - sum mod 11) mod 11, 10 → X.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
# re.ASCII: \d would also take full-width digits (１１０…), which no register or system reads.
_ID = re.compile(r"^\d{17}[\dX]$", re.ASCII)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
EARLIEST = date(1900, 1, 1)


def id_number_ok(value: str) -> bool:
    """True for an 18-character 居民身份证号码 with a real birth date and the right check digit."""
    value = value.strip().upper()
    if not _ID.match(value):
        return False
    if not date_ok(f"{value[6:10]}-{value[10:12]}-{value[12:14]}"):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == value[17]


def phone_ok(value: str) -> bool:
    """True for a mainland mobile number or a landline with area code (an extension allowed): the
    same rule as the kiosk's numbers (server/hours/phone.py)."""
    return is_phone(value, extension=True)


def date_ok(value: str, today: date | None = None) -> bool:
    """True for an existing calendar date YYYY-MM-DD between 1900-01-01 and 2100-12-31 (no 2月30日)."""
    if not _DATE.match(value.strip()):
        return False
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        return False
    return EARLIEST <= parsed <= date(2100, 12, 31)


def mask_id_number(value: str) -> str:
    """Everything but the last four characters hidden (what the kiosk's screen shows)."""
    value = value.strip()
    return "*" * max(len(value) - 4, 0) + value[-4:]
