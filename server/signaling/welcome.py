"""`welcome`: registering a connection that said hello and telling it the whole current state."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from server.db.models import Centre, User
from server.protocol import outbound as out
from server.protocol.addresses import CASEWORKER, KIOSK, caseworker_address, kiosk_address
from server.queueing.service import QueueService
from server.settings import Settings
from server.signaling.connection import HEARTBEAT_S, Connection
from server.signaling.departures import Departures
from server.signaling.hub import Hub
from server.signaling.ice import IceConfig, ice_transport_policy
from server.signaling.open_tickets import OpenTickets
from server.signaling.places import KioskPlaces
from server.signaling.queue_fanout import QueueFanout

RESUME_TTL_S = 600


class Welcomer:
    """Builds each connection's `welcome` and registers the connection for delivery."""

    def __init__(self, settings: Settings, hub: Hub, fanout: QueueFanout, queue: QueueService,
                 departures: Departures, saw_kiosk: Callable[[int], None]) -> None:
        self.settings = settings
        self.places = KioskPlaces(queue.sessions)
        self.open_tickets = OpenTickets(queue)
        self.ice = IceConfig(settings)
        # Writes a kiosk's last_seen_at with the keep-alive's next tick (batched, off the hot path).
        self.saw_kiosk = saw_kiosk
        self.hub = hub
        self.fanout = fanout
        self.views = fanout.views
        self.queue = queue
        self.departures = departures

    async def welcome(self, connection: Connection, resume: str | None) -> out.Welcome:
        """Register the connection and build its `welcome` with the whole current state."""
        principal = connection.principal
        token = secrets.token_urlsafe(24)
        self.departures.came_back(connection.key)
        self.hub.add(connection)
        # One Redis round trip: the resume token (old and new), whether the live queue lost its
        # state, presence, and the hello notice (after the presence it announces).
        async with self.hub.redis.pipeline(transaction=False) as pipe:
            if resume:
                pipe.get(self.hub.keys.resume_token(resume))
            pipe.set(self.hub.keys.resume_token(token), connection.key, ex=RESUME_TTL_S)
            pipe.get(self.queue.queue.keys.epoch)
            self.hub.presence.touch_in(pipe, connection.key, connection.id)
            self.hub.announce_in(pipe, connection.key)
            if principal.role == KIOSK and principal.kiosk_id is not None:
                pipe.get(self.hub.keys.kiosk_joins(principal.kiosk_id))
                pipe.get(self.hub.keys.kiosk_no_ticket(principal.kiosk_id))
            results = await pipe.execute()
        resumed = False
        if resume:
            owner = results.pop(0)
            resumed = (owner.decode() if isinstance(owner, bytes) else owner) == connection.key
        queue_intact = results[1] is not None
        if not queue_intact:
            # Redis came back empty a moment ago: rebuild before reading the live state, or a kiosk
            # holding a ticket would be told it has none.
            await self.queue.rebuild_from_database()
        servers = self.ice.servers(principal.actor)
        fields: dict[str, Any] = {"state": {}}
        if principal.role == KIOSK:
            fields = await self._kiosk_welcome(connection, not resumed, (results[1], results[-2]), queue_intact,
                                               results[-1])
        elif principal.role == CASEWORKER:
            fields = await self._caseworker_welcome(connection, fresh=not resumed)
        policy = ice_transport_policy(self.settings, principal.role)
        return out.welcome(role=principal.role, resume_token=token, resumed=resumed, heartbeat_s=HEARTBEAT_S,
                           ice_servers=servers, ice_transport_policy=policy, **fields)

    async def _kiosk_welcome(self, connection: Connection, fresh: bool, joins: tuple[object, object],
                             queue_intact: bool, no_ticket: object) -> dict[str, Any]:
        kiosk_id = connection.principal.kiosk_id
        assert kiosk_id is not None
        site, street = await self.places.of(kiosk_id)
        self.saw_kiosk(kiosk_id)
        ticket = await self.open_tickets.of(kiosk_id, joins, trusted=queue_intact, shared=no_ticket)
        state: dict[str, Any] = {"ticket": None, "call": None}
        if ticket is not None:
            self.fanout.watch_ticket(connection, ticket.session_id)
            live = await self.queue.queue.ticket(ticket.session_id)
            if live is not None and live.kiosk_gone:
                await self.queue.kiosk_reconnected(ticket.session_id)
            view = await self.views.ticket(ticket.session_id)
            if view is not None:
                state["ticket"] = view.model_dump(mode="json")
                connection.last_ticket_view = state["ticket"]
            if live is not None and live.state == "in_call" and live.caseworker_id:
                peer = caseworker_address(live.caseworker_id)
                state["call"] = await self._rejoin_call(connection, ticket.session_id, peer, "answerer", fresh)
        kiosk_info = {"id": kiosk_id, "site": site, "street": street}
        return {"kiosk": kiosk_info, "state": state}

    async def _caseworker_welcome(self, connection: Connection, fresh: bool) -> dict[str, Any]:
        user_id = connection.principal.user_id
        assert user_id is not None
        async with self.queue.sessions() as session:
            user = await session.get(User, user_id)
            centre = await session.get(Centre, user.centre_id) if user and user.centre_id else None
            assert user is not None
            connection.skills = [s.skill for s in user.skills]
            connection.street_id = centre.street_id if centre else None
            user_info = {"id": user.id, "username": user.username, "display_name": user.display_name,
                         "centre_id": user.centre_id, "centre": centre.name if centre else None,
                         "skills": connection.skills}
        agent = await self.views.agent(user_id)
        state: dict[str, Any] = {"agent": agent.model_dump(mode="json"), "offer": None, "call": None}
        if agent.state == "offered" and agent.ticket_id:
            offer = await self.views.offer(agent.ticket_id)
            state["offer"] = offer.model_dump(mode="json") if offer else None
        if agent.state == "in_call" and agent.ticket_id:
            live = await self.queue.queue.ticket(agent.ticket_id)
            if live is not None:
                peer = kiosk_address(live.kiosk_id)
                state["call"] = await self._rejoin_call(connection, agent.ticket_id, peer, "offerer", fresh)
        return {"user": user_info, "state": state}

    async def _rejoin_call(self, connection: Connection, call_id: str, peer: str, role: str,
                           fresh: bool) -> dict[str, Any] | None:
        """The call this connection is a member of; the other member hears that it is back."""
        connection.call_peers[call_id] = peer
        call = await self.views.call(call_id, role, peer_online=await self.hub.presence.is_present(peer))
        await self.hub.send_to([peer], out.peer(call_id, online=True, fresh=fresh))
        if call is None:
            connection.call_peers.pop(call_id, None)  # ended meanwhile: nobody to signal to
            return None
        connection.calls_announced.add(call_id)
        return call.model_dump(mode="json")
