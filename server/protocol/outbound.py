"""Every server → client message (protocol v1), as a typed dict and the one function that builds it.

TypedDicts rather than models: the relay sends thousands of these a second, and a dict costs
nothing to build while mypy still checks every field at every call site. Nested views
(`TicketView`, `CallView`, ...) travel as their JSON dumps. docs/protocol.md documents each one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NotRequired, TypedDict

from server.protocol.version import PROTOCOL_VERSION

Json = dict[str, Any]


class Ok(TypedDict):
    """Answer to a request that needs no data."""

    type: Literal["ok"]
    ref: int | str


class AppointmentOk(TypedDict):
    """`ok` answering `appointment_book` / `appointment_checkin`, with the appointment (docs/protocol.md)."""

    type: Literal["ok"]
    appointment: Json


class CallbackOk(TypedDict):
    """`ok` answering `callback_request`: when the centre will call (`callback` `{id, due_at, now}`)."""

    type: Literal["ok"]
    callback: Json


class Error(TypedDict):
    """A refused message or a failure (`ref` when it answers a request)."""

    type: Literal["error"]
    code: str
    message: str
    ref: NotRequired[int | str]
    answer: NotRequired[str]


class TryAgain(TypedDict):
    """The process is admitting connections more slowly than they come: reconnect after a while."""

    type: Literal["error"]
    code: Literal["try_again"]
    message: str
    retry_after_ms: int


class Welcome(TypedDict):
    """The answer to `hello`: who the client is and the whole current state."""

    type: Literal["welcome"]
    v: int
    role: str
    resume_token: str
    resumed: bool
    heartbeat_s: float
    ice_servers: list[Json]
    ice_transport_policy: Literal["all", "relay"]
    state: Json
    kiosk: NotRequired[Json]
    user: NotRequired[Json]


class Pong(TypedDict):
    """Answer to `ping`."""

    type: Literal["pong"]
    ts: float


# "from" is a Python keyword: the functional form keeps the wire name.
Signal = TypedDict("Signal", {"type": Literal["signal"], "call_id": str, "from": str, "data": Json})


class Peer(TypedDict):
    """The other member of a call went away or came back."""

    type: Literal["peer"]
    call_id: str
    online: bool
    fresh: bool


class ServiceNotice(TypedDict):
    """The server ended the kiosk's waiting ticket: the centre closed (`centre_closed`, with the next
    opening) or nobody with the skill signed in for a while (`no_staff`)."""

    type: Literal["service_notice"]
    reason: Literal["centre_closed", "no_staff"]
    session_id: str
    matter_id: str  # so the kiosk can offer a 回电 about the same matter
    next_open: str | None
    now: str | None  # the service clock, so the kiosk says 今天/明天 against the server's day


class Ticket(TypedDict):
    """The kiosk's place in line (a `TicketView`)."""

    type: Literal["ticket"]
    ticket: Json


class Call(TypedDict):
    """A call to join (a `CallView`)."""

    type: Literal["call"]
    call: Json


class CallEnded(TypedDict):
    """A call is over, and why."""

    type: Literal["call_ended"]
    call_id: str
    session_id: str
    reason: str
    outcome: str | None
    case_number: str


class Offer(TypedDict):
    """A ticket offered to a caseworker (an `OfferView`)."""

    type: Literal["offer"]
    offer: Json


class OfferWithdrawn(TypedDict):
    """An offer went elsewhere (timeout, kiosk gone, ...)."""

    type: Literal["offer_withdrawn"]
    ticket_id: str
    reason: str


class Agent(TypedDict):
    """A caseworker's queue state (an `AgentView`)."""

    type: Literal["agent"]
    agent: Json


class Stats(TypedDict):
    """Live figures for supervisors."""

    type: Literal["stats"]
    stats: Json


class CaptureRequest(TypedDict):
    """Kiosk: capture this material (with ICE servers for the capture peer)."""

    type: Literal["capture_request"]
    capture_id: str
    call_id: str
    material: str
    document_type: str
    ice_servers: list[Json]


