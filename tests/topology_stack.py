"""The production topology on this machine, from the files in deploy/: nginx with a self-signed
certificate in front of two `jinglin serve` processes on PostgreSQL and Redis, and coturn.

Every port is a free one found at start; the certificate and the TURN secret are made here and
live only in a temporary directory. The deploy files are used as they are, except for the names,
ports and paths their comments mark as site-specific.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.helpers import stop_process

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
NGINX = "/usr/sbin/nginx"
TURNSERVER = "/usr/bin/turnserver"
PUBLIC_NAME = "localhost"


def require_binaries() -> None:
    """Skip without nginx/coturn; with CI=true fail instead (scripts/test.sh installs them)."""
    missing = [path for path in (NGINX, TURNSERVER) if not Path(path).exists()]
    if not missing:
        return
    message = f"missing {', '.join(missing)} (apt-get install -y nginx coturn)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port free for TCP (and for UDP when kind is SOCK_DGRAM) on every address."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("", 0))
            port = int(tcp.getsockname()[1])
            if kind == socket.SOCK_STREAM:
                return port
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                    udp.bind(("", port))
                return port
            except OSError:
                continue


def host_address() -> str:
    """This machine's first global IPv4 address: ICE ignores loopback, so TURN must not use it."""
    listing = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True,
                             text=True, check=True).stdout.split()
    return listing[listing.index("inet") + 1].split("/")[0]


def established(port: int) -> int:
    """Established TCP connections whose local port is `port` (an app process's accepted sockets)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as lines:
            next(lines)
            for line in lines:
                local, state = line.split()[1], line.split()[3]
                count += state == "01" and int(local.rsplit(":", 1)[1], 16) == port
    return count


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for `localhost` and 127.0.0.1 and its key, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, PUBLIC_NAME)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(PUBLIC_NAME),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def rewrite(text: str, replacements: dict[str, str]) -> str:
    """Apply each replacement, insisting that it matches: a deploy file that drifted fails here."""
    for old, new in replacements.items():
        assert old in text, f"deploy file no longer contains {old!r}"
        text = text.replace(old, new)
    return text


@dataclass
class Stack:
    """The running topology and what a test needs to drive and inspect it."""

    directory: Path
    env: dict[str, str]
    app_ports: tuple[int, int]
    https_port: int
    turn_args: list[str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The public https address."""
        return f"https://{PUBLIC_NAME}:{self.https_port}"

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        """Start a child process, its output going to a log file in the stack's directory."""
        log = open(self.directory / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env,
                                                stdin=subprocess.DEVNULL)
        log.close()

    def stop(self, name: str) -> None:
        """Stop one child process (TERM, then KILL)."""
        stop_process(self.processes.pop(name))

    def restart_turn(self) -> None:
        """Stop coturn and start it again at once: every relay allocation is lost."""
        self.stop("coturn")
        self.start("coturn", self.turn_args)
        wait_for(lambda: _udp_answers(self.turn_port), 10, "coturn back")

    @property
    def turn_port(self) -> int:
        return int(next(a for a in self.turn_args if a.startswith("--listening-port=")).split("=")[1])

    def get_json(self, path: str) -> Any:
        """GET through nginx (the certificate is this stack's own)."""
        context = ssl.create_default_context(cafile=str(self.directory / "cert.pem"))
        with urllib.request.urlopen(self.url + path, timeout=10, context=context) as response:
            return json.load(response)

    def log_of(self, name: str) -> str:
        """A child's output so far, for failure messages."""
        return (self.directory / f"{name}.log").read_text(errors="replace")[-3000:]


def wait_for(condition: Any, timeout_s: float, what: str) -> None:
    """Poll until condition() is true."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _https_ok(url: str, cafile: Path) -> bool:
    try:
        context = ssl.create_default_context(cafile=str(cafile))
        with urllib.request.urlopen(url, timeout=2, context=context) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _udp_answers(port: int) -> bool:
    # A STUN binding request: coturn answers once it listens.
    request = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + secrets.token_bytes(12)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(0.3)
        try:
            udp.sendto(request, (host_address(), port))
            return len(udp.recvfrom(512)[0]) > 0
        except OSError:
            return False


def jinglin(env: dict[str, str], *args: str) -> str:
    """Run a `jinglin` command with the stack's environment; its stdout."""
    result = subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, f"jinglin {' '.join(args)} failed: {result.stderr[-2000:]}"
    return result.stdout


