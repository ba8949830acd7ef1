"""The pure measures: waits, handle times, SL/SL2 at the threshold edge, percentiles, duty, trends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.reports.kiosks import camera_trend
from server.reports.metrics import SessionFacts, handle_s, measure, percentile, wait_s
from server.reports.staffing import StateChange, on_duty_by_hour

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def s(state: str, answer: float | None = None, end: float | None = None, close: float | None = None,
      rating: int | None = None, outcome: str | None = None) -> SessionFacts:
    def after(x: float | None) -> datetime | None:
        return None if x is None else T0 + timedelta(seconds=x)
    return SessionFacts(created_at=T0, state=state, answered_at=after(answer), ended_at=after(end),
                        closed_at=after(close), rating=rating, outcome=outcome)


def test_wait_and_handle_definitions() -> None:
    assert wait_s(s("done", answer=30, end=330, close=360)) == 30
    assert handle_s(s("done", answer=30, end=330, close=360)) == 300
    assert wait_s(s("abandoned", end=45, close=45)) == 45  # created -> closed
    assert handle_s(s("abandoned", end=45, close=45)) is None
    assert wait_s(s("waiting")) is None
    # Requeued after an answer, then the kiosk left: answered (first answer), no handle time.
    dropped = s("abandoned", answer=20, end=500, close=500)
    assert wait_s(dropped) == 20 and handle_s(dropped) is None


@pytest.mark.parametrize(("wait", "within"), [(59.999, True), (60.0, True), (60.001, False)])
def test_service_level_threshold_is_inclusive(wait: float, within: bool) -> None:
    m = measure([s("done", answer=wait, end=wait + 10), s("cancelled", close=wait)], 60)
    assert m.sl == (1.0 if within else 0.0)
    assert m.sl2 == (1.0 if within else 0.0)
    assert (m.answered_within, m.abandoned_within) == (int(within), int(within))


def test_measure_counts_and_ratings() -> None:
    m = measure([
        s("done", answer=10, end=110, rating=5, outcome="accepted"),
        s("done", answer=90, end=390, rating=1, outcome="completed"),
        s("abandoned", end=30, close=30),
        s("cancelled", close=200),
        s("waiting"),
    ], 60)
    assert (m.offered, m.answered, m.abandoned, m.cancelled, m.waiting) == (5, 2, 2, 1, 1)
    assert m.avg_wait_s == pytest.approx((10 + 90 + 30 + 200) / 4)
    assert m.avg_answer_wait_s == 50
    assert m.avg_handle_s == 200
    assert (m.sl, m.sl2) == (0.5, 0.5)
    assert m.ratings == {"5": 1, "4": 0, "3": 0, "2": 0, "1": 1}
    assert m.avg_rating == 3
    empty = measure([], 60)
    assert (empty.sl, empty.sl2, empty.avg_wait_s, empty.p90_wait_s) == (None, None, None, None)


def test_percentile_nearest_rank() -> None:
    assert percentile([], 90) is None
    assert percentile([5.0], 90) == 5.0
    values = [float(v) for v in range(1, 11)]  # 1..10: rank ceil(9) = 9
    assert percentile(values, 90) == 9.0
    assert percentile([*values, 11.0], 90) == 10.0  # 11 values: rank ceil(9.9) = 10


def test_on_duty_time_weighted() -> None:
    start = T0
    changes = [StateChange(1, start + timedelta(minutes=30), "available"),
               StateChange(2, start + timedelta(minutes=15), "break"),
               StateChange(1, start + timedelta(hours=1), "offline")]  # exactly at the next hour
    duty = on_duty_by_hour({2: "in_call"}, changes, start, hours=2)
    assert duty[0] == (0.25 + 0.5, 1)  # cw2 0-15 min, cw1 30-60 min: never both
    assert duty[1] == (0.0, 0)


def test_camera_trend_direction() -> None:
    day = timedelta(days=1)
    trend, direction = camera_trend([(T0, 0.9, True), (T0 + day, 0.8, True), (T0 + 2 * day, None, False)])
    assert [p["score"] for p in trend] == [0.9, 0.8, 0.0] and direction == "declining"
    assert camera_trend([(T0, 0.9, True), (T0 + day, 0.85, True)])[1] == "stable"
    assert camera_trend([])[1] == "unknown"
