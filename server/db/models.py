"""Typed SQLAlchemy models: the record of truth for sessions, people, places and the catalog.

The live queue lives in Redis; these rows are what reports, audits and the rebuild after a Redis
loss read. Every table works on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from server.db.types import UTCDateTime, utcnow

# Explicit constraint names keep Alembic migrations identical on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BigInteger autoincrement ids on PostgreSQL, plain INTEGER (rowid) on SQLite.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base with the shared naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Street(Base):
    """A street (街道) or town (镇) of the district."""

    __tablename__ = "streets"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)


class Centre(Base):
    """A community affairs acceptance centre (社区事务受理服务中心), one per street."""

    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), unique=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    address: Mapped[str] = mapped_column(String(200), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")

    street: Mapped[Street] = relationship()


class Site(Base):
    """A place hosting a kiosk: a residents' committee, a park or an office building."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # committee | park | building
    address: Mapped[str] = mapped_column(String(200), default="", server_default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    street: Mapped[Street] = relationship()


class Kiosk(Base):
    """A kiosk device at a site. Its device token is stored only as a hash."""

    __tablename__ = "kiosks"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    label: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    camera_health: Mapped[float | None] = mapped_column(nullable=True)

    site: Mapped[Site] = relationship()


class User(Base):
    """A staff account: caseworker, supervisor or admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))  # caseworker | supervisor | admin
    password_hash: Mapped[str] = mapped_column(String(200))
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"), nullable=True, index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by an administrator's password reset: sign-in is refused until the person picks their own.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    centre: Mapped[Centre | None] = relationship()
    skills: Mapped[list[UserSkill]] = relationship(
        cascade="all, delete-orphan", order_by="UserSkill.skill", lazy="selectin"
    )


class UserSkill(Base):
    """A skill (from the catalog's vocabulary) a caseworker is trained for."""

    __tablename__ = "user_skills"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    skill: Mapped[str] = mapped_column(String(40), primary_key=True)


class Matter(Base):
    """A government matter from the catalog. Retired matters stay so history stays valid."""

    __tablename__ = "matters"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    department: Mapped[str] = mapped_column(String(40), index=True)
    category: Mapped[str] = mapped_column(String(60))
    mode: Mapped[str] = mapped_column(String(10))  # handle | consult | both
    on_the_spot: Mapped[bool] = mapped_column(Boolean)
    typical_minutes: Mapped[int] = mapped_column(Integer)
    skill: Mapped[str] = mapped_column(String(40), index=True)
    guide: Mapped[str] = mapped_column(Text, default="")
    # The matter's own application-form level (matters_catalog FieldSet as JSON: fields, omit,
    # signature_required), or null; the "*" and department levels stay in forms.yaml.
    form: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    materials: Mapped[list[Material]] = relationship(
        cascade="all, delete-orphan", order_by="Material.position", lazy="selectin"
    )


class Material(Base):
    """One item of a matter's materials list (办事指南)."""

    __tablename__ = "materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    matter_id: Mapped[str] = mapped_column(ForeignKey("matters.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    capture: Mapped[bool] = mapped_column(Boolean)
    document_type: Mapped[str] = mapped_column(String(40))


class AppMeta(Base):
    """Small key/value facts about the installation (catalog version, demo seed marker)."""

    __tablename__ = "app_meta"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ServiceSession(Base):
    """One resident's visit: a queue ticket from creation to its final state.

    `state` mirrors the queue's ticket state; timestamps are filled as the ticket moves.
    Street and site are copied from the kiosk so reports stay right if a kiosk moves.
    """

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(16))
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    matter_id: Mapped[str] = mapped_column(ForeignKey("matters.id"), index=True)
    skill: Mapped[str] = mapped_column(String(40))
    mode: Mapped[str] = mapped_column(String(10))  # handle | consult
    priority: Mapped[str] = mapped_column(String(20), default="normal")
    state: Mapped[str] = mapped_column(String(20), index=True)
    caseworker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    case_number: Mapped[str | None] = mapped_column(String(40), nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    transferred_from: Mapped[str | None] = mapped_column(String(32), nullable=True)
    requeue_count: Mapped[int] = mapped_column(Integer, default=0)


class SessionEvent(Base):
    """Append-only audit trail of every ticket transition; its id is the event-feed cursor."""

    __tablename__ = "session_events"
    __table_args__ = (Index("ix_session_events_session_at", "session_id", "at"),)

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    actor: Mapped[str] = mapped_column(String(40))  # e.g. kiosk:12, caseworker:3, system
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CaseworkerEvent(Base):
    """Caseworker state changes (available, break, ...) for time-in-state and staffing reports."""

    __tablename__ = "caseworker_events"
    __table_args__ = (Index("ix_caseworker_events_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    from_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(80), default="")


class Capture(Base):
    """A captured document image. The bytes live encrypted in the data dir under `storage_name`."""

    __tablename__ = "captures"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    material_name: Mapped[str] = mapped_column(String(120))
    document_type: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending | accepted | retake | closed
    storage_name: Mapped[str] = mapped_column(String(80))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Recording(Base):
    """The call recording (全程录音录像) of a session: encrypted WebM chunks under `storage_name`.

    `state` is recording while chunks arrive, then complete | partial | missing at close (with
    `reason` and the `missing` chunk indexes). The row stays after a purge with `purged_at` set.
    """

    __tablename__ = "recordings"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    storage_name: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(20), default="recording")
    reason: Mapped[str] = mapped_column(String(40), default="")
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    duration_s: Mapped[float | None] = mapped_column(nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    missing: Mapped[list[int]] = mapped_column(JSON, default=list)
    # The continuous WebM made for the player at close (server/recording/remux.py), if any.
    replay_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RecordingChunk(Base):
    """One stored chunk of a recording: its plaintext size and SHA-256 (a retry must match it)."""

    __tablename__ = "recording_chunks"

    session_id: Mapped[str] = mapped_column(ForeignKey("recordings.session_id"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Rating(Base):
    """The resident's 好差评 rating of a session (5 = 非常满意 … 1 = 非常不满意)."""

    __tablename__ = "ratings"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Consent(Base):
    """The resident's answer to the notice shown before queueing (PIPL art. 14, 17, 29): one per session."""

    __tablename__ = "consents"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"))
    version: Mapped[str] = mapped_column(String(40))  # of the notice text (server/acceptance/notices.yaml)
    choice: Mapped[str] = mapped_column(String(10))  # accepted | declined
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseCounter(Base):
    """The last 受理编号 sequence issued by a centre on a district day (bumped atomically by an upsert)."""

    __tablename__ = "case_counters"

    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)  # YYYYMMDD, district time
    seq: Mapped[int] = mapped_column(Integer)


class Receipt(Base):
    """The 受理回执 of a session ended with 受理 or 材料不全, as the kiosk showed it and the PDF prints it."""

    __tablename__ = "receipts"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(20))  # accepted | incomplete
    # Unique: a server-issued number is never given twice, whatever the processes and databases do.
    case_number: Mapped[str | None] = mapped_column(String(40), nullable=True, unique=True)
    matter_name: Mapped[str] = mapped_column(String(120))
    centre_name: Mapped[str] = mapped_column(String(80))
    centre_phone: Mapped[str] = mapped_column(String(40))
    promise: Mapped[str] = mapped_column(String(120))
    missing: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)  # [{name, must_show}]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FollowUp(Base):
    """A 回访 item opened by a 1-2 rating, owned by the centre's supervisors."""

    __tablename__ = "followups"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), unique=True)
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"), nullable=True, index=True)
    state: Mapped[str] = mapped_column(String(20), default="open")  # open | contacted | resolved
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CentreHours(Base):
    """A centre's opening hours on one weekday (0 = Monday); times are district-local "HH:MM"."""

    __tablename__ = "centre_hours"

    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), primary_key=True)
    weekday: Mapped[int] = mapped_column(Integer, primary_key=True)
    opens: Mapped[str] = mapped_column(String(5))
    closes: Mapped[str] = mapped_column(String(5))
    lunch_start: Mapped[str | None] = mapped_column(String(5), nullable=True)
    lunch_end: Mapped[str | None] = mapped_column(String(5), nullable=True)


