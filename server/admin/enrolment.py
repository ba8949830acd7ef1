"""The kiosk enrolment link and its QR code: a committee worker scans it on the kiosk to sign it in."""

from __future__ import annotations

from server.http.qr import qr_svg


def enrolment_url(base_url: str, token: str) -> str:
    """The kiosk page URL that signs a kiosk in with its device token."""
    return f"{base_url.rstrip('/')}/kiosk?token={token}"


def enrolment_qr(url: str) -> str:
    """The enrolment URL as a QR code (SVG)."""
    return qr_svg(url, "enrolment")
