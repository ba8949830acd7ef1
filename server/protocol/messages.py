"""Schemas of every client → server WebSocket message, and the views server messages carry (protocol v1).

Server → client messages themselves are `server.protocol.outbound`.

Every frame is one JSON object with a `type`. A client request may carry an `id`; the server
answers it with `ok` or `error` carrying `ref` = that id. docs/protocol.md is generated from the
same facts by hand and must be kept true: acceptance tests implement clients from it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, TypeAdapter

from server.protocol.free_text import MASKED
from server.protocol.plain_text import PLAIN_TEXT

# Re-exported: most callers know this module only.
from server.protocol.version import PROTOCOL_VERSION as PROTOCOL_VERSION
from server.protocol.version import WS_PATH as WS_PATH

MAX_MESSAGE_BYTES = 64 * 1024

RequestId = Annotated[int | str, Field(description="client's request id, echoed as `ref`")]
Id = Annotated[str, Field(min_length=1, max_length=64)]


class _In(BaseModel):
    # Unknown fields are refused so that a typo is an error, not a silent no-op; and no value is
    # coerced ("5" or true for a number, "yes" for a boolean): a wrong type is refused too.
    model_config = ConfigDict(extra="forbid", strict=True)

    id: RequestId | None = None


# ---- client → server ---------------------------------------------------------------------


class Hello(_In):
    """First message of every connection."""

    type: Literal["hello"]
    v: StrictInt  # "1" is not a version number
    # Any text: a token the server never issued (too long, malformed) is unknown, not an error
    # (docs/protocol.md); the frame size bounds it. Only resume_token()'s form can match.
    resume: str | None = None

    def resume_token(self) -> str | None:
        """The resume token if it can be one the server issued (at most 128 characters), else None."""
        return self.resume if self.resume is not None and len(self.resume) <= 128 else None


class Ping(_In):
    """Application-level keep-alive; answered with `pong`."""

    type: Literal["ping"]


class ConsentIn(BaseModel):
    """The resident's answer to the notice (`GET /api/v1/kiosk/notice`) shown before queueing."""

    model_config = ConfigDict(extra="forbid", strict=True)
    version: str = Field(min_length=1, max_length=40)
    choice: Literal["accepted", "declined"]


class Join(_In):
    """Kiosk: put the resident in line for a matter (with the consent the notice asked for)."""

    type: Literal["join"]
    matter_id: Id
    mode: Literal["handle", "consult"]
    priority: Literal["normal", "elderly", "disabled", "appointment"] = "normal"
    consent: ConsentIn | None = None


class CallbackRequest(_In):
    """Kiosk: leave a phone number to be called back (回电) about a matter; never logged."""

    type: Literal["callback_request"]
    matter_id: Id
    phone: str = Field(max_length=20)  # kept for the call; never logged, masked in lists
    preferred: Annotated[str, MASKED] = Field(default="", max_length=40)


class FollowupPhone(_In):
    """Kiosk: after a 1-2 star rating, the resident's phone number for the 回访; never logged."""

    type: Literal["followup_phone"]
    session_id: Id
    phone: str = Field(max_length=20)  # kept for the 回访; never logged, masked in lists


class AppointmentBook(_In):
    """Kiosk: book an appointment slot (预约) for a matter; the `ok` carries the appointment and its code."""

    type: Literal["appointment_book"]
    matter_id: Id
    slot: str = Field(min_length=1, max_length=40)  # ISO start time with offset, as GET .../slots gives it
    phone: str = Field(max_length=20)  # kept for the centre's call; never logged, masked in lists


class AppointmentCheckin(_In):
    """Kiosk: check in for today's appointment with its code or the phone number it was booked with."""

    type: Literal["appointment_checkin"]
    code: str = Field(min_length=1, max_length=20)  # 6-digit code or phone number; never logged
    consent: ConsentIn | None = None


class Cancel(_In):
    """Kiosk: leave the queue."""

    type: Literal["cancel"]


class Rate(_In):
    """Kiosk: the resident's 好差评 after the call (5 = 非常满意 … 1 = 非常不满意)."""

    type: Literal["rate"]
    session_id: Id
    score: int = Field(ge=1, le=5)
    comment: Annotated[str, MASKED] = Field(default="", max_length=500)


class SetStatus(_In):
    """Caseworker: available, on a break (with reason) or offline."""

    type: Literal["set_status"]
    status: Literal["available", "break", "offline"]
    reason: Annotated[str, MASKED] = Field(default="", max_length=40)


