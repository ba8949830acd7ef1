"""The HMAC that binds a signature to what was signed: session id, the form version's JSON, the
signature image's SHA-256 and the signing time. A later change of any of them (a form value edited
in the database, another image put in place, a changed time) fails verification.

The key is derived with HKDF-SHA256 from the server secret (the one the capture files are encrypted
under, docs/security.md), with its own info string, so it is never the encryption key itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Fixed, public: they only separate this key from the server secret's other uses.
HKDF_SALT = b"jinglin-bangban signature binding"
HKDF_INFO = b"signature-hmac-sha256 v1"
DOMAIN = b"jinglin-signature v1\n"


def binding_key(secret: str) -> bytes:
    """The 32-byte HMAC key for a server secret."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=HKDF_INFO).derive(secret.encode())


def canonical_form(fields: list[dict[str, Any]]) -> bytes:
    """The form version's canonical JSON bytes: keys sorted, no spaces, UTF-8 as it is."""
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="microseconds").replace("+00:00", "Z")


def binding_message(session_id: str, form_version: int, form_json: bytes, image_sha256: str,
                    signed_at: datetime) -> bytes:
    """What the HMAC covers; each part is length-prefixed, so no two different inputs share a message."""
    parts = [session_id.encode(), str(form_version).encode(), form_json, image_sha256.encode(),
             _iso(signed_at).encode()]
    return DOMAIN + b"".join(len(part).to_bytes(8, "big") + part for part in parts)


def bind(key: bytes, session_id: str, form_version: int, fields: list[dict[str, Any]], image: bytes,
         signed_at: datetime) -> tuple[str, str]:
    """(image SHA-256 hex, HMAC-SHA256 hex) for a signature given now."""
    digest = hashlib.sha256(image).hexdigest()
    message = binding_message(session_id, form_version, canonical_form(fields), digest, signed_at)
    return digest, hmac.new(key, message, hashlib.sha256).hexdigest()


def verify(key: bytes, session_id: str, form_version: int, fields: list[dict[str, Any]], image: bytes,
           signed_at: datetime, mac: str) -> bool:
    """True when the stored MAC matches the form, image and time as they are now (constant time)."""
    _, expected = bind(key, session_id, form_version, fields, image, signed_at)
    return hmac.compare_digest(expected, mac)
