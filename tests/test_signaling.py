"""The WebSocket protocol in one process: a whole session, relaying, refusals and limits.

Real server (aiohttp test server with the full app), real Redis and database; clients are plain
WebSockets speaking docs/protocol.md. Media and several processes are covered by test_calls_*.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select, update

from server.app import create_app
from server.db.models import AuthSession, Callback, FollowUp, Kiosk, Rating, ServiceSession
from server.db.types import utcnow
from server.hours.callbacks import blank_old_phones
from server.http import app_keys
from server.queueing.service import QUEUE, JoinError
from server.signaling import departures
from server.signaling.context import SIGNALING
from tests.district import add_staff, add_street
from tests.helpers import make_settings, prepare_database
from tests.protocol_client import PASSWORD, Client, Env

MATTER = "gaj-jlks-01"  # 敬老卡申领、发放
SKILL = "police-general"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    settings = make_settings(tmp_path, JINGLIN_WRAP_UP_S="0", JINGLIN_CALL_RECONNECT_S="1")
    await prepare_database(settings)
    app = create_app(settings)
    server = TestServer(app)
    await server.start_server()
    async with app[app_keys.DB_SESSIONS]() as session, session.begin():
        street = await add_street(session, sites=3)
        await add_staff(session, street.centre_id, caseworkers={"cw1": [SKILL], "cw2": [SKILL]}, supervisors=["boss"])
    yield Env(server=server, kiosk_tokens=street.kiosk_tokens)
    await server.close()


@pytest.fixture
async def clients(env: Env) -> AsyncIterator[list[Client]]:
    made: list[Client] = []
    yield made
    for client in made:
        await client.close()


async def _kiosk(env: Env, clients: list[Client], n: int = 0) -> Client:
    client = Client(env)
    clients.append(client)
    await client.kiosk_login(env.kiosk_tokens[n])
    await client.connect()
    return client


async def _caseworker(env: Env, clients: list[Client], name: str = "cw1") -> Client:
    client = Client(env)
    clients.append(client)
    await client.staff_login(name)
    await client.connect()
    return client


async def _offered(env: Env, clients: list[Client]) -> tuple[Client, Client, dict[str, Any]]:
    """A kiosk in line and a caseworker who went available and holds its offer."""
    kiosk = await _kiosk(env, clients)
    cw = await _caseworker(env, clients)
    await kiosk.send({"type": "join", "matter_id": MATTER, "mode": "handle"})
    ticket = (await kiosk.expect("ticket"))["ticket"]
    await cw.send({"type": "set_status", "status": "available"})
    offer = (await cw.expect("offer"))["offer"]
    assert offer["ticket_id"] == ticket["session_id"]
    return kiosk, cw, offer


async def _into_call(env: Env, clients: list[Client]) -> tuple[Client, Client, str]:
    kiosk, cw, offer = await _offered(env, clients)
    await cw.send({"type": "accept", "ticket_id": offer["ticket_id"], "fence": offer["fence"]})
    await cw.expect("call")
    await kiosk.expect("call")
    return kiosk, cw, offer["ticket_id"]


async def test_whole_session(env: Env, clients: list[Client]) -> None:
    kiosk = await _kiosk(env, clients)
    assert kiosk.welcome["role"] == "kiosk"
    assert kiosk.welcome["state"] == {"ticket": None, "call": None}
    cw = await _caseworker(env, clients)
    assert cw.welcome["state"]["agent"]["state"] == "offline"

    await kiosk.send({"type": "join", "matter_id": MATTER, "mode": "handle", "id": 1})
    ticket = (await kiosk.expect("ticket"))["ticket"]
    assert ticket["state"] == "waiting"
    assert ticket["position"] == 1
    assert ticket["number"].startswith("A")
    assert ticket["matter_name"].startswith("敬老卡")

    await cw.send({"type": "set_status", "status": "available"})
    offer = (await cw.expect("offer"))["offer"]
    assert offer["matter_name"].startswith("敬老卡")
    assert offer["site"] == "测试居民区0（演示）"
    assert offer["street"] == "江宁路街道"
    await cw.send({"type": "accept", "ticket_id": offer["ticket_id"], "fence": offer["fence"]})
    cw_call = (await cw.expect("call"))["call"]
    kiosk_call = (await kiosk.expect("call"))["call"]
    assert cw_call["role"] == "offerer"
    assert kiosk_call["role"] == "answerer"
    assert cw_call["call_id"] == kiosk_call["call_id"] == ticket["session_id"]
    assert any(m["capture"] for m in cw_call["materials"])

    sdp = {"type": "offer", "sdp": "v=0\r\n"}
    await cw.send({"type": "signal", "call_id": cw_call["call_id"], "data": {"description": sdp}})
    relayed = await kiosk.expect("signal")
    assert relayed["from"] == "caseworker"
    assert relayed["data"] == {"description": sdp}
    candidate = {"candidate": "candidate:1 1 UDP 1 10.0.0.1 9 typ host", "sdpMid": "0", "sdpMLineIndex": 0}
    await kiosk.send({"type": "signal", "call_id": cw_call["call_id"], "data": {"candidate": candidate}})
    assert (await cw.expect("signal"))["data"]["candidate"] == candidate
    # The end of candidates, as browsers give it, arrives as sent: null fields and all.
    for data in ({"candidate": None}, {"candidate": {"candidate": "", "sdpMid": None, "sdpMLineIndex": None}},
                 {"candidate": {**candidate, "usernameFragment": "abcd"}}):
        mark = cw.mark()
        await kiosk.send({"type": "signal", "call_id": cw_call["call_id"], "data": data})
        assert (await cw.wait_for(lambda m: m.get("type") == "signal", 5, start=mark))["data"] == data

    await cw.send({"type": "end_call", "ticket_id": offer["ticket_id"], "outcome": "accepted"})
    ended = await kiosk.expect("call_ended")
    assert ended["outcome"] == "accepted"
    assert ended["case_number"].startswith("JA-")  # issued by the server (docs/acceptance.md)
    await cw.expect("call_ended")
    reply = await kiosk.request({"type": "rate", "session_id": ticket["session_id"], "score": 2,
                                 "comment": "等太久"}, ref=7)
    assert reply == {"type": "ok", "ref": 7}
    again = await kiosk.request({"type": "rate", "session_id": ticket["session_id"], "score": 5}, ref=8)
    assert again["code"] == "already_rated"

    app = env.server.app
    async with app[app_keys.DB_SESSIONS]() as session:
        row = await session.get(ServiceSession, ticket["session_id"])
        assert row is not None
        assert row.outcome == "accepted"
        assert row.case_number == ended["case_number"]
        rating = await session.get(Rating, row.id)
        assert rating is not None
        assert rating.score == 2
        followup = await session.scalar(select(FollowUp).where(FollowUp.session_id == row.id))
        assert followup is not None
        assert followup.state == "open"
        assert followup.due_at > rating.created_at


async def test_a_kiosk_that_was_away_when_its_call_ended_reads_what_came_of_it(
        env: Env, clients: list[Client]) -> None:
    kiosk, cw, call_id = await _into_call(env, clients)
    url = env.url(f"/api/v1/sessions/{call_id}/result")
    during = await (await kiosk.http.get(url)).json()
    assert (during["state"], during["outcome"], during["case_number"]) == ("in_call", None, None)
    await kiosk.close()  # away: its call_ended goes nowhere, and the welcome has no call and no ticket
    await cw.send({"type": "end_call", "ticket_id": call_id, "outcome": "accepted"})
    case_number = (await cw.expect("call_ended"))["case_number"]
    back = await _kiosk(env, clients)
    assert back.welcome["state"] == {"ticket": None, "call": None}
    response = await back.http.get(url)
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    result = await response.json()
    assert result == {"session_id": call_id, "state": result["state"], "outcome": "accepted",
                      "case_number": case_number}
    assert result["state"] in ("wrap_up", "done") and case_number.startswith("JA-")
    # Another kiosk may not read it; an unknown session is 404.
    stranger = Client(env)
    clients.append(stranger)
    await stranger.kiosk_login(env.kiosk_tokens[1])
    assert (await stranger.http.get(url)).status == 403
    assert (await back.http.get(env.url("/api/v1/sessions/no-such-session/result"))).status == 404


@pytest.mark.parametrize("token", ["not-a-token", "x" * 129, "x" * 5000])
async def test_an_unknown_resume_token_of_any_length_is_welcomed_fresh(
        env: Env, clients: list[Client], token: str) -> None:
    client = Client(env)
    clients.append(client)
    await client.kiosk_login(env.kiosk_tokens[0])
    welcome = await client.connect(resume=token)
    assert welcome["resumed"] is False and welcome["resume_token"] != token
    assert (await client.request({"type": "ping"}, ref=1))["type"] == "pong"


async def test_two_cancels_at_once_leave_one_ok_and_one_no_ticket(
        env: Env, clients: list[Client], monkeypatch: pytest.MonkeyPatch) -> None:
    kiosk = await _kiosk(env, clients)
    second = await _kiosk(env, clients)
    await kiosk.send({"type": "join", "matter_id": MATTER, "mode": "handle"})
    await kiosk.expect("ticket")
    queue = env.server.app[QUEUE]
    lookup = queue.open_ticket_of_kiosk

    async def slow(kiosk_id: int) -> Any:  # both find the ticket before either cancels it
        found = await lookup(kiosk_id)
        await asyncio.sleep(0.2)
        return found

    monkeypatch.setattr(queue, "open_ticket_of_kiosk", slow)
    replies = await asyncio.gather(kiosk.request({"type": "cancel"}, ref=1), second.request({"type": "cancel"}, ref=2))
    assert sorted(r.get("code", r["type"]) for r in replies) == ["no_ticket", "ok"], replies


async def _session_row(env: Env, session_id: str) -> ServiceSession:
    async with env.server.app[app_keys.DB_SESSIONS]() as session:
        row = await session.get(ServiceSession, session_id)
    assert row is not None
    return row


def _slow_holder_check(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold every "does this caseworker hold the call" check open a moment after it passes, so two
    requests sent at once both pass it unless something serialises them (what a busy event loop or
    two processes do by chance)."""
    queue = env.server.app[QUEUE]
    checked = queue.held_fence

    async def slow(caseworker_id: str, ticket_id: str) -> int:
        fence = await checked(caseworker_id, ticket_id)
        await asyncio.sleep(0.2)
        return fence

    monkeypatch.setattr(queue, "held_fence", slow)


