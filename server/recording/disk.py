"""Free space on the data volume: uploads stop before the disk fills (the call itself goes on)."""

from __future__ import annotations

import shutil
from pathlib import Path


def free_mb(path: Path) -> float:
    """Free megabytes (MiB) on the volume holding `path`."""
    return shutil.disk_usage(path).free / (1024 * 1024)


def low_on_space(path: Path, min_free_mb: int) -> bool:
    """True when the volume has less than `min_free_mb` free (0 turns the check off)."""
    return min_free_mb > 0 and free_mb(path) < min_free_mb
