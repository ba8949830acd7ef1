"""The server secret kept outside the data directory, and rotating it with re-encryption."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from server.capture.rotate import rotate_capture_key
from server.capture.storage import CaptureStore, StorageError
from server.cli import main
from server.settings import SECRET_KEY_FILE, load_settings


def test_a_key_file_outside_the_data_dir_is_used_and_created_private(tmp_path: Path) -> None:
    data_dir, key_file = tmp_path / "data", tmp_path / "keys" / "secret"
    settings = load_settings(JINGLIN_DATA_DIR=str(data_dir), JINGLIN_SECRET_KEY_FILE=str(key_file))
    key = settings.resolved_secret_key()
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not (data_dir / SECRET_KEY_FILE).exists()
    assert load_settings(JINGLIN_DATA_DIR=str(data_dir), JINGLIN_SECRET_KEY_FILE=str(key_file)) \
        .resolved_secret_key() == key


def test_a_key_file_inside_the_data_dir_is_refused(tmp_path: Path) -> None:
    settings = load_settings(JINGLIN_DATA_DIR=str(tmp_path), JINGLIN_SECRET_KEY_FILE=str(tmp_path / "k"))
    with pytest.raises(ValueError, match="outside"):
        settings.resolved_secret_key()


def test_rotation_re_encrypts_every_capture_and_can_be_run_again(tmp_path: Path) -> None:
    old, new = "old-secret-" + "o" * 32, "new-secret-" + "n" * 32
    store = CaptureStore(tmp_path, old)
    names = [store.new_name() for _ in range(3)]
    for name in names:
        store.write(name, "original", b"image " + name.encode())
        store.write(name, "rectified", b"flat " + name.encode())
    foreign = CaptureStore(tmp_path, "a third secret " + "x" * 32)
    stray = foreign.new_name()
    foreign.write(stray, "original", b"not ours")

    report = rotate_capture_key(tmp_path, old, new)
    assert (report.rotated, report.already, report.unreadable) == (6, 0, 1)
    rotated = CaptureStore(tmp_path, new)
    assert rotated.read(names[1], "rectified") == b"flat " + names[1].encode()
    with pytest.raises(StorageError):
        CaptureStore(tmp_path, old).read(names[1], "original")
    # Interrupted or repeated: files already under the new key are left as they are.
    again = rotate_capture_key(tmp_path, old, new)
    assert (again.rotated, again.already, again.unreadable) == (0, 6, 1)
    assert not list(tmp_path.rglob("*.tmp"))


def _one_capture_under_the_old_key(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[CaptureStore, str]:
    """A data dir holding one capture under the configured (old) key: its store and name."""
    monkeypatch.setenv("JINGLIN_DATA_DIR", str(data_dir))
    monkeypatch.setenv("JINGLIN_SECRET_KEY", "old-secret-" + "o" * 32)
    store = CaptureStore(data_dir, "old-secret-" + "o" * 32)
    name = store.new_name()
    store.write(name, "original", b"image")
    return store, name


def test_the_command_rotates_and_creates_the_new_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    data_dir, new_file = tmp_path / "data", tmp_path / "keys" / "new"
    _, name = _one_capture_under_the_old_key(data_dir, monkeypatch)
    assert main(["rotate-key", str(new_file)]) == 0
    assert "re-encrypted 1 files" in capsys.readouterr().out
    assert CaptureStore(data_dir, new_file.read_text().strip()).read(name, "original") == b"image"
    assert main(["rotate-key", str(data_dir / "inside")]) == 2


@pytest.mark.parametrize("key", ["", " ", "CHANGE-ME", "k" * 31])
def test_a_key_too_short_to_be_secret_is_refused_wherever_it_is_set(
        key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir, short_file = tmp_path / "data", tmp_path / "keys" / "short"
    short_file.parent.mkdir()
    short_file.write_text(key)
    from_file = load_settings(JINGLIN_DATA_DIR=str(data_dir), JINGLIN_SECRET_KEY_FILE=str(short_file))
    with pytest.raises(ValueError, match="at least 32"):
        from_file.resolved_secret_key()
    if key:  # an empty JINGLIN_SECRET_KEY means "not set": the key file or a generated key is used
        with pytest.raises(ValueError, match="at least 32"):
            load_settings(JINGLIN_DATA_DIR=str(data_dir), JINGLIN_SECRET_KEY=key).resolved_secret_key()
    # Rotating onto it would leave every capture, recording and signature under a guessable key.
    store, name = _one_capture_under_the_old_key(data_dir, monkeypatch)
    assert main(["rotate-key", str(short_file)]) == 2
    assert "at least 32" in capsys.readouterr().err
    assert store.read(name, "original") == b"image"  # untouched, still under the old key
