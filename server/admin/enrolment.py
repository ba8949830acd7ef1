"""The kiosk enrolment link and its QR code: a committee worker scans it on the kiosk to sign it in."""

from __future__ import annotations

import io

import segno


def enrolment_url(base_url: str, token: str) -> str:
    """The kiosk page URL that signs a kiosk in with its device token."""
    return f"{base_url.rstrip('/')}/kiosk?token={token}"


def qr_svg(url: str) -> str:
    """The URL as a QR code, an SVG document (error correction M: survives a smudged printout)."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="svg", scale=4, border=2, xmldecl=False,
                                                 svgns=True, title="enrolment")
    return out.getvalue().decode()
