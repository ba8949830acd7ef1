"""A caseworker who accepts while the kiosk's join is still being recorded: the kiosk gets its call.

Found by the load run (scripts/bench/load.py): under load the database write of a join can take
longer than a waiting caseworker needs to accept the offer it produced. The ticket then went
`in_call` before the kiosk's connection was routed the ticket's events, and the kiosk never got
`call` (its ticket view said `in_call`, with no call to answer).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from session_queue import Transition

from server.queueing.service import QUEUE
from tests.test_capture_support import MATTER, Client, capture_env


async def test_a_call_accepted_during_the_join_write_reaches_the_kiosk(tmp_path: Path) -> None:
    async with capture_env(tmp_path) as env:
        made: list[Client] = []
        try:
            queue = env.app[QUEUE].queue
            record = queue.sink
            assert record is not None
            accepted = asyncio.Event()

            async def slow_join_record(transitions: Sequence[Transition]) -> None:
                # hold the join's own record until the caseworker has accepted its offer
                if any(t.kind == "enqueue" for t in transitions):
                    await asyncio.wait_for(accepted.wait(), 10)
                await record(list(transitions))

            queue.sink = slow_join_record
            cw = Client(env)
            made.append(cw)
            await cw.staff_login("cw1")
            await cw.connect()
            await cw.send({"type": "set_status", "status": "available"})
            await cw.expect("agent")
            kiosk = Client(env)
            made.append(kiosk)
            await kiosk.kiosk_login(env.kiosk_tokens[0])
            await kiosk.connect()

            await kiosk.send({"type": "join", "matter_id": MATTER, "mode": "handle"})
            offer = (await cw.expect("offer"))["offer"]
            reply = await cw.request({"type": "accept", "ticket_id": offer["ticket_id"], "fence": offer["fence"]},
                                     ref=1)
            assert reply["type"] == "ok", reply  # (the caseworker's `call` came before this answer)
            accepted.set()

            call = (await kiosk.expect("call"))["call"]
            assert call["session_id"] == offer["ticket_id"]
            ticket = (await kiosk.expect("ticket"))["ticket"]
            assert ticket["state"] == "in_call"
            # exactly one `call`, even though the transition and the catch-up both looked
            await asyncio.sleep(0.3)
            assert all(m["type"] != "call" for m in kiosk.drain())
        finally:
            for client in made:
                await client.close()
