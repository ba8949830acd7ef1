"""SessionQueue: the fair, skill-routed queue of kiosk tickets, atomic in Redis Lua.

Every operation is one script (see `lua/`); this class only builds keys and arguments, runs the
script through `ScriptRunner` and turns its JSON answer into typed values. The clock is the
caller's (`now` goes to the scripts in ARGV, never Redis TIME), so tests drive time.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from redis.asyncio import Redis

from session_queue.keys import DEFAULT_PREFIX, Keys
from session_queue.models import (
    CaseworkerStatus,
    LiveFigures,
    Position,
    QueueConfig,
    QueueError,
    TicketRecord,
    TicketSpec,
    TicketStatus,
    Transition,
)
from session_queue.scripts import ScriptRunner, load_sources

Sink = Callable[[list[Transition]], Awaitable[None]]

_LIVE_FOR_REBUILD = ("waiting", "offered", "requeued", "in_call", "wrap_up")


def _decode(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _caseworker_status(caseworker_id: str, raw: dict[Any, Any]) -> CaseworkerStatus | None:
    if not raw:
        return None
    h = {_decode(k): _decode(v) for k, v in raw.items()}
    return CaseworkerStatus(
        id=caseworker_id, street_id=h["street"], skills=tuple(h["skills"].split(",")),
        state=h["state"], ticket_id=h.get("ticket") or None, reason=h.get("reason") or None,
        since=float(h.get("since") or 0),
    )


class SessionQueue:
    """The queue engine; safe to use from many processes on one Redis at once.

    `batch=True` sends the scripts of concurrent callers in one pipeline per event-loop turn
    (see ScriptRunner): more throughput under load, same atomicity and ordering.
    """

    def __init__(
        self,
        redis: Redis,
        config: QueueConfig | None = None,
        *,
        prefix: str = DEFAULT_PREFIX,
        clock: Callable[[], float] = time.time,
        sink: Sink | None = None,
        batch: bool = False,
    ) -> None:
        self.redis = redis
        self.config = config or QueueConfig()
        self.keys = Keys(prefix)
        self.clock = clock
        self.sink = sink
        self._scripts = ScriptRunner(redis, load_sources(self.config), batch=batch)

    # -- plumbing ---------------------------------------------------------------------------

    async def _call(self, name: str, keys: list[str], *args: str) -> tuple[list[Transition], Any]:
        """Run a script; raise QueueError on refusal; hand transitions to the sink."""
        raw = await self._scripts.run(name, keys, [self.keys.prefix, repr(float(self.clock())), *args])
        data = json.loads(raw)
        if not data["ok"]:
            raise QueueError(data["code"], data.get("message", ""))
        transitions = [Transition.from_json(item) for item in data.get("transitions") or ()]
        if transitions and self.sink is not None:
            await self.sink(transitions)
        return transitions, data.get("result")

    def _ticket_keys(self, ticket_id: str) -> list[str]:
        return [self.keys.epoch, self.keys.ticket(ticket_id)]

    def _holder_keys(self, caseworker_id: str, ticket_id: str) -> list[str]:
        return [self.keys.epoch, self.keys.ticket(ticket_id), self.keys.caseworker(caseworker_id)]

    def _base_ms(self, spec: TicketSpec, created: float) -> str:
        return str(round(created * 1000) - self.config.weight_ms(spec.priority))

    # -- residents --------------------------------------------------------------------------

    async def enqueue(self, ticket: TicketSpec) -> list[Transition]:
        """Put a ticket in line (offering it at once if an eligible caseworker is free)."""
        created = self.clock() if ticket.created_at is None else ticket.created_at
        transitions, _ = await self._call(
            "enqueue", self._ticket_keys(ticket.id),
            ticket.id, ticket.kiosk_id, ticket.street_id, ticket.matter_id, ticket.skill,
            ticket.priority, repr(float(created)), self._base_ms(ticket, created),
        )
        return transitions

    async def cancel(self, ticket_id: str, reason: str = "") -> list[Transition]:
        """The resident leaves (waiting or offered); an open offer is withdrawn.

        With a `reason` the server ends the ticket (e.g. the centre closed): the transition's actor
        is `system` and its `extra` carries the reason."""
        return (await self._call("cancel", self._ticket_keys(ticket_id), ticket_id, reason))[0]

    async def kiosk_disconnected(self, ticket_id: str) -> list[Transition]:
        """The kiosk went away: keep the place for kiosk_grace_s, stop routing the ticket."""
        return (await self._call("kioskDisconnected", self._ticket_keys(ticket_id), ticket_id))[0]

    async def kiosk_reconnected(self, ticket_id: str) -> list[Transition]:
        """The kiosk is back within the grace period: route the ticket again at its place."""
        return (await self._call("kioskReconnected", self._ticket_keys(ticket_id), ticket_id))[0]

    # -- caseworkers ------------------------------------------------------------------------

    async def caseworker_login(
        self, caseworker_id: str, street_id: str, skills: Sequence[str], *, available: bool = True
    ) -> list[Transition]:
        """Sign a caseworker in with their home street and skills; available or on a break."""
        if not skills or any("," in s or not s for s in skills):
            raise QueueError("invalid_argument", "skills must be non-empty names without ','")
        transitions, _ = await self._call(
            "caseworkerLogin", [self.keys.epoch, self.keys.caseworker(caseworker_id)],
            caseworker_id, street_id, ",".join(skills), "1" if available else "0",
        )
        return transitions

    async def _cw_state(self, caseworker_id: str, op: str, reason: str = "") -> list[Transition]:
        keys = [self.keys.epoch, self.keys.caseworker(caseworker_id)]
        return (await self._call("caseworkerState", keys, caseworker_id, op, reason))[0]

    async def set_available(self, caseworker_id: str) -> list[Transition]:
        """Ready for the next resident (from break, offline, or ending a wrap-up early)."""
        return await self._cw_state(caseworker_id, "available")

    async def finish_wrap_up(self, caseworker_id: str) -> list[Transition]:
        """End the wrap-up early: the ticket is done and the caseworker available."""
        return await self._cw_state(caseworker_id, "finish_wrap_up")

    async def set_break(self, caseworker_id: str, reason: str = "break") -> list[Transition]:
        """Pause; an open offer goes back to the queue keeping its place. Refused in a call."""
        return await self._cw_state(caseworker_id, "break", reason)

    async def set_offline(self, caseworker_id: str) -> list[Transition]:
        """Sign out; a held offer or call goes back to the front of its queue."""
        return await self._cw_state(caseworker_id, "offline")

    async def caseworker_disconnected(self, caseworker_id: str) -> list[Transition]:
        """The caseworker's connection dropped: as set_offline, recorded as a drop."""
        return await self._cw_state(caseworker_id, "disconnected")

    async def accept(self, caseworker_id: str, ticket_id: str, fence: int) -> list[Transition]:
        """Take the offered call; `fence` is the offer's. Returns the in_call fence in records."""
        keys = self._holder_keys(caseworker_id, ticket_id)
        return (await self._call("accept", keys, caseworker_id, ticket_id, str(fence)))[0]

    async def reject(self, caseworker_id: str, ticket_id: str, fence: int) -> list[Transition]:
        """Decline an offer: the ticket keeps its place and is never re-offered to this person."""
        keys = self._holder_keys(caseworker_id, ticket_id)
        return (await self._call("reject", keys, caseworker_id, ticket_id, str(fence)))[0]

    async def end_call(
        self,
        caseworker_id: str,
        ticket_id: str,
        fence: int,
        *,
        handle_s: float | None = None,
        outcome: str = "",
    ) -> list[Transition]:
        """End the call; `handle_s` (default: since accept) feeds the wait estimates."""
        keys = self._holder_keys(caseworker_id, ticket_id)
        measured = "" if handle_s is None else repr(float(handle_s))
        return (
            await self._call("endCall", keys, caseworker_id, ticket_id, str(fence), measured, outcome)
        )[0]

    async def transfer(
        self, caseworker_id: str, ticket_id: str, fence: int, new_skill: str
    ) -> list[Transition]:
        """转办: send the ticket to the front of another skill's queue; caseworker to wrap-up."""
        keys = self._holder_keys(caseworker_id, ticket_id)
        return (await self._call("transfer", keys, caseworker_id, ticket_id, str(fence), new_skill))[0]

    # -- timer and rebuild ------------------------------------------------------------------

    async def tick(self, batch: int = 200) -> list[Transition]:
        """Run due timers (offer timeouts, grace, wrap-up, widening) until none is due."""
        out: list[Transition] = []
        while True:
            transitions, result = await self._call("tick", [self.keys.epoch], str(batch))
            out.extend(transitions)
            if not result["more"]:
                return out

    async def needs_rebuild(self) -> bool:
        """True when the epoch marker is missing (Redis restarted empty or never initialised)."""
        return not await self.redis.exists(self.keys.epoch)

    async def rebuild(self, records: Sequence[TicketRecord]) -> list[Transition]:
        """Refill an empty live queue from open database sessions (no-op if another did it).

        Waiting/offered/requeued records return to waiting in queue order, in_call records to
        the front (their caseworker state is gone), wrap_up records become done. Records in
        other states are ignored. Call with [] on a fresh install to set the epoch marker.
        """
        back: list[tuple[int, dict[str, Any]]] = []
        front: list[tuple[float, dict[str, Any]]] = []
        for rec in records:
            if rec.state not in _LIVE_FOR_REBUILD:
                continue
            base = int(self._base_ms(rec, rec.created_at))
            item = {
                "id": rec.id, "kiosk": rec.kiosk_id, "street": rec.street_id, "matter": rec.matter_id,
                "skill": rec.skill, "prio": rec.priority, "created": repr(float(rec.created_at)),
                "base": base, "state": rec.state, "fence": rec.fence,
            }
            if rec.state == "in_call":
                front.append((rec.created_at, item))
            else:
                back.append((base, item))
        # each front record goes ahead of all before it: newest first leaves the oldest in front
        ordered = [i for _, i in sorted(back, key=lambda p: p[0])]
        ordered += [i for _, i in sorted(front, key=lambda p: p[0], reverse=True)]
        transitions, _ = await self._call(
            "rebuild", [self.keys.epoch], uuid.uuid4().hex, json.dumps(ordered, ensure_ascii=False)
        )
        return transitions

    # -- reads ------------------------------------------------------------------------------

    async def positions(self, ticket_ids: Sequence[str]) -> dict[str, Position]:
        """Position and estimated wait of many tickets in one round trip."""
        if not ticket_ids:
            return {}
        _, result = await self._call("positions", [self.keys.epoch], *ticket_ids)
        return {
            item["id"]: Position(
                ticket_id=item["id"], state=item.get("state"), position=item.get("position"),
                est_wait_s=item.get("est_wait_s"), eligible_caseworkers=item.get("eligible"),
                avg_handle_s=item.get("avg_handle_s"),
            )
            for item in result["items"]
        }

    async def position(self, ticket_id: str) -> Position:
        """Position (1 = next) and estimated wait of one ticket; None fields when not waiting."""
        return (await self.positions([ticket_id]))[ticket_id]

    async def ticket(self, ticket_id: str) -> TicketStatus | None:
        """The live ticket, or None if unknown (or finished longer than finished_ttl_s ago)."""
        raw = await self.redis.hgetall(self.keys.ticket(ticket_id))
        if not raw:
            return None
        h = {_decode(k): _decode(v) for k, v in raw.items()}
        return TicketStatus(
            id=ticket_id, kiosk_id=h["kiosk"], street_id=h["street"], matter_id=h["matter"],
            skill=h["skill"], priority=h["prio"], created_at=float(h["created"]), state=h["state"],
            fence=int(h["fence"]), caseworker_id=h.get("cw") or None, widened=h.get("wid") == "1",
            kiosk_gone=h.get("gone") == "1", offer_deadline=float(h["deadline"]) if h.get("deadline") else None,
        )

    async def caseworker(self, caseworker_id: str) -> CaseworkerStatus | None:
        """The live caseworker, or None if they never logged in since the last rebuild."""
        return _caseworker_status(caseworker_id, await self.redis.hgetall(self.keys.caseworker(caseworker_id)))

    async def caseworkers(self, caseworker_ids: Sequence[str]) -> list[CaseworkerStatus | None]:
        """Several live caseworkers in one round trip (None for those not logged in)."""
        pipe = self.redis.pipeline(transaction=False)
        for caseworker_id in caseworker_ids:
            pipe.hgetall(self.keys.caseworker(caseworker_id))
        raws = await pipe.execute() if caseworker_ids else []
        return [_caseworker_status(cid, raw) for cid, raw in zip(caseworker_ids, raws, strict=True)]

    async def live_figures(self) -> LiveFigures:
        """Waiting per skill and street, longest waits, caseworkers and tickets per state."""
        now = self.clock()
        _, r = await self._call("liveFigures", [self.keys.epoch])

        def pairs(name: str) -> dict[str, int]:
            return {k: int(v) for k, v in r[name] or () if int(v) != 0}

        by_skill = {k: now - float(v) for k, v in r["oldest_by_skill"] or ()}
        return LiveFigures(
            waiting_by_skill={k: int(v) for k, v in r["waiting_by_skill"] or ()},
            waiting_by_street=pairs("waiting_by_street"),
            longest_wait_s=max(by_skill.values(), default=None),
            longest_wait_by_skill=by_skill,
            caseworkers_by_state=pairs("caseworkers_by_state"),
            tickets_by_state=pairs("tickets_by_state"),
            eligible_by_skill=pairs("eligible_by_skill"),
        )
