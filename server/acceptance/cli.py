"""`jinglin verify-signature SESSION_ID [--json]`: check a stored signature against the form version
it signed (HMAC over session, form JSON, image hash and time; server/acceptance/signature_binding.py).

Exit 0 when it verifies, 1 when the binding fails (form or image changed, image unreadable) or the
session has no signature, 2 on a settings or database error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.acceptance.signature_binding import bind, binding_key, verify
from server.acceptance.signatures import SignatureFiles, SignatureStore, Verification, iso
from server.capture.cli import with_database
from server.capture.rotate import ROTATIONS, RotationReport, rotate_each
from server.capture.storage import StorageError
from server.db.failure import database_failure
from server.db.models import FormVersion, Signature
from server.settings import SettingsError, load_settings

REASONS = {
    "no_signature": "no signature stored for this session",
    "form_missing": "the signed form version is gone",
    "image_unreadable": "the signature image is missing or does not decrypt",
    "image_changed": "the signature image differs from the one signed",
    "binding_mismatch": "the form, image or time differs from what was signed",
}


def rotate_signature_key(data_dir: Path, old_secret: str, new_secret: str) -> RotationReport:
    """Re-encrypt every signature image from `old_secret` to `new_secret` (idempotent, like captures)."""
    old, new = SignatureFiles(data_dir, old_secret), SignatureFiles(data_dir, new_secret)
    return rotate_each(new.names(), old.read, new.read, new.write, StorageError)


async def _rebind(sessions: async_sessionmaker[AsyncSession], images: list[SignatureFiles], old: bytes,
                  new: bytes) -> RotationReport:
    report = RotationReport()
    async with sessions() as session, session.begin():
        rows = (await session.execute(select(Signature, FormVersion).join(FormVersion, and_(
            FormVersion.session_id == Signature.session_id, FormVersion.version == Signature.form_version)))).all()
        for signature, form in rows:
            image = _first_readable(images, signature.storage_name)
            facts = (signature.session_id, signature.form_version, form.fields, image or b"", signature.signed_at)
            if image is not None and verify(new, *facts, signature.mac):
                report.already += 1
            elif image is not None and verify(old, *facts, signature.mac):
                signature.mac = bind(new, *facts)[1]
                report.rotated += 1
            else:
                report.unreadable += 1  # changed since signing: left failing, as it should
    return report


def _first_readable(stores: list[SignatureFiles], name: str) -> bytes | None:
    for store in stores:
        try:
            return store.read(name)
        except StorageError:
            continue
    return None


def rebind_signatures(data_dir: Path, old_secret: str, new_secret: str) -> RotationReport:
    """Move every signature's HMAC from the key of `old_secret` to that of `new_secret`: only a binding
    that verifies under the old key is renewed, so a rotation never makes a changed form pass. Needs the
    configured database; nothing to do (and no database opened) when no signature image is stored."""
    images = [SignatureFiles(data_dir, new_secret), SignatureFiles(data_dir, old_secret)]
    if not images[0].names():
        return RotationReport()
    return asyncio.run(with_database(load_settings(), lambda sessions: _rebind(
        sessions, images, binding_key(old_secret), binding_key(new_secret))))


def register(subparsers: Any) -> None:
    """Add the `verify-signature` command to an argparse subparsers object, and the signature images
    to `jinglin rotate-key`."""
    for rotation in (rotate_signature_key, rebind_signatures):  # the images first: the rebinding reads them
        if rotation not in ROTATIONS:
            ROTATIONS.append(rotation)
    parser = subparsers.add_parser(
        "verify-signature", help="check a session's signature against the form version it signed",
        description="Check the resident's signature of a session: the HMAC over the session id, the signed form "
        "version's JSON, the image's SHA-256 and the signing time must match what is stored now. Exit 0 when it "
        "verifies, 1 when it does not or there is no signature.")
    parser.add_argument("session_id", help="the session (= call) id")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


async def check(session_id: str) -> Verification:
    """Verify one session's signature against the configured database and data dir."""
    settings = load_settings()
    secret = settings.resolved_secret_key()
    return await with_database(settings, lambda sessions: SignatureStore(
        sessions, SignatureFiles(settings.data_dir, secret), secret).verify(session_id))


def run(args: argparse.Namespace) -> int:
    """Print the verdict; the exit status says it too."""
    try:
        result = asyncio.run(check(args.session_id))
    except (SettingsError, ValueError) as exc:
        print(f"error: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    except (OSError, SQLAlchemyError) as exc:
        print(f"error: {database_failure(exc)}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"session_id": result.session_id, "signed": result.signed, "verified": result.verified,
                          "reason": result.reason or None, "form_version": result.form_version,
                          "signed_at": iso(result.signed_at) if result.signed_at else None}))
    elif result.verified:
        print(f"signature of session {result.session_id} verified: form version {result.form_version}, "
              f"signed {iso(result.signed_at) if result.signed_at else ''}")
    else:
        print(f"signature of session {result.session_id} NOT verified: {REASONS[result.reason]}")
    return 0 if result.verified else 1
