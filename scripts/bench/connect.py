"""Connection benchmark: the server's CPU per kiosk connect → `hello` → `welcome` → close.

Starts its own seeded server (`python -m server demo` + `serve`, embedded Redis and SQLite, or
`--redis-url`/`--database-url`) in a temporary data dir, signs every demo kiosk in over HTTP once,
then runs `--cycles` WebSocket cycles, `--concurrency` at a time, round-robin over the kiosks'
cookies: open `GET /api/v1/ws` with the cookie, send `hello`, wait for `welcome`, close. The
server's CPU (user + system, from /proc of its pid) over the measured cycles, divided by their
number, is the figure; a warm-up of `--warmup` cycles comes first.

In the same run the floor: a bare aiohttp server (a child process: WebSocket accept, one JSON
message read, one JSON message of welcome's size sent, close) driven by the same client the same
way. Prints both, their ratio, and welcomes/s (cycles per second of wall time, and per second of
server CPU: what one process could take with a core to itself). Client and servers share the
machine's cores, so the wall-time rate is the lower of the two.

    .venv/bin/python scripts/bench/connect.py [--cycles 2000] [--concurrency 20] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from server.simulate.ledger import percentile
from server.simulate.local import free_port, launch, rss_mb

# The bare floor: what any aiohttp WebSocket server pays per connect + one JSON exchange + close.
FLOOR_SERVER = textwrap.dedent("""
    import json, sys
    from aiohttp import web, WSMsgType

    WELCOME = {"type": "welcome", "v": 1, "role": "kiosk", "kiosk": {"id": 1, "site": "x" * 12,
               "street": "y" * 6}, "resume_token": "z" * 32, "heartbeat_s": 20.0, "ice_servers": [],
               "ice_transport_policy": "all", "state": {"ticket": None, "call": None}}

    async def ws(request):
        sock = web.WebSocketResponse(heartbeat=20.0)
        await sock.prepare(request)
        first = await sock.receive()
        if first.type == WSMsgType.TEXT:
            json.loads(first.data)
            await sock.send_str(json.dumps(WELCOME, ensure_ascii=False))
        async for _ in sock:
            pass
        return sock

    app = web.Application()
    app.router.add_get("/api/v1/ws", ws)
    app.router.add_get("/healthz", lambda r: web.json_response({"ok": True}))
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
""")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf(os.sysconf_names["SC_CLK_TCK"])


def load_average() -> list[float]:
    """The machine's 1, 5 and 15 minute load averages."""
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


async def sign_in_kiosks(http: aiohttp.ClientSession, url: str, kiosks: Sequence[dict[str, Any]]) -> list[str]:
    """One session cookie value per kiosk (POST /api/v1/kiosk/session)."""
    cookies = []
    for kiosk in kiosks:
        async with http.post(url + "/api/v1/kiosk/session", json={"token": kiosk["token"]}) as response:
            response.raise_for_status()
            cookies.append(response.cookies["jl_session"].value)
    return cookies


async def one_cycle(http: aiohttp.ClientSession, ws_url: str, cookie: str | None) -> tuple[float, str | None]:
    """connect → hello → welcome → close; (seconds, error or None)."""
    headers = {"Cookie": f"jl_session={cookie}"} if cookie else None
    started = time.perf_counter()
    try:
        async with http.ws_connect(ws_url, headers=headers, heartbeat=None, autoping=True) as ws:
            await ws.send_str('{"type":"hello","v":1}')
            reply = await ws.receive_json(timeout=30)
            if reply.get("type") != "welcome":
                return time.perf_counter() - started, str(reply.get("code", reply.get("type")))
    except aiohttp.WSServerHandshakeError as exc:
        return time.perf_counter() - started, f"http_{exc.status}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return time.perf_counter() - started, type(exc).__name__
    return time.perf_counter() - started, None


