"""Load run: every kiosk and a day's caseworkers on WebSockets, arrivals at a multiple of the peak.

249 kiosks and 40 caseworkers (and 2 supervisors) sign in and stay connected for the whole run;
residents arrive at kiosks as a Poisson process at `--multiplier` × the district's peak arrival
rate (`--peak-per-hour`, ~50 sessions/hour today). Each resident browses the catalog, joins the
queue, is offered to a caseworker who accepts, the two exchange call signaling (SDP and ICE
relayed by the server; no media here: media is peer to peer and `jinglin simulate` covers it),
the caseworker ends the call with an outcome and reads today's sessions, and the resident rates.
Kiosks ping like the kiosk app; supervisors poll live figures, the session list and the summary.

Every HTTP call and every WebSocket request is timed from the client (request sent → answer
received) and reported per API with p50/p95/max; the server's resident memory is sampled every
5 s. Prints one JSON summary; exits 1 unless: no errors, every API's p95 < `--p95-ms`, every
arrival served, memory flat (growth after warm-up within `--memory-growth-mb`).

    .venv/bin/python scripts/bench/load.py                      # the full run: 10 minutes, 5x peak
    .venv/bin/python scripts/bench/load.py --duration-s 60 --ramp-s 20 --multiplier 30 --hold-s 3  # CI form

Without `--url` it starts its own server (embedded SQLite and Redis, seeded demo data) in a
temporary data dir; with `--url` pass the demo credentials JSON with `--demo FILE` and `--pid`
for memory sampling.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from server.simulate.actor import RACE_CODES
from server.simulate.client import Message, ProtocolClient, ProtocolError, of_type
from server.simulate.ledger import percentile
from server.simulate.local import SAMPLE_CANDIDATE as CANDIDATE
from server.simulate.local import LocalServer, launch, rss_mb

FAKE_SDP = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" + "a=x-load:" + "0" * 1200 + "\r\n"
# Accept answers for an offer that timed out or was withdrawn before the accept arrived.
STALE_OFFER = RACE_CODES - {"unknown_ticket"}
SERVER_TIMINGS = {"JINGLIN_WIDEN_AFTER_S": "30", "JINGLIN_WRAP_UP_S": "5", "JINGLIN_OFFER_TIMEOUT_S": "20"}


@dataclass
class Stats:
    """Latencies per API and everything that went wrong."""

    latency_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    arrivals: int = 0
    served: int = 0
    rated: int = 0
    relayed: int = 0
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def error(self, text: str) -> None:
        """Record a failure (kept short: the summary lists the first ones)."""
        self.errors.append(text[:300])

    def spawn(self, coro: Any, who: str) -> None:
        """Run a fire-and-forget step (a ping, an answer) as a task that is kept until it ends
        and whose failure is recorded like any other."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        task.add_done_callback(lambda done: None if done.cancelled() or done.exception() is None
                               else self.error(f"{who}: {type(done.exception()).__name__}: {done.exception()}"))

    async def http(self, client: ProtocolClient, api: str, path: str) -> Any:
        """GET `path`, timed under `api`; a non-200 answer is an error."""
        started = time.perf_counter()
        async with client.http.get(client.base_url + path) as response:
            body = await response.read()
            self.latency_ms[api].append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                self.error(f"{api}: HTTP {response.status}")
                return None
            return json.loads(body) if response.content_type == "application/json" else body

    async def ws(self, client: ProtocolClient, api: str, message: Message, timeout: float = 10.0,
                 expected_errors: Collection[str] = ()) -> Message:
        """A WebSocket request timed under `api` (request sent → its `ok`/`error`/reply).

        An `error` answer is recorded as a failure unless its code is one of `expected_errors`.
        """
        started = time.perf_counter()
        reply = await client.request(message, timeout)
        self.latency_ms[api].append((time.perf_counter() - started) * 1000)
        if reply["type"] == "error" and reply.get("code") not in expected_errors:
            self.error(f"{api}: {reply.get('code')} {reply.get('message', '')}")
        return reply

    async def timed(self, api: str, coro: Any) -> Any:
        """Await `coro`, timed under `api`."""
        started = time.perf_counter()
        result = await coro
        self.latency_ms[api].append((time.perf_counter() - started) * 1000)
        return result