async def test_two_ends_of_one_call_at_once_record_only_the_one_that_ended_it(
        env: Env, clients: list[Client], monkeypatch: pytest.MonkeyPatch) -> None:
    """A caseworker's two consoles end the same call at once, 受理 and 办结: one ends it, the other
    is refused, and the session holds the winner's outcome (a case number only for 受理)."""
    kiosk, cw, call_id = await _into_call(env, clients)
    second = await _caseworker(env, clients)
    _slow_holder_check(env, monkeypatch)
    accepted, completed = await asyncio.gather(
        cw.request({"type": "end_call", "ticket_id": call_id, "outcome": "accepted"}, ref=1),
        second.request({"type": "end_call", "ticket_id": call_id, "outcome": "completed"}, ref=2))
    replies = {"accepted": accepted, "completed": completed}
    winners = [outcome for outcome, reply in replies.items() if reply["type"] == "ok"]
    assert len(winners) == 1, replies
    loser = next(reply for outcome, reply in replies.items() if outcome not in winners)
    assert loser["code"] == "not_holder", loser
    ended = await kiosk.expect("call_ended")
    row = await _session_row(env, call_id)
    assert row.outcome == ended["outcome"] == winners[0]
    assert (row.case_number or "") == ended["case_number"]
    assert bool(ended["case_number"]) == (winners[0] == "accepted")


async def test_an_end_and_a_transfer_at_once_leave_one_consistent_record(
        env: Env, clients: list[Client], monkeypatch: pytest.MonkeyPatch) -> None:
    """转办 sent from the other console while 受理 is being written: one of them happens, whole."""
    kiosk, cw, call_id = await _into_call(env, clients)
    second = await _caseworker(env, clients)
    recorder = env.server.app[QUEUE].recorder
    write = recorder.record_outcome

    async def slow_write(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.3)  # the transfer arrives meanwhile
        return await write(*args, **kwargs)

    monkeypatch.setattr(recorder, "record_outcome", slow_write)

    async def transfer_a_moment_later() -> dict[str, Any]:
        await asyncio.sleep(0.1)
        return await second.request({"type": "transfer", "ticket_id": call_id, "skill": "archives"}, ref=2)

    ended, moved = await asyncio.gather(
        cw.request({"type": "end_call", "ticket_id": call_id, "outcome": "accepted"}, ref=1),
        transfer_a_moment_later())
    assert sorted([ended["type"], moved["type"]]) == ["error", "ok"], (ended, moved)
    assert (ended if ended["type"] == "error" else moved)["code"] == "not_holder"
    row = await _session_row(env, call_id)
    if ended["type"] == "ok":
        assert row.outcome == "accepted" and row.case_number and "转办" not in (row.notes or "")
    else:  # back in line for another skill, with no outcome and no number spent on it
        assert row.outcome is None and not row.case_number and row.skill == "archives"
        assert (await kiosk.expect("call_ended"))["reason"] == "transferred"


async def _rated(env: Env, clients: list[Client], score: int) -> tuple[Client, str]:
    """A call of kiosk 0 ended and rated `score`; the kiosk and the session id."""
    kiosk, cw, session_id = await _into_call(env, clients)
    await cw.send({"type": "end_call", "ticket_id": session_id, "outcome": "completed"})
    await kiosk.expect("call_ended")
    assert (await kiosk.request({"type": "rate", "session_id": session_id, "score": score}))["type"] == "ok"
    await cw.send({"type": "set_status", "status": "offline"})
    return kiosk, session_id


