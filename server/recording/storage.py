"""Encrypted recording chunks under `{data_dir}/recordings/`, with server-chosen names only.

Each chunk file is AES-256-GCM like a capture (server/capture/storage.py, whose key derivation is
reused: one secret, one key handling): `JLR1` magic, a random 96-bit nonce, ciphertext and tag.
The associated data is the recording's storage name and the chunk index, so a chunk copied over
another index or into another recording does not decrypt.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from server.capture.storage import SealedStore, StorageError, read_sealed, write_sealed

MAGIC = b"JLR1"
RECORDING_DIR = "recordings"
# The index of the continuous WebM made for the player at close: beyond any chunk index.
REPLAY_INDEX = 9_999_999


class ChunkError(Exception):
    """A stored chunk is missing or does not decrypt (wrong key, tampered or truncated file)."""


def recording_dir(data_dir: Path, name: str) -> Path:
    """The directory of one recording's chunks; two-level fan-out keeps directories small."""
    if len(name) != 32 or not all(c in "0123456789abcdef" for c in name):
        raise ChunkError("bad storage name")  # names come from new_name() only
    return data_dir / RECORDING_DIR / name[:2] / name


def delete_recording(data_dir: Path, name: str) -> int:
    """Remove every chunk file of a recording (no key needed); returns how many were removed."""
    directory = recording_dir(data_dir, name)
    if not directory.is_dir():
        return 0
    removed = sum(1 for path in directory.iterdir() if path.suffix == ".jlr")
    shutil.rmtree(directory, ignore_errors=True)
    return removed


class ChunkStore(SealedStore):
    """Writes and reads the encrypted chunks of recordings."""

    def path(self, name: str, index: int) -> Path:
        """Where chunk `index` of a recording lives."""
        return recording_dir(self.data_dir, name) / f"{index:07d}.jlr"

    def write(self, name: str, index: int, plaintext: bytes) -> None:
        """Encrypt and store atomically, readable by the owner only."""
        write_sealed(self._aead, self.path(name, index), MAGIC, plaintext, self._aad(name, index))

    def read(self, name: str, index: int) -> bytes:
        """Decrypt one chunk; ChunkError when missing or not authentic."""
        try:
            return read_sealed(self._aead, self.path(name, index), MAGIC, self._aad(name, index))
        except StorageError as exc:
            raise ChunkError(str(exc)) from None

    @staticmethod
    def _aad(name: str, index: int) -> bytes:
        return f"recording/{name}/{index}".encode()


def chunk_files(data_dir: Path) -> list[tuple[str, int]]:
    """(storage name, index) of every chunk file on disk, for the key rotation."""
    found = []
    for path in sorted((data_dir / RECORDING_DIR).glob("*/*/*.jlr")):
        if path.stem.isdigit():
            found.append((path.parent.name, int(path.stem)))
    return found