class Accept(_In):
    """Caseworker: take the offered ticket (fence from the offer)."""

    type: Literal["accept"]
    ticket_id: Id
    fence: int = Field(ge=0)


class Reject(_In):
    """Caseworker: decline the offered ticket; it keeps its place."""

    type: Literal["reject"]
    ticket_id: Id
    fence: int = Field(ge=0)


Outcome = Literal["accepted", "completed", "answered", "incomplete"]


class EndCall(_In):
    """Caseworker: record the outcome and end the call; wrap-up follows."""

    type: Literal["end_call"]
    ticket_id: Id
    outcome: Outcome
    case_number: str = Field(default="", max_length=40)
    notes: Annotated[str, MASKED] = Field(default="", max_length=2000)
    missing: list[Annotated[str, Field(max_length=120)]] = Field(default_factory=list, max_length=30)


class Transfer(_In):
    """Caseworker: 转办 — send the ticket to the front of another skill's queue."""

    type: Literal["transfer"]
    ticket_id: Id
    skill: Id
    note: Annotated[str, MASKED] = Field(default="", max_length=500)


class FinishWrapUp(_In):
    """Caseworker: end wrap-up early."""

    type: Literal["finish_wrap_up"]


class SdpPayload(BaseModel):
    """An SDP offer or answer as RTCSessionDescription gives it."""

    model_config = ConfigDict(extra="forbid", strict=True)
    type: Literal["offer", "answer"]
    sdp: str = Field(max_length=48 * 1024)


class CandidatePayload(BaseModel):
    """A trickled ICE candidate as RTCIceCandidate.toJSON() gives it (null candidate = end)."""

    model_config = ConfigDict(extra="allow", strict=True)
    candidate: str = Field(default="", max_length=1024)
    sdpMid: str | None = Field(default=None, max_length=64)
    sdpMLineIndex: int | None = None


class SignalData(BaseModel):
    """What one peer tells the other: a description or a candidate."""

    model_config = ConfigDict(extra="forbid", strict=True)
    description: SdpPayload | None = None
    candidate: CandidatePayload | None = None


class Signal(_In):
    """Either party of a call: relay SDP/ICE to the other member only."""

    type: Literal["signal"]
    call_id: Id
    data: SignalData


class CaptureRequest(_In):
    """Caseworker: ask the kiosk to capture one material of the checklist by camera."""

    type: Literal["capture_request"]
    call_id: Id
    material: str = Field(min_length=1, max_length=120)


class CaptureNow(_In):
    """Caseworker: take the still now (manual capture when auto-capture cannot succeed)."""

    type: Literal["capture_now"]
    capture_id: Id


class CaptureReview(_In):
    """Caseworker: accept a received image, or ask for a retake."""

    type: Literal["capture_review"]
    capture_id: Id
    decision: Literal["accept", "retake"]


class CaptureCancel(_In):
    """Either member: stop an open capture request."""

    type: Literal["capture_cancel"]
    capture_id: Id


class CaptureSignal(_In):
    """Kiosk: SDP/ICE for the capture peer (the kiosk's camera track to the server's analyser)."""

    type: Literal["capture_signal"]
    capture_id: Id
    data: SignalData


class DeviceCheck(_In):
    """Kiosk: the result of its device check, for the kiosk's health history."""

    type: Literal["device_check"]
    camera_ok: bool
    microphone_ok: bool
    speaker_ok: bool | None = None
    # Finite only: NaN and infinity would be stored in the health history as they are.
    metrics: dict[Annotated[str, Field(max_length=40)], Annotated[float, Field(allow_inf_nan=False)]] = Field(
        default_factory=dict, max_length=20)


class FormSend(_In):
    """Caseworker: send the filled application form to the kiosk for 同屏确认 (a new version each time)."""

    type: Literal["form_send"]
    call_id: Id
    # Not masked: the application needs the full ID number; it is never logged (docs/security.md).
    # Invisible and control characters are dropped (plain_text.py): a bidi override would make the
    # kiosk show the resident something other than what is stored and signed, and a zero-width
    # space alone would fill a required field.
    values: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=200), PLAIN_TEXT]] = Field(
        max_length=40)


class FormReply(_In):
    """Kiosk: the resident's answer to the form version shown (确认无误 / 需要修改)."""

    type: Literal["form_reply"]
    call_id: Id
    version: int = Field(ge=1)
    choice: Literal["confirmed", "change_requested"]


