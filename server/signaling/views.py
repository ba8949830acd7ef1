"""Builds the state views clients see (ticket, agent, offer, call) from the queue and the database."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from session_queue import WAITING_TICKET_STATES, SessionQueue
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from matters_catalog.forms import matter_form
from server.catalog.service import CatalogService
from server.db.models import Matter, ServiceSession, Site, Street
from server.protocol.messages import (
    AgentView,
    CallView,
    ConsentView,
    FormFieldView,
    FormLastView,
    MaterialView,
    OfferView,
    TicketView,
)

ConsentLookup = Callable[[str], Awaitable[ConsentView | None]]
FormLookup = Callable[[str, bool], Awaitable[FormLastView | None]]


class ViewBuilder:
    """Reads what a view needs; one instance per application."""

    def __init__(self, queue: SessionQueue, sessions: async_sessionmaker[AsyncSession],
                 catalog: CatalogService) -> None:
        self.queue = queue
        self.sessions = sessions
        self.catalog = catalog
        # Set by the acceptance feature, which owns consents (signaling cannot import it).
        self.consent_of: ConsentLookup | None = None
        self.form_of: FormLookup | None = None  # (session id, for the caseworker?) -> the last form sent

    async def _matter_name(self, session: AsyncSession, matter_id: str) -> str:
        matter = self.catalog.catalog.by_id(matter_id)
        if matter is not None:
            return matter.name
        row = await session.get(Matter, matter_id)  # a retired matter keeps its name
        return row.name if row else matter_id

    async def ticket(self, session_id: str) -> TicketView | None:
        """A kiosk's ticket: number, state, place in line and estimated wait."""
        async with self.sessions() as session:
            row = await session.get(ServiceSession, session_id)
            if row is None:
                return None
            name = await self._matter_name(session, row.matter_id)
        live = await self.queue.ticket(session_id)
        state = live.state if live else row.state
        position = est = None
        if state in WAITING_TICKET_STATES:
            place = await self.queue.position(session_id)
            position, est = place.position, place.est_wait_s
        return TicketView(session_id=row.id, number=row.ticket_number, matter_id=row.matter_id, matter_name=name,
                          state=state, position=position, est_wait_s=None if est is None else round(est))

    async def case_number(self, session_id: str) -> str:
        """The 受理编号 recorded for a session ("" when none); written before the call ends."""
        async with self.sessions() as session:
            row = await session.get(ServiceSession, session_id)
        return (row.case_number or "") if row else ""

    async def agent(self, caseworker_id: int) -> AgentView:
        """A caseworker's queue state (offline when the queue does not know them)."""
        status = await self.queue.caseworker(str(caseworker_id))
        if status is None:
            return AgentView(state="offline")
        wrap_until = None
        if status.state == "wrap_up":
            wrap_until = status.since + self.queue.config.wrap_up_s
        return AgentView(state=status.state, reason=status.reason, ticket_id=status.ticket_id,
                         since=status.since, wrap_up_until=wrap_until)

    async def offer(self, ticket_id: str) -> OfferView | None:
        """What the offer prompt shows: matter, site, street, wait so far."""
        live = await self.queue.ticket(ticket_id)
        if live is None or live.state != "offered":
            return None
        async with self.sessions() as session:
            row = await session.get(ServiceSession, ticket_id)
            if row is None:
                return None
            site = await session.get(Site, row.site_id)
            street = await session.get(Street, row.street_id)
            name = await self._matter_name(session, row.matter_id)
        now = time.time()
        return OfferView(ticket_id=ticket_id, fence=live.fence, matter_id=row.matter_id, matter_name=name,
                         site=site.name if site else "", street=street.name if street else "",
                         priority=row.priority, waited_s=round(now - row.created_at.timestamp(), 1),
                         expires_in_s=self._offer_left_s(live.offer_deadline))

    def _offer_left_s(self, deadline: float | None) -> float:
        """Seconds until the offer lapses, on the queue's clock: a console that (re)connects while
        the offer rings counts down what is left, not the whole timeout."""
        whole = self.queue.config.offer_timeout_s
        if deadline is None:
            return whole
        return round(min(max(deadline - self.queue.clock(), 0.0), whole), 1)

    async def call(self, ticket_id: str, role: str, peer_online: bool) -> CallView | None:
        """A live call as one of its members sees it."""
        live = await self.queue.ticket(ticket_id)
        if live is None or live.state != "in_call":
            return None
        async with self.sessions() as session:
            row = await session.get(ServiceSession, ticket_id)
            if row is None:
                return None
            name = await self._matter_name(session, row.matter_id)
        # current(): a catalog imported by another process shows here (materials, form) after its check.
        matter = (await self.catalog.current()).by_id(row.matter_id)
        materials = [MaterialView(name=m.name, capture=m.capture, document_type=m.document_type)
                     for m in (matter.materials if matter and role == "offerer" else [])]
        # The caseworker fills the matter's application form (同屏确认); the kiosk gets values in `form`.
        form = ([FormFieldView.model_validate(f.model_dump()) for f in matter_form(matter).fields]
                if matter and role == "offerer" else None)
        return CallView(call_id=ticket_id, session_id=ticket_id, role="offerer" if role == "offerer" else "answerer",
                        matter_id=row.matter_id, matter_name=name, ticket_number=row.ticket_number,
                        peer_online=peer_online, fence=live.fence, materials=materials,
                        consent=await self.consent_of(ticket_id) if self.consent_of else None, form=form,
                        form_last=await self.form_of(ticket_id, role == "offerer") if self.form_of else None)