async def test_a_rating_and_a_phone_sent_twice_at_once_are_kept_once(
        env: Env, clients: list[Client], monkeypatch: pytest.MonkeyPatch) -> None:
    """The kiosk's two sockets send the same 差评 and the same 回访 number at once: one is kept, the
    other is told so (`already_rated`, `already_left`), not `unavailable`."""
    kiosk, cw, session_id = await _into_call(env, clients)
    second = await _kiosk(env, clients)
    await cw.send({"type": "end_call", "ticket_id": session_id, "outcome": "completed"})
    await kiosk.expect("call_ended")
    hours = env.server.app[SIGNALING].hours
    working_day = hours.next_working_day

    async def slow(*args: Any) -> Any:  # both pass their "not yet" checks before either writes
        await asyncio.sleep(0.2)
        return await working_day(*args)

    monkeypatch.setattr(hours, "next_working_day", slow)
    rate = {"type": "rate", "session_id": session_id, "score": 1}
    ratings = await asyncio.gather(kiosk.request(rate, ref=1), second.request(rate, ref=2))
    assert sorted(r.get("code", r["type"]) for r in ratings) == ["already_rated", "ok"], ratings
    phone = {"type": "followup_phone", "session_id": session_id, "phone": "13812341234"}
    phones = await asyncio.gather(kiosk.request(phone, ref=3), second.request(phone, ref=4))
    assert sorted(r.get("code", r["type"]) for r in phones) == ["already_left", "ok"], phones
    async with env.server.app[app_keys.DB_SESSIONS]() as session:
        assert len((await session.scalars(select(Callback).where(Callback.session_id == session_id))).all()) == 1


async def test_followup_phone_after_a_bad_rating(env: Env, clients: list[Client]) -> None:
    kiosk, session_id = await _rated(env, clients, 1)

    async def leave(phone: str, session: str = session_id, by: Client = kiosk) -> dict[str, object]:
        return await by.request({"type": "followup_phone", "session_id": session, "phone": phone})

    assert (await leave("1381234123"))["code"] == "bad_phone"  # one digit short
    assert (await leave("13812341234", "nope"))["code"] == "not_followup"
    other = await _kiosk(env, clients, 1)
    assert (await leave("13812341234", by=other))["code"] == "not_followup"  # another kiosk's session
    assert (await leave("138 1234 1234"))["type"] == "ok"
    assert (await leave("13900001111"))["code"] == "already_left"

    app = env.server.app
    async with app[app_keys.DB_SESSIONS]() as session:
        rows = (await session.scalars(select(Callback))).all()
        followup = await session.scalar(select(FollowUp).where(FollowUp.session_id == session_id))
    assert [(r.kind, r.session_id, r.phone, r.state) for r in rows] == [("followup", session_id, "13812341234", "open")]
    # Due when the 回访 is (the next working day; the callback on the service clock, here real time).
    assert followup is not None and abs(rows[0].due_at - followup.due_at) < timedelta(seconds=5)

    # The supervisors see it masked, as a 回访 with its session.
    boss = Client(env)
    clients.append(boss)
    await boss.staff_login("boss")
    async with boss.http.get(env.url("/api/v1/callbacks?state=open")) as response:
        items = (await response.json())["items"]
    assert [(i["kind"], i["session_id"], i["phone"]) for i in items] == [("followup", session_id, "138****1234")]
    # The caseworker rated (cw1, of the same centre) neither sees it nor can take or close it: the
    # 回访 is the supervisors'.
    rated = Client(env)
    clients.append(rated)
    await rated.staff_login("cw1")
    async with rated.http.get(env.url("/api/v1/callbacks")) as response:
        assert response.status == 200 and (await response.json())["items"] == []
    for state in ("taken", "done"):
        async with rated.http.post(env.url(f"/api/v1/callbacks/{rows[0].id}"), json={"state": state}) as response:
            assert response.status == 404 and (await response.json())["error"]["code"] == "unknown_callback"
    async with boss.http.get(env.url("/api/v1/callbacks?state=open")) as response:
        assert [i["state"] for i in (await response.json())["items"]] == ["open"]

    # A 3-5 star rating has no 回访; a number after the window is refused; nothing more is stored.
    await kiosk.close()
    kiosk, happy = await _rated(env, clients, 4)
    assert (await leave("13812341234", happy, kiosk))["code"] == "not_followup"
    kiosk, late = await _rated(env, clients, 2)
    async with app[app_keys.DB_SESSIONS]() as session, session.begin():
        await session.execute(update(Rating).where(Rating.session_id == late)
                              .values(created_at=utcnow() - timedelta(minutes=16)))
    assert (await leave("13812341234", late, kiosk))["code"] == "too_late"
    async with app[app_keys.DB_SESSIONS]() as session, session.begin():
        assert len((await session.scalars(select(Callback))).all()) == 1
        # Retention: once closed, the number is blanked with the other callbacks' numbers.
        await session.execute(update(Callback).values(state="done", created_at=utcnow() - timedelta(days=400)))
        assert await blank_old_phones(session, utcnow() - timedelta(days=30)) == 1
        assert (await session.scalar(select(Callback.phone))) == ""

async def test_positions_update_as_the_queue_moves(env: Env, clients: list[Client]) -> None:
    first = await _kiosk(env, clients, 0)
    second = await _kiosk(env, clients, 1)
    await first.send({"type": "join", "matter_id": MATTER, "mode": "handle"})
    await first.expect("ticket")
    await second.send({"type": "join", "matter_id": MATTER, "mode": "handle"})
    assert (await second.expect("ticket"))["ticket"]["position"] == 2
    await first.send({"type": "cancel"})
    assert (await second.expect("ticket", timeout=5))["ticket"]["position"] == 1


async def test_reload_keeps_the_ticket(env: Env, clients: list[Client]) -> None:
    kiosk = await _kiosk(env, clients)
    await kiosk.send({"type": "join", "matter_id": MATTER, "mode": "handle"})
    ticket = (await kiosk.expect("ticket"))["ticket"]
    assert kiosk.ws is not None
    await kiosk.ws.close()
    again = await kiosk.connect(resume=kiosk.welcome["resume_token"])
    assert again["resumed"] is True
    assert again["state"]["ticket"]["session_id"] == ticket["session_id"]
    assert again["state"]["ticket"]["position"] == 1


async def _waiting_ticket(client: Client) -> str:
    """The session id of the next waiting ticket pushed to client. The push of the last round's
    cancelled ticket is fanned out on its own and may land after the round's drain."""
    while True:
        ticket = (await client.expect("ticket"))["ticket"]
        if ticket["state"] == "waiting":
            return str(ticket["session_id"])


