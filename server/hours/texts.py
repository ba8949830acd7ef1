"""How the calendar speaks to residents: "明天 09:00 开始服务" and the like, in district time."""

from __future__ import annotations

from datetime import datetime

from server.runtime.district_time import DISTRICT_TZ

WEEKDAYS = "一二三四五六日"


def when_text(moment: datetime, now: datetime) -> str:
    """今天 / 明天 / 后天 HH:MM, or M月D日（周X）HH:MM further ahead."""
    local, today = moment.astimezone(DISTRICT_TZ), now.astimezone(DISTRICT_TZ).date()
    days = (local.date() - today).days
    clock = f"{local:%H:%M}"
    if days == 0:
        return f"今天 {clock}"
    if days == 1:
        return f"明天 {clock}"
    if days == 2:
        return f"后天 {clock}"
    return f"{local.month}月{local.day}日（周{WEEKDAYS[local.weekday()]}）{clock}"


def closed_message(next_open: datetime | None, now: datetime | None = None) -> str:
    """The refusal of a join while the centre is closed."""
    if next_open is None:
        return "服务中心现在不开放，暂不能排队"
    return f"服务中心现在不开放，{when_text(next_open, now or datetime.now(DISTRICT_TZ))} 开始服务"
