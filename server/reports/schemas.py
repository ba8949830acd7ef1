"""Pydantic models of the report endpoints: the OpenAPI document is generated from them, and the
handlers validate their answers through them, so the published shapes cannot drift."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from server.protocol.free_text import MASKED
from server.protocol.messages import ConsentView, FormRecordView, SignatureRecordView
from server.runtime.district_time import iso_local

# A moment shown in the district's local time, ISO 8601 with its +08:00 offset.
LocalTime = Annotated[datetime, PlainSerializer(iso_local, return_type=str)]


class MeasuresOut(BaseModel):
    """Queue measures of a group of sessions (docs/supervisor.md, "Measures")."""

    offered: int
    answered: int
    abandoned: int
    cancelled: int
    waiting: int
    avg_wait_s: float | None
    p90_wait_s: float | None
    max_wait_s: float | None
    avg_answer_wait_s: float | None
    avg_handle_s: float | None
    answered_within: int
    abandoned_within: int
    sl: float | None
    sl2: float | None
    outcomes: dict[str, int]
    ratings: dict[str, int]
    rated: int
    avg_rating: float | None


class CaseworkerCountsOut(BaseModel):
    """Caseworkers per queue state."""

    model_config = ConfigDict(populate_by_name=True)

    available: int = 0
    offered: int = 0
    in_call: int = 0
    wrap_up: int = 0
    break_: int = Field(0, alias="break")
    offline: int = 0


class LiveMatterOut(MeasuresOut):
    """Today's figures of one matter."""

    matter_id: str
    matter: str


class LiveStreetOut(MeasuresOut):
    """Today's figures of one street."""

    street_id: int
    street: str


class CaseworkerLiveOut(BaseModel):
    """A caseworker as the live queue holds them."""

    id: int
    name: str
    centre_id: int | None
    state: str
    reason: str | None
    ticket_id: str | None
    since: float | None
    in_state_s: float | None
    skills: list[str]


class KioskDotOut(BaseModel):
    """A kiosk's connection state."""

    id: int
    online: bool


class KiosksLiveOut(BaseModel):
    """Kiosk connection counts and states."""

    total: int
    online: int
    items: list[KioskDotOut]


class AlertOut(BaseModel):
    """A condition a supervisor should look at (codes in docs/supervisor.md)."""

    code: Literal["longest_wait", "abandonment", "no_caseworker", "camera", "overdue_callbacks"]
    level: Literal["info", "warn", "error"]
    value: float
    limit: float
    kiosk_ids: list[int] | None = None


class ThresholdsOut(BaseModel):
    """The thresholds the figures and alerts were computed with."""

    sl_s: float
    wait_alert_s: float
    abandon_alert: float


class PlaceOut(BaseModel):
    """A street or centre offered as a filter."""

    id: int
    name: str
    street_id: int | None = None


class PlacesOut(BaseModel):
    """Streets and centres of the district."""

    streets: list[PlaceOut]
    centres: list[PlaceOut]


class LiveOut(BaseModel):
    """The live dashboard (also the body of the `stats` WebSocket message)."""

    generated_at: float
    date: str
    waiting: int
    longest_wait_s: float | None
    caseworkers: CaseworkerCountsOut
    today: MeasuresOut
    by_matter: list[LiveMatterOut]
    by_street: list[LiveStreetOut]
    caseworker_list: list[CaseworkerLiveOut]
    kiosks: KiosksLiveOut
    alerts: list[AlertOut]
    thresholds: ThresholdsOut
    filtered: bool
    places: PlacesOut


class SessionOut(BaseModel):
    """One session; timestamps are ISO 8601 in Shanghai time (+08:00)."""

    model_config = ConfigDict(frozen=True)

    id: str
    ticket_number: str
    kiosk_id: int
    kiosk: str
    site_id: int
    site: str
    street_id: int
    street: str
    centre_id: int | None
    centre: str | None
    matter_id: str
    matter: str
    department: str
    caseworker_id: int | None
    caseworker: str | None
    mode: str
    priority: str
    state: str
    created_at: LocalTime
    answered_at: LocalTime | None
    ended_at: LocalTime | None
    closed_at: LocalTime | None
    outcome: str | None
    case_number: str | None
    requeue_count: int
    rating: int | None


class RecordingSummaryOut(BaseModel):
    """A session's call recording (docs/recording.md): complete | partial | missing, with the
    reason and the missing chunk indexes (`recording` while the call is live)."""

    state: str
    reason: str
    chunks: int
    bytes: int
    duration_s: float | None
    sha256: str | None
    missing: list[int]


