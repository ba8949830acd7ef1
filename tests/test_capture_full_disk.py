"""A full disk under the data directory while stills are uploaded: a clear error, nothing corrupt.

The data directory is a small tmpfs (root only: skipped elsewhere); the database lives outside
it, as PostgreSQL would. The disk is filled, an upload is refused with 507 `storage_full` and
both members are told; no partial file stays behind, an image stored earlier still decrypts, and
once space is freed the same request takes its still.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from server.capture.context import CAPTURE
from server.db.models import Capture
from server.http import app_keys
from tests.test_capture_support import Client, capture_env, good_still, into_call, jpeg, request_capture


@contextlib.contextmanager
def small_disk(path: Path, size_mb: int) -> Iterator[Path]:
    path.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(path)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path) -> Path:
    filler = path / "filler"
    with filler.open("wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * (256 * 1024))
            handle.flush()
    return filler


async def test_a_full_disk_refuses_the_upload_clearly_and_corrupts_nothing(tmp_path: Path) -> None:
    with small_disk(tmp_path / "data", 16) as data_dir:
        async with capture_env(data_dir, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}") as env:
            made: list[Client] = []
            try:
                kiosk, cw, call_id = await into_call(env, made)
                first = (await request_capture(kiosk, cw, call_id))["capture_id"]
                assert (await (await kiosk.upload(first, jpeg(good_still()))).json())["ok"] is True
                await cw.send({"type": "capture_review", "capture_id": first, "decision": "accept"})
                await cw.expect("capture_done", capture_id=first)
                second = (await request_capture(kiosk, cw, call_id))["capture_id"]

                filler = fill(data_dir)
                response = await kiosk.upload(second, jpeg(good_still()))
                body = await response.json()
                assert (response.status, body["error"]["code"]) == (507, "storage_full"), body
                assert body["error"]["message"]
                told = await cw.expect("capture_result", capture_id=second)
                assert told["ok"] is False and told["reasons"] == ["storage_full"] and told["text"]
                assert not list(data_dir.rglob("*.tmp"))

                filler.unlink()
                response = await kiosk.upload(second, jpeg(good_still()))
                assert (response.status, (await response.json())["ok"]) == (200, True)
                store = env.app[CAPTURE].store
                async with env.app[app_keys.DB_SESSIONS]() as session:
                    rows = (await session.scalars(select(Capture).order_by(Capture.created_at))).all()
                assert [row.id for row in rows] == [first, second]
                for row in rows:
                    assert store.read(row.storage_name, "original").startswith(b"\xff\xd8")
            finally:
                for client in made:
                    await client.close()