class Kiosk:
    """A kiosk app: signed in and connected all day; serves the residents who arrive."""

    def __init__(self, url: str, token: str, stats: Stats, matters: list[str], rng: random.Random) -> None:
        self.client = ProtocolClient(url, f"kiosk-{token[:6]}")
        self.token = token
        self.stats = stats
        self.matters = matters
        self.rng = rng
        self.busy = False

    async def start(self) -> None:
        await self.stats.timed("POST /api/v1/kiosk/session", self.client.login_kiosk(self.token))
        await self.stats.timed("ws hello→welcome", self.client.connect())

    async def ping(self) -> None:
        await self.stats.ws(self.client, "ws ping", {"type": "ping"})

    async def serve_resident(self, session_timeout_s: float) -> None:
        """One resident: browse, join, talk, rate."""
        self.busy = True
        self.stats.arrivals += 1
        try:
            await self.stats.http(self.client, "GET /api/v1/matters", "/api/v1/matters")
            matter = self.rng.choice(self.matters)
            await self.stats.http(self.client, "GET /api/v1/matters/{matter_id}", f"/api/v1/matters/{matter}")
            mark = self.client.mark()
            reply = await self.stats.ws(self.client, "ws join", {"type": "join", "matter_id": matter,
                                                                 "mode": "handle"})
            if reply["type"] == "error":
                return
            call = await self.client.wait_for(of_type("call"), session_timeout_s, start=mark, what="call")
            call_id = call["call"]["call_id"]
            await self.client.send({"type": "signal", "call_id": call_id,
                                    "data": {"description": {"type": "offer", "sdp": FAKE_SDP}}})
            for _ in range(3):
                await self.client.send({"type": "signal", "call_id": call_id,
                                        "data": {"candidate": {"candidate": CANDIDATE, "sdpMid": "0",
                                                               "sdpMLineIndex": 0}}})
            ended = await self.client.wait_for(of_type("call_ended"), session_timeout_s, start=mark,
                                               what="call_ended")
            self.stats.served += 1
            rated = await self.stats.ws(self.client, "ws rate", {"type": "rate", "session_id": ended["session_id"],
                                                                 "score": 5})
            if rated["type"] == "ok":
                self.stats.rated += 1
        except (TimeoutError, ProtocolError, aiohttp.ClientError) as exc:
            tickets = [m["ticket"] for m in self.client.messages if m.get("type") == "ticket"]
            last = tickets[-1] if tickets else {}
            self.stats.error(f"{self.client.name}: {type(exc).__name__}: {exc} (ticket {last.get('state')}, "
                             f"position {last.get('position')}, matter {last.get('matter_id')})"
                             + str([(m.get("type"), (m.get("ticket") or {}).get("state"), m.get("code"))
                                    for m in self.client.messages[-12:]]))
        finally:
            self.busy = False


class Caseworker:
    """A caseworker console: available, accepts every offer, holds the call, ends it, wraps up."""

    def __init__(self, url: str, account: dict[str, Any], stats: Stats, hold_s: float) -> None:
        self.client = ProtocolClient(url, account["username"])
        self.account = account
        self.stats = stats
        self.hold_s = hold_s

    async def start(self) -> None:
        await self.stats.timed("POST /api/v1/auth/login",
                               self.client.login_staff(self.account["username"], self.account["password"]))
        await self.stats.timed("ws hello→welcome", self.client.connect())
        self.client.on("signal", self._answer)
        self.client.on("agent", self._on_agent)
        await self.stats.ws(self.client, "ws set_status", {"type": "set_status", "status": "available"})

    def _on_agent(self, message: Message) -> None:
        agent = message.get("agent") or {}
        if agent.get("state") == "break":  # an offer timed out unanswered: this console was too slow
            self.stats.error(f"{self.client.name}: missed an offer ({agent.get('reason')})")
            self.stats.spawn(self.client.send({"type": "set_status", "status": "available"}), self.client.name)

    def _answer(self, message: Message) -> None:
        self.stats.relayed += 1
        data = message.get("data") or {}
        if (data.get("description") or {}).get("type") == "offer":
            self.stats.spawn(self.client.send({
                "type": "signal", "call_id": message.get("call_id"),
                "data": {"description": {"type": "answer", "sdp": FAKE_SDP}}}), self.client.name)

    async def run(self, stop: asyncio.Event) -> None:
        # Scan every message once, in order: an offer that arrives while the last call is being
        # wrapped up is the next one to serve, not one to skip.
        start = 0
        while not stop.is_set():
            try:
                start, offer = await self.client.next_matching(of_type("offer"), 1.0, start=start)
            except TimeoutError:
                continue
            try:
                await self._serve(offer["offer"])
            except (TimeoutError, ProtocolError, aiohttp.ClientError) as exc:
                self.stats.error(f"{self.client.name}: {type(exc).__name__}: {exc}")

    async def _serve(self, offer: Message) -> None:
        # A stale offer (withdrawn or timed out before the accept arrived) is not a failure.
        reply = await self.stats.ws(self.client, "ws accept", {"type": "accept", "ticket_id": offer["ticket_id"],
                                                               "fence": offer["fence"]}, expected_errors=STALE_OFFER)
        if reply["type"] == "error":
            return
        await asyncio.sleep(self.hold_s)
        await self.stats.ws(self.client, "ws end_call", {"type": "end_call", "ticket_id": offer["ticket_id"],
                                                         "outcome": "completed", "notes": "负载测试"})
        await self.stats.http(self.client, "GET /api/v1/me/sessions", "/api/v1/me/sessions")
        await self.stats.ws(self.client, "ws finish_wrap_up", {"type": "finish_wrap_up"})


