"""Many asyncio clients in this process and two worker OS processes hammer one Redis at once.

Afterwards, replaying every published transition must show no ticket held by two caseworkers,
no caseworker holding two tickets, and every ticket accepted exactly once and done (none lost).
Run as `python -m tests.test_queue_concurrency URL PREFIX NAME TICKETS CASEWORKERS` it is a worker.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections import defaultdict
from pathlib import Path

import redis.asyncio as aioredis
from session_queue import QueueConfig, QueueError, SessionQueue, TicketSpec, Transition, parse_event

ROOT = Path(__file__).resolve().parent.parent
# no timers can fire during the run: every ticket must go through offer -> accept -> done
CFG = QueueConfig(offer_timeout_s=3600, wrap_up_s=0, widen_after_s=0, kiosk_grace_s=3600)
STREETS = ["s1", "s2", "s3"]


async def run_worker(url: str, prefix: str, name: str, n_tickets: int, n_caseworkers: int) -> None:
    """Enqueue tickets and run caseworkers (poll, accept, end) until the stop key appears."""
    client = aioredis.from_url(url)
    q = SessionQueue(client, CFG, prefix=prefix)
    stop_key = prefix + "test:stop"
    try:

        async def caseworker(cw: str, street: str) -> None:
            await q.caseworker_login(cw, street, ["A"])
            while not await client.exists(stop_key):
                status = await q.caseworker(cw)
                if status is None or status.state != "offered" or status.ticket_id is None:
                    await asyncio.sleep(0.002)  # idle poll: no offer yet (not synchronisation)
                    continue
                ticket = await q.ticket(status.ticket_id)
                assert ticket is not None
                await q.accept(cw, ticket.id, ticket.fence)
                await q.end_call(cw, ticket.id, ticket.fence + 1, handle_s=1.0)

        async def enqueuer(offset: int, step: int) -> None:
            for j in range(offset, n_tickets, step):
                await q.enqueue(TicketSpec(id=f"{name}t{j}", kiosk_id=f"{name}k{j}",
                                           street_id=STREETS[j % 3], matter_id="m", skill="A"))

        cws = [asyncio.create_task(caseworker(f"{name}c{i}", STREETS[i % 3])) for i in range(n_caseworkers)]
        await asyncio.gather(*(enqueuer(i, 8) for i in range(8)))
        await asyncio.gather(*cws)
    finally:
        await client.aclose()


async def test_no_double_assignment_and_no_lost_ticket(redis_client: aioredis.Redis, redis_url: str) -> None:
    prefix = f"cc{uuid.uuid4().hex[:8]}:"
    q = SessionQueue(redis_client, CFG, prefix=prefix)
    await q.rebuild([])
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(q.keys.channel)
    events: list[Transition] = []

    async def collect() -> None:
        async for message in pubsub.listen():
            if message["type"] == "message":
                events.extend(parse_event(message["data"]).transitions)

    collector = asyncio.create_task(collect())
    workers = [("p0", 150, 4), ("p1", 150, 4)]
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'queue'}"}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.test_queue_concurrency", redis_url, prefix, name, str(n), str(c),
            cwd=ROOT, env=env,
        )
        for name, n, c in workers
    ]
    local = asyncio.create_task(run_worker(redis_url, prefix, "local", 150, 6))
    total = 150 * 3
    try:
        # wait until every ticket has been enqueued and finished, then stop everyone
        async with asyncio.timeout(60):
            while True:
                done = sum(1 for t in events if t.entity == "ticket" and t.to_state == "done")
                if done >= total:
                    break
                await asyncio.sleep(0.05)
        await redis_client.set(prefix + "test:stop", "1")
        codes = [await p.wait() for p in procs]
        await local
        assert codes == [0, 0]
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
                await p.wait()
        collector.cancel()
        await asyncio.gather(collector, return_exceptions=True)
        await pubsub.aclose()

    holder: dict[str, str] = {}  # ticket -> caseworker
    holding: dict[str, str] = {}  # caseworker -> ticket
    accepted: dict[str, int] = defaultdict(int)
    for t in events:
        if t.entity != "ticket" or t.ticket_id is None:
            continue
        if t.to_state == "offered":
            assert t.ticket_id not in holder, f"{t.ticket_id} offered twice"
            assert t.caseworker_id not in holding, f"{t.caseworker_id} holds two tickets"
            assert t.caseworker_id is not None
            holder[t.ticket_id] = t.caseworker_id
            holding[t.caseworker_id] = t.ticket_id
        elif t.to_state == "in_call":
            assert holder[t.ticket_id] == t.caseworker_id
            accepted[t.ticket_id] += 1
        elif t.to_state == "done":
            assert holder.pop(t.ticket_id) == t.caseworker_id
            del holding[t.caseworker_id or ""]
    assert len(accepted) == total and set(accepted.values()) == {1}
    figures = await q.live_figures()
    assert figures.tickets_by_state == {} and figures.waiting_by_skill == {"A": 0}
    for name, n, _ in [*workers, ("local", 150, 0)]:
        for j in range(n):
            ticket = await q.ticket(f"{name}t{j}")
            assert ticket is not None and ticket.state == "done", ticket
    assert await q.tick() == []


def _main(argv: list[str]) -> None:
    url, prefix, name, n_tickets, n_caseworkers = argv
    asyncio.run(run_worker(url, prefix, name, int(n_tickets), int(n_caseworkers)))


if __name__ == "__main__":
    try:
        _main(sys.argv[1:])
    except QueueError as exc:
        sys.exit(f"worker refused: {exc}")