async def test_one_kiosks_two_sockets_joining_at_once_share_one_ticket(env: Env, clients: list[Client]) -> None:
    """The kiosk's screen and a reload of it send the same join in the same instant: both get the
    one ticket, and the queue holds one resident, not two (the join is locked per kiosk)."""
    first = await _kiosk(env, clients)
    second = await _same_principal(env, clients, first)
    join = {"type": "join", "matter_id": MATTER, "mode": "handle"}
    for _ in range(3):
        replies = await asyncio.gather(first.request(join, ref=1), second.request(join, ref=2))
        assert [r["type"] for r in replies] == ["ok", "ok"], replies
        tickets = [await _waiting_ticket(c) for c in (first, second)]
        assert tickets[0] == tickets[1]
        async with env.app[app_keys.DB_SESSIONS]() as db:
            open_rows = (await db.scalars(select(ServiceSession.id).where(
                ServiceSession.state == "waiting"))).all()
        assert open_rows == [tickets[0]]
        # An appointment's check-in queues only a fresh ticket: the one taken meanwhile is refused.
        async with env.app[app_keys.DB_SESSIONS]() as db:
            kiosk_id = (await db.get(ServiceSession, tickets[0])).kiosk_id  # type: ignore[union-attr]
        queue = env.app[QUEUE]
        assert (await queue.join(kiosk_id, MATTER, SKILL, "handle")).session_id == tickets[0]
        with pytest.raises(JoinError) as refused:
            await queue.join(kiosk_id, MATTER, SKILL, "handle", "appointment", fresh_only=True)
        assert refused.value.code == "ticket_open"
        assert (await first.request({"type": "cancel"}, ref=3))["type"] == "ok"
        for client in (first, second):
            client.drain()


async def test_stranger_cannot_signal_into_a_call(env: Env, clients: list[Client]) -> None:
    kiosk, cw, call_id = await _into_call(env, clients)
    other_kiosk = await _kiosk(env, clients, 1)
    other_cw = await _caseworker(env, clients, "cw2")
    data = {"description": {"type": "offer", "sdp": "v=0\r\n"}}
    for stranger in (other_kiosk, other_cw):
        reply = await stranger.request({"type": "signal", "call_id": call_id, "data": data}, ref=1)
        assert reply["code"] == "not_in_call"
    # The members never received anything from the strangers: the next thing each gets is
    # the answer to its own ping.
    for member in (kiosk, cw):
        await member.send({"type": "ping", "id": 2})
        async with asyncio.timeout(5):
            while (message := await member.next_message()).get("ref") != 2:
                assert message["type"] != "signal", message


async def test_a_kiosk_answer_that_overtakes_its_call_still_gets_the_call(
        env: Env, clients: list[Client], monkeypatch: pytest.MonkeyPatch) -> None:
    """The caseworker's offer is relayed directly while the queue's `in_call` event is still on
    its way; the kiosk's prepared peer answers it first. The late event must still bring `call`."""
    kiosk, cw, offer = await _offered(env, clients)
    fanout = env.server.app[SIGNALING].fanout
    reached, go_on = asyncio.Event(), asyncio.Event()
    ticket_transition = fanout._ticket_transition

    async def late(tr: Any) -> None:
        if tr.to_state == "in_call":
            reached.set()
            await go_on.wait()
        await ticket_transition(tr)

    monkeypatch.setattr(fanout, "_ticket_transition", late)
    await cw.send({"type": "accept", "ticket_id": offer["ticket_id"], "fence": offer["fence"]})
    async with asyncio.timeout(5):
        await reached.wait()
    call_id = offer["ticket_id"]
    sdp = {"type": "offer", "sdp": "v=0\r\n"}
    await cw.send({"type": "signal", "call_id": call_id, "data": {"description": sdp}})
    assert (await kiosk.expect("signal"))["data"] == {"description": sdp}
    answer = {"type": "answer", "sdp": "v=0\r\n"}
    await kiosk.send({"type": "signal", "call_id": call_id, "data": {"description": answer}})
    assert (await cw.expect("signal"))["data"] == {"description": answer}
    go_on.set()
    call = (await kiosk.expect("call"))["call"]
    assert call["call_id"] == call_id and call["role"] == "answerer"


async def test_an_offer_the_kiosk_left_or_that_lapsed_is_withdrawn_from_the_console(
        env: Env, clients: list[Client], monkeypatch: pytest.MonkeyPatch) -> None:
    kiosk, cw, offer = await _offered(env, clients)
    await kiosk.send({"type": "cancel"})
    withdrawn = await cw.expect("offer_withdrawn")
    assert withdrawn == {"type": "offer_withdrawn", "ticket_id": offer["ticket_id"], "reason": "offer_withdrawn"}
    # Offered again, and the offer lapses (the queue's clock moved past its deadline).
    await kiosk.send({"type": "join", "matter_id": MATTER, "mode": "handle"})
    again = (await cw.expect("offer"))["offer"]
    queue = env.server.app[QUEUE]
    clock = queue.queue.clock
    monkeypatch.setattr(queue.queue, "clock", lambda: clock() + queue.queue.config.offer_timeout_s + 1)
    await queue.tick()
    lapsed = await cw.expect("offer_withdrawn")
    assert (lapsed["ticket_id"], lapsed["reason"]) == (again["ticket_id"], "offer_timeout")
    assert (await cw.expect("agent", timeout=5))["agent"]["reason"] == "missed_offer"