class Supervisor:
    """A supervisor dashboard: live figures every 5 s, the session list and summary now and then."""

    def __init__(self, url: str, account: dict[str, str], stats: Stats) -> None:
        self.client = ProtocolClient(url, account["username"], record=False)
        self.account = account
        self.stats = stats

    async def start(self) -> None:
        await self.stats.timed("POST /api/v1/auth/login",
                               self.client.login_staff(self.account["username"], self.account["password"]))
        self.client.record = True
        await self.stats.timed("ws hello→welcome", self.client.connect())
        self.client.record = False  # live pushes are not kept (a 10-minute run would pile them up)

    async def run(self, stop: asyncio.Event) -> None:
        tick = 0
        while not stop.is_set():
            await self.stats.http(self.client, "GET /api/v1/stats/live", "/api/v1/stats/live")
            if tick % 6 == 0:
                await self.stats.http(self.client, "GET /api/v1/sessions", "/api/v1/sessions")
            if tick % 12 == 0:
                await self.stats.http(self.client, "GET /api/v1/reports/summary", "/api/v1/reports/summary")
            tick += 1
            await _sleep_or_stop(stop, 5.0)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def sample_memory(pid: int | None, stop: asyncio.Event, samples: list[tuple[float, float]]) -> None:
    """Append (seconds since start, RSS MiB) every 5 s until stopped."""
    started = time.monotonic()
    while pid is not None and not stop.is_set():
        samples.append((time.monotonic() - started, rss_mb(pid)))
        await _sleep_or_stop(stop, 5.0)


def memory_summary(samples: list[tuple[float, float]], warmup_s: float) -> dict[str, Any]:
    """Start, warm, end and max RSS, and the growth after warm-up."""
    if not samples:
        return {}
    warm = [s for s in samples if s[0] >= warmup_s] or samples[-1:]
    return {"start_mb": round(samples[0][1], 1), "warm_mb": round(warm[0][1], 1),
            "end_mb": round(samples[-1][1], 1), "max_mb": round(max(m for _, m in samples), 1),
            "growth_after_warmup_mb": round(warm[-1][1] - warm[0][1], 1), "samples": len(samples)}


def covered_matters(matters: list[dict[str, Any]], caseworkers: list[dict[str, Any]]) -> list[str]:
    """Active matters offering 办理 whose skill one of the connected caseworkers holds."""
    skills = {s for cw in caseworkers for s in cw["skills"]}
    return [m["id"] for m in matters if m["skill"] in skills and m.get("mode") in ("handle", "both")]


async def run_load(url: str, demo: dict[str, Any], args: argparse.Namespace, pid: int | None) -> dict[str, Any]:
    """Connect everyone, drive arrivals for the duration, drain, and summarize."""
    rng = random.Random(args.seed)
    stats = Stats()
    probe = ProtocolClient(url, "catalog")
    try:
        listing = await probe.get_json("/api/v1/matters?limit=500")
    finally:
        await probe.close()
    items = listing["matters"] if isinstance(listing, dict) else listing
    staff = demo["caseworkers"][:args.caseworkers]
    matters = covered_matters(items, staff)
    kiosks = [Kiosk(url, k["token"], stats, matters, random.Random(rng.random())) for k in demo["kiosks"][:args.kiosks]]
    caseworkers = [Caseworker(url, account, stats, args.hold_s) for account in staff]
    supervisors = [Supervisor(url, account, stats) for account in demo["supervisors"][:args.supervisors]]
    stop, memory_stop = asyncio.Event(), asyncio.Event()
    memory: list[tuple[float, float]] = []
    memory_task = asyncio.create_task(sample_memory(pid, memory_stop, memory))
    connect_started = time.monotonic()
    # Everyone signs in at a random moment of the ramp, as a morning would (not all at once).
    actors: list[Kiosk | Caseworker | Supervisor] = [*caseworkers, *supervisors, *kiosks]
    await asyncio.gather(*(_start_after(actor, rng.uniform(0, args.ramp_s)) for actor in actors))
    connect_s = time.monotonic() - connect_started
    background = [asyncio.create_task(cw.run(stop)) for cw in caseworkers]
    background += [asyncio.create_task(sv.run(stop)) for sv in supervisors]
    background.append(asyncio.create_task(_pings(kiosks, stop, rng)))
    residents: list[asyncio.Task[None]] = []
    rate_per_s = args.peak_per_hour * args.multiplier / 3600
    run_started = time.monotonic()
    deadline = run_started + args.duration_s
    while True:
        await asyncio.sleep(rng.expovariate(rate_per_s))
        if time.monotonic() >= deadline:
            break
        idle = [k for k in kiosks if not k.busy]
        if idle:
            residents.append(asyncio.create_task(rng.choice(idle).serve_resident(args.session_timeout_s)))
    if residents:
        await asyncio.wait(residents, timeout=args.session_timeout_s + 30)
    stop.set()
    await asyncio.gather(*background, return_exceptions=True)
    memory_stop.set()
    await memory_task
    await asyncio.gather(*stats.tasks, return_exceptions=True)  # the last pings and answers
    for actor in [*kiosks, *caseworkers, *supervisors]:
        await actor.client.close()
    apis = {api: {"count": len(v), "p50_ms": round(percentile(v, 50), 1), "p95_ms": round(percentile(v, 95), 1),
                  "max_ms": round(max(v), 1)} for api, v in sorted(stats.latency_ms.items())}
    return {
        "kiosks": len(kiosks), "caseworkers": len(caseworkers), "supervisors": len(supervisors),
        "duration_s": args.duration_s, "arrivals_per_hour": round(rate_per_s * 3600, 1),
        "connect_s": round(connect_s, 1), "arrivals": stats.arrivals, "served": stats.served,
        "rated": stats.rated, "signals_relayed": stats.relayed, "apis": apis,
        # warm-up: the sign-in ramp plus a quarter of the run (at most a minute) of steady traffic
        "memory": memory_summary(memory, warmup_s=connect_s + min(60.0, args.duration_s / 4)),
        "errors": stats.errors[:50], "error_count": len(stats.errors),
    }


