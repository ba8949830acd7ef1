"""The live state of capture requests, in Redis, so that every server process sees the same.

One hash per capture (`{prefix}capture:{id}`) and one pointer per call to its open capture. States:

    open ──capture_take──▶ taking ──upload──▶ checking ──ok──▶ review ──accept/retake──▶ done
      ▲                      │                    │
      └── timeout / failed ◀─┴────────────────────┘          (cancel or call end: any → done)

Transitions are compare-and-set under WATCH: two processes (the analysis peer deciding to take,
the caseworker pressing 拍照, an upload) never both win.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from server.protocol.addresses import caseworker_address, kiosk_address
from server.runtime.redis_keys import RedisKeys

# An abandoned request disappears by itself; an active one is refreshed on every transition.
CAPTURE_TTL_S = 3600
LIVE_STATES = frozenset({"open", "taking", "checking", "review"})


@dataclass(frozen=True)
class CaptureState:
    """One capture request as stored."""

    capture_id: str
    call_id: str
    kiosk_id: int
    caseworker_id: int
    matter_id: str
    matter_name: str
    material: str
    document_type: str
    state: str
    attempt: int
    manual: bool
    changed_at: float

    @property
    def kiosk_key(self) -> str:
        """The kiosk's principal address."""
        return kiosk_address(self.kiosk_id)

    @property
    def caseworker_key(self) -> str:
        """The caseworker's principal address."""
        return caseworker_address(self.caseworker_id)

    @property
    def members(self) -> list[str]:
        """Both members' addresses (messages for kiosk and caseworker)."""
        return [self.kiosk_key, self.caseworker_key]


def _decode(raw: dict[Any, Any]) -> dict[str, str]:
    return {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in raw.items()}


def _parse(capture_id: str, fields: dict[str, str]) -> CaptureState:
    return CaptureState(
        capture_id=capture_id, call_id=fields["call_id"], kiosk_id=int(fields["kiosk_id"]),
        caseworker_id=int(fields["caseworker_id"]), matter_id=fields["matter_id"],
        matter_name=fields["matter_name"], material=fields["material"], document_type=fields["document_type"],
        state=fields["state"], attempt=int(fields.get("attempt", "0")), manual=fields.get("manual") == "1",
        changed_at=float(fields.get("changed_at", "0")),
    )


class CaptureStates:
    """Create, read and move capture requests."""

    def __init__(self, redis: aioredis.Redis, keys: RedisKeys) -> None:
        self.redis = redis
        self.keys = keys

    async def create(self, state: CaptureState) -> str | None:
        """Store a new open request as the call's current one; returns the id it replaced, if any."""
        key = self.keys.capture(state.capture_id)
        fields = {"call_id": state.call_id, "kiosk_id": str(state.kiosk_id),
                  "caseworker_id": str(state.caseworker_id), "matter_id": state.matter_id,
                  "matter_name": state.matter_name, "material": state.material,
                  "document_type": state.document_type, "state": "open", "attempt": "0", "manual": "0",
                  "changed_at": str(time.time())}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=dict(fields.items()))
            pipe.expire(key, CAPTURE_TTL_S)
            pipe.getset(self.keys.capture_of_call(state.call_id), state.capture_id)
            pipe.expire(self.keys.capture_of_call(state.call_id), CAPTURE_TTL_S)
            replaced = (await pipe.execute())[2]
        if replaced is None:
            return None
        return replaced.decode() if isinstance(replaced, bytes) else str(replaced)

    async def get(self, capture_id: str) -> CaptureState | None:
        """The request, or None when unknown or expired."""
        fields = _decode(await self.redis.hgetall(self.keys.capture(capture_id)))
        return _parse(capture_id, fields) if fields.get("state") else None

    async def current_of_call(self, call_id: str) -> str | None:
        """The call's current capture id, if any."""
        raw = await self.redis.get(self.keys.capture_of_call(call_id))
        return raw.decode() if isinstance(raw, bytes) else raw

    async def move(self, capture_id: str, allowed: set[str] | frozenset[str], to: str, *,
                   next_attempt: bool = False, **fields: str) -> CaptureState | None:
        """Move from one of `allowed` states to `to` atomically; the new state, or None if not allowed."""
        key = self.keys.capture(capture_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    current = _decode(await pipe.hgetall(key))
                    if current.get("state") not in allowed:
                        await pipe.unwatch()
                        return None
                    update: dict[str, str] = {"state": to, "changed_at": str(time.time()), **fields}
                    if next_attempt:
                        update["attempt"] = str(int(current.get("attempt", "0")) + 1)
                    pipe.multi()
                    pipe.hset(key, mapping=dict(update.items()))
                    pipe.expire(key, CAPTURE_TTL_S)
                    await pipe.execute()
                    return _parse(capture_id, {**current, **update})
                except WatchError:
                    continue

    async def finish(self, capture_id: str, call_id: str) -> None:
        """Forget the call's pointer (when it still points here); the hash expires by itself."""
        pointer = self.keys.capture_of_call(call_id)
        current = await self.current_of_call(call_id)
        if current == capture_id:
            await self.redis.delete(pointer)