class CaptureOpened(TypedDict):
    """Caseworker: the kiosk was asked to capture this material."""

    type: Literal["capture_opened"]
    capture_id: str
    call_id: str
    material: str
    document_type: str


class CaptureSignal(TypedDict):
    """Kiosk: the server analyser's SDP answer."""

    type: Literal["capture_signal"]
    capture_id: str
    data: Json


class CaptureGuidance(TypedDict):
    """Kiosk: what the live analysis sees, and what to tell the resident."""

    type: Literal["capture_guidance"]
    capture_id: str
    ready: bool
    reason: str | None
    text: str
    steady_frames: int


class CaptureTake(TypedDict):
    """Kiosk: take the full-resolution still now."""

    type: Literal["capture_take"]
    capture_id: str
    manual: bool


class CaptureResult(TypedDict):
    """Both members: the verdict on an uploaded still."""

    type: Literal["capture_result"]
    capture_id: str
    ok: bool
    reasons: list[str]
    text: str


class CaptureReady(TypedDict):
    """Caseworker: the stored image to review."""

    type: Literal["capture_ready"]
    capture: Json


class CaptureDone(TypedDict):
    """Both members: the request is over (accepted, retake, cancelled, ...)."""

    type: Literal["capture_done"]
    capture_id: str
    decision: str


class Form(TypedDict):
    """Kiosk: a form version to confirm (ID numbers masked but for the last four)."""

    type: Literal["form"]
    call_id: str
    version: int
    fields: list[Json]
    materials: list[str]


class FormStatus(TypedDict):
    """Caseworker: where a sent form version stands (`sent` | `confirmed` | `change_requested` | `signed`)."""

    type: Literal["form_status"]
    call_id: str
    version: int
    state: str


ServerMessage = (Ok | AppointmentOk | CallbackOk | Error | Welcome | Pong | Signal | Peer | Ticket | Call | CallEnded
                 | Offer | OfferWithdrawn
                 | Agent | Stats | CaptureRequest | CaptureOpened | CaptureSignal | CaptureGuidance | CaptureTake
                 | CaptureResult | CaptureReady | CaptureDone | ServiceNotice | Form | FormStatus)


def ok(ref: int | str) -> Ok:
    """`ok` answering request `ref`."""
    return {"type": "ok", "ref": ref}


def error(code: str, message: str, ref: int | str | None = None,
          details: Mapping[str, str] | None = None) -> Error:
    """`error` with a stable code and a Chinese message, and the code's own details (`answer` of
    `form_already_answered`)."""
    payload: Error = {"type": "error", "code": code, "message": message}
    if ref is not None:
        payload["ref"] = ref
    if details and "answer" in details:
        payload["answer"] = details["answer"]
    return payload


def try_again(retry_after_ms: int) -> TryAgain:
    """`error` `try_again`, sent just before a close 1013 by the admission rule."""
    return {"type": "error", "code": "try_again", "message": "连接的终端较多，请稍候自动重连",
            "retry_after_ms": retry_after_ms}


def pong(ts: float) -> Pong:
    """`pong` with the server's time."""
    return {"type": "pong", "ts": ts}


def signal(call_id: str, sender: str, data: Json) -> Signal:
    """SDP/ICE from one call member (`kiosk` | `caseworker`) to the other."""
    return {"type": "signal", "call_id": call_id, "from": sender, "data": data}


def peer(call_id: str, *, online: bool, fresh: bool) -> Peer:
    """The other member's presence in a call (`fresh`: it came back with a new page)."""
    return {"type": "peer", "call_id": call_id, "online": online, "fresh": fresh}


def ticket(view: Json) -> Ticket:
    """A kiosk's ticket view."""
    return {"type": "ticket", "ticket": view}


def call(view: Json) -> Call:
    """A call view."""
    return {"type": "call", "call": view}


