"""Benchmark: enqueue -> offer -> accept -> end cycles per second of one process.

Each cycle is three engine calls (the offer happens inside enqueue, and with wrap_up_s = 0 the
caseworker is available again after end_call). A backlog of waiting tickets (default 10,000)
sits in the same skill's queue the whole time. The same run measures a bare EVALSHA loop of a
no-op script, so the result reads as a ratio to the floor set by the client and the socket, and
prints the CPU time per cycle of this process and of Redis (INFO cpu) and the mean EVALSHA time
inside Redis (INFO commandstats): figures that suffer less from other jobs on a shared machine.

    .venv/bin/python scripts/bench/queue_bench.py [--redis-url URL] [--cycles N] [--concurrency C]

Without --redis-url an embedded redis-server (the product default) is started in a temp dir.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "queue")]

import redis.asyncio as aioredis  # noqa: E402
from session_queue import QueueConfig, SessionQueue, TicketSpec  # noqa: E402
from session_queue.scripts import ScriptRunner  # noqa: E402

CFG = QueueConfig(offer_timeout_s=3600, wrap_up_s=0, widen_after_s=10**9, kiosk_grace_s=3600)


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def fill_backlog(q: SessionQueue, n: int) -> None:
    """n waiting tickets in skill A from a street no caseworker serves (never routed)."""
    async def part(offset: int) -> None:
        for i in range(offset, n, 16):
            await q.enqueue(TicketSpec(id=f"b{i}", kiosk_id=f"bk{i}", street_id="nobody",
                                       matter_id="m", skill="A"))
    await asyncio.gather(*(part(i) for i in range(16)))


async def cycles(q: SessionQueue, concurrency: int, total: int, latencies: list[float]) -> float:
    """Run `total` cycles over `concurrency` caseworkers (one street each); returns seconds."""
    for w in range(concurrency):
        await q.caseworker_login(f"cw{w}", f"st{w}", ["A"])
    per_worker = total // concurrency

    async def worker(w: int) -> None:
        cw = f"cw{w}"
        for i in range(per_worker):
            tid = f"w{w}-{i}-{uuid.uuid4().hex[:6]}"
            t0 = time.perf_counter()
            transitions = await q.enqueue(TicketSpec(id=tid, kiosk_id="k", street_id=f"st{w}",
                                                     matter_id="m", skill="A"))
            t1 = time.perf_counter()
            fence = transitions[-1].extra["fence"]  # the caseworker's offer record
            await q.accept(cw, tid, fence)
            t2 = time.perf_counter()
            await q.end_call(cw, tid, fence + 1, handle_s=300)
            t3 = time.perf_counter()
            latencies.extend((t1 - t0, t2 - t1, t3 - t2))

    start = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return time.perf_counter() - start


async def redis_cpu(client: aioredis.Redis) -> tuple[float, float, int]:
    """Redis process CPU seconds (user + sys), and evalsha's total usec and calls so far."""
    cpu = await client.info("cpu")
    stats = (await client.info("commandstats")).get("cmdstat_evalsha", {})
    return (float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"]),
            float(stats.get("usec", 0)), int(stats.get("calls", 0)))


async def bare_evalsha(runner: ScriptRunner, concurrency: int, total: int) -> float:
    per_worker = total // concurrency

    async def worker() -> None:
        for _ in range(per_worker):
            await runner.run("ping", [], [])

    await runner.load()
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start


async def main(args: argparse.Namespace) -> None:
    embedded = None
    url = args.redis_url
    if url is None:
        from server.runtime.embedded_redis import EmbeddedRedis

        embedded = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="jl-bench-")))
        url = await embedded.start()
    client = aioredis.from_url(url, max_connections=max(64, args.concurrency * 2))
    prefix = f"bench{uuid.uuid4().hex[:6]}:"
    try:
        q = SessionQueue(client, CFG, prefix=prefix, batch=args.batch)
        await q.rebuild([])
        t0 = time.perf_counter()
        await fill_backlog(q, args.backlog)
        print(f"batching: {args.batch}")
        print(f"redis: {url}  backlog: {args.backlog} waiting tickets "
              f"(filled in {time.perf_counter() - t0:.1f} s)")
        runner = ScriptRunner(client, batch=args.batch)
        for conc in sorted({1, args.concurrency}):
            latencies: list[float] = []
            n = args.cycles - args.cycles % conc
            before = await redis_cpu(client)
            cpu0 = time.process_time()
            seconds = await cycles(q, conc, n, latencies)
            client_cpu = time.process_time() - cpu0
            after = await redis_cpu(client)
            bare = await bare_evalsha(runner, conc, 3 * n)
            rate, ops, bare_rate = n / seconds, 3 * n / seconds, 3 * n / bare
            figures = await q.live_figures()
            print(
                f"concurrency {conc:>3}: {rate:8.0f} cycles/s  ({ops:.0f} ops/s; bare EVALSHA "
                f"{bare_rate:.0f}/s; engine/bare = {ops / bare_rate:.2f})\n"
                f"                 op latency ms: p50 {statistics.median(latencies) * 1e3:.3f}  "
                f"p99 {pct(latencies, 99) * 1e3:.3f}  max {max(latencies) * 1e3:.3f}  "
                f"(waiting now: {figures.waiting_by_skill.get('A', 0)})\n"
                f"                 CPU per cycle: client {client_cpu / n * 1e6:.0f} us, redis "
                f"{(after[0] - before[0]) / n * 1e6:.0f} us; evalsha inside Redis "
                f"{(after[1] - before[1]) / max(1, after[2] - before[2]):.1f} us/call"
            )
            for w in range(conc):
                await q.set_offline(f"cw{w}")
        print("goal: >= 2000 cycles/s per process, p99 of one operation < 2 ms")
    finally:
        keys = [k async for k in client.scan_iter(match=prefix + "*", count=1000)]
        for i in range(0, len(keys), 1000):
            await client.delete(*keys[i:i + 1000])
        await client.aclose()
        if embedded is not None:
            await embedded.stop()


if __name__ == "__main__":
    import uvloop  # the server runs on uvloop (server/cli.py), so the bench does too

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", default=None, help="default: start an embedded redis-server")
    parser.add_argument("--cycles", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=4,
                        help="callers in the one process (default 4: the goal's operating point)")
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--batch", action=argparse.BooleanOptionalAction, default=True,
                        help="pipeline concurrent calls (SessionQueue(batch=True)); --no-batch to compare")
    uvloop.run(main(parser.parse_args()))