async def test_a_console_reloaded_while_an_offer_rings_comes_back_into_it(
        env: Env, clients: list[Client], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(departures, "OFFER_RELOAD_S", 0.5)
    _kiosk, cw, offer = await _offered(env, clients)
    await cw.close()
    back = await _caseworker(env, clients)  # a reload: back within the window
    assert back.welcome["state"]["offer"]["ticket_id"] == offer["ticket_id"]
    await asyncio.sleep(1.0)
    queue = env.server.app[QUEUE].queue
    assert (await queue.caseworker(str(back.welcome["user"]["id"]))).state == "offered"
    # Gone for good: after the window the offer goes back to the front of the line.
    await back.close()
    for _ in range(40):
        await asyncio.sleep(0.1)
        live = await queue.ticket(offer["ticket_id"])
        if live is not None and live.state == "waiting":
            break
    assert live is not None and live.state == "waiting"


async def test_an_offer_seen_again_on_a_new_socket_counts_down_what_is_left(
        env: Env, clients: list[Client]) -> None:
    """A console that (re)connects while an offer rings gets the seconds left, not the whole timeout."""
    _, _, first = await _offered(env, clients)
    whole = env.server.app[QUEUE].queue.config.offer_timeout_s
    assert whole - 1 < first["expires_in_s"] <= whole
    await asyncio.sleep(1.5)
    again = await _caseworker(env, clients)
    offer = again.welcome["state"]["offer"]
    assert offer["ticket_id"] == first["ticket_id"]
    assert 0 < offer["expires_in_s"] <= whole - 1.4


async def test_a_call_transferred_while_its_kiosk_is_away_starts_the_kiosks_grace(
        env: Env, clients: list[Client]) -> None:
    """The kiosk drops during a call and the caseworker transfers it: once the kiosk has been gone
    for the call's reconnect window (1 s here), the ticket back in line is marked as the kiosk's
    gone (its waiting grace runs), not offered on to nobody."""
    kiosk, cw, call_id = await _into_call(env, clients)
    await kiosk.close()
    reply = await cw.request({"type": "transfer", "ticket_id": call_id, "skill": SKILL, "note": "请接手"}, ref=7)
    assert reply["type"] == "ok"
    queue = env.server.app[QUEUE].queue
    for _ in range(50):  # the 1 s window, then the rule's own work
        live = await queue.ticket(call_id)
        assert live is not None
        if live.kiosk_gone:
            break
        await asyncio.sleep(0.1)
    assert live.kiosk_gone and live.state in ("waiting", "offered")


async def test_role_limits(env: Env, clients: list[Client]) -> None:
    kiosk = await _kiosk(env, clients)
    reply = await kiosk.request({"type": "accept", "ticket_id": "x", "fence": 1}, ref=1)
    assert reply["code"] == "forbidden"
    cw = await _caseworker(env, clients)
    reply = await cw.request({"type": "join", "matter_id": MATTER, "mode": "handle"}, ref=2)
    assert reply["code"] == "forbidden"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "malformed"),
        ("[1, 2]", "malformed"),
        ('{"type": "teleport", "id": 5}', "malformed"),
        ('{"type": "join", "id": 5}', "invalid"),
        ('{"type": "join", "matter_id": "no-such-matter", "mode": "handle", "id": 5}', "unknown_matter"),
        ('{"type": "join", "matter_id": "gaj-jlks-01", "mode": "handle", "extra": 1, "id": 5}', "invalid"),
        ('{"type": "cancel", "id": 5}', "no_ticket"),
        ('{"type": "rate", "session_id": "nope", "score": 5, "id": 5}', "not_rateable"),
        ('{"type": "rate", "session_id": "nope", "score": 9, "id": 5}', "invalid"),
        # No value is coerced: text or a boolean for a number, text or a number for a boolean.
        ('{"type": "rate", "session_id": "nope", "score": "5", "id": 5}', "invalid"),
        ('{"type": "rate", "session_id": "nope", "score": true, "id": 5}', "invalid"),
        ('{"type": "rate", "session_id": "nope", "score": 5.0, "id": 5}', "invalid"),
        ('{"type": "form_reply", "call_id": "c", "version": "1", "choice": "confirmed", "id": 5}', "invalid"),
        ('{"type": "device_check", "camera_ok": "yes", "microphone_ok": true, "id": 5}', "invalid"),
        ('{"type": "device_check", "camera_ok": 1, "microphone_ok": true, "id": 5}', "invalid"),
        ('{"type": "device_check", "camera_ok": true, "microphone_ok": true, "metrics": {"b": "50"}, "id": 5}',
         "invalid"),
        ('{"type": "join", "matter_id": "gaj-jlks-01", "mode": "handle", "consent": {"version": 1, '
         '"choice": "accepted"}, "id": 5}', "invalid"),
        ("[" * 5000 + "]" * 5000, "malformed"),
        ('{"type": "ping", "pad": ' + "[" * 900 + "]" * 900 + "}", "malformed"),
        ('{"type": "ping", "id": ' + "9" * 5000 + "}", "malformed"),
        ('{"type": "device_check", "camera_ok": true, "microphone_ok": true, "metrics": {"x": NaN}}', "malformed"),
        ('{"type": "device_check", "camera_ok": true, "microphone_ok": true, "metrics": {"x": 1e999}}', "malformed"),
    ],
)
async def test_bad_messages_get_clear_errors(env: Env, clients: list[Client], raw: str, code: str,
                                            caplog: pytest.LogCaptureFixture) -> None:
    kiosk = await _kiosk(env, clients)
    await kiosk.send(raw)
    error = await kiosk.expect("error")
    assert error["code"] == code
    assert not [r for r in caplog.records if r.exc_info]
    # The connection still works afterwards.
    assert (await kiosk.request({"type": "ping"}, ref=9))["type"] == "pong"


async def test_oversized_message(env: Env, clients: list[Client]) -> None:
    kiosk = await _kiosk(env, clients)
    await kiosk.send(json.dumps({"type": "ping", "pad": "x" * 70000}))
    assert (await kiosk.expect("error"))["code"] == "too_large"


async def test_a_lone_surrogate_in_a_signal_is_refused_and_the_call_goes_on(env: Env, clients: list[Client]) -> None:
    kiosk, cw, call_id = await _into_call(env, clients)
    # JSON may escape half of a UTF-16 pair; the relayed text could not be sent on as UTF-8.
    await kiosk.send(json.dumps({"type": "signal", "call_id": call_id, "data": {"candidate": {"candidate": "\ud800"}}}))
    assert (await kiosk.expect("error"))["code"] == "malformed"
    data = {"candidate": {"candidate": "候选 c", "sdpMid": "0", "sdpMLineIndex": 0}}
    await kiosk.send({"type": "signal", "call_id": call_id, "data": data})
    assert (await cw.expect("signal"))["data"] == data


async def test_flood_is_limited_without_disturbing_others(env: Env, clients: list[Client]) -> None:
    kiosk, cw, call_id = await _into_call(env, clients)
    flooder = await _kiosk(env, clients, 1)
    for _ in range(150):
        await flooder.send({"type": "ping"})
    codes = set()
    async with asyncio.timeout(5):
        while "rate_limited" not in codes:
            codes.add((await flooder.next_message()).get("code"))
    data = {"candidate": {"candidate": "c", "sdpMid": "0", "sdpMLineIndex": 0}}
    await cw.send({"type": "signal", "call_id": call_id, "data": data})
    assert (await kiosk.expect("signal"))["data"] == data


async def test_binary_frames_count_against_the_rate(env: Env, clients: list[Client]) -> None:
    flooder = await _kiosk(env, clients)
    assert flooder.ws is not None
    for _ in range(400):
        await flooder.ws.send_bytes(b"x")
    codes = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(5):
            while len(codes) < 400:
                codes.append((await flooder.next_message()).get("code"))
    assert "rate_limited" in codes
    assert await flooder.wait_closed(5) == 4429


async def _same_principal(env: Env, clients: list[Client], of: Client) -> Client:
    """A second client signed in with the same cookie (another tab of the same sign-in)."""
    client = Client(env)
    clients.append(client)
    client.http.cookie_jar.update_cookies({c.key: c.value for c in of.http.cookie_jar})
    await client.connect()
    return client


async def test_sockets_per_principal_are_capped(env: Env, clients: list[Client]) -> None:
    first = await _kiosk(env, clients)
    second = await _same_principal(env, clients, first)
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await second.http.ws_connect(env.url("/api/v1/ws"))
    assert info.value.status == 429
    # Another kiosk is not affected, and a closed socket frees its place.
    await _kiosk(env, clients, 1)
    assert first.ws is not None
    await first.ws.close()
    await asyncio.sleep(0.2)
    assert (await _same_principal(env, clients, second)).welcome["type"] == "welcome"


async def test_a_principals_sockets_share_one_message_budget(env: Env, clients: list[Client]) -> None:
    first = await _kiosk(env, clients)
    second = await _same_principal(env, clients, first)
    # 55 each is within one connection's burst of 60, but not within the kiosk's shared 90.
    for _ in range(55):
        await first.send({"type": "ping"})
        await second.send({"type": "ping"})
    codes = [m.get("code") for m in await _settle(first) + await _settle(second)]
    assert "rate_limited" in codes


async def _settle(client: Client) -> list[dict[str, object]]:
    await asyncio.sleep(1.0)
    return client.drain()


