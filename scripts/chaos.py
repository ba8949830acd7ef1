"""Chaos run: two server processes, one Redis, one database, simulated kiosks and caseworkers, and
random kill -9 of a server process, Redis restarts (empty, same address) and client drops.

Prints ONE JSON summary on stdout (progress on stderr); exit 1 when a session was lost or
double assigned. Definitions: docs/reliability.md "Chaos run".

    .venv/bin/python scripts/chaos.py --sessions 100 --json
    .venv/bin/python scripts/chaos.py --sessions 2000 --duration-s 1800 --kiosks 8 --caseworkers 6
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from session_queue import OPEN_TICKET_STATES

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from server.db.engine import make_engine  # noqa: E402
from server.db.models import ServiceSession, SessionEvent  # noqa: E402
from server.runtime.embedded_redis import redis_server_binary  # noqa: E402
from server.simulate.actor import Options  # noqa: E402
from server.simulate.caseworker import SimCaseworker  # noqa: E402
from server.simulate.cast import pick_cast  # noqa: E402
from server.simulate.client import ProtocolClient  # noqa: E402
from server.simulate.kiosk import SimKiosk  # noqa: E402
from server.simulate.ledger import Ledger, SessionRecord  # noqa: E402
from server.simulate.local import LocalServer, free_port, seed_demo, server_env  # noqa: E402

SECRET = "chaos-run-secret-" + "k" * 40
TIMINGS = {"JINGLIN_CALL_RECONNECT_S": "3", "JINGLIN_OFFER_TIMEOUT_S": "5", "JINGLIN_WIDEN_AFTER_S": "5",
           "JINGLIN_WRAP_UP_S": "0", "JINGLIN_KIOSK_GRACE_S": "20", "JINGLIN_RECONCILE_SETTLE_S": "2"}


def say(text: str) -> None:
    """Readable progress on stderr."""
    print(f"[chaos {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


class RedisProcess:
    """A redis-server child on 127.0.0.1:PORT without persistence: killed and restarted empty."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port = port
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """redis:// URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start and wait until it answers PING."""
        args = [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.workdir), "--loglevel", "warning",
                "--logfile", str(self.workdir / "redis.log")]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._ping():
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer")

    def _ping(self) -> bool:
        import socket
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL and reap."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


