"""QR codes as SVG documents (segno), for pages that show one: kiosk enrolment, the receipt."""

from __future__ import annotations

import io

import segno


def qr_svg(text: str, title: str) -> str:
    """`text` as a QR code, an SVG document (error correction M: survives a smudged printout)."""
    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind="svg", scale=4, border=2, xmldecl=False,
                                                  svgns=True, title=title)
    return out.getvalue().decode()
