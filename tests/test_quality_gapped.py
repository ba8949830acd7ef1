"""A complete page whose edge ring has gaps, closed by four straight stretches (server/quality/gapped.py)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from server.quality import analyse_document, analyser, document, gapped, thresholds
from server.quality.gapped import _distinct, gapped_page
from server.quality.metrics import downscale
from tests.quality_fixtures.heldout import scene
from tests.quality_fixtures.scoring import quad_iou

_CARD = np.float32([[400, 200], [900, 215], [890, 530], [392, 515]])


def _frame(paint: Callable[[np.ndarray], None]) -> np.ndarray:
    """A 1280x720 frame on a dark grey desk with whatever paint draws, and a little sensor noise."""
    frame = np.empty((720, 1280, 3), np.uint8)
    frame[:] = 70
    paint(frame)
    noise = np.random.default_rng(3).normal(0, 2, frame.shape[:2]).astype(np.int16)
    return cv2.add(frame, cv2.merge([noise] * 3), dtype=cv2.CV_8U)


def _search(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """gapped_page's inputs for a BGR frame: the blurred analysis image, its edge map, its threshold."""
    small, _ = downscale(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
    blurred = document.blur_for_edges(small)
    high = document.edge_threshold(blurred)
    return blurred, document.edge_map(blurred, high), high


def _card_with_faded_sides(frame: np.ndarray) -> None:
    """A grey card with light print whose left and right sides fade where the desk beside them
    is lit to nearly the card's grey (8 levels darker)."""
    cv2.fillConvexPoly(frame, _CARD.astype(np.int32), (125, 125, 125))
    for band in ([[300, 280], [396, 280], [395, 450], [300, 450]], [[894, 300], [1000, 300], [1000, 450], [891, 450]]):
        cv2.fillConvexPoly(frame, np.int32(band), (117, 117, 117))
    for y in range(270, 480, 40):
        cv2.putText(frame, "6217 0031 2048", (440, y), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (235, 235, 235), 3)


def test_a_card_whose_sides_fade_is_closed_by_its_straight_stretches() -> None:
    blurred, edges, high = _search(_frame(_card_with_faded_sides))
    page = gapped_page(blurred, edges, high)
    assert page is not None and not page.cut_off
    # Analysis pixels are half the frame's.
    assert np.abs(page.corners * 2 - _CARD).max() <= 8, page.corners * 2


def test_a_box_printed_on_paper_is_no_step_of_grey() -> None:
    """A form's table on a page that fills the frame: four straight lines on edges, closing a
    quadrilateral of readable size, but paper on both sides of each."""

    def paint(frame: np.ndarray) -> None:
        frame[:] = 225
        cv2.rectangle(frame, (350, 180), (930, 540), (40, 40, 40), 3)
        cv2.line(frame, (350, 300), (930, 300), (40, 40, 40), 3)

    blurred, edges, high = _search(_frame(paint))
    assert gapped_page(blurred, edges, high) is None


def test_parallel_lines_alone_close_no_page() -> None:
    """Grain lines of a desk run one way: no two pairs cross."""

    def paint(frame: np.ndarray) -> None:
        for y in range(60, 720, 90):
            cv2.rectangle(frame, (0, y), (1279, y + 40), (110, 110, 110), -1)

    blurred, edges, high = _search(_frame(paint))
    assert gapped_page(blurred, edges, high) is None


def test_stretches_along_a_longer_one_are_one_edge() -> None:
    """The two sides of a thin edge's ring (3 px apart) and the same edge traced at the lower
    threshold are one stretch; a parallel edge 20 px away and a crossing one are kept."""
    starts = np.float32([[100, 100], [102, 103], [120, 101], [100, 120], [300, 50]])
    vectors = np.float32([[200, 0], [150, 0], [100, 1], [200, 0], [0, 150]])
    kept, _ = _distinct(starts, vectors)
    assert sorted(map(tuple, kept.tolist())) == [(100.0, 100.0), (100.0, 120.0), (300.0, 50.0)]


# Good dev scenes (the split this search was studied on) whose card no ring outlines: an ID front
# on a second card whose edge between them fades (its ring runs on into the other card), and a
# dark bank card on a dark desk among clutter, whose ring has gaps where the desk's light meets
# the card's grey.
CARDS_WITH_GAPS = (550, 2652)


@pytest.mark.parametrize("index", CARDS_WITH_GAPS)
def test_a_card_whose_ring_has_gaps_is_accepted_on_its_outline(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    item = scene(index, "dev")
    assert item.expected == "ok" and item.corners is not None
    result = analyse_document(item.image)
    assert result.ok, result.reasons
    assert quad_iou(np.array(result.metrics.document.corners), item.corners) >= 0.9
    monkeypatch.setattr(analyser, "gapped_page", lambda *args, **kwargs: None)
    assert not analyse_document(item.image).ok


# Desk-only dev scenes with a phone: its dark glass is framed by four straight sides as a card
# is, and holds no print.
PHONES = (1677, 1933)


@pytest.mark.parametrize("index", PHONES)
def test_a_phone_closed_by_four_sides_is_no_document(index: int) -> None:
    item = scene(index, "dev")
    assert item.expected == "no_document"
    small, _ = downscale(cv2.cvtColor(item.image, cv2.COLOR_BGR2GRAY))
    blurred = document.blur_for_edges(small)
    high = document.edge_threshold(blurred)
    assert gapped_page(blurred, document.edge_map(blurred, high), high) is not None
    assert analyse_document(item.image).reasons[0] == "no_document"


# Good dev scenes of dark bank cards on a dark plain desk whose light falls off across the card:
# two sides vanish for a stretch where the desk's grey crosses the card's, so they lie on edges
# at 71-83% of their points at the lower threshold (20), under the 85% a side needs there; at 10
# the sides are carried at 79-100%, the ring as a whole at over 85%.
FAINT_SIDED_CARDS = (1794, 2432)


@pytest.mark.parametrize("index", FAINT_SIDED_CARDS)
def test_a_card_whose_sides_fade_is_closed_on_the_finer_edges(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    item = scene(index, "dev")
    assert (item.expected, item.kind, item.desk) == ("ok", "bank_card_dark", "plain") and item.corners is not None
    result = analyse_document(item.image)
    assert result.ok, result.reasons
    assert quad_iou(np.array(result.metrics.document.corners), item.corners) >= 0.9
    # Without the finer map (the lower threshold's edges again) the card is not closed.
    monkeypatch.setattr(thresholds, "GAPPED_FINE_EDGE_HIGH", thresholds.GAPPED_EDGE_HIGH)
    assert not analyse_document(item.image).ok


def test_a_card_under_a_cut_off_one_is_not_closed_by_the_other_cards_edge(monkeypatch: pytest.MonkeyPatch) -> None:
    """dev 1497: a dark card running off the frame lies over a second, purple card. On the finer
    edges the purple card's three sides and the dark card's edge across it close a quadrilateral,
    but that edge runs on straight past both corners: it is the other card's, and the scene stays
    `document_cut_off`."""
    item = scene(1497, "dev")
    assert item.expected == "document_cut_off"
    assert analyse_document(item.image).reasons == ["document_cut_off"]
    monkeypatch.setattr(gapped, "runs_on_past", lambda *args: False)
    assert analyse_document(item.image).ok