@dataclass
class PostgresProcess:
    """A private PostgreSQL cluster (initdb in the run's temp dir) on 127.0.0.1:PORT, run as the
    `postgres` user; "restarted" by an immediate shutdown (crash recovery on the next start), so
    the machine's own PostgreSQL is never touched."""

    port: int
    workdir: Path
    bin_dir: Path
    process: subprocess.Popen[bytes] | None = None
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/chaos"

    def _as_postgres(self, *args: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)

    def init(self) -> None:
        """initdb, start, create the database."""
        self.workdir.mkdir(mode=0o700)
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres", "postgres")
            # The run's temp dir is private to root; postgres only needs to pass through it.
            self.workdir.parent.chmod(0o711)
        subprocess.run(self._as_postgres(str(self.bin_dir / "initdb"), "-D", str(self.workdir / "data"), "-U",
                                         "postgres", "--auth=trust", "-E", "UTF8"),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.start()
        subprocess.run(self._as_postgres(str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                                         "-U", "postgres", "chaos"), check=True)

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        self.process = subprocess.Popen(self._as_postgres(
            str(self.bin_dir / "postgres"), "-D", str(self.workdir / "data"), "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.workdir}",
            "-c", "max_connections=200"),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready = subprocess.run([str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("postgres did not start")

    def crash(self) -> None:
        """Immediate shutdown (SIGQUIT): no checkpoint, crash recovery on the next start."""
        if self.process is None or self.process.poll() is not None:
            return
        # The postmaster runs under runuser, which does not pass SIGQUIT on: signal it directly.
        pid = int((self.workdir / "data" / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGQUIT)
        self.process.wait(30)


@dataclass
class Chaos:
    """The run: processes, actors, observations."""

    args: argparse.Namespace
    rng: random.Random
    redis: RedisProcess
    servers: list[LocalServer]
    postgres: PostgresProcess | None = None
    ledger: Ledger = field(default_factory=Ledger)
    events: list[dict[str, Any]] = field(default_factory=list)
    recover: dict[str, list[float]] = field(default_factory=lambda: {"server_kill": [], "redis_restart": [],
                                                                     "postgres_restart": []})
    started: float = field(default_factory=time.monotonic)
    actors: list[SimKiosk | SimCaseworker] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    finished: int = 0

    def event(self, action: str, **data: Any) -> None:
        entry = {"t": round(time.monotonic() - self.started, 1), "action": action, **data}
        self.events.append(entry)
        say(json.dumps(entry, ensure_ascii=False))

    # ---- recovery ------------------------------------------------------------------------

    async def _healthy(self) -> bool:
        def probe(url: str) -> bool:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                    return bool(response.status == 200)
            except (urllib.error.URLError, OSError):
                return False
        results = await asyncio.gather(*(asyncio.to_thread(probe, s.url) for s in self.servers))
        return all(results)

    async def measure_recovery(self, kind: str, at: float, restarted: asyncio.Event) -> None:
        """Seconds from the action until every process answers /healthz 200 (after the restart)
        AND a session whose ticket was issued after the action has completed."""
        healthy_at = None
        session_at = None
        while time.monotonic() - at < 300 and not (healthy_at and session_at):
            if healthy_at is None and restarted.is_set() and await self._healthy():
                healthy_at = time.monotonic()
            if session_at is None:
                later = [r.completed_at for r in self.ledger.records
                         if r.completed_at and r.ticket_at and r.ticket_at > at]
                if later:
                    session_at = min(later)
            if self.done.is_set() and session_at is None:
                break
            await asyncio.sleep(0.1)
        if healthy_at and session_at:
            self.recover[kind].append(round(max(healthy_at, session_at) - at, 2))
            self.event("recovered", after=kind, healthz_s=round(healthy_at - at, 2),
                       next_session_s=round(session_at - at, 2))
        else:
            self.event("not_recovered", after=kind, healthz=healthy_at is not None, session=session_at is not None)

    # ---- actions -------------------------------------------------------------------------

    async def kill_server(self) -> None:
        index = self.rng.randrange(len(self.servers))
        server = self.servers[index]
        assert server.process is not None
        at = time.monotonic()
        server.process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(server.process.wait)
        down_s = self.rng.uniform(2, 5)
        self.event("kill_server", server=index, port=server.port, restart_after_s=round(down_s, 1))
        restarted = asyncio.Event()
        recovery = asyncio.create_task(self.measure_recovery("server_kill", at, restarted))
        await asyncio.sleep(down_s)
        await asyncio.to_thread(server.start)
        restarted.set()
        self.event("server_restarted", server=index)
        await recovery

    async def restart_redis(self) -> None:
        def kill() -> None:
            self.redis.kill()
            # Documented: tickets in a call go back to the queue and must be accepted again, so the
            # holders seen so far are no longer holders (not a double assignment when re-offered).
            self.ledger.holders.clear()
        await self._bounce("redis_restart", kill, self.redis.start, (0.5, 2), "redis_killed", "redis_restarted_empty")

    async def restart_postgres(self) -> None:
        assert self.postgres is not None
        await self._bounce("postgres_restart", self.postgres.crash, self.postgres.start, (1, 3), "postgres_crashed",
                           "postgres_restarted")

    async def _bounce(self, kind: str, stop: Callable[[], None], start: Callable[[], None],
                      down: tuple[float, float], stopped: str, started: str) -> None:
        """Stop a dependency, start it again after a random pause, and measure the recovery."""
        at = time.monotonic()
        await asyncio.to_thread(stop)
        down_s = self.rng.uniform(*down)
        self.event(stopped, restart_after_s=round(down_s, 1))
        await asyncio.sleep(down_s)
        await asyncio.to_thread(start)
        restarted = asyncio.Event()
        restarted.set()
        self.event(started)
        await self.measure_recovery(kind, at, restarted)

    async def drop_clients(self) -> None:
        while not self.done.is_set():
            await asyncio.sleep(self.rng.uniform(*self.args.drop_every_s))
            connected = [a for a in self.actors if a.client.connected]
            if not connected:
                continue
            actor = self.rng.choice(connected)
            self.event("drop_client", client=actor.name)
            await actor.client.sever()

    async def run_chaos(self) -> None:
        """Kill a server first, then restart Redis (then PostgreSQL, when the run has its own), then any at
        random, until the sessions are done."""
        plan = ["kill_server", "restart_redis"] + (["restart_postgres"] if self.postgres else [])
        choices = ["kill_server", "kill_server", "restart_redis"] + (["restart_postgres"] if self.postgres else [])
        actions = {"kill_server": self.kill_server, "restart_redis": self.restart_redis,
                   "restart_postgres": self.restart_postgres}
        while not self.done.is_set():
            # The planned first actions come sooner, so that even a short run sees both kinds.
            pause = self.rng.uniform(*self.args.chaos_every_s) / (2 if plan else 1)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.done.wait(), pause)
            if self.done.is_set():
                break
            action = plan.pop(0) if plan else self.rng.choice(choices)
            try:
                await actions[action]()
            except Exception as exc:
                self.ledger.error(f"chaos action {action} failed: {type(exc).__name__}: {exc}")


def make_records(n: int) -> list[SessionRecord]:
    return [SessionRecord(index=i) for i in range(n)]


async def kiosk_loop(chaos: Chaos, kiosk: SimKiosk, records: list[SessionRecord], deadline: float | None) -> None:
    for rec in records:
        if deadline is not None and time.monotonic() > deadline:
            rec.outcome = "not_started"
            continue
        try:
            # A simulated kiosk that waits forever (seen once: a `join` whose answer never came)
            # would stall the whole run; after three patience periods its session is given up.
            await asyncio.wait_for(kiosk.run_session(rec), chaos.args.session_timeout_s * 3)
        except TimeoutError:
            rec.outcome = "hung"
            chaos.ledger.error(f"{kiosk.name}: session {rec.index} hung in the simulator (ticket "
                               f"{rec.session_id or 'none'}); the kiosk reconnects")
            await kiosk.client.sever()
        except Exception as exc:
            chaos.ledger.error(f"{kiosk.name}: session {rec.index}: {type(exc).__name__}: {exc}")
        chaos.finished += 1
        if chaos.finished % 10 == 0:
            completed = sum(r.completed_at is not None for r in chaos.ledger.records)
            say(f"{chaos.finished} sessions over, {completed} seen completed by their kiosk")


async def database_states(url: str, ids: list[str]) -> tuple[dict[str, tuple[str, str | None]], int]:
    """Each session's (state, outcome), and how many transitions were recorded twice (same session,
    kind, state and moment: the identity the outbox reconciler matches on)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(ServiceSession.id, ServiceSession.state, ServiceSession.outcome)
                                       .where(ServiceSession.id.in_(ids)))).all()
            twice = (await conn.execute(
                select(func.count()).select_from(
                    select(SessionEvent.session_id).group_by(SessionEvent.session_id, SessionEvent.kind,
                                                             SessionEvent.to_state, SessionEvent.at)
                    .having(func.count() > 1).subquery()))).scalar_one()
    finally:
        await engine.dispose()
    return {row[0]: (row[1], row[2]) for row in rows}, int(twice)


async def main_async(args: argparse.Namespace, chaos: Chaos, database_url: str) -> dict[str, Any]:
    demo = chaos.servers[0].demo
    urls = [s.url for s in chaos.servers]
    catalog = ProtocolClient(urls[0], "catalog")
    try:
        matters = (await catalog.get_json("/api/v1/matters"))["matters"]
    finally:
        await catalog.close()
    rng = chaos.rng
    kiosk_roles, cw_roles = pick_cast(demo, matters, args.kiosks, args.caseworkers, rng)
    options = Options(hold_s=args.hold_s, session_timeout_s=args.session_timeout_s, video=args.video,
                      chaos=True, idle_refresh_s=args.idle_refresh_s, first_frame_timeout_s=10)
    kiosks = [SimKiosk(role, urls[i % 2], chaos.ledger, options, random.Random(rng.random()), urls=urls)
              for i, role in enumerate(kiosk_roles)]
    cws = [SimCaseworker(role, urls[(i + 1) % 2], chaos.ledger, options, urls=urls) for i, role in enumerate(cw_roles)]
    chaos.actors = [*kiosks, *cws]
    chaos.ledger.records = make_records(args.sessions)
    stop = asyncio.Event()
    deadline = time.monotonic() + args.duration_s if args.duration_s else None
    try:
        await asyncio.gather(*(cw.start() for cw in cws))
        await asyncio.gather(*(k.start() for k in kiosks))
        cw_tasks = [asyncio.create_task(cw.run(stop)) for cw in cws]
        chaos_tasks = [asyncio.create_task(chaos.run_chaos()), asyncio.create_task(chaos.drop_clients())]
        await asyncio.gather(*(kiosk_loop(chaos, k, chaos.ledger.records[i::len(kiosks)], deadline)
                               for i, k in enumerate(kiosks)))
        chaos.done.set()
        await asyncio.gather(*chaos_tasks)
        stop.set()
        await asyncio.gather(*cw_tasks)
    finally:
        chaos.done.set()
        stop.set()
        await asyncio.gather(*(a.close() for a in chaos.actors), return_exceptions=True)
    # Drain: every kiosk has finished (or cancelled) its sessions; let the last records land.
    await asyncio.sleep(args.drain_s)
    return await summarize(chaos, database_url, cws)


async def summarize(chaos: Chaos, database_url: str, cws: list[SimCaseworker]) -> dict[str, Any]:
    records = chaos.ledger.records
    ids = [r.session_id for r in records if r.session_id]
    states, recorded_twice = await database_states(database_url, ids)
    counts = {"completed": 0, "abandoned": 0, "cancelled": 0, "lost": 0, "waiting": 0, "not_started": 0,
              "unrecorded": 0, "hung": 0}
    errors = list(chaos.ledger.errors)
    for rec in records:
        if rec.outcome == "not_started":
            counts["not_started"] += 1
            continue
        if rec.outcome == "hung" and rec.session_id is None:
            counts["hung"] += 1  # the simulator gave up before a ticket: nothing exists to lose
            continue
        if rec.session_id is None:
            counts["lost"] += 1
            errors.append(f"session {rec.index}: the kiosk never got a ticket")
            continue
        state, outcome = states.get(rec.session_id, ("missing", None))
        if (state == "done" and outcome == "abandoned") or state == "abandoned":
            counts["abandoned"] += 1
        elif state == "done":
            counts["completed"] += 1
            if rec.outcome not in {"completed", "ended_away"}:
                errors.append(f"session {rec.session_id}: done in the database, the kiosk saw {rec.outcome}")
        elif state == "cancelled":
            counts["cancelled"] += 1
        elif state in {"waiting", "requeued"} and rec.outcome == "lost" and not rec.timed_out:
            counts["waiting"] += 1
        elif state in OPEN_TICKET_STATES and rec.outcome == "completed":
            # The resident was served (the kiosk got `call_ended` `completed`), but the database
            # row never followed: a process was killed between the queue transition and its record.
            counts["unrecorded"] += 1
            errors.append(f"session {rec.session_id}: completed, but its database row is still {state}/{outcome}")
        else:
            counts["lost"] += 1
            errors.append(f"session {rec.session_id} lost: database state {state}/{outcome}, kiosk saw "
                          f"{rec.outcome}{' after timing out' if rec.timed_out else ''}")
    return {
        "sessions_requested": len(records),
        **counts,
        "timed_out": sum(r.timed_out for r in records),
        "double_assigned": len(chaos.ledger.double_assigned),
        "recorded_twice": recorded_twice,
        "recover_s": chaos.recover,
        "caseworker_refreshes": sum(cw.refreshes for cw in cws),
        "caseworkers_found_offline": sum(cw.found_offline for cw in cws),
        "signal_refusals_under_chaos": chaos.ledger.chaos_refusals,
        "kiosk_welcomes_without_ticket": chaos.ledger.welcome_without_ticket,
        "reconnects": sum(a.client.reconnects for a in chaos.actors),
        "elapsed_s": round(time.monotonic() - chaos.started, 1),
        "events": chaos.events,
        "errors": errors,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--kiosks", type=int, default=6)
    parser.add_argument("--caseworkers", type=int, default=4)
    parser.add_argument("--duration-s", type=float, default=0.0,
                        help="stop starting sessions after this (0: run until all sessions are over)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a SQLite file in a temp dir)")
    parser.add_argument("--private-postgres", type=Path, metavar="BIN_DIR",
                        help="run a private PostgreSQL from BIN_DIR (initdb, postgres, pg_ctl ...) and restart it "
                        "during the run (e.g. /usr/lib/postgresql/15/bin)")
    parser.add_argument("--hold-s", type=float, default=0.3)
    parser.add_argument("--session-timeout-s", type=float, default=60.0)
    parser.add_argument("--video", default="160x120@10", help="WIDTHxHEIGHT@FPS of the synthetic camera")
    parser.add_argument("--chaos-every-s", type=float, nargs=2, default=(8.0, 16.0), metavar=("MIN", "MAX"))
    parser.add_argument("--drop-every-s", type=float, nargs=2, default=(2.0, 5.0), metavar=("MIN", "MAX"))
    parser.add_argument("--idle-refresh-s", type=float, default=4.0)
    parser.add_argument("--drain-s", type=float, default=10.0)
    parser.add_argument("--json", action="store_true", help="JSON on stdout (always; kept for symmetry)")
    args = parser.parse_args(argv)
    size, _, fps = args.video.partition("@")
    width, _, height = size.partition("x")
    args.video = (int(width), int(height), float(fps or 10))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL, stream=sys.stderr)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="jl-chaos-") as tmp:
        base = Path(tmp)
        redis = RedisProcess(free_port(), base)
        redis.start()
        postgres = None
        if args.private_postgres:
            postgres = PostgresProcess(free_port(), base / "pg", args.private_postgres)
            postgres.init()
        database_url = (postgres.url if postgres else args.database_url) or f"sqlite:///{base / 'chaos.sqlite3'}"
        shared = {"REDIS_URL": redis.url, "DATABASE_URL": database_url, "JINGLIN_SECRET_KEY": SECRET,
                  "JINGLIN_PASSWORD_PROFILE": "fast", **TIMINGS}
        servers: list[LocalServer] = []
        try:
            seed_env = server_env(base / "seed", free_port(), shared)
            (base / "seed").mkdir()
            demo = seed_demo(seed_env)
            for name in ("a", "b"):
                data_dir = base / name
                data_dir.mkdir()
                port = free_port()
                servers.append(LocalServer(data_dir=data_dir, port=port, env=server_env(data_dir, port, shared),
                                           demo=demo).start())
            say(f"redis :{redis.port}, servers {[s.port for s in servers]}, database {database_url.split(':')[0]}")
            chaos = Chaos(args=args, rng=rng, redis=redis, servers=servers, postgres=postgres)
            report = asyncio.run(main_async(args, chaos, database_url))
        finally:
            for server in servers:
                server.stop()
            redis.kill()
            if postgres is not None:
                postgres.crash()
            if os.environ.get("CHAOS_KEEP_LOGS"):
                for server in servers:
                    say(f"server {server.port} log tail:\n{server.log_tail(3000)}")
    print(json.dumps(report, ensure_ascii=False))
    ok = report["lost"] == 0 and report["double_assigned"] == 0 and report["recorded_twice"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
