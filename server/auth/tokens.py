"""Random tokens and their stored form.

Tokens carry 256 bits of randomness, so a plain SHA-256 is a sufficient stored form (unlike
passwords, they cannot be guessed from a dictionary).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def derived_secret(secret_key: str, purpose: str, length: int = 32) -> str:
    """A stable secret derived from the server key (demo credentials only, never real ones)."""
    digest = hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:length]
