"""`jinglin rotate-key NEW_KEY_FILE`: move the server secret to a new key and re-encrypt every capture.

Capture files are encrypted with a key derived from the server secret (server/capture/storage.py).
Rotating reads each file under the current secret and writes it again under the new one (each
file atomically: temporary file + rename). A file that already decrypts under the new secret is
left alone, so an interrupted rotation is finished by running the command again. Stop the
servers first (or run it again after restarting them with the new key): a server still on the old
secret keeps writing new captures under it.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from server.capture.storage import CAPTURE_DIR, VARIANTS, CaptureStore, StorageError
from server.db.failure import database_failure, unreachable
from server.settings import SettingsError, checked_secret_key, load_settings, write_key_file

K = TypeVar("K")


@dataclass
class RotationReport:
    """How many capture files were re-encrypted, were already under the new key, or decrypt under neither."""

    rotated: int = 0
    already: int = 0
    unreadable: int = 0


def rotate_each(keys: Iterable[K], read_old: Callable[[K], bytes], read_new: Callable[[K], bytes],
                write_new: Callable[[K, bytes], object], unreadable: type[Exception]) -> RotationReport:
    """Re-encrypt each stored item: left alone when it already decrypts under the new key (so an
    interrupted rotation is finished by running it again), counted unreadable when it decrypts
    under neither key. Every store of the server secret rotates through here."""
    report = RotationReport()
    for key in keys:
        try:
            read_new(key)
            report.already += 1
            continue
        except unreadable:
            pass
        try:
            plaintext = read_old(key)
        except unreadable:
            report.unreadable += 1
            continue
        write_new(key, plaintext)
        report.rotated += 1
    return report


def rotate_capture_key(data_dir: Path, old_secret: str, new_secret: str) -> RotationReport:
    """Re-encrypt every capture file under `data_dir` from `old_secret` to `new_secret`."""
    old, new = CaptureStore(data_dir, old_secret), CaptureStore(data_dir, new_secret)
    files = [(path.name.split(".", 1)[0], variant) for variant in VARIANTS
             for path in sorted((data_dir / CAPTURE_DIR).glob(f"*/*.{variant}.jlc"))]
    return rotate_each(files, lambda key: old.read(*key), lambda key: new.read(*key),
                       lambda key, plaintext: new.write(*key, plaintext), StorageError)


Rotation = Callable[[Path, str, str], RotationReport]
# Every store under the server secret: captures, and what other features append (call recordings
# register theirs from server/recording/cli.py).
ROTATIONS: list[Rotation] = [rotate_capture_key]


def rotate_all(data_dir: Path, old_secret: str, new_secret: str) -> RotationReport:
    """Run every registered rotation; the counts are summed."""
    total = RotationReport()
    for rotation in ROTATIONS:
        report = rotation(data_dir, old_secret, new_secret)
        total.rotated += report.rotated
        total.already += report.already
        total.unreadable += report.unreadable
    return total


def register(subparsers: Any) -> None:
    """Add the `rotate-key` command to an argparse subparsers object (handler in set_defaults)."""
    parser = subparsers.add_parser(
        "rotate-key", help="re-encrypt captures, recordings and signatures under a new server secret",
        description="Re-encrypt every captured image, call recording and signature from the current secret "
        "(JINGLIN_SECRET_KEY, JINGLIN_SECRET_KEY_FILE or the data dir's key) to the key in NEW_KEY_FILE, "
        "which is created with a fresh random key if it does not exist. Keep the file outside the data "
        "dir; then point every server at it with JINGLIN_SECRET_KEY_FILE and restart them.")
    parser.add_argument("new_key_file", type=Path, help="file holding (or to receive) the new key")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Rotate and print what was done; 1 when some file decrypted under neither key."""
    try:
        settings = load_settings()
        old_secret = settings.resolved_secret_key()
        new_file: Path = args.new_key_file
        if new_file.resolve().is_relative_to(settings.data_dir.resolve()):
            raise SettingsError("NEW_KEY_FILE must be outside the data dir")
        if not new_file.exists():
            write_key_file(new_file, secrets.token_urlsafe(48))
        new_secret = checked_secret_key(new_file.read_text().strip(), str(new_file))
    except (SettingsError, ValueError, OSError) as exc:
        print(f"jinglin rotate-key: {exc}", file=sys.stderr)
        return 2
    try:
        report = rotate_all(settings.data_dir, old_secret, new_secret)
    except (SQLAlchemyError, OSError) as exc:  # every file done so far is complete
        if isinstance(exc, SQLAlchemyError) or unreachable(exc):  # the signatures' bindings are rows
            print(f"error: {database_failure(exc)}; fix it and run again", file=sys.stderr)
        else:  # a full disk, a read-only mount
            print(f"jinglin rotate-key: stopped ({type(exc).__name__}: {exc.strerror}); fix it and run again",
                  file=sys.stderr)
        return 1
    print(f"re-encrypted {report.rotated} files, {report.already} already under the new key, "
          f"{report.unreadable} unreadable under either key")
    print(f"now set JINGLIN_SECRET_KEY_FILE={new_file} (and unset JINGLIN_SECRET_KEY) for every server process "
          "and restart them")
    return 1 if report.unreadable else 0
