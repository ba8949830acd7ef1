"""Random operation sequences against the live engine, with the queue's invariants after every step.

Runs on both Redis backends. Hypothesis drives a synchronous state machine; the async engine
runs on a private event loop owned (and closed) by each machine instance.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Coroutine
from typing import Any, ClassVar, TypeVar

import redis.asyncio as aioredis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from session_queue import QueueConfig, QueueError, SessionQueue, TicketSpec, Transition

R = TypeVar("R")
CFG = QueueConfig(offer_timeout_s=20, kiosk_grace_s=60, wrap_up_s=10, widen_after_s=100)
CASEWORKERS = ["c0", "c1", "c2"]
STREETS = ["s1", "s1", "s2"]  # repeats skew draws towards contention
SKILLS = ["A", "A", "B"]
HOLDING = {"offered", "in_call", "wrap_up"}
# refusals that are legitimate answers to a random message; anything else fails the test
EXPECTED_CODES = {"wrong_state", "unknown_caseworker", "unknown_ticket", "not_holder"}


class QueueMachine(RuleBasedStateMachine):
    redis_url: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.client = aioredis.from_url(self.redis_url)
        self.now = 1_700_000_000.0
        self.q = SessionQueue(self.client, CFG, prefix=f"hy{uuid.uuid4().hex[:8]}:", clock=lambda: self.now)
        self.tickets: list[str] = []
        self.enqueue_order: dict[str, int] = {}
        self.fronted: set[str] = set()  # tickets sent to the front at least once (FIFO exempt)
        self.run(self.q.rebuild([]))

    def run(self, coro: Awaitable[R]) -> R:
        return self.loop.run_until_complete(coro)

    def apply(self, coro: Coroutine[Any, Any, list[Transition]]) -> None:
        try:
            transitions = self.run(coro)
        except QueueError as exc:
            assert exc.code in EXPECTED_CODES, exc
            return
        for t in transitions:
            if t.entity == "ticket" and t.to_state == "requeued" and t.ticket_id:
                self.fronted.add(t.ticket_id)

    def teardown(self) -> None:
        async def cleanup() -> None:
            keys = [k async for k in self.client.scan_iter(match=self.q.keys.prefix + "*")]
            if keys:
                await self.client.delete(*keys)
            await self.client.aclose()

        try:
            self.run(cleanup())
        finally:
            self.loop.close()

    # -- helpers ----------------------------------------------------------------------------

    def held(self, cw: str) -> tuple[str, int] | None:
        status = self.run(self.q.caseworker(cw))
        if status is None or status.ticket_id is None:
            return None
        ticket = self.run(self.q.ticket(status.ticket_id))
        return (ticket.id, ticket.fence) if ticket else None

    # -- rules ------------------------------------------------------------------------------

    @rule(skill=st.sampled_from(SKILLS), street=st.sampled_from(STREETS),
          prio=st.sampled_from(["normal", "normal", "elderly", "appointment"]))
    def enqueue(self, skill: str, street: str, prio: str) -> None:
        tid = f"t{len(self.tickets)}"
        self.tickets.append(tid)
        self.enqueue_order[tid] = len(self.tickets)
        spec = TicketSpec(id=tid, kiosk_id="k" + tid, street_id=street, matter_id="m", skill=skill,
                          priority=prio)
        self.apply(self.q.enqueue(spec))

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        if self.tickets:
            self.apply(self.q.cancel(data.draw(st.sampled_from(self.tickets))))

    @rule(cw=st.sampled_from(CASEWORKERS), street=st.sampled_from(STREETS),
          skills=st.sampled_from([["A"], ["A", "B"], ["A", "B"], ["B"]]))
    def login(self, cw: str, street: str, skills: list[str]) -> None:
        self.apply(self.q.caseworker_login(cw, street, skills))

    @rule(cw=st.sampled_from(CASEWORKERS))
    def go_available(self, cw: str) -> None:
        self.apply(self.q.set_available(cw))

    @rule(cw=st.sampled_from(CASEWORKERS))
    def take_break(self, cw: str) -> None:
        self.apply(self.q.set_break(cw, "rest"))

    @rule(cw=st.sampled_from(CASEWORKERS), stale=st.booleans())
    def accept(self, cw: str, stale: bool) -> None:
        held = self.held(cw)
        if held is None:
            return
        if stale:
            try:
                self.run(self.q.accept(cw, held[0], held[1] - 1))
            except QueueError as exc:
                assert exc.code == "stale_fence"
            else:
                raise AssertionError("an old fence was accepted")
        else:
            self.apply(self.q.accept(cw, *held))

    @rule(cw=st.sampled_from(CASEWORKERS))
    def reject(self, cw: str) -> None:
        held = self.held(cw)
        if held is not None:
            self.apply(self.q.reject(cw, *held))

    @rule(cw=st.sampled_from(CASEWORKERS), handle=st.integers(1, 900))
    def end_call(self, cw: str, handle: int) -> None:
        held = self.held(cw)
        if held is not None:
            self.apply(self.q.end_call(cw, *held, handle_s=handle))

    @rule(cw=st.sampled_from(CASEWORKERS), skill=st.sampled_from(SKILLS))
    def transfer(self, cw: str, skill: str) -> None:
        held = self.held(cw)
        if held is not None:
            self.apply(self.q.transfer(cw, *held, skill))

    @rule(cw=st.sampled_from(CASEWORKERS))
    def finish_wrap_up(self, cw: str) -> None:
        self.apply(self.q.finish_wrap_up(cw))

    @rule(cw=st.sampled_from(CASEWORKERS))
    def caseworker_drop(self, cw: str) -> None:
        self.apply(self.q.caseworker_disconnected(cw))

    @rule(data=st.data(), back=st.booleans())
    def kiosk_drop_or_return(self, data: st.DataObject, back: bool) -> None:
        if self.tickets:
            tid = data.draw(st.sampled_from(self.tickets))
            self.apply(self.q.kiosk_reconnected(tid) if back else self.q.kiosk_disconnected(tid))

    @rule(seconds=st.sampled_from([1, 5, 10, 20, 60, 100]))
    def advance_and_tick(self, seconds: int) -> None:
        self.now += seconds
        self.apply(self.q.tick())

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def queue_is_consistent(self) -> None:
        tickets = {tid: self.run(self.q.ticket(tid)) for tid in self.tickets}
        cws = {cw: self.run(self.q.caseworker(cw)) for cw in CASEWORKERS}
        positions = self.run(self.q.positions(self.tickets)) if self.tickets else {}

        # exactly one holder per held ticket, at most one ticket per caseworker, states agree
        holders: dict[str, list[str]] = defaultdict(list)
        for tid, t in tickets.items():
            assert t is not None and t.state in {"waiting", *HOLDING, "done", "cancelled", "abandoned"}
            if t.state in HOLDING:
                assert t.caseworker_id is not None, t
                holders[tid].append(t.caseworker_id)
                cw = cws[t.caseworker_id]
                assert cw is not None and cw.ticket_id == tid and cw.state == t.state, (t, cw)
            else:
                assert t.caseworker_id is None, t
        for cw_id, cw in cws.items():
            if cw is not None and cw.state in {"offered", "in_call"}:
                assert cw.ticket_id is not None and holders[cw.ticket_id] == [cw_id], (cw, holders)
        assert all(len(v) == 1 for v in holders.values())

        # positions: exactly the waiting tickets, contiguous 1..n per skill
        by_skill: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for tid, t in tickets.items():
            assert t is not None
            pos = positions[tid].position
            assert (pos is not None) == (t.state == "waiting"), (t, positions[tid])
            if pos is not None:
                by_skill[t.skill].append((pos, tid))
        for skill, items in by_skill.items():
            items.sort()
            assert [p for p, _ in items] == list(range(1, len(items) + 1)), (skill, items)
            # FIFO within a priority class for tickets never sent to the front
            for prio in {tickets[t].priority for _, t in items}:  # type: ignore[union-attr]
                seq = [self.enqueue_order[t] for _, t in items
                       if tickets[t].priority == prio and t not in self.fronted]  # type: ignore[union-attr]
                assert seq == sorted(seq), (skill, prio, items)

        # counters agree with the tickets and caseworkers themselves
        figures = self.run(self.q.live_figures())
        live_counts: dict[str, int] = defaultdict(int)
        for t in tickets.values():
            if t is not None and t.state in {"waiting", *HOLDING}:
                live_counts[t.state] += 1
        assert figures.tickets_by_state == dict(live_counts)
        cw_counts: dict[str, int] = defaultdict(int)
        for cw in cws.values():
            if cw is not None:
                cw_counts[cw.state] += 1
        assert figures.caseworkers_by_state == dict(cw_counts)
        assert sum(figures.waiting_by_skill.values()) == live_counts["waiting"]

        # routing: no available caseworker could take a routable waiting ticket
        for cw in cws.values():
            if cw is None or cw.state != "available":
                continue
            for tid, t in tickets.items():
                assert t is not None
                if t.state != "waiting" or t.kiosk_gone or t.skill not in cw.skills:
                    continue
                if t.street_id != cw.street_id and not t.widened:
                    continue
                declined: int = self.run(self.client.sismember(self.q.keys.name("declined", tid), cw.id))
                assert declined, f"{cw} idles while {t} waits"


def test_queue_state_machine(redis_url: str) -> None:
    machine = type("BoundQueueMachine", (QueueMachine,), {"redis_url": redis_url})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=80, stateful_step_count=30, deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