class SessionDetailOut(SessionOut):
    """One session with what the features add to it (`GET /api/v1/sessions/{session_id}`)."""

    recording: RecordingSummaryOut | None = None
    consent: ConsentView | None = None
    form: FormRecordView | None = None
    signature: SignatureRecordView | None = None


class SessionsOut(BaseModel):
    """Sessions created in a range of local days."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    total: int
    sessions: list[SessionOut]


class SummaryGroupOut(MeasuresOut):
    """The measures of one group."""

    key: str
    label: str


class SummaryOut(BaseModel):
    """Measures over a range, in total and per group."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    by: str
    threshold_s: float
    total: MeasuresOut
    groups: list[SummaryGroupOut]


@dataclass(frozen=True)
class HourStaffing:
    """One hour of the staffing report (its JSON is `as_dict`)."""

    hour: int
    arrivals: int
    avg_handle_s: float | None
    needed: int
    on_duty_avg: float
    on_duty_max: int
    sl_on_duty: float | None  # Erlang C's predicted SL with the average staff actually on duty
    open_share: float = 1.0  # the part of the hour the centre(s) were open (their calendars)
    answered: int = 0  # tickets that arrived in this hour and were answered
    answered_within: int = 0  # ... within the service-level threshold
    sl: float | None = None  # answered_within / answered: the service level actually given

    def as_dict(self) -> dict[str, object]:
        """JSON-ready values."""
        return {"hour": self.hour, "arrivals": self.arrivals,
                "avg_handle_s": None if self.avg_handle_s is None else round(self.avg_handle_s, 1),
                "needed": self.needed, "on_duty_avg": round(self.on_duty_avg, 2), "on_duty_max": self.on_duty_max,
                "sl_on_duty": None if self.sl_on_duty is None else round(self.sl_on_duty, 4),
                "open_share": self.open_share, "answered": self.answered, "answered_within": self.answered_within,
                "sl": None if self.sl is None else round(self.sl, 4)}


class OpenHoursOut(BaseModel):
    """The day's service measured over the hours the centre(s) were open."""

    hours: float  # open hours of the day (sum of the hours' open shares)
    offered: int  # tickets that arrived in an hour with some opening
    answered: int
    answered_within: int
    sl: float | None
    closed_arrivals: int  # tickets that arrived in an hour with no opening at all


class StaffingOut(BaseModel):
    """Erlang C staffing per hour of one local day."""

    date: str
    threshold_s: float
    target_sl: float
    default_handle_s: float
    hours: list[HourStaffing]
    open_hours: OpenHoursOut


class FollowUpOut(BaseModel):
    """A follow-up (回访) of a bad rating."""

    id: int
    session_id: str
    state: Literal["open", "contacted", "resolved"]
    note: str
    due_at: str
    created_at: str
    updated_at: str
    overdue: bool
    rating: int | None
    comment: str
    ticket_number: str
    matter_id: str
    matter: str
    site: str
    street: str
    centre_id: int | None
    centre: str | None
    caseworker: str | None
    outcome: str | None
    case_number: str | None
    session_created_at: str


class FollowUpsOut(BaseModel):
    """Follow-ups, unresolved first, by due time."""

    total: int
    open: int
    overdue: int
    items: list[FollowUpOut]


class FollowUpIn(BaseModel):
    """Move a follow-up forward (open → contacted → resolved); resolving needs a note."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["open", "contacted", "resolved"]
    note: Annotated[str, MASKED] = Field("", max_length=2000)


class EventOut(BaseModel):
    """One recorded ticket transition."""

    id: int
    session_id: str
    at: str
    kind: str
    from_state: str | None
    to_state: str | None
    actor: str
    data: dict[str, Any]


class EventsOut(BaseModel):
    """A page of the event feed and the cursor for the next call."""

    events: list[EventOut]
    next: int


class TrendPointOut(BaseModel):
    """Mean camera score of one local day."""

    date: str
    score: float
    samples: int


class KioskHealthOut(BaseModel):
    """A kiosk's connection and camera health."""

    id: int
    label: str
    site: str
    street_id: int
    street: str
    online: bool
    last_seen_at: str | None
    camera_health: float | None
    trend: list[TrendPointOut]
    trend_direction: Literal["declining", "stable", "unknown"]


class KiosksHealthOut(BaseModel):
    """Every kiosk's health."""

    total: int
    online: int
    offline: int
    declining: int
    kiosks: list[KioskHealthOut]