def _reset_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def _nginx_config(stack: Stack, cert: Path, key: Path) -> Path:
    site = rewrite((DEPLOY / "nginx" / "jinglin.conf").read_text(), {
        "server 127.0.0.1:8081": f"server 127.0.0.1:{stack.app_ports[0]}",
        "server 127.0.0.1:8082": f"server 127.0.0.1:{stack.app_ports[1]}",
        "listen 80;": f"listen 127.0.0.1:{free_port()};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{stack.https_port} ssl http2;",
        "server_name jinglin.example.gov.cn;": f"server_name {PUBLIC_NAME};",
        "/etc/ssl/jinglin/fullchain.pem": str(cert),
        "/etc/ssl/jinglin/privkey.pem": str(key),
        "/var/log/nginx/jinglin.access.log": str(stack.directory / "access.log"),
        "/opt/jinglin/web/static/": f"{ROOT / 'web' / 'static'}/",
    })
    (stack.directory / "site.conf").write_text(site)
    main = stack.directory / "nginx.conf"
    temp = stack.directory / "nginx-temp"
    temp.mkdir(mode=0o777)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers read the checkout and the temp dir
    main.write_text(f"""{user}worker_processes 1;
pid {stack.directory / 'nginx.pid'};
error_log {stack.directory / 'nginx-error.log'} warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {stack.directory / 'site.conf'};
}}
""")
    return main


@contextlib.contextmanager
def topology(directory: Path, database_url: str, redis_url: str) -> Iterator[Stack]:
    """Start app processes on an empty PostgreSQL database, nginx and coturn; stop them afterwards."""
    require_binaries()
    turn_ip = host_address()
    turn_port, relay_base = free_port(socket.SOCK_DGRAM), 40000 + secrets.randbelow(20000)
    secret = secrets.token_urlsafe(24)
    stack = Stack(directory=directory, env={}, app_ports=(free_port(), free_port()), https_port=free_port(),
                  turn_args=[])
    stack.env = {
        **os.environ,
        "DATABASE_URL": database_url, "REDIS_URL": redis_url, "JINGLIN_DATA_DIR": str(directory / "data"),
        "JINGLIN_SECRET_KEY": secrets.token_urlsafe(48),
        "JINGLIN_PUBLIC_URL": stack.url, "JINGLIN_TRUSTED_PROXIES": "127.0.0.1,::1",
        "JINGLIN_TURN_URLS": f"turn:{turn_ip}:{turn_port}?transport=udp", "JINGLIN_TURN_SECRET": secret,
        "JINGLIN_KIOSK_FORCE_RELAY": "true", "JINGLIN_LOG_LEVEL": "INFO",
    }
    stack.env.pop("JINGLIN_ALLOWED_ORIGINS", None)  # the public URL alone must be enough
    stack.turn_args = [
        TURNSERVER, "-c", str(DEPLOY / "coturn" / "turnserver.conf"),
        f"--static-auth-secret={secret}", f"--realm={PUBLIC_NAME}",
        f"--listening-ip={turn_ip}", f"--relay-ip={turn_ip}", f"--listening-port={turn_port}",
        f"--min-port={relay_base}", f"--max-port={relay_base + 200}",
        # Both browsers are on this machine: let the relay reach it (the file denies private ranges).
        f"--allowed-peer-ip={turn_ip}",
        "--no-tls", "--no-dtls", f"--log-file={directory / 'turnserver.log'}",
        f"--pidfile={directory / 'turnserver.pid'}", "--no-stdout-log",
    ]
    _reset_redis(redis_url)
    jinglin(stack.env, "migrate")
    cert, key = self_signed(directory)
    try:
        for number, port in enumerate(stack.app_ports, start=1):
            stack.start(f"app{number}", [sys.executable, "-m", "server", "serve", "--port", str(port)], stack.env)
        stack.start("coturn", stack.turn_args)
        stack.start("nginx", [NGINX, "-c", str(_nginx_config(stack, cert, key)), "-g", "daemon off;"])
        for number, port in enumerate(stack.app_ports, start=1):
            try:
                wait_for(lambda port=port: _http_ok(f"http://127.0.0.1:{port}/healthz"), 90, f"app{number}")
            except AssertionError:
                raise AssertionError(f"app{number} did not start:\n{stack.log_of(f'app{number}')}") from None
        wait_for(lambda: _https_ok(stack.url + "/healthz", cert), 20, "nginx")
        wait_for(lambda: _udp_answers(turn_port), 20, "coturn")
        yield stack
    finally:
        for name in list(stack.processes):
            stack.stop(name)
        shutil.rmtree(directory / "nginx-temp", ignore_errors=True)
