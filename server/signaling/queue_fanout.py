"""Queue events → client messages: each process turns the transitions that concern its own
connections into `ticket`, `agent`, `offer`, `call` and `call_ended` messages."""

from __future__ import annotations

from session_queue import WAITING_TICKET_STATES, QueueEvent, SessionQueue, Transition, parse_event

from server.protocol import outbound as out
from server.protocol.addresses import KIOSK_PREFIX, caseworker_address, kiosk_address
from server.signaling.connection import Connection
from server.signaling.hub import Hub
from server.signaling.views import ViewBuilder


def call_end_reason(tr: Transition) -> str:
    """Why a call ended, from the ticket transition that ended it."""
    if tr.kind == "transfer":
        return "transferred"
    if tr.to_state in ("requeued", "waiting"):
        return "peer_gone"  # the caseworker dropped; the ticket went back to the front
    return "ended"


class QueueFanout:
    """Routes queue transitions to this process's kiosk and caseworker connections."""

    def __init__(self, hub: Hub, queue: SessionQueue, views: ViewBuilder) -> None:
        self.hub = hub
        self.queue = queue
        self.views = views
        self.kiosk_of_ticket: dict[str, str] = {}
        hub.listen_to(queue.keys.channel, self.on_message)

    def watch_ticket(self, connection: Connection, ticket_id: str | None) -> None:
        """Route this ticket's queue events to the kiosk connection."""
        connection.ticket_id = ticket_id
        connection.last_ticket_view = None
        if ticket_id is not None:
            self.kiosk_of_ticket[ticket_id] = connection.key

    async def on_message(self, data: bytes) -> None:
        """One message of the queue's channel."""
        await self._on_queue_event(parse_event(data))

    async def _on_queue_event(self, event: QueueEvent) -> None:
        for tr in event.transitions:
            if tr.entity == "ticket" and tr.ticket_id:
                await self._ticket_transition(tr)
            elif tr.entity == "caseworker" and tr.caseworker_id:
                await self._caseworker_transition(tr)
        if event.moved_skills:
            await self._refresh_positions(set(event.moved_skills))

    async def _ticket_transition(self, tr: Transition) -> None:
        assert tr.ticket_id is not None
        kiosk_key = self.kiosk_of_ticket.get(tr.ticket_id)
        call_ended = tr.from_state == "in_call" and tr.to_state != "in_call"
        if call_ended:
            case_number = await self.views.case_number(tr.ticket_id) if tr.kind == "end_call" else ""
            message = out.call_ended(tr.ticket_id, call_end_reason(tr), tr.extra.get("outcome"), case_number)
            for connections in [self.hub.local.get(kiosk_key, set()) if kiosk_key else set(),
                                self.hub.local.get(caseworker_address(tr.caseworker_id), set())]:
                for connection in list(connections):
                    connection.call_peers.pop(tr.ticket_id, None)
                    connection.calls_announced.discard(tr.ticket_id)
                    connection.call_ends += 1
                    await connection.send(message)
        if kiosk_key is None or kiosk_key not in self.hub.local:
            return
        if tr.to_state == "in_call" and tr.from_state != "in_call" and tr.caseworker_id:
            await self._send_kiosk_call(kiosk_key, tr.ticket_id, tr.caseworker_id)
        await self.send_ticket(kiosk_key, tr.ticket_id)
        if tr.to_state in ("done", "cancelled", "abandoned"):
            self.kiosk_of_ticket.pop(tr.ticket_id, None)

    async def _send_kiosk_call(self, kiosk_key: str, ticket_id: str, caseworker_id: str) -> None:
        """Send the kiosk's connections the call, once each (a connection that has it is skipped)."""
        call = await self.views.call(ticket_id, "answerer", peer_online=True)
        if call is None:
            return
        for connection in list(self.hub.local.get(kiosk_key, ())):
            # checked after the await: the transition and a catch-up may both be on their way
            if ticket_id not in connection.calls_announced:
                connection.calls_announced.add(ticket_id)
                connection.call_peers[ticket_id] = caseworker_address(caseworker_id)
                await connection.send(out.call(call.model_dump(mode="json")))

    async def catch_up_call(self, kiosk_key: str, ticket_id: str) -> None:
        """Send the call of a ticket accepted before its events were routed to the kiosk.

        A join routes the ticket's events to the kiosk only once the join is recorded; a
        caseworker who accepts within that moment moved the ticket to `in_call` unseen.
        """
        live = await self.queue.ticket(ticket_id)
        if live is not None and live.state == "in_call" and live.caseworker_id:
            await self._send_kiosk_call(kiosk_key, ticket_id, live.caseworker_id)

    async def send_ticket(self, kiosk_key: str, ticket_id: str) -> None:
        """Send the kiosk its ticket view if it changed since the last one it got."""
        view = await self.views.ticket(ticket_id)
        if view is None:
            return
        data = view.model_dump(mode="json")
        for connection in list(self.hub.local.get(kiosk_key, ())):
            if connection.ticket_id == ticket_id and connection.last_ticket_view != data:
                connection.last_ticket_view = data
                await connection.send(out.ticket(data))

    async def _caseworker_transition(self, tr: Transition) -> None:
        key = caseworker_address(tr.caseworker_id)
        connections = self.hub.local.get(key)
        if not connections:
            return
        assert tr.caseworker_id is not None
        messages: list[out.ServerMessage] = []
        # The offer lapsed or the kiosk left (the queue names the ticket it was for): the console
        # takes the prompt away. The caseworker's own reject or going offline needs no telling.
        withdrawn = tr.extra.get("offered")
        if tr.from_state == "offered" and tr.to_state != "in_call" and withdrawn \
                and tr.kind in ("offer_timeout", "offer_withdrawn"):
            messages.append(out.offer_withdrawn(str(withdrawn), tr.kind))
        if tr.to_state == "offered" and tr.ticket_id:
            offer = await self.views.offer(tr.ticket_id)
            if offer is not None:
                messages.append(out.offer(offer.model_dump(mode="json")))
        if tr.to_state == "in_call" and tr.ticket_id:
            call = await self.views.call(tr.ticket_id, "offerer", peer_online=True)
            if call is not None:
                ticket = await self.queue.ticket(tr.ticket_id)
                for connection in list(connections):
                    if ticket is not None:
                        connection.call_peers[tr.ticket_id] = kiosk_address(ticket.kiosk_id)
                messages.append(out.call(call.model_dump(mode="json")))
        messages.append(out.agent((await self.views.agent(int(tr.caseworker_id))).model_dump(mode="json")))
        for message in messages:
            for connection in list(connections):
                await connection.send(message)

    async def _refresh_positions(self, skills: set[str]) -> None:
        """Send new places in line to local waiting kiosks: one Redis round trip, no database."""
        waiting = [c for key, cs in self.hub.local.items() if key.startswith(KIOSK_PREFIX) for c in cs
                   if c.ticket_id is not None and c.last_ticket_view is not None
                   and c.last_ticket_view.get("state") in WAITING_TICKET_STATES]
        if not waiting:
            return
        places = await self.queue.positions([c.ticket_id for c in waiting if c.ticket_id])
        for connection in waiting:
            place = places.get(connection.ticket_id or "")
            if place is None or place.position is None or connection.last_ticket_view is None:
                continue
            data = {**connection.last_ticket_view, "position": place.position,
                    "est_wait_s": None if place.est_wait_s is None else round(place.est_wait_s)}
            if data != connection.last_ticket_view:
                connection.last_ticket_view = data
                await connection.send(out.ticket(data))
