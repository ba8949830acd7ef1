"""Documents that their own print splits into parts, running off the frame: a booklet opened flat
whose half still in the picture is a complete quadrilateral of printed frame and fold lines
(server/quality/panel.py, document.continued_outline), and a card whose diagonal band cuts its
visible part into regions that are no page on their own (document._joined_pieces)."""

from __future__ import annotations

import numpy as np
import pytest

from server.quality import analyser, document, panel
from tests.quality_fixtures.scoring import verdict
from tests.quality_fixtures.world import world_scene

# Extra train scenes (beyond the scored 400): marriage certificates running off the frame on
# clutter and on a plain desk, whose right half was accepted as the whole document before.
CUT_OFF_BOOKLETS = (4006, 4112)


@pytest.mark.parametrize("index", CUT_OFF_BOOKLETS)
def test_a_booklet_with_one_half_off_the_frame_reads_as_cut_off(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    scene = world_scene("train", index, "cut_off")
    assert scene.kind == "marriage"
    result = verdict(scene)
    assert not result.ok and "document_cut_off" in result.reasons, result.reasons
    # The half alone, without asking whether the ring beside it is the same booklet (or at least
    # not the desk): accepted.
    monkeypatch.setattr(document, "continues_on", lambda *args: False)
    monkeypatch.setattr(document, "beyond_is_other", lambda *args: False)
    assert verdict(scene).ok


def test_the_other_half_must_have_the_pages_ground() -> None:
    """continues_on: the region beside the page has the page's median grey (and colour), not the
    desk's or another object's."""
    gray = np.full((360, 640), 150, np.uint8)
    page = np.float32([[200, 60], [440, 60], [440, 300], [200, 300]])
    region = np.float32([[0, 60], [440, 60], [440, 300], [0, 300]])
    gray[60:300, 0:440] = 90  # one red booklet, both halves
    gray[120:130, 240:400] = 200  # print on the half in view
    assert panel.continues_on(gray, None, page, region)
    gray[60:300, 0:196] = 180  # beside the page: something lighter (a second card, the desk)
    assert not panel.continues_on(gray, None, page, region)


def test_the_part_beyond_must_be_clearly_not_the_desk() -> None:
    """beyond_is_other: the region beyond the page (a card's coloured band running off the frame)
    has tones far from the desk's around it; a strip of the desk itself does not."""
    rng = np.random.default_rng(7)
    gray = rng.integers(130, 170, (360, 640)).astype(np.uint8)  # a grained desk
    page = np.float32([[200, 80], [440, 80], [440, 300], [200, 300]])
    region = np.float32([[200, 0], [440, 0], [440, 300], [200, 300]])
    gray[80:300, 200:440] = 235  # the card's white panel
    assert not panel.beyond_is_other(gray, page, region)  # above it: the desk
    gray[0:80, 200:440] = 70  # the card's dark band, running off the frame's top
    assert panel.beyond_is_other(gray, page, region)


# An extra train scene with no document put down but a social-security card at the frame's top
# edge, its coloured band running off the frame: its white panel, a complete quadrilateral, was
# accepted as a document.
CARD_BAND_OFF_THE_FRAME = 71034


def test_a_card_whose_band_runs_off_the_frame_reads_as_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    scene = world_scene("train", CARD_BAND_OFF_THE_FRAME, "no_document")
    assert scene.factors is not None and scene.factors.desk == "second_card"
    result = verdict(scene)
    assert not result.ok and "document_cut_off" in result.reasons, result.reasons
    monkeypatch.setattr(document, "beyond_is_other", lambda *args: False)
    assert verdict(scene).ok


def test_the_page_must_run_on_straight_into_the_ring() -> None:
    """_runs_on: the page's two corners at the shared side lie on the union's sides, away from its
    vertices (a booklet's frame lines run on), not at its corners or inside it (a second card)."""
    page = np.float32([[200, 60], [440, 60], [440, 300], [200, 300]])
    straight_on = np.float32([[0, 60], [440, 60], [440, 300], [0, 300]])
    assert document._runs_on(page, straight_on, 240.0)
    # A card beside the page, turned: the union's hull has its vertices at the page's corners.
    turned = np.float32([[0, 20], [200, 60], [440, 60], [440, 300], [200, 300], [0, 250]])
    assert not document._runs_on(page, turned, 240.0)


def test_a_whole_booklet_is_accepted() -> None:
    """The same kind of booklet fully in the picture is not read as cut off."""
    for index in (0, 2, 4):
        scene = world_scene("train", 5000 + index, "good", kind="marriage", desk="plain")
        result = verdict(scene)
        assert result.ok, (scene.name, result.reasons)


# Extra train scenes: bank cards running off the frame whose diagonal band splits them into two or
# three regions, each with the band's slanted corner (a dark card on a checked cloth, light cards
# among clutter and on wood); read as no document before, the pieces not being pages on their own.
BANDED_CARDS_CUT_OFF = (4025, 4094, 4101)


@pytest.mark.parametrize("index", BANDED_CARDS_CUT_OFF)
def test_a_card_split_by_its_band_and_cut_off_is_joined_again(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    scene = world_scene("train", index, "cut_off")
    assert scene.kind.startswith("bank_card")
    assert "document_cut_off" in verdict(scene).reasons
    monkeypatch.setattr(document, "_joined_pieces", lambda *args: None)
    # (The frame cut by the card's sides finds it too, where no other search does.)
    monkeypatch.setattr(analyser, "sided_cut_region", lambda *args: None)
    assert "document_cut_off" not in verdict(scene).reasons
