"""The patterned-cloth search (server/quality/cloth.py, document.cloth_outline): a pale page on a
striped or dotted coloured cloth found as the gap in the cloth's pattern."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from server.capture.analysis_peer import chroma
from server.quality import analyse_document, analyse_luma, analyser, document
from server.quality.cloth import PatternGap, pattern_gap
from server.quality.colour import Chroma, chroma_edges
from server.quality.metrics import downscale, to_gray
from tests.quality_fixtures import codec
from tests.quality_fixtures.heldout import scene
from tests.quality_fixtures.scoring import quad_iou


def _striped_cloth(size: tuple[int, int] = (720, 1280), period: int = 36, angle: float = 20.0) -> np.ndarray:
    """A BGR frame of red and white stripes (period pixels, tilted by angle degrees)."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    along = xx * np.cos(np.radians(angle)) + yy * np.sin(np.radians(angle))
    red = (along % period) < period / 2
    frame = np.full((h, w, 3), 238, np.uint8)
    frame[red] = (40, 40, 200)
    return frame


def _with_card(frame: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """frame with a white card of grey print laid at corners (the card's white is the cloth's)."""
    out = frame.copy()
    cv2.fillConvexPoly(out, corners.astype(np.int32), (238, 238, 238))
    x0, y0 = corners.min(axis=0).astype(int) + 50
    for line, row in enumerate(range(y0 + 20, int(corners[:, 1].max()) - 50, 34)):
        cv2.putText(out, f"Name WANG {line} 1987.03.{line:02d} No. 3101061987", (x0, row),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.7, (50, 50, 50), 2, cv2.LINE_AA)
    return out


CARD = np.array([[420, 200], [900, 230], [880, 540], [400, 510]], np.float32)


def _edges(frame: np.ndarray) -> np.ndarray:
    gray, _ = downscale(to_gray(frame))
    shape = (gray.shape[0] // 2, gray.shape[1] // 2)
    return chroma_edges(Chroma.from_bgr(frame).planes(shape))  # type: ignore[union-attr]


def test_a_white_card_on_white_and_red_stripes_is_the_gap_in_the_pattern() -> None:
    frame = _with_card(_striped_cloth(), CARD)
    gap = pattern_gap(_edges(frame))
    assert gap is not None
    # The map is a quarter of the frame's size each way (640-wide analysis image, halved).
    assert quad_iou(gap.box * 4, CARD) >= 0.85
    gray, factor = downscale(to_gray(frame))
    colour = Chroma.from_bgr(frame)
    assert colour is not None
    found = document.cloth_outline(gray, colour)
    assert found is not None and not found.cut_off
    assert quad_iou(found.corners * factor, CARD) >= 0.9


def test_the_cloth_alone_and_a_plain_desk_have_no_gap() -> None:
    assert pattern_gap(_edges(_striped_cloth())) is None
    plain = np.full((720, 1280, 3), 200, np.uint8)
    assert pattern_gap(_edges(_with_card(plain, CARD))) is None


def test_a_gap_running_off_the_frame_is_reported_as_cut_off() -> None:
    """A card running off the frame leaves a gap that reaches the border: it is no complete
    page, but a convex region cut by the frame."""
    cut = CARD + np.array([420, 0], np.float32)
    gap = pattern_gap(_edges(_with_card(_striped_cloth(), cut)))
    assert gap is not None and gap.cut_off


def test_a_panel_framed_by_print_on_a_plain_desk_is_not_a_gap() -> None:
    """A document's own plain panel framed by coloured print, on a plain desk: the desk around
    is far from every chroma edge, so the frame is no cloth."""
    frame = np.full((720, 1280, 3), 180, np.uint8)
    cv2.rectangle(frame, (300, 150), (1000, 600), (40, 30, 150), -1)
    cv2.rectangle(frame, (360, 200), (940, 550), (60, 180, 200), 4)
    for x in range(320, 1000, 30):
        cv2.circle(frame, (x, 170), 6, (60, 180, 200), -1)
    assert pattern_gap(_edges(frame)) is None


# Good dev scenes that no edge search found a readable page in: a light bank card on white and
# purple dots, a resident ID back on white and orange dots, an A4 form on green and white stripes.
CLOTH_ONLY = (818, 1130, 1308)


@pytest.mark.parametrize("index", CLOTH_ONLY)
def test_pale_pages_on_dotted_and_striped_cloths_are_found_on_their_outline(
        index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    item = scene(index, "dev")
    assert (item.expected, item.desk) == ("ok", "tablecloth") and item.corners is not None
    result = analyse_document(item.image)
    assert result.ok, result.reasons
    assert quad_iou(np.array(result.metrics.document.corners), item.corners) >= 0.9
    monkeypatch.setattr(document, "cloth_outline", lambda gray, colour: None)
    assert not analyse_document(item.image).ok


# Bad dev scenes whose own print or desk once passed for a gap: a household register's cover
# running off the frame on a plain desk (its plain panel framed by gold print), and a card
# running off on wood (the desk beside it, up to the frame's edge).
CUT_OFF_NOT_A_GAP = (57, 537)


@pytest.mark.parametrize("index", CUT_OFF_NOT_A_GAP)
def test_a_cut_off_page_stays_cut_off(index: int) -> None:
    item = scene(index, "dev")
    assert item.expected == "document_cut_off"
    gray, _ = downscale(to_gray(item.image))
    colour = Chroma.from_bgr(item.image)
    assert colour is not None
    assert document.cloth_outline(gray, colour) is None
    assert analyse_document(item.image).reasons[0] == "document_cut_off"


def test_the_gap_is_found_in_a_live_vp8_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    """The live path reads the decoder's U and V planes (half the frame each way) for the same
    search: a light bank card on a white and purple dotted cloth through VP8 at 500 kbps."""
    item = scene(CLOTH_ONLY[0], "dev")
    assert item.image.shape[:2] == (720, 1280)
    decoded = list(codec.vp8_stream([item.image] * codec.VP8_FRAMES, 500_000))[-1]
    result = analyse_luma(codec.luma(decoded), uv_planes=chroma(decoded))
    assert result.ok, result.reasons
    monkeypatch.setattr(document, "cloth_outline", lambda gray, colour: None)
    assert not analyse_luma(codec.luma(decoded), uv_planes=chroma(decoded)).ok


# Bad dev scenes: a passport running off the bottom of the frame on a dotted cloth and one
# running off its left side on a striped cloth, which every edge search missed (no_document).
CUT_OFF_GAPS = (281, 633)


@pytest.mark.parametrize("index", CUT_OFF_GAPS)
def test_a_gap_running_off_the_frame_is_a_page_cut_off(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    item = scene(index, "dev")
    assert (item.expected, item.desk) == ("document_cut_off", "tablecloth")
    gray, _ = downscale(to_gray(item.image))
    colour = Chroma.from_bgr(item.image)
    assert colour is not None
    found = document.cloth_outline(gray, colour)
    assert found is not None and found.cut_off
    assert analyse_document(item.image).reasons[0] == "document_cut_off"
    monkeypatch.setattr(document, "_cut_cloth_outline", lambda gap, shape, size: None)
    without = analyse_document(item.image).reasons
    # Without the gap the page is lost: no page, or a small stretch of the pattern closed into a
    # quadrilateral (document._trimmed_quad), never the page running off the frame.
    assert {"no_document", "document_too_small"} & set(without) and "document_cut_off" not in without


def test_a_gap_bitten_by_the_cards_own_print_is_cut_off_by_its_rectangle() -> None:
    """A light card running off the top of a checked cloth: its chip bites into the gap's corner
    by the frame's edge, so the gap's hull cuts that corner off (an oblique side, no page's
    corner). The gap's rectangle cut by the frame, which the gap fills, is the card. A gap that
    fills its rectangle poorly (a ragged stretch of cloth) is not taken."""
    shape, size = (180, 320), (640, 360)
    bitten = np.array([[120, 1], [238, 1], [238, 80], [73, 80], [73, 40], [95, 20], [105, 1]], np.float32)
    gap = PatternGap(bitten, np.array([[238, 80], [73, 80], [73, 1], [238, 1]], np.float32), cut_off=True)
    found = document._cut_cloth_outline(gap, shape, size)
    assert found is not None and found.cut_off
    assert quad_iou(found.corners, np.array([[476, 160], [146, 160], [146, 2], [476, 2]], np.float32)) >= 0.97
    wedge = np.array([[200, 1], [238, 1], [238, 80], [73, 80], [73, 70]], np.float32)  # 0.66 of its rectangle
    assert document._cut_cloth_outline(PatternGap(wedge, gap.box, cut_off=True), shape, size) is None


# Bad dev scenes: cards and a passport page running off a checked or dotted cloth whose own print
# bit into the gap by the frame's edge: read "no_document" before the gap's rectangle was tried.
CUT_OFF_BITTEN_GAPS = (2041, 2057, 2105)


@pytest.mark.parametrize("index", CUT_OFF_BITTEN_GAPS)
def test_a_card_running_off_a_cloth_with_its_print_at_the_edge_reads_cut_off(
        index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    item = scene(index, "dev")
    assert (item.expected, item.desk) == ("document_cut_off", "tablecloth")
    assert analyse_document(item.image).reasons == ["document_cut_off"]
    monkeypatch.setattr(document, "_cut_cloth_box", lambda gap, scale, size: None)
    # (The frame cut by the card's sides finds it too, where no other search does.)
    monkeypatch.setattr(analyser, "sided_cut_region", lambda *args: None)
    assert "no_document" in analyse_document(item.image).reasons
