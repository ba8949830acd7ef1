"""ID numbers and phone numbers typed into free-text fields are masked before anything stores them."""

from __future__ import annotations

import pytest

from server.protocol import messages as m
from server.protocol.free_text import mask_personal_numbers
from server.reports.schemas import FollowUpIn

ID_NUMBER = "11010519491231002X"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (f"居民身份证{ID_NUMBER}已核验", "居民身份证[证件号已隐去]已核验"),
        ("旧证 110105491231002 仍有效", "旧证 [证件号已隐去] 仍有效"),
        ("手机13812345678回电", "手机[电话已隐去]回电"),
        ("请拨 138-1234-5678 或 +86 139 1234 5678", "请拨 [电话已隐去] 或 [电话已隐去]"),
        ("手机+8613712345678，又 8613812345678、0086 139 1234 5678", "手机[电话已隐去]，又 [电话已隐去]、[电话已隐去]"),
        ("全角１３９１２３４５６７８，座机０２１－６２３４５６７８", "全角[电话已隐去]，座机[电话已隐去]"),
        ("座机 021 62581234 或 +86 21 62581234", "座机 [电话已隐去] 或 [电话已隐去]"),
        ("证件 110105 19491231 002X 与 110105-19491231-002x", "证件 [证件号已隐去] 与 [证件号已隐去]"),
        ("全角证件号１１０１０５１９４９１２３１００２Ｘ", "全角证件号[证件号已隐去]"),
        ("座机 021-62581234 转", "座机 [电话已隐去] 转"),
        # Landlines grouped or with the area code in brackets, a mobile read out digit by digit.
        ("021-6234-5678、021 6234 5678、(021)62345678", "[电话已隐去]、[电话已隐去]、[电话已隐去]"),
        ("（021）6234-5678 或 (0512) 623-4567", "[电话已隐去] 或 [电话已隐去]"),
        ("+86 21 6234 5678，手机 1 3 8 0 0 1 3 8 0 0 0 晚上", "[电话已隐去]，手机 [电话已隐去] 晚上"),
        ("手机 138 001 38000", "手机 [电话已隐去]"),
        ("受理编号 JA-2026-0001，共 3 份材料，2026年12月2日", "受理编号 JA-2026-0001，共 3 份材料，2026年12月2日"),
        ("2026-12-02 10:30 回电，共１２份", "2026-12-02 10:30 回电，共12份"),
        # Counts, case and order numbers, a postcode with a date and a time: not phones nor IDs.
        ("20 12345678 份，订单 123 45678901，JA-12-12345678", "20 12345678 份，订单 123 45678901，JA-12-12345678"),
        ("规格 100-1234567，批次 2026-001-1234567", "规格 100-1234567，批次 2026-001-1234567"),
        ("200040 20261206 1430，金额 1,234.56 元", "200040 20261206 1430，金额 1,234.56 元"),
        ("", ""),
    ],
)
def test_mask_personal_numbers(typed: str, stored: str) -> None:
    assert mask_personal_numbers(typed) == stored


@pytest.mark.parametrize(
    ("model", "fields", "field"),
    [
        (m.EndCall, {"type": "end_call", "ticket_id": "t1", "outcome": "completed"}, "notes"),
        (m.Rate, {"type": "rate", "session_id": "s1", "score": 2}, "comment"),
        (m.Transfer, {"type": "transfer", "ticket_id": "t1", "skill": "police-general"}, "note"),
        (m.SetStatus, {"type": "set_status", "status": "break"}, "reason"),
        (FollowUpIn, {"state": "resolved"}, "note"),
    ],
)
def test_every_free_text_field_is_masked(model: type, fields: dict[str, object], field: str) -> None:
    value = f"证{ID_NUMBER}" if field != "reason" else "13812345678"
    parsed = model.model_validate({**fields, field: value})
    assert ID_NUMBER not in getattr(parsed, field)
    assert "13812345678" not in getattr(parsed, field)
    assert "已隐去" in getattr(parsed, field)


@pytest.mark.parametrize(
    ("model", "fields", "field"),
    [
        (m.EndCall, {"type": "end_call", "ticket_id": "t1", "outcome": "completed"}, "notes"),
        (m.Rate, {"type": "rate", "session_id": "s1", "score": 2}, "comment"),
        (FollowUpIn, {"state": "resolved"}, "note"),
    ],
)
def test_invisible_characters_are_dropped_before_masking(model: type, fields: dict[str, object], field: str) -> None:
    # A zero-width space or a bidi override inside a number must not slip it past the mask.
    typed = "请回电 138\u200b1234\u202e5678\x00，谢谢\n第二行\t完"
    stored = getattr(model.model_validate({**fields, field: typed}), field)
    assert stored == "请回电 [电话已隐去]，谢谢\n第二行\t完"
