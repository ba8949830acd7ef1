"""`jinglin serve` start-up: one clear line and a non-zero exit on failure, no orphaned Redis."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from server.app import product_version
from server.db.failure import unreachable
from server.serve import StartupError, describe, preflight
from tests.helpers import make_settings

ROOT = Path(__file__).resolve().parent.parent


def _jinglin(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "JINGLIN_DATA_DIR": str(data_dir), **env}
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120, check=False)


def _embedded_redis_running(data_dir: Path) -> bool:
    # The embedded server's command line names its socket, inside the data dir.
    marker = str(data_dir.resolve()).encode()
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker in (proc / "cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def test_version() -> None:
    result = _jinglin(Path("unused"), "--version")
    assert result.stdout.strip() == f"jinglin {product_version()}"


def test_unmigrated_database_is_one_line(tmp_path: Path) -> None:
    result = _jinglin(tmp_path, "serve", "--port", "1")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: the database has no schema: run `jinglin migrate` first"


def test_bad_settings_are_one_line(tmp_path: Path) -> None:
    result = _jinglin(tmp_path, "serve", JINGLIN_PORT="abc")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "JINGLIN_PORT" in result.stderr


def test_port_in_use_stops_the_embedded_redis(tmp_path: Path) -> None:
    assert _jinglin(tmp_path, "migrate").returncode == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _jinglin(tmp_path, "serve", "--port", str(port), JINGLIN_LOG_LEVEL="ERROR")
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert not _embedded_redis_running(tmp_path)


async def test_unreachable_redis_is_named_without_its_password(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, REDIS_URL="redis://:hunter2@127.0.0.1:1/0")
    from server.db.migrate import upgrade_database

    await upgrade_database(settings.resolved_database_url)
    with pytest.raises(StartupError, match=r"Redis at redis://:\*\*\*@127.0.0.1:1/0 does not answer") as error:
        await preflight(settings)
    assert "hunter2" not in str(error.value)
    assert "hunter2" not in "\n".join(describe(settings, "127.0.0.1", 8080))


def _listen_backlog(port: int) -> int | None:
    """The accept queue size of the socket listening on `port` (`ss`: Send-Q of a listener)."""
    lines = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    return int(lines[0].split()[2]) if lines else None


def test_the_listening_socket_holds_a_reconnect_storm(tmp_path: Path) -> None:
    """A storm's connections wait in the kernel's accept queue (JINGLIN_LISTEN_BACKLOG), not
    dropped SYNs that TCP retries seconds later."""
    assert make_settings(tmp_path).listen_backlog == 4096
    assert _jinglin(tmp_path, "migrate").returncode == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environ = {**os.environ, "JINGLIN_DATA_DIR": str(tmp_path), "JINGLIN_LISTEN_BACKLOG": "1234",
               "JINGLIN_LOG_LEVEL": "ERROR"}
    server = subprocess.Popen([sys.executable, "-m", "server", "serve", "--port", str(port)], cwd=ROOT,
                              env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        server.stdout.readline()  # the banner: the socket listens
        assert _listen_backlog(port) == min(1234, int(Path("/proc/sys/net/core/somaxconn").read_text()))
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_serve_answers_through_the_paced_listener_and_stops_cleanly(tmp_path: Path) -> None:
    """`jinglin serve` takes connections with the paced listener (docs/protocol.md "Admission"),
    answers HTTP through it, and exits 0 on SIGTERM."""
    assert _jinglin(tmp_path, "migrate").returncode == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environ = {**os.environ, "JINGLIN_DATA_DIR": str(tmp_path), "JINGLIN_LOG_LEVEL": "ERROR"}
    server = subprocess.Popen([sys.executable, "-m", "server", "serve", "--port", str(port)], cwd=ROOT,
                              env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        assert f"listening on http://127.0.0.1:{port}" in server.stdout.readline()
        for _ in range(3):  # each on a new connection
            with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
                client.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
                assert client.recv(64).startswith(b"HTTP/1.1 200")
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    assert server.returncode == 0, errors


def test_a_key_too_short_stops_the_start_with_one_line(tmp_path: Path) -> None:
    assert _jinglin(tmp_path, "migrate").returncode == 0
    result = _jinglin(tmp_path, "serve", "--port", "8123", JINGLIN_SECRET_KEY="CHANGE-ME", JINGLIN_LOG_LEVEL="ERROR")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: the secret key in JINGLIN_SECRET_KEY has 9 characters")
    assert "Traceback" not in result.stderr
    assert not _embedded_redis_running(tmp_path)


def test_migrate_and_demo_on_an_unusable_database_say_so_in_one_line(tmp_path: Path) -> None:
    for args in (("migrate",), ("demo", "--json")):
        result = _jinglin(tmp_path, *args, DATABASE_URL=f"sqlite:///{tmp_path}/no/such/dir/x.db")
        assert result.returncode == 1, args
        assert result.stderr.strip() == "error: cannot use the database: unable to open database file", args
        assert result.stdout == ""


def test_every_command_names_an_unreachable_database_in_the_same_line(tmp_path: Path) -> None:
    """PostgreSQL not answering: each command prints `error: cannot use the database: <reason>`
    as its only line on standard error and exits with its documented status (2 for the
    administration commands and verify-signature, 1 for migrate, demo and purge)."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"postgresql://nobody@127.0.0.1:{probe.getsockname()[1]}/test"
    for args, status in ((("migrate",), 1), (("demo",), 1), (("purge",), 1), (("kiosk", "list"), 2),
                         (("user", "list", "--json"), 2), (("verify-signature", "1"), 2)):
        result = _jinglin(tmp_path, *args, DATABASE_URL=url)
        assert result.returncode == status, (args, result.stderr)
        assert result.stderr.startswith("error: cannot use the database: ") and result.stderr.count("\n") == 1, \
            (args, result.stderr)
        assert "nobody" not in result.stderr and result.stdout == "", args
    # The catalog commands say it in their own (Chinese) line, with no traceback.
    sheet = tmp_path / "matters.csv"
    assert _jinglin(tmp_path, "catalog", "export", "--format", "csv", "--source", "files",
                    "--output", str(sheet)).returncode == 0
    for args in (("catalog", "export", "--format", "json", "--source", "db"), ("catalog", "import", str(sheet))):
        result = _jinglin(tmp_path, *args, DATABASE_URL=url)
        assert result.returncode == 1 and result.stderr.count("\n") == 1, (args, result.stderr)
        assert result.stderr.startswith("数据库不可用") and "Traceback" not in result.stderr, args


def test_a_local_file_error_is_not_taken_for_the_database() -> None:
    assert unreachable(ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed"))
    assert unreachable(OSError("Multiple exceptions: [Errno 111] Connect call failed ('::1', 5432)"))
    assert unreachable(socket.gaierror(-2, "Name or service not known"))
    assert not unreachable(FileNotFoundError(errno.ENOENT, "No such file or directory"))
    assert not unreachable(PermissionError(errno.EACCES, "Permission denied"))
    assert not unreachable(IsADirectoryError(errno.EISDIR, "Is a directory"))


def test_a_port_outside_1_65535_is_a_usage_error(tmp_path: Path) -> None:
    for port in ("0", "65536", "-5", "http"):
        result = _jinglin(tmp_path, "serve", f"--port={port}")
        assert result.returncode == 2, port
        assert "argument --port" in result.stderr and "Traceback" not in result.stderr