async def drive(ws_url: str, cookies: Sequence[str | None], cycles: int, concurrency: int) -> dict[str, Any]:
    """Run `cycles` cycles, `concurrency` at a time, round-robin over `cookies`."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counter = iter(range(cycles))
    connector = aiohttp.TCPConnector(limit=0, force_close=True)

    async with aiohttp.ClientSession(connector=connector) as http:
        async def worker() -> None:
            for i in counter:
                seconds, error = await one_cycle(http, ws_url, cookies[i % len(cookies)])
                latencies.append(seconds)
                if error:
                    errors[error] = errors.get(error, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return {"wall_s": wall, "latency_ms": latencies, "errors": errors}


async def measure(pid: int, ws_url: str, cookies: Sequence[str | None], args: argparse.Namespace) -> dict[str, Any]:
    """Warm up, then measure the server's CPU over `args.cycles` cycles."""
    warm0 = cpu_s(pid)
    await drive(ws_url, cookies, args.warmup, args.concurrency)
    await asyncio.sleep(1.5)
    # The warm-up holds each kiosk's first connect to this process (nothing of it cached yet),
    # and the process's own first-time costs.
    first_contact = (cpu_s(pid) - warm0) / args.warmup * 1000 if args.warmup else None
    await asyncio.sleep(1.5)  # let departures and batched writes of the warm-up settle
    spy = None
    if getattr(args, "spy", None) and pid == args.server_pid:
        # A sampling profile of the server over the measured cycles (collapsed stacks for flame graphs).
        spy = await asyncio.create_subprocess_exec(
            "py-spy", "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "--gil", "--nonblocking",
            "-o", str(args.spy), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await asyncio.sleep(1.0)
    cpu0 = cpu_s(pid)
    run = await drive(ws_url, cookies, args.cycles, args.concurrency)
    await asyncio.sleep(1.5)  # work a close leaves behind (departures, batched writes) counts too
    cpu = cpu_s(pid) - cpu0
    if spy is not None:
        spy.send_signal(2)
        await asyncio.wait_for(spy.wait(), 30)
    lat = sorted(run["latency_ms"])
    return {
        "cycles": args.cycles,
        "server_cpu_s": round(cpu, 3),
        "cpu_ms_per_cycle": round(cpu / args.cycles * 1000, 3),
        "welcomes_per_s_wall": round(args.cycles / run["wall_s"], 1),
        "welcomes_per_cpu_s": round(args.cycles / cpu, 1) if cpu else None,
        "cycle_ms": {"p50": round(percentile(lat, 50) * 1000, 1), "p95": round(percentile(lat, 95) * 1000, 1)},
        "errors": run["errors"],
        "rss_mb": round(rss_mb(pid), 1),
        "warmup_cycles": args.warmup,
        "warmup_cpu_ms_per_cycle": round(first_contact, 3) if first_contact is not None else None,
    }


def start_floor(port: int) -> subprocess.Popen[bytes]:
    """The bare aiohttp WebSocket server, on `port`, until /healthz answers."""
    process = subprocess.Popen([sys.executable, "-c", FLOOR_SERVER, str(port)])
    import urllib.request
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("floor server did not start")


async def run(args: argparse.Namespace, url: str, pid: int, demo: dict[str, Any]) -> dict[str, Any]:
    """Both measurements and the ratio."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        cookies: list[str | None] = list(await sign_in_kiosks(http, url, demo["kiosks"][: args.kiosks]))
    args.cookies = cookies
    ws_url = url.replace("http", "ws", 1) + "/api/v1/ws"
    load_before = load_average()
    args.server_pid = pid
    server = await measure(pid, ws_url, cookies, args)
    floor_port = free_port()
    floor_process = start_floor(floor_port)
    try:
        floor = await measure(floor_process.pid, f"ws://127.0.0.1:{floor_port}/api/v1/ws", [None], args)
    finally:
        floor_process.terminate()
        floor_process.wait(5)
    ratio = server["cpu_ms_per_cycle"] / floor["cpu_ms_per_cycle"] if floor["cpu_ms_per_cycle"] else None
    return {"concurrency": args.concurrency, "kiosks": len(cookies), "server": server, "floor": floor,
            "ratio": round(ratio, 2) if ratio else None, "load_average_before": load_before,
            "load_average_after": load_average(),
            "goal": {"cpu_ms_per_cycle": 1.5, "welcomes_per_s": 600}}


async def first_connects(args: argparse.Namespace, url: str, pid: int) -> dict[str, Any]:
    """Server CPU per cycle for each kiosk's first connect to this (second) process, with the
    sign-ins the kiosks used on the first one."""
    cookies: list[str | None] = args.cookies
    ws_url = url.replace("http", "ws", 1) + "/api/v1/ws"
    await asyncio.sleep(2.0)  # let the process's start-up reads finish
    spy = None
    if args.spy:
        spy = await asyncio.create_subprocess_exec(
            "py-spy", "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "--gil", "--nonblocking",
            "-o", str(args.spy.parent / ("second-" + args.spy.name)),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await asyncio.sleep(1.0)
    cpu0 = cpu_s(pid)
    run = await drive(ws_url, cookies, len(cookies), args.concurrency)
    await asyncio.sleep(1.5)
    cpu = cpu_s(pid) - cpu0
    if spy is not None:
        spy.send_signal(2)
        await asyncio.wait_for(spy.wait(), 30)
    return {"cycles": len(cookies), "cpu_ms_per_cycle": round(cpu / len(cookies) * 1000, 3),
            "errors": run["errors"]}


def print_report(report: dict[str, Any]) -> None:
    """Readable lines on stdout."""
    s, f = report["server"], report["floor"]
    print(f"{s['cycles']} cycles, {report['concurrency']} at a time, {report['kiosks']} kiosks")
    print(f"server: {s['cpu_ms_per_cycle']:.3f} ms CPU per connect+hello+welcome+close (goal <= 1.5), "
          f"{s['welcomes_per_s_wall']} welcomes/s wall, {s['welcomes_per_cpu_s']} per CPU second "
          f"(goal >= 600), cycle p50 {s['cycle_ms']['p50']} ms p95 {s['cycle_ms']['p95']} ms, "
          f"errors {s['errors']}, RSS {s['rss_mb']} MB")
    print(f"server warm-up (first connect of each kiosk to this process, {s['warmup_cycles']} cycles): "
          f"{s['warmup_cpu_ms_per_cycle']} ms CPU per cycle")
    print(f"floor (bare aiohttp WebSocket + JSON echo): {f['cpu_ms_per_cycle']:.3f} ms CPU per cycle, "
          f"{f['welcomes_per_s_wall']} cycles/s wall")
    print(f"ratio server/floor: {report['ratio']}; load average {report['load_average_before']} -> "
          f"{report['load_average_after']}")
    if "second_process" in report:
        second = report["second_process"]
        print(f"second process (each kiosk's first connect to it, as in a failover; {second['cycles']} cycles): "
              f"{second['cpu_ms_per_cycle']} ms CPU per cycle, errors {second['errors']}")


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=300, help="cycles before measuring (>= kiosks: each kiosk once)")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--kiosks", type=int, default=249, help="kiosks whose cookies are used round-robin")
    parser.add_argument("--redis-url", help="a Redis server (default: embedded)")
    parser.add_argument("--database-url", help="a database (default: SQLite in the data dir)")
    parser.add_argument("--second-process", action="store_true",
                        help="then start a second process on the same database and Redis and measure each "
                             "kiosk's first connect to it (a failover's cost)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--spy", type=Path, help="profile the server with py-spy (if installed) into this file")
    args = parser.parse_args()
    # The cost of a welcome is measured here, not the admission rule (scripts/bench/storm.py): no refusals.
    overrides = {"JINGLIN_WS_ADMIT_RATE": "1000000", "JINGLIN_WS_ADMIT_BURST": "1000000"}
    if args.redis_url:
        overrides["REDIS_URL"] = args.redis_url
    if args.database_url:
        overrides["DATABASE_URL"] = args.database_url
    if args.second_process and not (args.redis_url and args.database_url):
        parser.error("--second-process needs --redis-url and --database-url (the processes share them)")
    with tempfile.TemporaryDirectory(prefix="jl-connect-") as tmp:
        server = launch(Path(tmp), overrides)
        try:
            report = asyncio.run(run(args, server.url, server.pid, server.demo))
            if args.second_process:
                # A failover's cost: every kiosk's first connect to another process of the same
                # deployment (shared database and Redis), after it was connected to the first one.
                second = launch(Path(tmp) / "second", overrides, demo=server.demo)
                try:
                    report["second_process"] = asyncio.run(first_connects(args, second.url, second.pid))
                finally:
                    second.stop()
        finally:
            server.stop()
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print_report(report)


if __name__ == "__main__":
    main()
