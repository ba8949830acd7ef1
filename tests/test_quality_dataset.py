"""Accept/reject shares of the analyser on the legacy labelled set (tests/quality_fixtures/dataset.py).

The thresholds are no longer tuned on this set (see tests/test_quality_world.py for the broad set
and its held-out test split); it stays as a regression check of a second, independent generator.
"""

from __future__ import annotations

from collections import Counter

import pytest

from server.quality import analyse_document
from server.quality.result import QualityResult
from tests.quality_fixtures import CONDITIONS, Sample, cached_samples

# 200 images: 100 good, 10 of each of the ten bad conditions; seed fixed, ~30 s to generate.
TEST_SET_SIZE = 200
MIN_GOOD_ACCEPTED = 0.97
# 99/100 measured: one "overexposed" ID card (2-3x gain) keeps its ink at ~100 grey under clipped
# paper, readable and so accepted by the exposure rule that judges the ink (docs/quality.md).
MIN_BAD_REJECTED = 0.98
# Measured 0.93-0.95 on this set (misses: tiny pages on busy cloth read as no_document).
MIN_RIGHT_REASON = 0.85


@pytest.fixture(scope="module")
def verdicts() -> list[tuple[Sample, QualityResult]]:
    return [(s, analyse_document(s.image)) for s in cached_samples(TEST_SET_SIZE)]


def test_set_is_balanced_and_labelled(verdicts: list[tuple[Sample, QualityResult]]) -> None:
    counts = Counter(s.condition for s, _ in verdicts)
    assert counts["good"] == TEST_SET_SIZE // 2
    assert set(counts) == set(CONDITIONS)


def test_good_captures_are_accepted(verdicts: list[tuple[Sample, QualityResult]]) -> None:
    good = [(s, r) for s, r in verdicts if s.expected == "ok"]
    rejected = [(s.name, r.reasons) for s, r in good if not r.ok]
    share = 1 - len(rejected) / len(good)
    print(f"good accepted: {share:.3f} ({len(good) - len(rejected)}/{len(good)})")
    assert share >= MIN_GOOD_ACCEPTED, rejected


def test_bad_captures_are_rejected_with_the_right_reason(verdicts: list[tuple[Sample, QualityResult]]) -> None:
    bad = [(s, r) for s, r in verdicts if s.expected != "ok"]
    accepted = [s.name for s, r in bad if r.ok]
    wrong = [(s.name, r.reasons) for s, r in bad if not r.ok and s.expected not in r.reasons]
    rejected_share = 1 - len(accepted) / len(bad)
    right_share = 1 - (len(accepted) + len(wrong)) / len(bad)
    print(f"bad rejected: {rejected_share:.3f}; with the right reason: {right_share:.3f}; wrong: {wrong}")
    assert rejected_share >= MIN_BAD_REJECTED, accepted
    assert right_share >= MIN_RIGHT_REASON, wrong


@pytest.mark.parametrize("condition", ["defocus", "motion", "dark", "overexposed", "glare", "cut_off",
                                       "low_resolution", "haze"])
def test_each_corruption_is_named(verdicts: list[tuple[Sample, QualityResult]], condition: str) -> None:
    """Per condition, at least 9 of 10 carry the expected reason (no_document and far_away are
    covered by the overall floor: a tiny page on a busy cloth can be missed entirely), 8 of 10
    for overexposed (see NAMED_FLOOR)."""
    cases = [(s, r) for s, r in verdicts if s.condition == condition]
    named = sum(CONDITIONS[condition] in r.reasons for _, r in cases)
    assert named >= NAMED_FLOOR.get(condition, 0.9) * len(cases), [(s.name, r.reasons) for s, r in cases]


# Two of this set's ten overexposed ID cards are white cards whose black print stays black (dark
# end < 170, docs/quality.md "too_bright"): by the exposure rule they are readable. One was
# accepted before the colour search too; the other was rejected only because its washed-out grey
# edge left no page to find (no_document, and too_bright for the whole frame). Its edge against the
# yellow desk is one of colour, so the page is now found and judged on its print.
NAMED_FLOOR = {"overexposed": 0.8}


def test_verdict_is_consistent(verdicts: list[tuple[Sample, QualityResult]]) -> None:
    for _, result in verdicts:
        assert result.ok == (not result.reasons)
        assert result.ms > 0
