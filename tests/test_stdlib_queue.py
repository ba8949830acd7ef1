"""The `queue/` folder must never shadow the standard library's `queue` module."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_queue_folder_is_not_a_package() -> None:
    assert not (ROOT / "queue" / "__init__.py").exists()
    assert not list((ROOT / "queue").glob("*.py"))


def test_import_queue_in_this_process_is_stdlib() -> None:
    import queue

    import session_queue  # noqa: F401  (importing the engine must not change what `queue` is)

    assert Path(queue.__file__).parent == Path(sysconfig.get_paths()["stdlib"])


def test_import_queue_in_the_app_process_is_stdlib() -> None:
    code = (
        "import server.app, server.cli, session_queue, queue, sysconfig, pathlib;"
        "assert pathlib.Path(queue.__file__).parent == pathlib.Path(sysconfig.get_paths()['stdlib']), queue.__file__;"
        "import concurrent.futures, logging.handlers; print('stdlib')"
    )
    # Run from the repo root, where `queue/` is first on sys.path, as `python -m server` would be.
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "stdlib"