ClientMessage = Annotated[
    Hello | Ping | Join | CallbackRequest | FollowupPhone | AppointmentBook | AppointmentCheckin | Cancel | Rate
    | SetStatus | Accept | Reject | EndCall | Transfer | FinishWrapUp | Signal | CaptureRequest | CaptureNow
    | CaptureReview | CaptureCancel | CaptureSignal | DeviceCheck | FormSend | FormReply,
    Field(discriminator="type"),
]
CLIENT_MESSAGE = TypeAdapter(ClientMessage)

KIOSK_TYPES = frozenset({"ping", "join", "callback_request", "followup_phone", "appointment_book",
                         "appointment_checkin", "cancel", "rate", "signal", "capture_signal", "capture_cancel",
                         "device_check", "form_reply"})
CASEWORKER_TYPES = frozenset({"ping", "set_status", "accept", "reject", "end_call", "transfer", "finish_wrap_up",
                              "signal", "capture_request", "capture_now", "capture_review", "capture_cancel",
                              "form_send"})
SUPERVISOR_TYPES = frozenset({"ping"})
ALL_TYPES = KIOSK_TYPES | CASEWORKER_TYPES | SUPERVISOR_TYPES | {"hello"}
ALLOWED_TYPES: dict[str, frozenset[str]] = {
    "kiosk": KIOSK_TYPES,
    "caseworker": CASEWORKER_TYPES,
    "supervisor": SUPERVISOR_TYPES,
    "admin": SUPERVISOR_TYPES,
}


# ---- server → client ---------------------------------------------------------------------


class IceServer(BaseModel):
    """One entry of RTCConfiguration.iceServers."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class TicketView(BaseModel):
    """A kiosk's place in line."""

    session_id: str
    number: str
    matter_id: str
    matter_name: str
    state: str
    position: int | None = None
    est_wait_s: float | None = None


class AgentView(BaseModel):
    """A caseworker's queue state."""

    state: str
    reason: str | None = None
    ticket_id: str | None = None
    since: float | None = None
    wrap_up_until: float | None = None


class OfferView(BaseModel):
    """A ticket offered to a caseworker."""

    ticket_id: str
    fence: int
    matter_id: str
    matter_name: str
    site: str
    street: str
    priority: str
    waited_s: float
    expires_in_s: float


class MaterialView(BaseModel):
    """A material of the call's matter (for the caseworker's checklist)."""

    name: str
    capture: bool
    document_type: str


class ConsentView(BaseModel):
    """The consent stored with a session: notice version, answer, time (ISO 8601 UTC)."""

    version: str
    choice: Literal["accepted", "declined"]
    at: str


class CallView(BaseModel):
    """A live call. The caseworker is the `offerer` (creates the SDP offer); the kiosk answers."""

    call_id: str
    session_id: str
    role: Literal["offerer", "answerer"]
    matter_id: str
    matter_name: str
    ticket_number: str
    peer_online: bool
    fence: int
    materials: list[MaterialView] = Field(default_factory=list)
    consent: ConsentView | None = None
    form: list[FormFieldView] | None = None
    form_last: FormLastView | None = None


class FormLastView(BaseModel):
    """The last form version sent in a call, so that a reloaded page takes it up again: the kiosk gets
    it only while it awaits an answer (ID numbers masked), the caseworker always (values as typed)."""

    version: int
    state: Literal["sent", "confirmed", "change_requested", "signed"]
    fields: list[FormValueView]
    materials: list[str] = Field(default_factory=list)


class FormFieldView(BaseModel):
    """A field of the matter's application form (the console's `call.form`; values in `form`)."""

    key: str
    label: str
    type: str
    required: bool
    choices: list[str] = Field(default_factory=list)



class FormValueView(BaseModel):
    """A filled field as the resident's screen shows it (ID numbers masked except the last four)."""

    key: str
    label: str
    type: str
    value: str


class FormRecordView(BaseModel):
    """The session detail's `form`: the last version sent, its state, when the resident confirmed it."""

    version: int
    fields: list[FormValueView]
    state: Literal["sent", "confirmed", "change_requested", "signed"]
    sent_at: str
    confirmed_at: str | None = None


class SignatureRecordView(BaseModel):
    """The session detail's `signature`: when the resident signed, and whether the HMAC binding to the
    form version and image still checks out now."""

    at: str
    verified: bool
    form_version: int