def call_ended(call_id: str, reason: str, outcome: str | None, case_number: str) -> CallEnded:
    """The end of call `call_id` (its session has the same id)."""
    return {"type": "call_ended", "call_id": call_id, "session_id": call_id, "reason": reason, "outcome": outcome,
            "case_number": case_number}


def offer(view: Json) -> Offer:
    """An offer view."""
    return {"type": "offer", "offer": view}


def offer_withdrawn(ticket_id: str, reason: str) -> OfferWithdrawn:
    """An offer taken back."""
    return {"type": "offer_withdrawn", "ticket_id": ticket_id, "reason": reason}


def agent(view: Json) -> Agent:
    """A caseworker's queue state."""
    return {"type": "agent", "agent": view}


def stats(figures: Json) -> Stats:
    """Live figures."""
    return {"type": "stats", "stats": figures}


def welcome(*, role: str, resume_token: str, resumed: bool, heartbeat_s: float, ice_servers: list[Json],
            ice_transport_policy: Literal["all", "relay"], state: Json, kiosk: Json | None = None,
            user: Json | None = None) -> Welcome:
    """The answer to `hello` (`kiosk` for kiosks, `user` for caseworkers)."""
    message: Welcome = {"type": "welcome", "v": PROTOCOL_VERSION, "role": role, "resume_token": resume_token,
                        "resumed": resumed, "heartbeat_s": heartbeat_s, "ice_servers": ice_servers,
                        "ice_transport_policy": ice_transport_policy, "state": state}
    if kiosk is not None:
        message["kiosk"] = kiosk
    if user is not None:
        message["user"] = user
    return message


def capture_request(capture_id: str, call_id: str, material: str, document_type: str,
                    ice_servers: list[Json]) -> CaptureRequest:
    """Ask the kiosk to capture a material."""
    return {"type": "capture_request", "capture_id": capture_id, "call_id": call_id, "material": material,
            "document_type": document_type, "ice_servers": ice_servers}


def capture_opened(capture_id: str, call_id: str, material: str, document_type: str) -> CaptureOpened:
    """Tell the caseworker the kiosk was asked."""
    return {"type": "capture_opened", "capture_id": capture_id, "call_id": call_id, "material": material,
            "document_type": document_type}


def capture_signal(capture_id: str, data: Json) -> CaptureSignal:
    """The analyser's SDP answer for the kiosk."""
    return {"type": "capture_signal", "capture_id": capture_id, "data": data}


def capture_guidance(capture_id: str, *, ready: bool, reason: str | None, text: str,
                     steady_frames: int) -> CaptureGuidance:
    """Live guidance for the resident."""
    return {"type": "capture_guidance", "capture_id": capture_id, "ready": ready, "reason": reason, "text": text,
            "steady_frames": steady_frames}


def capture_take(capture_id: str, *, manual: bool) -> CaptureTake:
    """Take the still now (`manual`: the caseworker pressed the button)."""
    return {"type": "capture_take", "capture_id": capture_id, "manual": manual}


def capture_result(capture_id: str, *, ok: bool, reasons: list[str], text: str) -> CaptureResult:
    """The verdict on an uploaded still."""
    return {"type": "capture_result", "capture_id": capture_id, "ok": ok, "reasons": reasons, "text": text}


def capture_ready(capture: Json) -> CaptureReady:
    """The stored image, for the caseworker's review."""
    return {"type": "capture_ready", "capture": capture}


def capture_done(capture_id: str, decision: str) -> CaptureDone:
    """The end of a capture request."""
    return {"type": "capture_done", "capture_id": capture_id, "decision": decision}


def form(call_id: str, version: int, fields: list[Json], materials: list[str]) -> Form:
    """A form version for the kiosk to show read-only."""
    return {"type": "form", "call_id": call_id, "version": version, "fields": fields, "materials": materials}


def form_status(call_id: str, version: int, state: str) -> FormStatus:
    """The state of a form version, for the caseworker."""
    return {"type": "form_status", "call_id": call_id, "version": version, "state": state}
