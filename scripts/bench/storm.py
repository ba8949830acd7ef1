"""Reconnect storm bench: relay latency of live calls while every other kiosk reconnects at once.

Starts its own seeded server (`python -m server demo` + `serve`, embedded Redis and SQLite) with
the admission settings given (`--admit-rate`, `--admit-burst`: JINGLIN_WS_ADMIT_*), puts `--pairs`
kiosk-caseworker pairs in calls (signaling only) and relays ICE candidates between them at
`--rate` messages/s in all (as scripts/bench/signaling_bench.py). First `--baseline-s` of relay
alone; then, for `--storm-s`, storms one after another: every other demo kiosk opens
`--sockets-per-kiosk` WebSockets at the same moment and says hello; a socket told `try_again`
waits the hint plus full jitter (server.simulate.backoff) and tries again; once all are
welcomed they are closed, and the next storm starts after a second. Prints relay p50/p99 without
and during the storms, the storms' time until every socket was welcomed, the refusals, and the
server's CPU.

    .venv/bin/python scripts/bench/storm.py [--pairs 20] [--rate 200] [--storm-s 30]
    .venv/bin/python scripts/bench/storm.py --admit-rate 100000 --admit-burst 100000   # no admission
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from connect import cpu_s, sign_in_kiosks
from signaling_bench import make_pairs, relay

from server.simulate.backoff import reconnect_delay_s
from server.simulate.local import LocalServer, launch


async def one_socket(http: aiohttp.ClientSession, ws_url: str, cookie: str, counts: dict[str, int]
                     ) -> aiohttp.ClientWebSocketResponse | None:
    """Connect and say hello until welcomed, honouring `try_again` hints; the open socket."""
    attempt = 0
    while True:
        ws = await http.ws_connect(ws_url, headers={"Cookie": f"jl_session={cookie}"}, heartbeat=None)
        await ws.send_str('{"type":"hello","v":1}')
        reply = await ws.receive_json(timeout=60)
        if reply.get("type") == "welcome":
            return ws
        await ws.close()
        if reply.get("code") != "try_again":
            counts[str(reply.get("code"))] = counts.get(str(reply.get("code")), 0) + 1
            return None
        counts["try_again"] = counts.get("try_again", 0) + 1
        await asyncio.sleep(reconnect_delay_s(attempt, 0.5, 10.0, reply.get("retry_after_ms", 1000) / 1000))
        attempt += 1


def storm_process(ws_url: str, cookies: list[str], per_kiosk: int, stop: Any, results: Any) -> None:
    """The storms' own process: storm until `stop` is set, put the figures on `results`."""
    results.put(asyncio.run(storms(ws_url, cookies, per_kiosk, stop)))


async def storms(ws_url: str, cookies: list[str], per_kiosk: int, stop: Any) -> dict[str, Any]:
    """Storms until `stop`: all sockets at once, until all are welcomed; then close them."""
    durations: list[float] = []
    counts: dict[str, int] = {}
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:
        while not stop.is_set():
            began = time.perf_counter()
            sockets = await asyncio.gather(*(one_socket(http, ws_url, c, counts)
                                             for c in cookies for _ in range(per_kiosk)))
            durations.append(time.perf_counter() - began)
            await asyncio.gather(*(ws.close() for ws in sockets if ws is not None))
            await asyncio.sleep(1.0)
    return {"storms": len(durations), "sockets_per_storm": len(cookies) * per_kiosk,
            "all_welcomed_s": {"mean": round(sum(durations) / len(durations), 2) if durations else None,
                               "max": round(max(durations), 2) if durations else None},
            "refusals_and_errors": counts}


def relay_line(result: dict[str, Any]) -> dict[str, Any]:
    """The relay figures worth printing."""
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in result.items()
            if k in ("received", "refused", "delivered_rate", "p50_ms", "p99_ms", "max_ms", "client_lag_p99_ms")}


async def run(args: argparse.Namespace, server: LocalServer) -> dict[str, Any]:
    """Baseline relay, then relay during storms."""
    url, pid, demo = server.url, server.pid, server.demo
    pairs = await make_pairs(server, args.pairs)
    busy = {k.welcome["kiosk"]["id"] for k, _, _ in pairs}
    others = [k for k in demo["kiosks"] if k["id"] not in busy]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        cookies = await sign_in_kiosks(http, url, others)
    ws_url = url.replace("http", "ws", 1) + "/api/v1/ws"
    baseline = await relay(pairs, args.rate, args.baseline_s)
    # The storms come from a process of their own, so that their connects do not delay this
    # process's relay measurement (its event-loop lag is reported as client_lag_p99_ms).
    context = multiprocessing.get_context("spawn")
    stop, results = context.Event(), context.Queue()
    storming = context.Process(target=storm_process, args=(ws_url, cookies, args.sockets_per_kiosk, stop, results))
    cpu0, load0 = cpu_s(pid), os.getloadavg()
    storming.start()
    during = await relay(pairs, args.rate, args.storm_s)
    stop.set()
    storm = await asyncio.to_thread(results.get, True, 120)
    await asyncio.to_thread(storming.join, 30)
    cpu = cpu_s(pid) - cpu0
    for k, c, _ in pairs:
        await k.close()
        await c.close()
    return {"pairs": len(pairs), "rate": args.rate, "admit_rate": args.admit_rate, "admit_burst": args.admit_burst,
            "relay_without_storm": relay_line(baseline), "relay_during_storms": relay_line(during), **storm,
            "server_cpu_share_during_storms": round(cpu / args.storm_s, 2),
            "load_average": [round(x, 2) for x in load0], "goal_relay_p99_ms": 50}


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--rate", type=float, default=200, help="relayed messages per second, all calls together")
    parser.add_argument("--baseline-s", type=float, default=10)
    parser.add_argument("--storm-s", type=float, default=30)
    parser.add_argument("--sockets-per-kiosk", type=int, default=2)
    parser.add_argument("--admit-rate", type=float, default=300)
    parser.add_argument("--admit-burst", type=float, default=50)
    args = parser.parse_args()
    overrides = {"JINGLIN_WS_ADMIT_RATE": str(args.admit_rate), "JINGLIN_WS_ADMIT_BURST": str(args.admit_burst)}
    with tempfile.TemporaryDirectory(prefix="jl-storm-") as tmp:
        server = launch(Path(tmp), overrides)
        try:
            report = asyncio.run(run(args, server))
        finally:
            server.stop()
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
