"""Free text typed by staff and residents, masked before anything stores or relays it.

Notes, rating comments, transfer notes, break reasons and follow-up notes are typed freely, and
people type what they have in front of them: an ID number read off the card, a phone number to
call back. Those are masked where the text enters (the message and body models), so neither the
database nor an export ever holds them in clear. Case numbers, dates and counts stay as typed.
Invisible and control characters are dropped first (server/protocol/plain_text.py).
"""

from __future__ import annotations

import re
import unicodedata

from pydantic import AfterValidator

from server.protocol.plain_text import plain_text

ID_MASK = "[证件号已隐去]"
PHONE_MASK = "[电话已隐去]"

# Resident ID numbers (18 characters, the last may be X; and the old 15-digit form), standing
# alone: not part of a longer run of letters and digits; also as read off the card in groups
# (6-8-4, spaces or hyphens between), where the first group must be a region code (11-82) and the
# second a birth date, so a postcode, a date and a time written together stay as typed.
_REGION = r"(?:1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|8[12])\d{4}"
_BIRTH = r"(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_ID_NUMBER = re.compile(rf"(?<![0-9A-Za-z])(?:\d{{17}}[\dXx]|\d{{15}}|{_REGION}[- ]{_BIRTH}[- ]\d{{3}}[\dXx])"
                        r"(?![0-9A-Za-z])")
# Mobile numbers (1[3-9] and 9 digits, grouped any way: 3-4-4, or every digit spaced as some
# people read them out) and landlines (area code 0xx(x), in brackets or not, then 7-8 digits, whole
# or grouped 3-4 / 4-4, each step hyphenated or spaced), either after China's country code written
# any way (+86, 0086 or 86 with or without a space: its digits would otherwise hide the number);
# after +86 or 0086 a landline's area code drops its 0 (area codes: 0 then 1-9). A count, a case
# or order number stays.
_MOBILE = r"1[- ]?[3-9](?:[- ]?\d){9}"
_LOCAL = r"(?:\d{7,8}|\d{3,4}[- ]\d{4})"
_AREA = r"(?:0[1-9]\d{1,2}|\(0[1-9]\d{1,2}\))"
_PHONE = re.compile(rf"(?<!\d)(?:(?:\+|00)86[- ]?(?:{_MOBILE}|[1-9]\d{{1,2}}[- ]?{_LOCAL})|(?:86[- ]?)?{_MOBILE}"
                    rf"|{_AREA} ?[- ]?{_LOCAL})(?!\d)")
# People type digits and dashes in full width too (an IME's default): read as ASCII first.
_DASHES = dict.fromkeys(map(ord, "\uff0d\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")
_ASCII = str.maketrans({**_DASHES, 0xFF0B: "+", 0x3000: " ", 0xFF38: "X", 0xFF58: "x", 0xFF08: "(", 0xFF09: ")"})
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")  # a decimal digit of another script


def _ascii_digits(text: str) -> str:
    """text with every decimal digit of any script as its ASCII digit, full-width dashes, plus
    signs, brackets and the letter X (an ID number's check character) as ASCII, and the
    ideographic space as a space (everything else as it was)."""
    return _OTHER_DIGIT.sub(lambda m: str(unicodedata.digit(m.group())), text.translate(_ASCII))


def mask_personal_numbers(text: str) -> str:
    """The text with ID numbers and phone numbers replaced by a marker (digits typed in full width
    are read, and stored, as ASCII)."""
    return _PHONE.sub(PHONE_MASK, _ID_NUMBER.sub(ID_MASK, _ascii_digits(text)))


def clean_free_text(text: str) -> str:
    """Free text as stored: invisible and control characters dropped (line breaks and tabs kept),
    then personal numbers masked. Dropping first means a zero-width space typed inside a phone
    number cannot slip the number past the mask."""
    return mask_personal_numbers(plain_text(text))


# Add to a field's Annotated metadata: `note: Annotated[str, MASKED] = Field("", max_length=500)`.
MASKED = AfterValidator(clean_free_text)
