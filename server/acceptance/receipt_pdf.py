"""The 受理回执 as a PDF (A4): reportlab's built-in CJK font STSong-Light, the QR code drawn from segno's matrix.

STSong-Light is one of the Adobe CID fonts every PDF reader carries, so the file embeds no font and
stays a few kilobytes.
"""

from __future__ import annotations

import io
from functools import cache

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from server.acceptance import texts
from server.acceptance.receipts import ReceiptView

FONT = "STSong-Light"
QR_SIZE_MM = 32.0


@cache
def _font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _qr(pdf: Canvas, text: str, x: float, y: float, size: float) -> None:
    """Draw a QR code of `text` with its bottom-left corner at (x, y)."""
    matrix = segno.make(text, error="m", micro=False).matrix
    module = size / len(matrix)
    pdf.setFillColorRGB(0, 0, 0)
    for row, cells in enumerate(matrix):
        for col, dark in enumerate(cells):
            if dark:
                pdf.rect(x + col * module, y + size - (row + 1) * module, module, module, stroke=0, fill=1)


def _wrap(text: str, width: int) -> list[str]:
    # Chinese has no spaces to break at: a fixed number of characters per line.
    return [text[i:i + width] for i in range(0, len(text), width)] or [""]


def render_pdf(receipt: ReceiptView, issued_local: str) -> bytes:
    """The receipt as PDF bytes."""
    font = _font()
    out = io.BytesIO()
    pdf = Canvas(out, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"{texts.RECEIPT['title']} {receipt.case_number or ''}".strip())
    width, height = A4
    left, y = 25 * mm, height - 30 * mm
    pdf.setFont(font, 20)
    pdf.drawCentredString(width / 2, y, texts.RECEIPT["title"])
    y -= 8 * mm
    pdf.setFont(font, 11)
    pdf.drawCentredString(width / 2, y, receipt.centre_name)
    y -= 14 * mm
    rows = [(texts.RECEIPT["matter"], receipt.matter_name),
            (texts.RECEIPT["outcome"], texts.RECEIPT_OUTCOMES[receipt.outcome])]
    if receipt.case_number:
        rows.append((texts.RECEIPT["case_number"], receipt.case_number))
    rows += [(texts.RECEIPT["promise"], receipt.promise), (texts.RECEIPT["phone"], receipt.centre_phone or "—"),
             (texts.RECEIPT["issued_at"], issued_local)]
    for label, value in rows:
        pdf.setFont(font, 12)
        pdf.drawString(left, y, label)
        for line in _wrap(value, 30):
            pdf.drawString(left + 32 * mm, y, line)
            y -= 7 * mm
        y -= 2 * mm
    if receipt.missing:
        y -= 4 * mm
        pdf.setFont(font, 13)
        pdf.drawString(left, y, texts.RECEIPT["missing_title"])
        y -= 8 * mm
        pdf.setFont(font, 12)
        for n, item in enumerate(receipt.missing, 1):
            for i, line in enumerate(_wrap(f"{n}. {item.name}：{item.must_show}", 38)):
                pdf.drawString(left + (0 if i == 0 else 5 * mm), y, line)
                y -= 7 * mm
    _qr(pdf, receipt.qr_text, width - 25 * mm - QR_SIZE_MM * mm, height - 80 * mm, QR_SIZE_MM * mm)
    pdf.setFont(font, 9)
    pdf.drawString(left, 20 * mm, texts.RECEIPT["footer"])
    pdf.showPage()
    pdf.save()
    return out.getvalue()
