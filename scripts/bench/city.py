"""City-size run: thousands of kiosks on several server processes, arrivals at a multiple of the
peak, then one process killed and its kiosks welcomed again by the others.

A benchmark, not CI. It generates a synthetic city (scripts/bench/city_seed.py: `--kiosks`
committees with one kiosk each, `--caseworkers` spread over `--centres` streets and their
centres) in `--database-url` (PostgreSQL; the schema is wiped), starts `--processes`
`python -m server serve` processes sharing that database, `--redis-url` and `--redis-prefix`,
and drives them from this process with lightweight protocol clients (raw WebSockets, no media):

- every kiosk connects during `--ramp-s` to its home process (kiosk n → process n mod P) and
  stays connected, pinging every 25 s; caseworkers sign in over HTTP, connect and go available;
- residents arrive as a Poisson process at `--multiplier` × the city's peak, scaled from the
  district's (`--district-peak-per-hour` 50 sessions/hour over 249 kiosks, per kiosk, times the
  kiosks): join → offer → accept → SDP and one ICE candidate each way per second while the call
  is held (`--hold-s`) → end_call → finish_wrap_up → rate. Every signal carries its send time:
  relay latency is measured one way, per call, all run long;
- after `--duration-s` of steady arrivals, process 0 is killed (SIGKILL); its clients fail over
  to the others (backoff with full jitter, honouring `try_again` hints; a reconnect goes to a live
  process as through the deployment's nginx, whose `max_fails=1` takes the dead upstream out after
  one failed connect; `--no-balancer`: each client first fails on its dead process), and the run measures
  the time until every kiosk is welcomed again, the relay latency of the calls meanwhile, and
  carries on for `--after-kill-s`.

Reported (one JSON object on stdout; progress on stderr): p50/p95/max of every HTTP call and
message type (request → answer at the client), relay latency (p50/p95/p99) before, during and
after the storm (calls with an end on the killed process apart: they wait for that end's own
failover), this generator's own event-loop lag per phase (the share of those latencies that is
the measuring client's), Redis commands/s (INFO of the whole Redis server: other users of it
count too), PostgreSQL transactions/s of the database, RSS and CPU per server process, the machine's load average, and
the kill: kiosks on the killed process, seconds until all were welcomed again, refusals met.

    .venv/bin/python scripts/bench/city.py --kiosks 300 --caseworkers 30 --centres 10 --duration-s 60 \\
        --ramp-s 20 --after-kill-s 20            # a small check of the script
    .venv/bin/python scripts/bench/city.py   # 6,000 kiosks, 600 caseworkers, 220 centres, 3 processes, 10 min
"""

from __future__ import annotations

import os

os.environ.setdefault("JINGLIN_PASSWORD_PROFILE", "fast")  # before the server's password module loads

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import signal
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from city_seed import City, seed_city, skills_cover

from server.settings import load_settings
from server.simulate.backoff import reconnect_delay_s
from server.simulate.ledger import percentile
from server.simulate.local import SAMPLE_CANDIDATE, LocalServer, free_port, rss_mb, server_env
from server.simulate.raw_ws import Closed, RawWebSocket

DISTRICT_KIOSKS = 249
FAKE_SDP = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" + "a=x-city:" + "0" * 1200 + "\r\n"


def candidate(sender: Lite) -> dict[str, Any]:
    """An ICE candidate signal carrying its send time (relay latency is measured one way) and
    whether its sender was on the killed process (such a call waits for its own failover)."""
    return {"candidate": {"candidate": SAMPLE_CANDIDATE, "sdpMid": "0", "sdpMLineIndex": 0, "t": time.time(),
                          "moved": sender.moved}}


