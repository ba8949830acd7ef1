"""`welcome`: registering a connection that said hello and telling it the whole current state."""

from __future__ import annotations

import secrets
from typing import Any

from server.db.models import Centre, Kiosk, Site, Street, User
from server.db.types import utcnow
from server.protocol import outbound as out
from server.protocol.addresses import CASEWORKER, KIOSK, caseworker_address, kiosk_address
from server.queueing.service import QueueService
from server.settings import Settings
from server.signaling.connection import HEARTBEAT_S, Connection
from server.signaling.departures import Departures
from server.signaling.hub import Hub
from server.signaling.ice import ice_servers, ice_transport_policy
from server.signaling.queue_fanout import QueueFanout

RESUME_TTL_S = 600


class Welcomer:
    """Builds each connection's `welcome` and registers the connection for delivery."""

    def __init__(self, settings: Settings, hub: Hub, fanout: QueueFanout, queue: QueueService,
                 departures: Departures) -> None:
        self.settings = settings
        self.hub = hub
        self.fanout = fanout
        self.views = fanout.views
        self.queue = queue
        self.departures = departures

    async def welcome(self, connection: Connection, resume: str | None) -> out.Welcome:
        """Register the connection and build its `welcome` with the whole current state."""
        principal = connection.principal
        resumed = False
        if resume:
            owner = await self.hub.redis.get(self.hub.keys.resume_token(resume))
            owner_key = owner.decode() if isinstance(owner, bytes) else owner
            resumed = owner_key == connection.key
        token = secrets.token_urlsafe(24)
        await self.hub.redis.set(self.hub.keys.resume_token(token), connection.key, ex=RESUME_TTL_S)
        # Redis may have come back empty a moment ago: rebuild before reading the live state, or
        # a kiosk holding a ticket would be told it has none.
        await self.queue.rebuild_from_database()
        self.departures.came_back(connection.key)
        self.hub.add(connection)
        await self.hub.presence.touch(connection.key, connection.id)
        await self.hub.announce(connection.key)
        servers = [s.model_dump(exclude_none=True) for s in ice_servers(self.settings, principal.actor)]
        fields: dict[str, Any] = {"state": {}}
        if principal.role == KIOSK:
            fields = await self._kiosk_welcome(connection, fresh=not resumed)
        elif principal.role == CASEWORKER:
            fields = await self._caseworker_welcome(connection, fresh=not resumed)
        policy = ice_transport_policy(self.settings, principal.role)
        return out.welcome(role=principal.role, resume_token=token, resumed=resumed, heartbeat_s=HEARTBEAT_S,
                           ice_servers=servers, ice_transport_policy=policy, **fields)

    async def _kiosk_welcome(self, connection: Connection, fresh: bool) -> dict[str, Any]:
        kiosk_id = connection.principal.kiosk_id
        assert kiosk_id is not None
        async with self.queue.sessions() as session:
            kiosk = await session.get(Kiosk, kiosk_id)
            site = await session.get(Site, kiosk.site_id) if kiosk else None
            street = await session.get(Street, site.street_id) if site else None
            if kiosk is not None:
                kiosk.last_seen_at = utcnow()
                await session.commit()
        ticket = await self.queue.open_ticket_of_kiosk(kiosk_id)
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
        kiosk_info = {"id": kiosk_id, "site": site.name if site else "", "street": street.name if street else ""}
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
        return call.model_dump(mode="json") if call else None
