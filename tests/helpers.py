"""Helpers shared by tests: settings for a temporary data dir, a migrated database."""

from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
from pathlib import Path

from server import cli
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


_template: Path | None = None  # this test process's migrated, catalogued SQLite file


async def prepare_database(settings: Settings) -> None:
    """What `jinglin migrate` does (server.cli.prepare_database), for a test's database.

    A new embedded SQLite file is a copy of one migrated and catalogued once per test process:
    running the migrations and loading the catalog cost ~0.7 s of every test that starts the app.
    A database that exists already, or one given by DATABASE_URL, is prepared for real; the
    migrations themselves are tested in tests/test_migrations.py.
    """
    global _template
    if settings.database_url or settings.sqlite_path.exists():
        await cli.prepare_database(settings)
        return
    if _template is None:
        folder = Path(tempfile.mkdtemp(prefix="jinglin-template-"))
        atexit.register(shutil.rmtree, folder, True)
        template_settings = make_settings(folder)
        await cli.prepare_database(template_settings)
        _template = template_settings.sqlite_path
    settings.ensure_data_dir()
    for suffix in ("", "-wal", "-shm"):  # WAL files stay only if a connection was left open
        source = _template.with_name(_template.name + suffix)
        if source.exists():
            shutil.copyfile(source, settings.sqlite_path.with_name(settings.sqlite_path.name + suffix))
