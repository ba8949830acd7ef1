"""Anti-starvation end to end: kiosks join through the server with priority `elderly` faster than one
caseworker serves, and a normal ticket still goes ahead of every priority ticket that joined more than
the head start after it (docs/queue.md: score = created - head start; aging is built in).

The head start is scaled down from 300 s to 2 s so that the run takes seconds; the rule is the same.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

from sqlalchemy import select

from server.db.models import ServiceSession
from server.http import app_keys
from server.queueing.service import QUEUE
from tests.test_hours_api import MATTER, WORKING_MORNING, hours_env, signed_in

HEAD_START_S = 2.0
ARRIVAL_S = 0.35  # a priority ticket every 0.35 s …
HOLD_S = 0.6  # … while each call lasts 0.6 s: the line of priority tickets only grows
KIOSKS = 14


async def test_a_stream_of_priority_tickets_cannot_starve_a_normal_one(tmp_path: Path) -> None:
    async with hours_env(tmp_path, WORKING_MORNING, with_hours=False, sites=KIOSKS) as h:
        queue = h.env.app[QUEUE].queue
        weights = {"normal": 0.0, "elderly": HEAD_START_S, "disabled": HEAD_START_S, "appointment": 2 * HEAD_START_S}
        queue.config = dataclasses.replace(queue.config, priority_weights=weights)
        kiosks, cw = await signed_in(h, KIOSKS)
        try:
            # Two priority tickets ahead of it, then the normal one, then a steady stream of priority ones.
            sent: dict[int, str] = {}

            async def join(n: int, priority: str) -> None:
                await kiosks[n].send({"type": "join", "matter_id": MATTER, "mode": "handle", "priority": priority})
                sent[n] = (await kiosks[n].expect("ticket"))["ticket"]["session_id"]

            await join(0, "elderly")
            await join(1, "elderly")
            await join(2, "normal")
            normal = sent[2]

            async def stream() -> None:
                for n in range(3, KIOSKS):
                    await asyncio.sleep(ARRIVAL_S)
                    await join(n, "elderly")

            feeder = asyncio.create_task(stream())
            await cw.send({"type": "set_status", "status": "available"})
            served: list[str] = []
            deadline = time.monotonic() + 30
            while normal not in served:
                assert time.monotonic() < deadline, f"the normal ticket still waits after {served}"
                offer = (await cw.expect("offer", timeout=10))["offer"]
                served.append(offer["ticket_id"])
                await cw.send({"type": "accept", "ticket_id": offer["ticket_id"], "fence": offer["fence"]})
                await cw.expect("call")
                await asyncio.sleep(HOLD_S)
                reply = await cw.request({"type": "end_call", "ticket_id": offer["ticket_id"], "outcome": "answered"})
                assert reply["type"] == "ok", reply
            await feeder

            async with h.env.app[app_keys.DB_SESSIONS]() as session:
                rows = {row.id: row for row in (await session.scalars(select(ServiceSession))).all()}
            normal_created = rows[normal].created_at.timestamp()
            ahead = [rows[t] for t in served[:-1]]
            # Everything served first joined within the head start after the normal ticket …
            assert all(row.created_at.timestamp() <= normal_created + HEAD_START_S for row in ahead), served
            # … and priority tickets that joined later than that were waiting when it was served.
            later = [row for row in rows.values() if row.priority == "elderly"
                     and row.created_at.timestamp() > normal_created + HEAD_START_S and row.id not in served]
            assert later, "the stream must outlast the head start for the test to mean anything"
            assert len(ahead) >= 3  # the two before it, and at least one that joined after it
        finally:
            for client in (*kiosks, cw):
                await client.close()
