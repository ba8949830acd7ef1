"""Request and response bodies of the administration API (also what `--json` commands print)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, StrictBool, StrictInt, field_validator

from server.admin.limits import MAX_SKILLS, USERNAME_PATTERN
from server.protocol.plain_text import PLAIN_LINE, PLAIN_TEXT

Role = Literal["caseworker", "supervisor", "admin"]
SiteKind = Literal["committee", "park", "building"]


def _id_as_text(value: Any) -> Any:
    """A reference given by id may be a JSON number (`"street": 1`) as well as text: the number
    becomes its digits; anything else is left for the field's own check."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


# A street, site or centre named by its id (a number or its digits), code or name.
Reference = Annotated[str, BeforeValidator(_id_as_text)]
# A name, label, address or phone as it will be shown: visible characters, trimmed (plain_text.py).
Line = Annotated[str, PLAIN_LINE]


class StreetIn(BaseModel):
    """A new street or town; the code defaults to the name's pinyin."""

    name: Line = Field(min_length=1, max_length=40)
    code: Line | None = Field(default=None, max_length=40)


class StreetOut(BaseModel):
    """A street or town."""

    id: int
    code: str
    name: str


class StreetsOut(BaseModel):
    """Every street and town."""

    streets: list[StreetOut]


class CentreIn(BaseModel):
    """A new acceptance centre of a street (street by id, code or name)."""

    name: Line = Field(min_length=1, max_length=80)
    street: Reference = Field(min_length=1, max_length=40)
    address: Line = Field(default="", max_length=200)
    phone: Line = Field(default="", max_length=40)


class CentreOut(BaseModel):
    """An acceptance centre."""

    id: int
    name: str
    street_id: int
    street: str
    address: str
    phone: str


class CentresOut(BaseModel):
    """Every acceptance centre."""

    centres: list[CentreOut]


class SiteIn(BaseModel):
    """A new kiosk site (street by id, code or name)."""

    name: Line = Field(min_length=1, max_length=80)
    street: Reference = Field(min_length=1, max_length=40)
    kind: SiteKind = "committee"
    address: Line = Field(default="", max_length=200)


class SiteOut(BaseModel):
    """A kiosk site."""

    id: int
    name: str
    street_id: int
    street: str
    kind: str
    address: str
    kiosks: int


class SitesOut(BaseModel):
    """Every site."""

    sites: list[SiteOut]


class ImportRowError(BaseModel):
    """One broken row of an imported sheet."""

    row: int
    message: str


class SiteImportOut(BaseModel):
    """What a site sheet adds and changes (dry run) or added and changed (applied)."""

    dry_run: bool
    applied: bool
    added: list[str]
    changed: list[str]
    unchanged: int
    errors: list[ImportRowError]


class KioskIn(BaseModel):
    """A new kiosk at a site (by id or name)."""

    site: Reference = Field(min_length=1, max_length=80)
    label: Line | None = Field(default=None, max_length=80)


class KioskOut(BaseModel):
    """A kiosk with its site and health."""

    id: int
    label: str
    site_id: int
    site: str
    street: str
    enabled: bool
    online: bool
    last_seen_at: str | None
    camera_health: float | None


class KiosksOut(BaseModel):
    """Every kiosk."""

    kiosks: list[KioskOut]


class KioskTokenOut(BaseModel):
    """A kiosk with its device token, shown this once, as a link and as a QR code (SVG)."""

    kiosk: KioskOut
    token: str
    url: str
    qr_svg: str


class UserIn(BaseModel):
    """A new staff account. Without a password a one-time password is made (changed at first sign-in)."""

    username: str = Field(pattern=USERNAME_PATTERN)
    role: Role
    display_name: Line | None = Field(default=None, max_length=64)
    centre: Reference | None = Field(default=None, max_length=80)
    skills: list[str] = Field(default_factory=list, max_length=MAX_SKILLS)
    password: str | None = Field(default=None, max_length=256)

    @field_validator("username")
    @classmethod
    def _not_only_dots(cls, value: str) -> str:
        # `.` and `..` are path steps: /api/v1/admin/users/.. would never reach the account.
        if not value.strip("."):
            raise ValueError("a username needs a letter, digit, '-' or '_'")
        return value


class UserPatch(BaseModel):
    """Changes to an account; absent fields stay as they are (`centre: null` clears it)."""

    centre: Reference | None = Field(default=None, max_length=80)
    skills: list[str] | None = Field(default=None, max_length=MAX_SKILLS)
    disabled: bool | None = None
    display_name: Line | None = Field(default=None, min_length=1, max_length=64)


class UserOut(BaseModel):
    """A staff account (never its password)."""

    id: int
    username: str
    display_name: str
    role: str
    centre_id: int | None
    centre: str | None
    skills: list[str]
    enabled: bool
    must_change_password: bool


class UsersOut(BaseModel):
    """Staff accounts matching a filter."""

    users: list[UserOut]


class UserCreatedOut(BaseModel):
    """A created account; `password` is the one-time password when the server made one."""

    user: UserOut
    password: str | None = None


class PasswordResetOut(BaseModel):
    """A one-time password, shown once; the person must change it at the next sign-in."""

    username: str
    password: str


class MatterEditIn(BaseModel):
    """Fields of one matter to change; materials use the spreadsheet notation (docs/catalog.md)."""

    name: Line | None = None
    guide: Annotated[str, PLAIN_TEXT] | None = None
    materials: str | None = Field(default=None, description="e.g. 身份证原件[capture:id_card]; 申请表[form]")
    skill: str | None = None
    mode: str | None = None
    # Strict: JSON true is no number of minutes, nor "1" a yes (the lax reading published them).
    on_the_spot: StrictBool | None = None
    typical_minutes: StrictInt | None = None
    # The catalog version the form was read from (GET …/matters/{id} `version`): when the matter
    # has changed since (another tab, another admin), the edit is refused rather than undo that.
    base_version: str | None = Field(default=None, max_length=80)


class CatalogChangeOut(BaseModel):
    """What a catalog publish (import, edit, restore) changes or changed."""

    dry_run: bool
    applied: bool
    version: str
    old_version: str | None
    added: list[str]
    changed: list[str]
    retired: list[str]
    unretired: list[str]
    errors: list[str]


class CatalogVersionOut(BaseModel):
    """A published catalog version."""

    version: str
    created_at: str
    actor: str
    note: str
    matters: int
    current: bool


class CatalogVersionsOut(BaseModel):
    """Published catalog versions, newest first."""

    versions: list[CatalogVersionOut]


class AuditEntryOut(BaseModel):
    """One audit log entry."""

    id: int
    at: str
    actor: str
    action: str
    object_type: str
    object_id: str
    data: dict[str, Any]


class AuditOut(BaseModel):
    """Audit entries, newest first."""

    entries: list[AuditEntryOut]
