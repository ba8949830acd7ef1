"""Pure rules of the acceptance feature: GB 11643 check digits, phones, dates, masking, case number format."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from server.acceptance.case_numbers import format_case_number
from server.acceptance.checks import date_ok, id_number_ok, mask_id_number, phone_ok
from server.acceptance.notices import NoticeFacts, notice_book, render
from server.acceptance.receipt_pdf import render_pdf
from server.acceptance.receipts import MissingMaterial, ReceiptView

# The standard's worked example (GB 11643-1999 appendix) and numbers built with its algorithm.
GOOD_IDS = ["11010519491231002X", "440524198001010013", "310101199001011234"]


@pytest.mark.parametrize("value", GOOD_IDS)
def test_gb11643_accepts_correct_check_digits(value: str) -> None:
    assert id_number_ok(value)
    assert id_number_ok(value.lower())  # a typed lower-case x


@pytest.mark.parametrize("value", [
    "110105194912310021",  # check digit X changed to 1
    "310101199001011235",  # last digit off by one
    "310101199002301234",  # 2月30日
    "31010119900101123",  # 17 characters
    "3101011990010112345",  # 19
    "31010119900101123Y",
    "",
    "１１0105194912310０2X",  # full-width digits: no register reads them
])
def test_gb11643_refuses_wrong_numbers(value: str) -> None:
    assert not id_number_ok(value)


def test_every_single_digit_change_is_caught() -> None:
    base = GOOD_IDS[2]
    for i in range(17):
        for digit in "0123456789":
            if digit == base[i]:
                continue
            changed = base[:i] + digit + base[i + 1:]
            # Every weight is non-zero mod 11 and a digit changes by less than 11: the sum always moves.
            assert not id_number_ok(changed), changed


@pytest.mark.parametrize("value, ok", [
    ("13912345678", True), ("139 1234 5678", True), ("12912345678", False), ("1391234567", False),
    ("021-62345678", True), ("02162345678", True), ("021-62345678-123", True), ("0571-1234567", True),
    ("021-6234567", False), ("021-6234567-123", False), ("62345678", False), ("abc", False),
    ("1381234567８", False), ("13８１２３４５６７８", False), ("021-６２345678", False),  # full-width digits
])
def test_phone_numbers(value: str, ok: bool) -> None:
    assert phone_ok(value) is ok


@pytest.mark.parametrize("value, ok", [
    ("2026-12-03", True), ("2024-02-29", True), ("2026-02-29", False), ("2026-13-01", False),
    ("1899-12-31", False), ("2026/12/03", False), ("20261203", False), ("２026-12-03", False),
])
def test_dates(value: str, ok: bool) -> None:
    assert date_ok(value) is ok


def test_masking_keeps_the_last_four() -> None:
    assert mask_id_number("310101199001011234") == "*" * 14 + "1234"
    assert mask_id_number("123") == "123"


def test_case_number_format() -> None:
    assert format_case_number("JA-{centre:04d}-{date}-{seq:04d}", 101, "20261202", 7) == "JA-0101-20261202-0007"


def test_every_published_notice_renders_with_and_without_captures_and_recording() -> None:
    book = notice_book()
    for version in book.versions:
        full = render(book, NoticeFacts("某中心", ["身份证", "户口簿"], 30, True), version)
        assert "某中心" in full.paragraphs[0] and "身份证、户口簿" in "".join(full.paragraphs)
        assert "30" in "".join(full.paragraphs) and full.recording
        bare = render(book, NoticeFacts("某中心", [], 30, False), version)
        assert not bare.captures and "{" not in "".join(bare.paragraphs)


def test_receipt_pdf_text_reads_back() -> None:
    """The PDF's CJK text (STSong-Light, nothing embedded) comes back out of a PDF reader."""
    receipt = ReceiptView(session_id="s" * 32, outcome="incomplete", case_number=None, matter_name="敬老卡挂失补领",
                          centre_name="江宁路街道社区事务受理服务中心", centre_phone="021-62345678", promise="当场办结",
                          missing=[MissingMaterial(name="身份证原件", must_show="居民身份证原件，正反面清晰")],
                          issued_at="2026-12-03T00:00:00Z", qr_text="s" * 32)
    pdf = render_pdf(receipt, "2026-12-03 08:00")
    assert pdf.startswith(b"%PDF") and len(pdf) < 20_000
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for expected in ("受理回执", "敬老卡挂失补领", "材料不全", "一次性告知", "身份证原件", "021-62345678"):
        assert expected in text
    accepted = render_pdf(receipt.model_copy(update={"outcome": "accepted", "case_number": "JA-0101-20261202-0007",
                                                     "missing": []}), "2026-12-03 08:00")
    assert "JA-0101-20261202-0007" in PdfReader(io.BytesIO(accepted)).pages[0].extract_text()
