"""The signatures table and its encrypted image files: the one writer of `signatures`, and the
check that a stored signature still matches the form version it signed.

The image is sealed like a capture (server/capture/storage.py: AES-256-GCM under the server secret,
`JLS1` magic, the storage name as associated data) under `{data_dir}/signatures/`. The row keeps the
image's SHA-256, the time and the HMAC over (session, form JSON, image hash, time)
(signature_binding.py). Signing also moves the form version from `confirmed` to `signed`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.acceptance.forms import SIGNED
from server.acceptance.signature_binding import bind, binding_key, verify
from server.capture.storage import SealedStore, StorageError, read_sealed, write_sealed
from server.db.models import FormVersion, Signature
from server.db.types import utcnow

MAGIC = b"JLS1"
SIGNATURE_DIR = "signatures"


class SignatureRefused(Exception):
    """Nothing was stored; `code` names why (texts.SIGNATURE_ERRORS)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class SignatureFiles(SealedStore):
    """The encrypted signature images."""

    def path(self, name: str) -> Path:
        """Where an image lives; names come from `new_name()` only."""
        if len(name) != 32 or not all(c in "0123456789abcdef" for c in name):
            raise StorageError("bad storage name")
        return self.data_dir / SIGNATURE_DIR / name[:2] / f"{name}.jls"

    def write(self, name: str, image: bytes) -> None:
        """Encrypt and store atomically, readable by the owner only."""
        write_sealed(self._aead, self.path(name), MAGIC, image, self._aad(name))

    def read(self, name: str) -> bytes:
        """Decrypt a stored image; StorageError when missing or not authentic."""
        return read_sealed(self._aead, self.path(name), MAGIC, self._aad(name))

    def names(self) -> list[str]:
        """Every stored image's name, for the key rotation."""
        return [path.name.split(".", 1)[0] for path in sorted((self.data_dir / SIGNATURE_DIR).glob("*/*.jls"))]

    @staticmethod
    def _aad(name: str) -> bytes:
        return f"signature/{name}".encode()


@dataclass(frozen=True)
class Verification:
    """The outcome of checking a stored signature; `reason` is empty when it verified."""

    session_id: str
    signed: bool
    verified: bool
    reason: str = ""
    form_version: int | None = None
    signed_at: datetime | None = None


def iso(at: datetime) -> str:
    """ISO 8601 UTC with a Z, as the API writes times."""
    return at.isoformat().replace("+00:00", "Z")


class SignatureStore:
    """Stores a signature once per session and checks it later."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], files: SignatureFiles, secret: str) -> None:
        self._sessions = sessions
        self.files = files
        self._key = binding_key(secret)

    async def signable(self, session_id: str, version: int) -> FormVersion:
        """The form version `version` if a signature may be stored on it now (the last version
        shown, confirmed, the session not signed yet); SignatureRefused naming why not. The upload
        asks this before it decodes the image, and record asks again."""
        async with self._sessions() as session:
            if await session.get(Signature, session_id) is not None:
                raise SignatureRefused("already_signed")
            latest = await session.scalar(select(FormVersion).where(FormVersion.session_id == session_id)
                                          .order_by(FormVersion.version.desc()).limit(1))
        if latest is None or latest.version != version:
            raise SignatureRefused("form_version_unknown")
        if latest.state != "confirmed":
            raise SignatureRefused("already_signed" if latest.state == SIGNED else "form_not_confirmed")
        return latest

    async def record(self, session_id: str, kiosk_id: int, version: int, image: bytes) -> Signature:
        """Sign the confirmed form version `version` (the last one shown); SignatureRefused when it is not
        the last version, not confirmed, or the session is signed already. Nothing half-written: the
        file is removed again when the row cannot be stored."""
        latest = await self.signable(session_id, version)
        signed_at = utcnow()
        digest, mac = bind(self._key, session_id, version, latest.fields, image, signed_at)
        name = self.files.new_name()
        self.files.write(name, image)
        try:
            async with self._sessions() as session, session.begin():
                moved = await session.execute(
                    update(FormVersion).where(FormVersion.id == latest.id, FormVersion.state == "confirmed")
                    .values(state=SIGNED))
                if not getattr(moved, "rowcount", 0):
                    raise SignatureRefused("already_signed")  # another upload won meanwhile
                row = Signature(session_id=session_id, form_version=version, kiosk_id=kiosk_id, storage_name=name,
                                image_sha256=digest, size=len(image), signed_at=signed_at, mac=mac)
                session.add(row)
        except IntegrityError:
            self.files.path(name).unlink(missing_ok=True)
            raise SignatureRefused("already_signed") from None
        except BaseException:
            self.files.path(name).unlink(missing_ok=True)
            raise
        return row

    async def get(self, session_id: str) -> Signature | None:
        """The session's signature row, or None."""
        async with self._sessions() as session:
            return await session.get(Signature, session_id)

    def image(self, row: Signature) -> bytes:
        """The decrypted PNG; StorageError when the file is gone or was tampered with."""
        return self.files.read(row.storage_name)

    async def verify(self, session_id: str) -> Verification:
        """Check the stored signature against the form version and image as they are now."""
        async with self._sessions() as session:
            row = await session.get(Signature, session_id)
            form = None if row is None else await session.scalar(select(FormVersion).where(
                FormVersion.session_id == session_id, FormVersion.version == row.form_version))
        if row is None:
            return Verification(session_id, signed=False, verified=False, reason="no_signature")
        reason = self._fault(row, form)
        return Verification(session_id, signed=True, verified=not reason, reason=reason,
                            form_version=row.form_version, signed_at=row.signed_at)

    def _fault(self, row: Signature, form: FormVersion | None) -> str:
        """Why a stored signature fails verification, or "" when it verifies."""
        if form is None:
            return "form_missing"
        try:
            image = self.image(row)
        except StorageError:
            return "image_unreadable"
        if hashlib.sha256(image).hexdigest() != row.image_sha256:
            return "image_changed"
        if not verify(self._key, row.session_id, row.form_version, form.fields, image, row.signed_at, row.mac):
            return "binding_mismatch"
        return ""

    async def detail(self, session_id: str) -> dict[str, object] | None:
        """The session detail's `signature`: {at, verified}, or None before signing."""
        checked = await self.verify(session_id)
        if not checked.signed or checked.signed_at is None:
            return None
        return {"at": iso(checked.signed_at), "verified": checked.verified, "form_version": checked.form_version}
