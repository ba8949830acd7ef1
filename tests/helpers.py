"""Helpers shared by tests: settings for a temporary data dir, a migrated database."""

from __future__ import annotations

import subprocess
from pathlib import Path

from server.settings import Settings, load_settings


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for a test: a temporary data dir, a fixed secret, embedded defaults unless overridden."""
    values: dict[str, object] = {
        "JINGLIN_DATA_DIR": str(data_dir),
        "JINGLIN_SECRET_KEY": "test-secret-key-" + "x" * 32,
    }
    values.update(overrides)
    return load_settings(**values)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Stop a child process: TERM, then KILL if it has not ended within 10 s."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