def log(*parts: object) -> None:
    """A progress line on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}]", *parts, file=sys.stderr, flush=True)


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf(os.sysconf_names["SC_CLK_TCK"])


class Stats:
    """Latencies per API and message type, relay latencies, errors."""

    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.relay: dict[str, list[float]] = defaultdict(list)  # phase -> seconds
        self.loop_lag: dict[str, list[float]] = defaultdict(list)  # phase -> this generator's own lag
        self.errors: dict[str, int] = defaultdict(int)
        self.phase = "steady"
        self.served = 0
        self.arrivals = 0
        self.welcomes: dict[int, float] = {}  # kiosk id -> monotonic time of its last welcome
        self.refusals = 0

    def time(self, name: str, seconds: float) -> None:
        self.latency[name].append(seconds)

    def error(self, what: str) -> None:
        self.errors[what] += 1


class Lite:
    """One kiosk or caseworker: a raw WebSocket, requests by id, failover with backoff."""

    def __init__(self, run: Run, role: str, home: int, cookie: str | None = None) -> None:
        self.run = run
        self.role = role
        self.home = home
        self.process = home
        self.cookie = cookie
        self.ws: RawWebSocket | None = None
        self.resume: str | None = None
        self.welcomed = asyncio.Event()
        self.ids = itertools.count(1)
        self.waiting: dict[int, tuple[str, float, asyncio.Future[dict[str, Any]]]] = {}
        self.handlers: dict[str, Any] = {}
        self.kiosk_id: int | None = None
        self.closed = False
        self.moved = False  # was on the process that the run killed

    async def request(self, message: dict[str, Any], timeout: float = 15.0) -> dict[str, Any]:
        """Send with an id; the ok/error answer (timed under the message type)."""
        if self.ws is None or not self.welcomed.is_set():
            return {"type": "error", "code": "offline"}
        ref = next(self.ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[ref] = (message["type"], time.perf_counter(), future)
        try:
            await self.ws.send_str(json.dumps({**message, "id": ref}))
            return await asyncio.wait_for(future, timeout)
        except (TimeoutError, ConnectionError, RuntimeError):
            self.run.stats.error(f"ws {message['type']} no answer")
            return {"type": "error", "code": "timeout"}
        finally:
            self.waiting.pop(ref, None)

    async def send(self, message: dict[str, Any]) -> None:
        if self.ws is not None and not self.ws.closed and self.welcomed.is_set():
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.send_str(json.dumps(message))

    async def live(self) -> None:
        """Stay connected until the run ends: reconnect with backoff, other processes after a failure."""
        attempt = 0
        while not self.closed:
            hint_s = 0.0
            try:
                hint_s = await self._session()
                attempt = 0 if hint_s == 0 else attempt
            except (OSError, TimeoutError) as exc:
                self.run.stats.error(f"connect {type(exc).__name__}")
                # This process is gone: one of the others, at random (spreads the storm).
                others = [i for i in range(len(self.run.urls)) if i != self.process and not self.run.dead(i)]
                self.process = random.choice(others) if others else self.process
            if self.closed:
                return
            await asyncio.sleep(reconnect_delay_s(attempt, 0.5, 10.0, hint_s))
            attempt += 1

    async def _session(self) -> float:
        """One connection: hello, welcome, read until closed; returns the retry hint (s) if refused."""
        if self.run.args.balancer and self.run.dead(self.process):
            # The deployment's nginx (deploy/nginx/jinglin.conf: max_fails=1, proxy_next_upstream)
            # sends a reconnect to a live process once one connect to the dead one has failed.
            self.process = random.choice([i for i in range(len(self.run.urls)) if not self.run.dead(i)])
        url = self.run.urls[self.process].replace("http", "ws", 1) + "/api/v1/ws"
        started = time.perf_counter()
        ws = await RawWebSocket.connect(url, {"Cookie": f"jl_session={self.cookie}"})
        self.ws = ws
        try:
            hello: dict[str, Any] = {"type": "hello", "v": 1}
            if self.resume:
                hello["resume"] = self.resume
            await ws.send_str(json.dumps(hello))
            while True:
                data = await ws.receive()
                if isinstance(data, Closed):
                    break
                message = json.loads(data)
                kind = message.get("type")
                if kind == "welcome":
                    self.run.stats.time("ws hello → welcome", time.perf_counter() - started)
                    self.resume = message.get("resume_token")
                    if self.kiosk_id is not None:
                        self.run.stats.welcomes[self.kiosk_id] = time.monotonic()
                    self.welcomed.set()
                elif kind == "error" and message.get("code") == "try_again":
                    self.run.stats.refusals += 1
                    return float(message.get("retry_after_ms", 1000)) / 1000
                ref = message.get("ref")
                if ref is not None and ref in self.waiting:
                    name, sent, future = self.waiting[ref]
                    self.run.stats.time(f"ws {name}", time.perf_counter() - sent)
                    if not future.done():
                        future.set_result(message)
                    if kind in ("ok", "error", "pong"):
                        if kind == "error" and message.get("code") not in ("stale_fence", "not_holder", "wrong_state",
                                                                           "unknown_ticket", "no_ticket"):
                            self.run.stats.error(f"ws {name} {message.get('code')}")
                        continue
                handler = self.handlers.get(kind)
                if handler is not None:
                    self.run.start(handler(message))
        finally:
            await ws.close()
        self.welcomed.clear()
        self.ws = None
        for _, _, future in list(self.waiting.values()):
            if not future.done():
                future.set_result({"type": "error", "code": "disconnected"})
        return 0.0

    async def pinger(self) -> None:
        """`ping` every 25 s (± 5), like the kiosk page."""
        await asyncio.sleep(random.uniform(0, 25))
        while not self.closed:
            if self.welcomed.is_set():
                await self.request({"type": "ping"})
            await asyncio.sleep(random.uniform(20, 30))


class Run:
    """The run: processes, clients, arrivals, the kill."""

    def __init__(self, args: argparse.Namespace, city: City, servers: list[LocalServer]) -> None:
        self.args = args
        self.city = city
        self.servers = servers
        self.urls = [s.url for s in servers]
        self.killed: set[int] = set()
        self.stats = Stats()
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar())
        self.kiosks: list[Lite] = []
        self.caseworkers: list[Lite] = []
        self.idle_kiosks: list[Lite] = []
        self.calls: dict[str, dict[str, Any]] = {}
        self.tasks: list[asyncio.Task[Any]] = []
        # Every simulated caseworker signs in from 127.0.0.1, and the sign-in throttle refuses an
        # address with more than 30 attempts in flight: a real office has far fewer at once.
        self.sign_ins = asyncio.Semaphore(8)

    def dead(self, index: int) -> bool:
        return index in self.killed

    def start(self, coroutine: Any) -> None:
        self.tasks.append(asyncio.ensure_future(coroutine))

    # -- kiosks ---------------------------------------------------------------------------

    async def kiosk(self, n: int, info: dict[str, Any]) -> None:
        client = Lite(self, "kiosk", n % len(self.urls), info["cookie"])
        client.kiosk_id = info["id"]
        client.handlers = {"signal": lambda m: self.kiosk_signal(client, m),
                           "call_ended": lambda m: self.kiosk_call_ended(client, m)}
        self.kiosks.append(client)
        self.idle_kiosks.append(client)
        self.start(client.live())
        self.start(client.pinger())

    async def kiosk_signal(self, client: Lite, message: dict[str, Any]) -> None:
        data = message.get("data", {})
        if data.get("description", {}).get("type") == "offer":
            await client.send({"type": "signal", "call_id": message["call_id"],
                               "data": {"description": {"type": "answer", "sdp": FAKE_SDP}}})
        elif "candidate" in data:
            self.relayed(client, data)
            await client.send({"type": "signal", "call_id": message["call_id"], "data": candidate(client)})

    async def kiosk_call_ended(self, client: Lite, message: dict[str, Any]) -> None:
        reply = await client.request({"type": "rate", "session_id": message["session_id"], "score": 5})
        if reply.get("type") == "ok":
            self.stats.served += 1
        self.calls.pop(message["call_id"], None)
        self.idle_kiosks.append(client)

    def relayed(self, receiver: Lite, data: dict[str, Any]) -> None:
        """One way relay latency, apart for calls with an end on the killed process (they wait for
        that end to fail over: not what a storm does to the calls of the surviving processes)."""
        sent = data.get("candidate", {}).get("t")
        if isinstance(sent, float):
            moved = receiver.moved or bool(data["candidate"].get("moved"))
            phase = self.stats.phase
            if moved and phase != "steady":
                phase += " (an end on the killed process)"
            self.stats.relay[phase].append(time.time() - sent)

    async def lag(self, stop: asyncio.Event) -> None:
        """This generator's own event-loop lag (a 20 ms sleep's overshoot): the part of the relay
        latency that is the measuring client's, not the servers'."""
        while not stop.is_set():
            asked = time.perf_counter()
            await asyncio.sleep(0.02)
            self.stats.loop_lag[self.stats.phase].append(time.perf_counter() - asked - 0.02)

    async def arrival(self) -> None:
        if not self.idle_kiosks:
            self.stats.error("arrival: no idle kiosk")
            return
        client = self.idle_kiosks.pop(random.randrange(len(self.idle_kiosks)))
        matter = random.choice(self.city.matters)
        self.stats.arrivals += 1
        reply = await client.request({"type": "join", "matter_id": matter["id"], "mode": matter["mode"]})
        if reply.get("type") != "ok":
            self.stats.error(f"join {reply.get('code')}")
            self.idle_kiosks.append(client)

    async def arrivals(self, stop: asyncio.Event) -> None:
        per_hour = self.args.multiplier * self.args.district_peak_per_hour / DISTRICT_KIOSKS * len(self.city.kiosks)
        rate_per_s = per_hour / 3600
        log(f"arrivals: {rate_per_s:.2f}/s ({rate_per_s * 3600:.0f}/hour)")
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), random.expovariate(rate_per_s))
            if not stop.is_set():
                self.start(self.arrival())

    # -- caseworkers ----------------------------------------------------------------------

    async def caseworker(self, n: int, info: dict[str, Any]) -> None:
        home = n % len(self.urls)
        async with self.sign_ins:
            started = time.perf_counter()
            async with self.http.post(self.urls[home] + "/api/v1/auth/login",
                                      json={"username": info["username"], "password": info["password"]}) as response:
                self.stats.time("POST /api/v1/auth/login", time.perf_counter() - started)
                if response.status != 200:
                    self.stats.error(f"login {response.status}")
                    return
                cookie = response.cookies["jl_session"].value
        client = Lite(self, "caseworker", home, cookie)
        client.handlers = {"offer": lambda m: self.offer(client, m), "call": lambda m: self.call(client, m),
                           "signal": lambda m: self.cw_signal(client, m),
                           "welcome": lambda m: self.cw_welcome(client, m)}
        self.caseworkers.append(client)
        self.start(client.live())

    async def cw_welcome(self, client: Lite, message: dict[str, Any]) -> None:
        """Go available on the first welcome, and after a failover if the queue forgot this console."""
        state = message.get("state", {})
        if state.get("agent", {}).get("state") in ("offline", "break"):
            await client.request({"type": "set_status", "status": "available"})
        if state.get("offer"):
            await self.offer(client, {"offer": state["offer"]})

    async def offer(self, client: Lite, message: dict[str, Any]) -> None:
        offer = message["offer"]
        await client.request({"type": "accept", "ticket_id": offer["ticket_id"], "fence": offer["fence"]})

    async def call(self, client: Lite, message: dict[str, Any]) -> None:
        call = message["call"]
        if call["call_id"] in self.calls:
            return
        self.calls[call["call_id"]] = call
        await client.send({"type": "signal", "call_id": call["call_id"],
                           "data": {"description": {"type": "offer", "sdp": FAKE_SDP}}})
        ends = time.monotonic() + self.args.hold_s
        while time.monotonic() < ends:
            await asyncio.sleep(1.0)
            await client.send({"type": "signal", "call_id": call["call_id"], "data": candidate(client)})
        reply = await client.request({"type": "end_call", "ticket_id": call["session_id"], "outcome": "completed"})
        if reply.get("type") == "ok":
            await client.request({"type": "finish_wrap_up"})

    async def cw_signal(self, client: Lite, message: dict[str, Any]) -> None:
        self.relayed(client, message.get("data", {}))

    # -- measurements ---------------------------------------------------------------------

    async def sample(self, stop: asyncio.Event, samples: list[dict[str, Any]], database_url: str) -> None:
        redis = aioredis.Redis.from_url(self.args.redis_url)
        import asyncpg
        pg = await asyncpg.connect(database_url.replace("+asyncpg", ""))
        try:
            while not stop.is_set():
                info = await redis.info("stats")
                row = await pg.fetchrow("SELECT xact_commit + xact_rollback AS x FROM pg_stat_database "
                                        "WHERE datname = current_database()")
                samples.append({
                    "t": time.monotonic(), "redis_commands": info["total_commands_processed"], "pg_xacts": row["x"],
                    "load": [float(x) for x in os.getloadavg()],
                    "rss_mb": {i: round(rss_mb(s.pid), 1) for i, s in enumerate(self.servers) if i not in self.killed},
                    "cpu_s": {i: cpu_s(s.pid) for i, s in enumerate(self.servers) if i not in self.killed},
                    "welcomed": sum(1 for k in self.kiosks if k.welcomed.is_set()),
                    "calls": len(self.calls),
                })
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 5)
        finally:
            await redis.aclose()
            await pg.close()

    async def kill(self, victim: int) -> dict[str, Any]:
        """SIGKILL one process; wait until every kiosk is welcomed again."""
        on_victim = [k for k in self.kiosks if k.process == victim]
        for client in itertools.chain(self.kiosks, self.caseworkers):
            client.moved = client.process == victim
        log(f"killing process {victim} ({len(on_victim)} kiosks on it)")
        refusals_before = self.stats.refusals
        self.stats.phase = "storm"  # until every kiosk of the killed process is welcomed again
        killed_at = time.monotonic()
        self.killed.add(victim)
        process = self.servers[victim].process
        assert process is not None
        spy = None
        if self.args.profile_failover:
            # A sampling profile of one surviving process through the failover (collapsed stacks).
            survivor = next(s for i, s in enumerate(self.servers) if i not in self.killed)
            spy = await asyncio.create_subprocess_exec(
                "py-spy", "record", "--pid", str(survivor.pid), "--format", "raw", "--rate", "200", "--gil",
                "--nonblocking", "-o", str(self.args.profile_failover),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            await asyncio.sleep(1.0)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        deadline = killed_at + 120
        all_back = None
        # Where the time goes: every second, kiosks back, refusals, and the CPU of the surviving
        # servers and of this generator (which shares the machine's cores with them).
        timeline: list[dict[str, Any]] = []
        survivors = {i: s.pid for i, s in enumerate(self.servers) if i not in self.killed}
        cpu_before = {i: cpu_s(pid) for i, pid in survivors.items()}
        own_before = time.process_time()
        next_mark = killed_at + 1.0
        while time.monotonic() < deadline:
            back_now = sum(1 for k in on_victim if self.stats.welcomes.get(k.kiosk_id or 0, 0) > killed_at)
            if time.monotonic() >= next_mark or back_now == len(on_victim):
                timeline.append({"t_s": round(time.monotonic() - killed_at, 1), "back": back_now,
                                 "refusals": self.stats.refusals - refusals_before,
                                 "server_cpu_s": {i: round(cpu_s(pid) - cpu_before[i], 2)
                                                  for i, pid in survivors.items()},
                                 "generator_cpu_s": round(time.process_time() - own_before, 2)})
                log(f"failover {timeline[-1]}")
                next_mark += 1.0
            if back_now == len(on_victim):
                all_back = time.monotonic() - killed_at
                break
            await asyncio.sleep(0.1)
        self.stats.phase = "after_storm"
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            await asyncio.wait_for(spy.wait(), 30)
        back = sorted(self.stats.welcomes.get(k.kiosk_id or 0, 0) - killed_at for k in on_victim)
        back = [b for b in back if b > 0]
        return {"kiosks_on_killed_process": len(on_victim),
                "all_welcomed_again_s": round(all_back, 2) if all_back else None,
                "welcomed_again": len(back),
                "p50_s": round(percentile(back, 50), 2) if back else None,
                "p95_s": round(percentile(back, 95), 2) if back else None,
                "refusals_meanwhile": self.stats.refusals - refusals_before, "timeline": timeline}


def rate(samples: list[dict[str, Any]], key: str, start: float, end: float) -> float | None:
    """Per-second increase of a sampled counter between two times."""
    inside = [s for s in samples if start <= s["t"] <= end]
    if len(inside) < 2:
        return None
    return round((inside[-1][key] - inside[0][key]) / (inside[-1]["t"] - inside[0]["t"]), 1)


def summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0}
    return {"count": len(values), "p50_ms": round(percentile(values, 50) * 1000, 1),
            "p95_ms": round(percentile(values, 95) * 1000, 1), "p99_ms": round(percentile(values, 99) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1)}


async def drive(args: argparse.Namespace, city: City, servers: list[LocalServer]) -> dict[str, Any]:
    run = Run(args, city, servers)
    samples: list[dict[str, Any]] = []
    stop_sampling = asyncio.Event()
    sampler = asyncio.ensure_future(run.sample(stop_sampling, samples, args.database_url))
    lag = asyncio.ensure_future(run.lag(stop_sampling))
    began = time.monotonic()
    log(f"connecting {len(city.kiosks)} kiosks over {args.ramp_s}s")
    for n, info in enumerate(city.kiosks):
        await run.kiosk(n, info)
        if n % 20 == 19:  # in steps of 20: short sleeps oversleep on a busy machine
            await asyncio.sleep(args.ramp_s * 20 / len(city.kiosks))
    for n, info in enumerate(city.caseworkers):
        run.start(run.caseworker(n, info))
        await asyncio.sleep(0.02)
    for _ in range(600):
        welcomed = sum(1 for k in run.kiosks if k.welcomed.is_set())
        if welcomed == len(run.kiosks):
            break
        await asyncio.sleep(0.5)
    ramp_done = time.monotonic()
    log(f"ramp done in {ramp_done - began:.0f}s: {welcomed} kiosks welcomed")
    stop_arrivals = asyncio.Event()
    arrivals = asyncio.ensure_future(run.arrivals(stop_arrivals))
    await asyncio.sleep(args.duration_s)
    steady_end = time.monotonic()
    log(f"steady part over: {run.stats.arrivals} arrivals, {run.stats.served} served; killing")
    kill = await run.kill(0)
    log(f"kill: {kill}")
    await asyncio.sleep(args.after_kill_s)
    stop_arrivals.set()
    await arrivals
    await asyncio.sleep(args.hold_s + 5)  # let the calls under way end
    end = time.monotonic()
    stop_sampling.set()
    await sampler
    await lag
    for task in run.tasks:
        task.cancel()
    await asyncio.gather(*run.tasks, return_exceptions=True)
    await run.http.close()
    stats = run.stats
    last = samples[-1] if samples else {}
    steady = [s for s in samples if ramp_done <= s["t"] <= steady_end]
    return {
        "kiosks": len(city.kiosks), "caseworkers": len(city.caseworkers), "centres": args.centres,
        "processes": len(servers), "duration_s": args.duration_s, "ramp_s": round(ramp_done - began, 1),
        "arrivals_per_hour": round(args.multiplier * args.district_peak_per_hour / DISTRICT_KIOSKS
                                   * len(city.kiosks), 1),
        "arrivals": stats.arrivals, "served_and_rated": stats.served,
        "apis": {name: summary(values) for name, values in sorted(stats.latency.items())},
        "relay": {phase: summary(values) for phase, values in stats.relay.items()},
        "generator_loop_lag": {phase: summary(values) for phase, values in stats.loop_lag.items()},
        "kill": kill,
        "redis_commands_per_s": rate(samples, "redis_commands", ramp_done, steady_end),
        "pg_transactions_per_s": rate(samples, "pg_xacts", ramp_done, steady_end),
        "rss_mb_end_of_steady": steady[-1]["rss_mb"] if steady else None,
        "rss_mb_end": last.get("rss_mb"),
        "server_cpu_share_steady": {
            i: round((steady[-1]["cpu_s"][i] - steady[0]["cpu_s"][i]) / (steady[-1]["t"] - steady[0]["t"]), 3)
            for i in steady[0]["cpu_s"]} if len(steady) >= 2 else None,
        "load_average": {"start": samples[0]["load"] if samples else None,
                         "steady_mean_1m": round(sum(s["load"][0] for s in steady) / len(steady), 2)
                         if steady else None,
                         "end": last.get("load")},
        "refusals": stats.refusals,
        "errors": dict(stats.errors),
        "elapsed_s": round(end - began, 1),
    }


def server_warnings(servers: list[LocalServer]) -> dict[str, int]:
    """Counts of the servers' warning and error lines, by message."""
    counts: dict[str, int] = defaultdict(int)
    for server in servers:
        for line in server.log_path.read_text(errors="replace").splitlines():
            if " WARNING " in line or " ERROR " in line:
                counts[line.split(": ", 1)[-1][:100]] += 1
    return dict(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kiosks", type=int, default=6000)
    parser.add_argument("--caseworkers", type=int, default=600)
    parser.add_argument("--centres", type=int, default=220)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--duration-s", type=float, default=600, help="steady arrivals before the kill")
    parser.add_argument("--after-kill-s", type=float, default=60)
    parser.add_argument("--ramp-s", type=float, default=180)
    parser.add_argument("--multiplier", type=float, default=5)
    parser.add_argument("--district-peak-per-hour", type=float, default=50)
    parser.add_argument("--hold-s", type=float, default=20)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/scale")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--redis-prefix", default="jlcity:")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--balancer", action=argparse.BooleanOptionalAction, default=True,
                        help="reconnects go to a live process, as through the deployment's nginx (with "
                             "--no-balancer each client first tries its dead process and backs off)")
    parser.add_argument("--profile-failover", type=Path, metavar="FILE",
                        help="py-spy (if installed) one surviving process from the kill until every kiosk is back")
    args = parser.parse_args()
    random.seed(args.seed)
    with tempfile.TemporaryDirectory(prefix="jl-city-") as tmp:
        base = {"DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url,
                "JINGLIN_REDIS_PREFIX": args.redis_prefix, "JINGLIN_SECRET_KEY": "city-run-" + "k" * 40,
                "JINGLIN_WIDEN_AFTER_S": "30", "JINGLIN_WRAP_UP_S": "5", "JINGLIN_OFFER_TIMEOUT_S": "20"}
        settings = load_settings(JINGLIN_DATA_DIR=tmp, **base)
        log("seeding the city")
        started = time.monotonic()
        city = asyncio.run(seed_city(settings, args.kiosks, args.caseworkers, args.centres))
        assert skills_cover(city), "some street's caseworkers do not cover every skill"
        log(f"seeded in {time.monotonic() - started:.0f}s; flushing this run's Redis keys")

        async def flush() -> None:
            redis = aioredis.Redis.from_url(args.redis_url)
            async for key in redis.scan_iter(match=args.redis_prefix + "*", count=1000):
                await redis.delete(key)
            await redis.aclose()
        asyncio.run(flush())
        servers = []
        try:
            for n in range(args.processes):
                data_dir = Path(tmp) / f"p{n}"
                data_dir.mkdir()
                port = free_port()
                servers.append(LocalServer(data_dir=data_dir, port=port, env=server_env(data_dir, port, base)).start())
            log(f"{len(servers)} processes up")
            report = asyncio.run(drive(args, city, servers))
            report["server_warnings"] = server_warnings(servers)
        finally:
            for server in servers:
                server.stop()
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
