"""Every limit of the administration feature in one place."""

from __future__ import annotations

# A 249-site sheet is about 20 KB; a sheet of all of Shanghai's ~6,000 committees stays far below.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_SHEET_ROWS = 20_000
MAX_SKILLS = 50
USERNAME_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
# One-time passwords: 16 URL-safe characters (96 bits), well above MIN_PASSWORD_LENGTH.
ONE_TIME_PASSWORD_CHARS = 16
AUDIT_PAGE = 200