class CalendarOverride(Base):
    """An administrator's word on one date of a centre: closed, or open with these hours."""

    __tablename__ = "calendar_overrides"

    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_open: Mapped[bool] = mapped_column(Boolean)
    opens: Mapped[str | None] = mapped_column(String(5), nullable=True)
    closes: Mapped[str | None] = mapped_column(String(5), nullable=True)
    lunch_start: Mapped[str | None] = mapped_column(String(5), nullable=True)
    lunch_end: Mapped[str | None] = mapped_column(String(5), nullable=True)
    note: Mapped[str] = mapped_column(String(200), default="", server_default="")


class Callback(Base):
    """A resident's 回电 request left at a kiosk: the centre calls them back (docs/hours.md)."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"), nullable=True, index=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"))
    matter_id: Mapped[str] = mapped_column(String(64))
    # `callback`: 回电 asked for at the kiosk; `followup`: the number left for the 回访 of a 1-2 star
    # rating of `session_id` (docs/hours.md).
    kind: Mapped[str] = mapped_column(String(20), default="callback", server_default="callback")
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id"), nullable=True, unique=True)
    # Personal information: shown masked in lists, in full only to the staff member acting on it,
    # blanked by `jinglin purge` after the retention period.
    phone: Mapped[str] = mapped_column(String(20))
    preferred: Mapped[str] = mapped_column(String(40), default="")
    state: Mapped[str] = mapped_column(String(20), default="open", index=True)  # open | taken | done | unreachable
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    taken_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AppointmentCapacity(Base):
    """How many residents one appointment slot of a centre takes (skill "" = every skill without its own)."""

    __tablename__ = "appointment_capacity"

    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), primary_key=True)
    skill: Mapped[str] = mapped_column(String(64), primary_key=True)
    per_slot: Mapped[int] = mapped_column(Integer)


class AppointmentSlot(Base):
    """Places taken in one slot: the counter a booking raises only while it is below the capacity, so
    two bookings of the last place cannot both win (docs/hours.md "Appointments")."""

    __tablename__ = "appointment_slots"

    centre_key: Mapped[int] = mapped_column(Integer, primary_key=True)  # centre id, 0 for none
    skill: Mapped[str] = mapped_column(String(64), primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class Appointment(Base):
    """A resident's 预约: a slot of a centre for a matter, a short code to check in with, a phone number."""

    __tablename__ = "appointments"
    __table_args__ = (UniqueConstraint("day", "code"), Index("ix_appointments_centre_day", "centre_id", "day"))

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"), nullable=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"))  # where it was booked
    matter_id: Mapped[str] = mapped_column(String(64))
    skill: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    day: Mapped[date] = mapped_column(Date)  # the slot's district-local date: codes are unique per day
    code: Mapped[str] = mapped_column(String(6))
    # Personal information: masked in lists, never logged, blanked by `jinglin purge` after the retention.
    phone: Mapped[str] = mapped_column(String(20))
    # booked | checked_in | no_show | cancelled
    state: Mapped[str] = mapped_column(String(20), default="booked", index=True)
    session_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the ticket of the check-in
    checkin_kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosks.id"), nullable=True)
    cancelled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KioskHealthSample(Base):
    """One camera/microphone check of a kiosk, for its health trend over time."""

    __tablename__ = "kiosk_health"
    __table_args__ = (Index("ix_kiosk_health_kiosk_at", "kiosk_id", "at"),)

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(20))  # device_check | live
    camera_ok: Mapped[bool] = mapped_column(Boolean)
    camera_score: Mapped[float | None] = mapped_column(nullable=True)
    microphone_ok: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AuthSession(Base):
    """A signed-in staff member or kiosk. Only the token's hash is stored."""

    __tablename__ = "auth_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))  # kiosk | caseworker | supervisor | admin
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosks.id"), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditLog(Base):
    """Security-relevant actions: sign-ins, image views, catalog imports, purges."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(30), default="")
    object_id: Mapped[str] = mapped_column(String(40), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CatalogVersion(Base):
    """A published catalog: the full list of active matters, so an earlier one can be restored."""

    __tablename__ = "catalog_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(60))
    note: Mapped[str] = mapped_column(String(200), default="")
    matters: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


__all__ = [
    "AppMeta",
    "AuditLog",
    "AuthSession",
    "Base",
    "Capture",
    "CaseworkerEvent",
    "CatalogVersion",
    "Centre",
    "FollowUp",
    "Kiosk",
    "KioskHealthSample",
    "Material",
    "Matter",
    "Rating",
    "Recording",
    "RecordingChunk",
    "ServiceSession",
    "SessionEvent",
    "Site",
    "Street",
    "User",
    "UserSkill",
]


class FormVersion(Base):
    """One version of a session's application form as the caseworker sent it for 同屏确认 (every one is kept)."""

    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("session_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per session
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{key, label, type, required, value}]
    sent_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(20), default="sent")  # sent | confirmed | change_requested
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Signature(Base):
    """The resident's signature on a confirmed form version: the image is stored encrypted under
    `storage_name` (server/acceptance/signatures.py); `mac` binds session, form, image and time."""

    __tablename__ = "signatures"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), primary_key=True)  # one per session
    form_version: Mapped[int] = mapped_column(Integer)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"))
    storage_name: Mapped[str] = mapped_column(String(32), unique=True)
    image_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    mac: Mapped[str] = mapped_column(String(64))  # hex HMAC-SHA256 (server/acceptance/signature_binding.py)