@pytest.mark.parametrize(("first", "code"), [
    ({"type": "ping"}, "hello_required"),
    # Another type with bad fields, one the role may not send, or one that does not exist: hello first.
    ({"type": "ping", "x": 1}, "hello_required"),
    ({"type": "join", "v": 1}, "hello_required"),
    ({"type": "set_status"}, "hello_required"),
    ({"type": "no_such_type"}, "hello_required"),
    ({"type": "hello", "v": "1"}, "invalid"),
    ({"type": "hello"}, "invalid"),
    ({"v": 1}, "malformed"),
])
async def test_hello_is_required_first(env: Env, clients: list[Client], first: dict[str, object],
                                       code: str) -> None:
    client = Client(env)
    clients.append(client)
    await client.kiosk_login(env.kiosk_tokens[0])
    client.ws = await client.http.ws_connect(env.url("/api/v1/ws"))
    await client.ws.send_str(json.dumps(first))
    message = await client.ws.receive_json(timeout=5)
    assert message["code"] == code, message
    closing = await client.ws.receive(timeout=5)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_a_second_hello_is_forbidden_whatever_it_holds(env: Env, clients: list[Client]) -> None:
    kiosk = await _kiosk(env, clients)
    for hello in ({"type": "hello", "v": 1}, {"type": "hello", "v": "1"}, {"type": "hello"}):
        reply = await kiosk.request(hello)
        assert reply["code"] == "forbidden", (hello, reply)


async def test_upgrade_needs_a_session_and_a_good_origin(env: Env) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await http.ws_connect(env.url("/api/v1/ws"))
        assert info.value.status == 401
        await http.post(env.url("/api/v1/kiosk/session"), json={"token": env.kiosk_tokens[0]})
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await http.ws_connect(env.url("/api/v1/ws"), origin="http://evil.example")
        assert info.value.status == 403
        # The upgrade's own 101 carries the security headers too (its headers go out in the handler).
        ws = await http.ws_connect(env.url("/api/v1/ws"))
        try:
            upgrade = ws._response.headers  # the 101 answer
            assert upgrade["Server"] == "jinglin" and upgrade["X-Content-Type-Options"] == "nosniff"
        finally:
            await ws.close()


async def test_every_status_of_the_websocket_endpoint_is_documented(env: Env, clients: list[Client]) -> None:
    kiosk = await _kiosk(env, clients)
    async with aiohttp.ClientSession() as anonymous:
        document = await (await anonymous.get(env.url("/api/v1/openapi.json"))).json()
        documented = {int(s) for s in document["paths"]["/api/v1/ws"]["get"]["responses"]}
        seen = {(await anonymous.get(env.url("/api/v1/ws"))).status}
    seen.add((await kiosk.http.get(env.url("/api/v1/ws"))).status)  # signed in, but no upgrade
    seen.add((await kiosk.http.get(env.url("/api/v1/ws"), headers={"Origin": "http://evil.example"})).status)
    await _same_principal(env, clients, kiosk)
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await kiosk.http.ws_connect(env.url("/api/v1/ws"))
    seen.add(info.value.status)
    assert seen == {400, 401, 403, 429}
    assert seen <= documented


async def test_caseworker_drop_mid_call_requeues_to_front(env: Env, clients: list[Client]) -> None:
    kiosk, cw, _ = await _into_call(env, clients)
    assert cw.ws is not None
    await cw.ws.close()
    assert (await kiosk.expect("peer"))["online"] is False
    ended = await kiosk.expect("call_ended", timeout=8)
    assert ended["reason"] == "peer_gone"
    ticket = (await kiosk.expect("ticket", timeout=5))["ticket"]
    assert ticket["state"] in ("waiting", "requeued")
    assert ticket["position"] == 1


async def test_end_call_refuses_a_typed_case_number_by_default(env: Env, clients: list[Client]) -> None:
    _, cw, call_id = await _into_call(env, clients)
    reply = await cw.request({"type": "end_call", "ticket_id": call_id, "outcome": "accepted",
                              "case_number": "JA001"}, ref=3)
    assert reply["code"] == "case_number_typed"


async def _closed_within(client: Client, seconds: float) -> int | None:
    assert client.ws is not None
    assert client._reader is not None
    # The reader ends when the server closes the socket.
    await asyncio.wait_for(client._reader, seconds)
    return client.ws.close_code


async def test_logout_closes_live_websockets_at_once(env: Env, clients: list[Client]) -> None:
    cw = await _caseworker(env, clients)
    response = await cw.http.post(env.url("/api/v1/auth/logout"))
    assert response.status == 200
    assert await _closed_within(cw, 3) == 4401


async def test_stopping_the_server_closes_every_socket_with_going_away(tmp_path: Path) -> None:
    # A deploy or restart: clients are told at once (1001) and reconnect elsewhere, and the stop
    # is not held up for aiohttp's graceful timeout (60 s) by sockets left open.
    settings = make_settings(tmp_path)
    await prepare_database(settings)
    server = TestServer(create_app(settings))
    await server.start_server()
    async with server.app[app_keys.DB_SESSIONS]() as session, session.begin():
        street = await add_street(session, sites=1)
        await add_staff(session, street.centre_id, caseworkers={"cw1": [SKILL]})
    env = Env(server=server, kiosk_tokens=street.kiosk_tokens)
    made: list[Client] = []
    try:
        kiosk = await _kiosk(env, made)
        cw = await _caseworker(env, made)
        started = asyncio.get_running_loop().time()
        await server.close()
        assert asyncio.get_running_loop().time() - started < 10
        assert await _closed_within(kiosk, 3) == 1001
        assert await _closed_within(cw, 3) == 1001
    finally:
        for client in made:
            await client.close()


async def test_disabled_account_is_closed_at_once(env: Env, clients: list[Client]) -> None:
    from server.cli import _user_disable

    cw = await _caseworker(env, clients, "cw2")
    settings = env.server.app[app_keys.SETTINGS]
    assert await _user_disable(settings, "cw2") == "disabled cw2; live connections closed"
    assert await _closed_within(cw, 3) == 4401
    again = Client(env)
    clients.append(again)
    response = await again.http.post(env.url("/api/v1/auth/login"), json={"username": "cw2", "password": PASSWORD})
    assert response.status == 401


async def _sweep_all(env: Env) -> None:
    """Run the keep-alive sweep now, over every connection (as if all were due)."""
    await env.server.app[SIGNALING].keepalive.sweep(now=float("inf"))


