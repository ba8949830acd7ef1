"""Encrypted image files under `{data_dir}/captures/`, with server-chosen names only.

Each file is AES-256-GCM: `JLC1` magic, a random 96-bit nonce, then ciphertext and tag. The key
is derived with HKDF-SHA256 from the server secret (`JINGLIN_SECRET_KEY`, or the one generated
into the data dir), so every process sharing the secret reads every file and nothing else needs
distributing. The file's name and variant are the associated data: a file copied over another
name or variant does not decrypt. Changing the secret without `jinglin rotate-key`
(server/capture/rotate.py) makes older captures unreadable.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

Variant = Literal["original", "rectified"]
VARIANTS: tuple[Variant, ...] = ("original", "rectified")
MAGIC = b"JLC1"
NONCE_BYTES = 12
# Fixed, public: HKDF's salt only separates this product's keys from other uses of the secret.
HKDF_SALT = b"jinglin-bangban capture storage"
HKDF_INFO = b"capture-aes-256-gcm v1"
CAPTURE_DIR = "captures"


class StorageError(Exception):
    """A stored image is missing or does not decrypt (wrong key, tampered or truncated file)."""


def derive_key(secret: str) -> bytes:
    """The 32-byte capture key for a server secret."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=HKDF_INFO)
    return hkdf.derive(secret.encode())


def variant_path(data_dir: Path, name: str, variant: Variant) -> Path:
    """Where a variant of a stored name lives; two-level fan-out keeps directories small."""
    if len(name) != 32 or not all(c in "0123456789abcdef" for c in name):
        raise StorageError("bad storage name")  # names come from CaptureStore.new_name() only
    return data_dir / CAPTURE_DIR / name[:2] / f"{name}.{variant}.jlc"


def delete_files(data_dir: Path, name: str) -> int:
    """Remove every variant of a stored name (no key needed); returns how many files were removed."""
    removed = 0
    for variant in VARIANTS:
        try:
            variant_path(data_dir, name, variant).unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


def write_sealed(aead: AESGCM, target: Path, magic: bytes, plaintext: bytes, aad: bytes) -> None:
    """Encrypt to `magic + nonce + ciphertext+tag` and store atomically (temporary file + rename),
    readable by the owner only. Shared with the call recordings (server/recording/storage.py)."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    nonce = os.urandom(NONCE_BYTES)
    blob = magic + nonce + aead.encrypt(nonce, plaintext, aad)
    temporary = target.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(blob)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        # A full disk fails the write or the fsync: no partial file may stay behind.
        temporary.unlink(missing_ok=True)
        raise


def read_sealed(aead: AESGCM, path: Path, magic: bytes, aad: bytes) -> bytes:
    """Decrypt a file written by `write_sealed`; StorageError when missing or not authentic."""
    try:
        blob = path.read_bytes()
    except OSError:
        raise StorageError("file missing") from None
    if not blob.startswith(magic) or len(blob) < len(magic) + NONCE_BYTES + 16:
        raise StorageError("not an encrypted file of this kind")
    nonce = blob[len(magic):len(magic) + NONCE_BYTES]
    try:
        return aead.decrypt(nonce, blob[len(magic) + NONCE_BYTES:], aad)
    except InvalidTag:
        raise StorageError("file does not decrypt") from None


class SealedStore:
    """The key handling every encrypted store shares: one AES-GCM key derived from the server
    secret, and random storage names that tell nothing about the session or the resident."""

    def __init__(self, data_dir: Path, secret: str) -> None:
        self.data_dir = data_dir
        self._aead = AESGCM(derive_key(secret))

    @staticmethod
    def new_name() -> str:
        """A fresh storage name: random, so it tells nothing about the session or the resident."""
        return secrets.token_hex(16)


class CaptureStore(SealedStore):
    """Writes, reads and deletes the encrypted variants of captured images."""

    def path(self, name: str, variant: Variant) -> Path:
        """Where a variant lives."""
        return variant_path(self.data_dir, name, variant)

    def write(self, name: str, variant: Variant, plaintext: bytes) -> Path:
        """Encrypt and store atomically (temporary file + rename), readable by the owner only."""
        target = self.path(name, variant)
        write_sealed(self._aead, target, MAGIC, plaintext, self._aad(name, variant))
        return target

    def read(self, name: str, variant: Variant) -> bytes:
        """Decrypt a stored variant; StorageError when missing or not authentic."""
        return read_sealed(self._aead, self.path(name, variant), MAGIC, self._aad(name, variant))

    def delete(self, name: str) -> int:
        """Remove every variant of a name; returns how many files were removed."""
        return delete_files(self.data_dir, name)

    @staticmethod
    def _aad(name: str, variant: Variant) -> bytes:
        return f"{name}/{variant}".encode()
