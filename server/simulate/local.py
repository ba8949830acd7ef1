"""Start a throw-away `jinglin serve` subprocess with seeded demo data, for the simulator and tests.

The server runs as a real process (its own event loop, its own embedded Redis unless REDIS_URL is
given) so that what is measured is what production runs. Seeding uses `python -m server demo
--json`, which also yields every credential the simulator needs.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The repository root, so `python -m server` works whether or not the package is installed.
ROOT = Path(__file__).resolve().parents[2]


# A server-reflexive ICE candidate line for load and relay benches (documentation address range).
SAMPLE_CANDIDATE = "candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 0.0.0.0 rport 0"


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def free_port() -> int:
    """A TCP port nobody listens on right now (bind to port 0 and let the kernel choose)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# Settings that point a server at state shared with other servers (README, configuration).
SHARED_STATE_SETTINGS = frozenset({"DATABASE_URL", "REDIS_URL", "JINGLIN_REDIS_PREFIX", "JINGLIN_SECRET_KEY",
                                   "JINGLIN_SECRET_KEY_FILE"})


def server_env(data_dir: Path, port: int, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of a local server: its data dir and port, quiet logs, fast demo passwords.

    The caller's own database, Redis and secret key are not inherited (SHARED_STATE_SETTINGS): a
    throw-away server seeds demo accounts and sessions, and run from a shell set up for a real
    installation it would write them into that installation. overrides set them on purpose (a
    benchmark's shared PostgreSQL and Redis)."""
    env = {name: value for name, value in os.environ.items() if name not in SHARED_STATE_SETTINGS}
    env.update({
        "JINGLIN_DATA_DIR": str(data_dir),
        "JINGLIN_PORT": str(port),
        "JINGLIN_LOG_LEVEL": "WARNING",
        # Seeding 80+ accounts with the standard Argon2 cost takes a minute; these are throw-away logins.
        "JINGLIN_PASSWORD_PROFILE": "fast",
    })
    env.update(overrides or {})
    return env


def seed_demo(env: dict[str, str], timeout: float = 120.0) -> dict[str, Any]:
    """Run `python -m server demo --json` in `env`; return the credentials it prints."""
    done = subprocess.run([sys.executable, "-m", "server", "demo", "--json"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"demo seeding failed ({done.returncode}): {done.stderr[-2000:]}")
    data: dict[str, Any] = json.loads(done.stdout)
    return data


@dataclass
class LocalServer:
    """A running `python -m server serve` child process."""

    data_dir: Path
    port: int
    env: dict[str, str]
    demo: dict[str, Any] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base HTTP URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """Where the server's stdout and stderr go."""
        return self.data_dir / f"server-{self.port}.log"

    @property
    def pid(self) -> int:
        """Process id of the server."""
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60.0) -> LocalServer:
        """Start serving and wait until /healthz answers 200."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "server", "serve", "--port", str(self.port)],
                                            env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server not healthy within {timeout}s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's log (for error messages)."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def launch(data_dir: Path, overrides: dict[str, str] | None = None, *, demo: dict[str, Any] | None = None,
           port: int | None = None) -> LocalServer:
    """Seed (unless `demo` is given: the database is shared and already seeded) and start a server."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    env = server_env(data_dir, port, overrides)
    server = LocalServer(data_dir=data_dir, port=port, env=env, demo=demo if demo is not None else seed_demo(env))
    return server.start()
