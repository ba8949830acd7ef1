"""The working calendar on real dates: 春节 2026, its make-up Saturdays, lunch breaks and overrides."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from server.hours.calendar import DayHours, Override, WorkingCalendar, hours_from_text, official_day
from server.hours.texts import closed_message, when_text
from server.runtime.district_time import DISTRICT_TZ

WEEKDAY_HOURS = hours_from_text("09:00", "17:00", "12:00-13:00")


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=DISTRICT_TZ)


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar({wd: WEEKDAY_HOURS for wd in range(5)})


def test_spring_festival_2026_is_closed_and_its_makeup_saturdays_open(calendar: WorkingCalendar) -> None:
    # 2026 春节: 2月15日-23日 off; Saturdays 2月14日 and 2月28日 are 调休 working days.
    for day in range(15, 24):
        plan = calendar.plan(date(2026, 2, day))
        assert plan.hours is None and plan.reason == "holiday" and plan.holiday == "春节", day
    for makeup in (date(2026, 2, 14), date(2026, 2, 28)):
        assert makeup.weekday() == 5
        plan = calendar.plan(makeup)
        assert plan.reason == "makeup" and plan.hours == WEEKDAY_HOURS
    assert calendar.plan(date(2026, 2, 21)).reason == "holiday"  # a Saturday inside the holiday
    assert calendar.plan(date(2026, 3, 7)).reason == "weekend"  # an ordinary Saturday


def test_a_weekday_without_hours_is_no_weekend() -> None:
    """A centre closed on Wednesdays: that Wednesday is `no_hours`, its Saturday `weekend`."""
    week = {wd: WEEKDAY_HOURS for wd in (0, 1, 3, 4)}
    calendar = WorkingCalendar(week)
    assert calendar.plan(date(2026, 3, 4)).reason == "no_hours"  # a Wednesday
    assert calendar.plan(date(2026, 3, 4)).hours is None
    assert calendar.plan(date(2026, 3, 7)).reason == "weekend"
    assert calendar.plan(date(2026, 3, 5)).reason == "hours"


def test_next_opening_after_the_holiday(calendar: WorkingCalendar) -> None:
    # Friday evening before the holiday: the make-up Saturday 2月14日 opens next.
    assert calendar.next_opening(at(2026, 2, 13, 18)) == at(2026, 2, 14, 9)
    # Inside the holiday: Tuesday 2月24日 09:00.
    assert calendar.next_opening(at(2026, 2, 16, 10)) == at(2026, 2, 24, 9)
    assert calendar.is_open(at(2026, 2, 24, 9)) and not calendar.is_open(at(2026, 2, 24, 8, 59))


def test_lunch_break_is_closed(calendar: WorkingCalendar) -> None:
    assert calendar.is_open(at(2026, 3, 2, 11, 59))
    assert not calendar.is_open(at(2026, 3, 2, 12, 30))
    assert calendar.next_opening(at(2026, 3, 2, 12, 30)) == at(2026, 3, 2, 13)
    assert calendar.closes_at(at(2026, 3, 2, 10)) == at(2026, 3, 2, 12)
    assert not calendar.is_open(at(2026, 3, 2, 17))


def test_override_closes_a_working_day_and_opens_a_holiday(calendar: WorkingCalendar) -> None:
    calendar.overrides[date(2026, 3, 3)] = Override(None, "停电")
    calendar.overrides[date(2026, 2, 16)] = Override(DayHours(time(9), time(11)), "春节值班")
    assert not calendar.is_open(at(2026, 3, 3, 10))
    assert calendar.next_opening(at(2026, 3, 3, 10)) == at(2026, 3, 4, 9)
    assert calendar.is_open(at(2026, 2, 16, 10)) and not calendar.is_open(at(2026, 2, 16, 11))
    assert calendar.plan(date(2026, 2, 16)).reason == "override"


def test_next_working_day_skips_weekends_and_holidays(calendar: WorkingCalendar) -> None:
    assert calendar.next_working_day(at(2026, 2, 13, 15)) == at(2026, 2, 14, 15)  # make-up Saturday
    assert calendar.next_working_day(at(2026, 2, 14, 15)) == at(2026, 2, 24, 15)
    assert calendar.next_working_day(at(2026, 3, 6, 15)) == at(2026, 3, 9, 15)


def test_without_hours_always_open_but_follow_ups_keep_official_working_days() -> None:
    calendar = WorkingCalendar(None)
    assert calendar.always_open and calendar.is_open(at(2026, 2, 17, 3))
    assert calendar.next_opening(at(2026, 2, 17, 3)) == at(2026, 2, 17, 3)
    assert calendar.next_working_day(at(2026, 2, 13, 15)) == at(2026, 2, 14, 15)
    assert calendar.next_working_day(at(2026, 2, 14, 15)) == at(2026, 2, 24, 15)


def test_years_beyond_the_holiday_data_use_monday_to_friday() -> None:
    assert official_day(date(2031, 1, 6)) == (True, "")  # a Monday
    assert official_day(date(2031, 1, 4)) == (False, "")  # a Saturday
    assert official_day(date(2026, 10, 1)) == (False, "国庆节")


@pytest.mark.parametrize(("opens", "closes", "lunch"), [
    ("17:00", "09:00", ""), ("09:00", "17:00", "12:00"), ("09:00", "17:00", "08:00-09:30"), ("9点", "17:00", ""),
])
def test_bad_hours_are_refused(opens: str, closes: str, lunch: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        hours_from_text(opens, closes, lunch)


def test_when_texts() -> None:
    now = at(2026, 2, 13, 20, 6)
    assert when_text(at(2026, 2, 13, 21), now) == "今天 21:00"
    assert when_text(at(2026, 2, 14, 9), now) == "明天 09:00"
    assert when_text(at(2026, 2, 15, 9), now) == "后天 09:00"
    assert when_text(at(2026, 2, 24, 9), now) == "2月24日（周二）09:00"
    assert closed_message(at(2026, 2, 14, 9), now) == "服务中心现在不开放，明天 09:00 开始服务"
    assert closed_message(None, now) == "服务中心现在不开放，暂不能排队"


def test_open_share_per_hour_joins_centres_and_follows_holidays() -> None:
    from server.reports.open_hours import open_share_by_hour

    weekday = {d: hours_from_text("08:30", "17:00", "12:00-13:30") for d in range(5)}
    late = {d: hours_from_text("12:30", "20:00") for d in range(5)}
    morning_centre, late_centre = WorkingCalendar(weekday), WorkingCalendar(late)
    friday = date(2026, 11, 20)
    alone = open_share_by_hour([morning_centre], friday)
    assert alone[8] == 0.5 and alone[9] == 1.0 and alone[12] == 0.0 and alone[13] == 0.5 and alone[17] == 0.0
    both = open_share_by_hour([morning_centre, late_centre], friday)
    assert both[12] == 0.5 and both[13] == 1.0 and both[19] == 1.0 and both[20] == 0.0  # open while either is
    assert sum(both) == pytest.approx(11.0)  # 08:30-12:00 and 12:30-20:00
    assert open_share_by_hour([morning_centre], date(2026, 2, 17)) == [0.0] * 24  # 春节
    assert open_share_by_hour([morning_centre], date(2026, 2, 14))[9] == 1.0  # make-up Saturday
    assert open_share_by_hour([WorkingCalendar(None)], friday) == [1.0] * 24
    assert open_share_by_hour([], friday) == [1.0] * 24