async def _start_after(actor: Kiosk | Caseworker | Supervisor, delay_s: float) -> None:
    await asyncio.sleep(delay_s)
    await actor.start()


async def _pings(kiosks: list[Kiosk], stop: asyncio.Event, rng: random.Random) -> None:
    """Every kiosk pings about every 25 s (spread evenly), as the kiosk app does."""
    while not stop.is_set():
        for kiosk in rng.sample(kiosks, len(kiosks)):
            if stop.is_set():
                return
            kiosk.stats.spawn(kiosk.ping(), kiosk.client.name)
            await asyncio.sleep(25.0 / len(kiosks))


def verdict(report: dict[str, Any], args: argparse.Namespace) -> list[str]:
    """Which goals the run missed (empty: all met)."""
    missed = []
    if report["error_count"]:
        missed.append(f"{report['error_count']} errors")
    slow = {api: v["p95_ms"] for api, v in report["apis"].items() if v["p95_ms"] >= args.p95_ms}
    if slow:
        missed.append(f"p95 over {args.p95_ms} ms: {slow}")
    if report["served"] < report["arrivals"]:
        missed.append(f"served {report['served']} of {report['arrivals']} arrivals")
    growth = report["memory"].get("growth_after_warmup_mb")
    if growth is not None and growth > args.memory_growth_mb:
        missed.append(f"memory grew {growth} MB after warm-up")
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server (default: start one with embedded defaults)")
    parser.add_argument("--demo", type=Path, help="`jinglin demo --json` output of that server (with --url)")
    parser.add_argument("--pid", type=int, help="server process id for memory samples (with --url)")
    parser.add_argument("--kiosks", type=int, default=249)
    parser.add_argument("--caseworkers", type=int, default=40)
    parser.add_argument("--supervisors", type=int, default=2)
    parser.add_argument("--duration-s", type=float, default=600.0)
    parser.add_argument("--ramp-s", type=float, default=60.0, help="sign-ins spread over this long before the run")
    parser.add_argument("--peak-per-hour", type=float, default=50.0)
    parser.add_argument("--multiplier", type=float, default=5.0)
    parser.add_argument("--hold-s", type=float, default=20.0, help="how long a caseworker holds each call")
    parser.add_argument("--session-timeout-s", type=float, default=120.0)
    parser.add_argument("--p95-ms", type=float, default=100.0)
    parser.add_argument("--memory-growth-mb", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="only the JSON summary on stdout")
    args = parser.parse_args(argv)
    if args.url:
        if args.demo is None:
            parser.error("--url needs --demo")
        report = asyncio.run(run_load(args.url, json.loads(args.demo.read_text()), args, args.pid))
    else:
        with tempfile.TemporaryDirectory(prefix="jinglin-load-") as tmp:
            server: LocalServer = launch(Path(tmp), SERVER_TIMINGS)
            try:
                report = asyncio.run(run_load(server.url, server.demo, args, server.pid))
            finally:
                server.stop()
    missed = verdict(report, args)
    report["goals_met"] = not missed
    report["missed"] = missed
    print(json.dumps(report, ensure_ascii=False, indent=None if args.json else 2))
    return 0 if not missed else 1


if __name__ == "__main__":
    raise SystemExit(main())