async def test_sessions_ended_without_a_notice_are_closed_by_the_sweep(env: Env, clients: list[Client]) -> None:
    # Expired, or a kiosk disabled in the database: no notice is published, the sweep finds it.
    cw = await _caseworker(env, clients)
    kiosk = await _kiosk(env, clients)
    other = await _kiosk(env, clients, 1)
    async with env.server.app[app_keys.DB_SESSIONS]() as session, session.begin():
        await session.execute(update(AuthSession).where(AuthSession.role == "caseworker")
                              .values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.execute(update(Kiosk).where(Kiosk.label == "终端0").values(enabled=False))
    await _sweep_all(env)
    assert await _closed_within(cw, 3) == 4401
    assert await _closed_within(kiosk, 3) == 4401
    assert (await other.request({"type": "ping"}, ref=1))["type"] == "pong"


async def test_sweep_refreshes_presence_and_last_seen(env: Env, clients: list[Client]) -> None:
    kiosk = await _kiosk(env, clients)
    hub = env.server.app[SIGNALING].hub
    key = "kiosk:" + str(kiosk.welcome["kiosk"]["id"])
    await env.server.app[app_keys.REDIS].delete(env.server.app[app_keys.REDIS_KEYS].presence(key))
    async with env.server.app[app_keys.DB_SESSIONS]() as session, session.begin():
        await session.execute(update(Kiosk).values(last_seen_at=utcnow() - timedelta(hours=1)))
    await _sweep_all(env)
    assert await hub.presence.is_present(key)
    async with env.server.app[app_keys.DB_SESSIONS]() as session:
        seen = await session.scalar(select(Kiosk.last_seen_at).where(Kiosk.label == "终端0"))
    assert seen is not None and utcnow() - seen < timedelta(minutes=1)
    assert (await kiosk.request({"type": "ping"}, ref=1))["type"] == "pong"


async def test_next_resident_can_join_right_after_a_call(env: Env, clients: list[Client]) -> None:
    kiosk, cw, call_id = await _into_call(env, clients)
    await cw.send({"type": "end_call", "ticket_id": call_id, "outcome": "completed"})
    await kiosk.expect("call_ended")
    await kiosk.send({"type": "join", "matter_id": MATTER, "mode": "consult"})
    ticket = (await kiosk.expect("ticket", timeout=5))["ticket"]
    while ticket["session_id"] == call_id:
        ticket = (await kiosk.expect("ticket", timeout=5))["ticket"]
    assert ticket["state"] in ("waiting", "offered")


async def test_a_transferred_session_stays_in_both_caseworkers_lists(env: Env, clients: list[Client]) -> None:
    _kiosk_client, cw1, call_id = await _into_call(env, clients)
    cw2 = await _caseworker(env, clients, "cw2")
    await cw2.send({"type": "set_status", "status": "available"})
    await cw2.expect("agent")
    reply = await cw1.request({"type": "transfer", "ticket_id": call_id, "skill": SKILL, "note": "请接手"}, ref=5)
    assert reply["type"] == "ok", reply
    offer = (await cw2.expect("offer"))["offer"]
    await cw2.send({"type": "accept", "ticket_id": offer["ticket_id"], "fence": offer["fence"]})
    await cw2.expect("call")
    await cw2.send({"type": "end_call", "ticket_id": call_id, "outcome": "accepted", "notes": "材料齐全"})
    issued = (await cw2.expect("call_ended"))["case_number"]
    # The record keeps the 转办 line and the second caseworker's notes after it.
    assert (await _session_row(env, call_id)).notes == f"转办至 {SKILL}：请接手\n材料齐全"
    first = (await (await cw1.http.get(env.url("/api/v1/me/sessions"))).json())["sessions"]
    second = (await (await cw2.http.get(env.url("/api/v1/me/sessions"))).json())["sessions"]
    assert [(s["id"], s["outcome"], s["case_number"]) for s in first] == [(call_id, "transfer", None)]
    assert [(s["id"], s["outcome"], s["case_number"]) for s in second] == [(call_id, "accepted", issued)]


async def test_a_call_lost_with_the_caseworkers_console_is_listed_as_dropped(
        env: Env, clients: list[Client]) -> None:
    """Their console gone past the reconnect window (1 s here), the ticket went back to the line: the
    caseworker's list says so, not 转办 (which they never did)."""
    _kiosk, cw, call_id = await _into_call(env, clients)
    await cw.close()
    queue = env.server.app[QUEUE].queue
    for _ in range(60):
        await asyncio.sleep(0.1)
        live = await queue.ticket(call_id)
        if live is not None and live.state != "in_call":
            break
    again = Client(env)  # the list, read without opening a socket (that would count as coming back)
    clients.append(again)
    await again.staff_login("cw1")
    for _ in range(30):  # the hand-off event is recorded by the queue's sink, a moment later
        listed = (await (await again.http.get(env.url("/api/v1/me/sessions"))).json())["sessions"]
        if listed and listed[0]["outcome"] == "dropped":
            break
        await asyncio.sleep(0.1)
    assert [(s["id"], s["outcome"], s["case_number"]) for s in listed] == [(call_id, "dropped", None)]


async def test_caseworker_sees_own_sessions_and_skills(env: Env, clients: list[Client]) -> None:
    kiosk, cw, call_id = await _into_call(env, clients)
    await cw.send({"type": "end_call", "ticket_id": call_id, "outcome": "completed"})
    await kiosk.expect("call_ended")
    mine = await (await cw.http.get(env.url("/api/v1/me/sessions"))).json()
    assert [s["id"] for s in mine["sessions"]] == [call_id]
    assert mine["sessions"][0]["matter_name"].startswith("敬老卡")
    other = Client(env)
    clients.append(other)
    await other.staff_login("cw2")
    assert (await (await other.http.get(env.url("/api/v1/me/sessions"))).json())["sessions"] == []
    skills = await (await cw.http.get(env.url("/api/v1/skills"))).json()
    by_id = {s["id"]: s for s in skills["skills"]}
    assert by_id[SKILL]["name"]
    assert by_id[SKILL]["matters"] >= 1
    assert cw.welcome["user"]["centre"] == "江宁路街道社区事务受理服务中心"


async def test_peer_back_says_whether_the_page_is_new(env: Env, clients: list[Client]) -> None:
    kiosk, cw, _ = await _into_call(env, clients)
    assert kiosk.ws is not None
    token = kiosk.welcome["resume_token"]
    await kiosk.ws.close()
    assert (await cw.expect("peer"))["online"] is False
    await kiosk.connect(resume=token)
    back = await cw.expect("peer", online=True)
    assert back["fresh"] is False  # same page: an ICE restart is enough
    await kiosk.ws.close()
    await kiosk.connect()  # a reloaded page: no resume token
    assert (await cw.expect("peer", online=True))["fresh"] is True


async def test_static_files_revalidate(env: Env) -> None:
    async with aiohttp.ClientSession() as http:
        response = await http.get(env.url("/static/common/base.css"))
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-cache"


async def test_a_missing_static_file_gets_the_json_404(env: Env) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/static/common/no-such-module.js", "/static/common", "/static/%2e%2e/templates/kiosk.html",
                     "/static/" + "a" * 256, "/static/common/" + "b" * 300 + ".js"):
            response = await http.get(env.url(path))
            assert response.status in (403, 404), path
            body = await response.json()
            assert body["error"]["code"] in ("forbidden", "not_found"), path
        response = await http.get(env.url("/static/common/no-such-module.js"))
        assert response.status == 404
        assert (await response.json())["error"] == {"code": "not_found", "message": "没有这个文件"}


