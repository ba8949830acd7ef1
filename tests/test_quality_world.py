"""The analyser on the broad evaluation set's test split (tests/quality_fixtures/world.py).

The thresholds in server/quality/thresholds.py were tuned on the train and validation splits
only; this scores the held-out test split, whose scenes share no seed with them. The goals of
docs/quality.md are not all reached; the floors are the measured shares rounded down, so a
regression fails and the remaining gap stays visible.
"""

from __future__ import annotations

import pytest

from server.quality import QualityResult
from tests.quality_fixtures.dataset import Sample
from tests.quality_fixtures.scoring import Tally, document_kind, tally_by, verdict
from tests.quality_fixtures.world import cached_world, expected_reason, world_scene

# 264 scenes: 132 good (12 per document kind on average), 132 bad (each corruption ~13 times);
# generation ~1 minute on a quiet core, analysis ~1 s.
TEST_SPLIT_SIZE = 264
# The goals are 0.97 / 0.99 / 0.95 in every document kind (docs/quality.md); not all reached. These
# floors are the shares measured on these 264 scenes (0.992 / 0.992 / 0.947), rounded down with
# room for one or two scenes that a different libvpx build may encode differently.
GOOD_ACCEPTED = 0.97
BAD_REJECTED = 0.98
RIGHT_REASON = 0.93
# Per document kind, over ~24 scenes each (a single miss costs 8% of a kind's 12 good scenes).
# Dark bank cards, found by their colour where their grey edge is missing, now hold this floor too
# (measured 7/7 here, 18/19 over 600 test scenes).
KIND_GOOD_ACCEPTED = 0.8
KIND_BAD_REJECTED = 0.9
KIND_GOOD_FLOOR: dict[str, float] = {}

# Drawing the split takes ~1 min on a quiet core and several times that on a loaded one.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def verdicts() -> list[tuple[Sample, QualityResult]]:
    return [(s, verdict(s)) for s in cached_world("test", TEST_SPLIT_SIZE)]


def _overall(pairs: list[tuple[Sample, QualityResult]]) -> Tally:
    return tally_by(pairs, lambda s: "all")["all"]


def test_good_scenes_are_accepted(verdicts: list[tuple[Sample, QualityResult]]) -> None:
    good, _, _ = _overall(verdicts).shares()
    rejected = [(s.name, r.reasons) for s, r in verdicts if s.expected == "ok" and not r.ok]
    assert good is not None and good >= GOOD_ACCEPTED, rejected


def test_bad_scenes_are_rejected_for_the_right_reason(verdicts: list[tuple[Sample, QualityResult]]) -> None:
    _, rejected, right = _overall(verdicts).shares()
    accepted = [s.name for s, r in verdicts if s.expected != "ok" and r.ok]
    wrong = [(s.name, r.reasons) for s, r in verdicts
             if s.expected != "ok" and not r.ok and s.expected not in r.reasons]
    assert rejected is not None and rejected >= BAD_REJECTED, accepted
    assert right is not None and right >= RIGHT_REASON, wrong


def test_every_document_kind_holds(verdicts: list[tuple[Sample, QualityResult]]) -> None:
    by_kind = tally_by(verdicts, document_kind)
    failing = {}
    for kind, tally in by_kind.items():
        good, rejected, _ = tally.shares()
        floor = KIND_GOOD_FLOOR.get(kind, KIND_GOOD_ACCEPTED)
        if (good is not None and good < floor) or (rejected is not None and rejected < KIND_BAD_REJECTED):
            failing[kind] = tally.row(kind)
    assert not failing, failing


def test_splits_do_not_share_scenes() -> None:
    """The same index in two splits is a different scene (different seeds)."""
    train = next(iter(cached_world("train", 1)))
    test = next(iter(cached_world("test", 1)))
    assert train.name != test.name
    assert train.label()["kind"] != test.label()["kind"] or train.image.shape != test.image.shape \
        or (train.image != test.image).any()


def test_a_card_running_off_the_frame_is_labelled_cut_off() -> None:
    """A desk-only scene whose desk holds a second card partly out of the picture shows a card
    running off the frame: the label is document_cut_off; other desk-only scenes stay no_document."""
    assert expected_reason("no_document", "second_card") == "document_cut_off"
    assert expected_reason("no_document", "wood") == "no_document"
    assert expected_reason("far_away", "second_card") == "document_too_small"


@pytest.mark.parametrize("index", [20100, 20025])
def test_a_reflection_on_tinted_paper_that_clips_is_glare(index: int) -> None:
    """Two extra train-seed glare scenes (a grey ID back under warm light as a still, a grey light
    bank card under warm light through VP8) whose paper clips in grey: the reflection merges with
    it there, and is told from it by its lack of colour (metrics.compact_highlights)."""
    scene = world_scene("train", index, "glare")
    assert scene.factors is not None and (scene.factors.paper, scene.factors.light_colour) != ("white", "neutral")
    assert "glare" in verdict(scene).reasons
