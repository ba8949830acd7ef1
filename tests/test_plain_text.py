"""Names that reach lists, exports and logs are visible text: control and bidi characters are
refused, surrounding spaces trimmed (server/protocol/plain_text.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from server.admin.schemas import CentreIn, KioskIn, MatterEditIn, SiteIn, StreetIn, UserIn, UserPatch
from server.protocol.plain_text import plain_line, plain_text

HIDDEN = ["\x00", "\n", "\r", "\t", "\x1b[31m", "\x7f", "\x85", "\u200b", "\u200e", "\u2028", "\u202e",
          "\u2066", "\ufeff"]


@pytest.mark.parametrize("hidden", HIDDEN)
def test_a_line_with_a_hidden_character_is_refused(hidden: str) -> None:
    with pytest.raises(ValueError, match="U\\+"):
        plain_line(f"江宁路{hidden}街道")


def test_a_line_is_trimmed_and_a_blank_one_refused() -> None:
    assert plain_line("  江宁路街道 ") == "江宁路街道"
    assert plain_line("") == ""  # left to the field's own length check
    with pytest.raises(ValueError, match="spaces"):
        plain_line("   ")
    # Ordinary punctuation, full-width spaces inside and letters of any script stay.
    assert plain_line("静安区·江宁路　1号（东楼）Ünit-3") == "静安区·江宁路　1号（东楼）Ünit-3"


def test_free_text_keeps_line_breaks_and_tabs_and_drops_the_rest() -> None:
    assert plain_text("第一行\n第二行\t完\x00\u202e\u200b") == "第一行\n第二行\t完"


@pytest.mark.parametrize(
    ("model", "fields", "field"),
    [
        (StreetIn, {}, "name"),
        (StreetIn, {"name": "甲"}, "code"),
        (CentreIn, {"street": "1"}, "name"),
        (CentreIn, {"name": "甲", "street": "1"}, "address"),
        (CentreIn, {"name": "甲", "street": "1"}, "phone"),
        (SiteIn, {"street": "1"}, "name"),
        (SiteIn, {"name": "甲", "street": "1"}, "address"),
        (KioskIn, {"site": "1"}, "label"),
        (UserIn, {"username": "cw9", "role": "supervisor"}, "display_name"),
        (UserPatch, {}, "display_name"),
        (MatterEditIn, {}, "name"),
    ],
)
def test_every_admin_name_field_refuses_hidden_characters(model: type, fields: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError):
        model.model_validate({**fields, field: "江宁路\u202e道街"})
    with pytest.raises(ValidationError):
        model.model_validate({**fields, field: "   "})
    assert getattr(model.model_validate({**fields, field: " 江宁路 "}), field) == "江宁路"