async def test_redis_loss_signs_connected_caseworkers_in_again(env: Env, clients: list[Client]) -> None:
    cw = await _caseworker(env, clients)
    await cw.send({"type": "set_status", "status": "available"})
    await cw.expect("agent", timeout=5)
    kiosk = await _kiosk(env, clients)
    await kiosk.send({"type": "join", "matter_id": MATTER, "mode": "handle"})
    offer = (await cw.expect("offer"))["offer"]
    await cw.send({"type": "reject", "ticket_id": offer["ticket_id"], "fence": offer["fence"]})
    redis = env.server.app[app_keys.REDIS]
    await redis.flushdb()  # Redis restarted empty while both stayed connected
    # The ticket is rebuilt from the database and the console is signed in again by the server
    # (it asked to be available), so the resident is offered to it again without any reconnect.
    again = (await cw.expect("offer", timeout=8))["offer"]
    assert again["ticket_id"] == offer["ticket_id"]


async def test_kiosk_welcome_right_after_redis_loss_still_has_its_ticket(env: Env, clients: list[Client]) -> None:
    kiosk = await _kiosk(env, clients)
    await kiosk.send({"type": "join", "matter_id": MATTER, "mode": "handle"})
    ticket = (await kiosk.expect("ticket"))["ticket"]
    await env.server.app[app_keys.REDIS].flushdb()
    assert kiosk.ws is not None
    await kiosk.ws.close()
    welcome = await kiosk.connect()
    assert welcome["state"]["ticket"]["session_id"] == ticket["session_id"]


async def test_hello_while_redis_is_down_gets_unavailable(env: Env, clients: list[Client],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    async def down(*_: object, **__: object) -> None:
        raise RedisConnectionError("redis is down")

    monkeypatch.setattr(env.server.app[SIGNALING], "welcome", down)
    client = Client(env)
    clients.append(client)
    await client.kiosk_login(env.kiosk_tokens[0])
    client.ws = await client.http.ws_connect(env.url("/api/v1/ws"))
    await client.ws.send_str(json.dumps({"type": "hello", "v": 1}))
    assert (await client.ws.receive_json(timeout=5))["code"] == "unavailable"
    closing = await client.ws.receive(timeout=5)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert client.ws.close_code == 1013


async def test_welcome_comes_before_anything_else_on_a_reconnect(env: Env, clients: list[Client]) -> None:
    """A waiting kiosk that comes back gets `welcome` first; the ticket update its return causes
    follows it (the connection is registered while the welcome is built)."""
    kiosk = await _kiosk(env, clients)
    await kiosk.send({"type": "join", "matter_id": MATTER, "mode": "handle"})
    await kiosk.expect("ticket")
    for resume in (True, False):
        assert kiosk.ws is not None
        await kiosk.ws.close()
        await asyncio.sleep(0.3)
        mark = kiosk.mark()
        welcome = await kiosk.connect(resume=resume)
        assert welcome["state"]["ticket"] is not None
        await asyncio.sleep(0.5)
        kinds = [m["type"] for m in kiosk.messages[mark:] if not m.get("local")]
        assert kinds[0] == "welcome", kinds


async def test_a_binary_first_frame_is_refused_as_no_hello(env: Env, clients: list[Client]) -> None:
    client = Client(env)
    clients.append(client)
    await client.kiosk_login(env.kiosk_tokens[0])
    client.ws = await client.http.ws_connect(env.url("/api/v1/ws"))
    await client.ws.send_bytes(b'{"type":"hello","v":1}')
    message = await client.ws.receive_json(timeout=5)
    assert message["code"] == "hello_required"
    closing = await client.ws.receive(timeout=5)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert client.ws.close_code == 4400


async def test_a_refusal_of_an_object_echoes_its_id(env: Env, clients: list[Client]) -> None:
    kiosk = await _kiosk(env, clients)
    for frame, code in (({"id": 1}, "malformed"), ({"type": 5, "id": "a"}, "malformed"),
                        ({"type": "nonsense", "id": 3}, "malformed"), ({"type": "ping", "id": 4, "zzz": 1}, "invalid")):
        reply = await kiosk.request(frame, ref=frame["id"])
        assert (reply["type"], reply["code"], reply["ref"]) == ("error", code, frame["id"]), reply
    for bad_id in (True, 1.5, [1], {"a": 1}):
        # No request id: the message is invalid, and there is nothing to echo.
        mark = kiosk.mark()
        await kiosk.send({"type": "ping", "id": bad_id})
        reply = await kiosk.wait_for(lambda m: m.get("type") in {"pong", "error"}, 5, start=mark)
        assert (reply["type"], reply["code"], reply.get("ref")) == ("error", "invalid", None), (bad_id, reply)
    for raw in ('{"type": "ping", "id": "\\ud800"}', '{"type": 5, "id": "\\ud800"}'):
        # An id with a lone surrogate could not be echoed as UTF-8: refused without ref, socket open.
        mark = kiosk.mark()
        await kiosk.send(raw)
        reply = await kiosk.wait_for(lambda m: m.get("type") in {"pong", "error"}, 5, start=mark)
        assert (reply["type"], reply["code"], reply.get("ref")) == ("error", "malformed", None), (raw, reply)
    mark = kiosk.mark()
    await kiosk.send({"type": "ping", "id": None})  # null: no id, a plain ping
    reply = await kiosk.wait_for(lambda m: m.get("type") in {"pong", "error"}, 5, start=mark)
    assert reply["type"] == "pong" and reply.get("ref") is None, reply


async def test_a_fence_must_be_a_number(env: Env, clients: list[Client]) -> None:
    cw = await _caseworker(env, clients)
    for fence in ("1", True, 1.0):
        reply = await cw.request({"type": "accept", "ticket_id": "t", "fence": fence})
        assert (reply["type"], reply["code"]) == ("error", "invalid"), (fence, reply)


async def test_refused_queue_operations_are_explained_in_chinese(env: Env, clients: list[Client]) -> None:
    """The queue's developer messages (ids, English states) never reach the screen."""
    cw = await _caseworker(env, clients)
    await cw.request({"type": "set_status", "status": "available"})
    for frame, code in (({"type": "accept", "ticket_id": "deadbeef", "fence": 7}, "unknown_ticket"),
                        ({"type": "end_call", "ticket_id": "deadbeef", "outcome": "answered"}, "unknown_ticket")):
        reply = await cw.request(frame)
        assert reply["type"] == "error", reply
        assert reply["code"] in (code, "not_holder", "stale_fence", "wrong_state"), reply
        assert "deadbeef" not in reply["message"] and not reply["message"].isascii(), reply


async def test_a_hello_whose_version_is_text_is_refused(env: Env, clients: list[Client]) -> None:
    client = Client(env)
    clients.append(client)
    await client.kiosk_login(env.kiosk_tokens[0])
    client.ws = await client.http.ws_connect(env.url("/api/v1/ws"))
    await client.ws.send_str(json.dumps({"type": "hello", "v": "1"}))
    message = await client.ws.receive_json(timeout=5)
    assert message["code"] == "invalid"
    await client.ws.receive(timeout=5)
    assert client.ws.close_code == 4400
