"""The analyser on the independent held-out scenes (tests/quality_fixtures/heldout.py) and the
quarter-size outline search that busy desks need (server/quality/document.coarse_outline)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from server.quality import analyse_document, analyser, document, thresholds
from server.quality.colour import Chroma
from server.quality.metrics import downscale, to_gray
from tests.quality_fixtures.heldout import HeldoutScene, scene, scenes
from tests.quality_fixtures.scoring import quad_iou


def _accepted_dev_scene(index: int, desk: str, coverage: tuple[float, float]) -> HeldoutScene:
    """The dev split's good scene index on desk, checked to be accepted with its page's coverage
    within the given bounds."""
    item = scene(index, "dev")
    assert (item.expected, item.desk) == ("ok", desk)
    result = analyse_document(item.image)
    assert result.ok, result.reasons
    assert coverage[0] <= result.metrics.document.coverage <= coverage[1]
    return item


def _no_gapped_page(*args: object) -> None:
    """gapped.gapped_page switched off: where no page is found, it closes many of the pages the
    searches these tests are about find, from their straight stretches (the counterfactuals
    below switch it off with the search they test)."""
    return None


def _outline_overlap(item: HeldoutScene) -> float:
    """The overlap (intersection over union) of the outline analyse_document finds in the scene
    with the document as it was laid."""
    found = analyse_document(item.image).metrics.document
    assert item.corners is not None and len(found.corners) == 4
    return quad_iou(np.array(found.corners), item.corners)


# A good resident ID front on a striped tablecloth whose pale stripes have the card's grey (dev
# split, the one the quarter search was studied on): the card's ring at the analysis size runs on
# into the stripes and has gaps where a pale stripe meets it.
STRIPED_CLOTH_CARD = 88


def test_a_card_on_a_striped_cloth_is_found_at_a_quarter_of_the_size(monkeypatch: pytest.MonkeyPatch) -> None:
    item = _accepted_dev_scene(STRIPED_CLOTH_CARD, "tablecloth", (0.2, 1.0))
    small, _ = downscale(to_gray(item.image))
    found = document.find_outline(small)
    assert found is not None and found.coarse and not found.cut_off
    # Without the quarter search the same frame has no page of readable size (with colour, only
    # the patterned-cloth search, the last one, finds it then).
    monkeypatch.setattr(document, "coarse_outline", lambda gray: None)
    assert not document.readable_page(document.find_outline(small))
    monkeypatch.setattr(document, "cloth_outline", lambda gray, colour: None)
    monkeypatch.setattr(analyser, "gapped_page", _no_gapped_page)
    assert not analyse_document(item.image).ok


# A good resident ID front on a checked cloth (dev split): against the purple squares its edge is
# one of grey, against the pale ones, of the card's own grey, one of colour only. Found once by
# the search on grey and chroma edges together, now by the grey search's fitted sides (whose
# limit on a corner's shift grows with the card).
CHECKED_CLOTH_CARD = 462


def test_a_card_on_a_checked_cloth_is_found_on_its_outline() -> None:
    item = _accepted_dev_scene(CHECKED_CLOTH_CARD, "tablecloth", (0.2, 1.0))
    assert _outline_overlap(item) >= 0.9


# A good resident ID back over a second card (dev split): where the two cards meet, the grey step
# between them fades and the card's edge there is one of colour.
ID_BACK_OVER_A_CARD = 360


def test_a_card_over_a_second_card_is_found_on_grey_and_chroma_edges_together(
        monkeypatch: pytest.MonkeyPatch) -> None:
    item = _accepted_dev_scene(ID_BACK_OVER_A_CARD, "second_card", (0.12, 1.0))
    assert _outline_overlap(item) >= 0.9
    # Neither map alone, at any size, gives the page: the card and the other one read as one
    # region running off the frame.
    monkeypatch.setattr(document, "combined_outline", lambda gray, colour: None)
    assert analyse_document(item.image).reasons == ["document_cut_off"]


# A good passport page on a striped cloth (dev split): its ring runs on at its bottom right into a
# wedge of pale cloth between two stripes down to the frame's edge, a region "running off the
# frame" whose corner at the page bends by ~27 degrees.
PAGE_RUN_ON_INTO_CLOTH = 248


def test_a_cut_off_region_with_a_bent_corner_loses_to_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    item = _accepted_dev_scene(PAGE_RUN_ON_INTO_CLOTH, "tablecloth", (0.15, 0.3))
    assert _outline_overlap(item) >= 0.9
    # Any corner counted as square: the wedge, larger than the page, wins (unless the
    # patterned-cloth search, the last one, finds the page).
    monkeypatch.setattr(document, "_CUT_MAX_CORNER_COSINE", 1.0)
    monkeypatch.setattr(document, "cloth_outline", lambda gray, colour: None)
    assert analyse_document(item.image).reasons == ["document_cut_off"]


def test_a_bent_cut_off_region_is_still_taken_when_nothing_else_is_found() -> None:
    gray = np.full((360, 640), 60, np.uint8)
    # A light region leaving the frame at the bottom, on a dark desk: its corner at (420, 120)
    # bends by ~28 degrees.
    cv2.fillPoly(gray, [np.int32([[200, 359], [200, 100], [420, 120], [520, 359]])], 200)
    blurred = document.blur_for_edges(gray)
    found = document.outline_in(document.edge_map(blurred, document.edge_threshold(blurred)))
    assert found is not None and found.cut_off


# A good resident ID front on wood lying over a dark bank card (dev split): the card's outer
# boundary runs on into the other card and the grain, so its ring is the edge map's hole inside
# it, and the approximation of that ring's hull, with its vertices on the rounded corners' arcs,
# runs 3-4 px inside the card's edges.
OVERLAPPING_CARD = 0


def test_a_rounded_card_traced_inside_its_edge_is_found_by_its_fitted_sides(monkeypatch: pytest.MonkeyPatch) -> None:
    item = _accepted_dev_scene(OVERLAPPING_CARD, "second_card", (0.15, 0.3))
    # Without the fitted sides the card's quadrilateral fails the edge support. (The last search,
    # on grey and chroma edges at half size, finds this card too: it is left out here.)
    monkeypatch.setattr(document, "combined_outline", lambda gray, colour: None)
    assert analyse_document(item.image).ok
    monkeypatch.setattr(document, "side_fit", lambda *args: None)
    monkeypatch.setattr(analyser, "gapped_page", _no_gapped_page)
    assert not analyse_document(item.image).ok


# A white bank card lying over a second card (dev split): along a stretch of one side it is white
# on the other card's white, so its ring runs on into that card, and the sides of the ring's
# polygon, chords ending on the rounded corners' arcs, run inside the card's edges.
CARD_OVER_A_CARD = 862
# A dark bank card on wood (dev split) whose edge map covers 44% of the frame: a line fitted
# there finds grain near it at most of its points.
DARK_CARD_ON_GRAIN = 518


def test_the_side_search_fits_a_rounded_cards_sides_to_its_ring(monkeypatch: pytest.MonkeyPatch) -> None:
    item = _accepted_dev_scene(CARD_OVER_A_CARD, "second_card", (0.15, 0.35))
    assert _outline_overlap(item) >= 0.9
    # With the chords alone no page is found at all (nor by three sides, the shorter not
    # extended: it is found that way too).
    monkeypatch.setattr(thresholds, "SIDE_FIT_MAX_EDGE_SHARE", 0.0)
    monkeypatch.setattr(thresholds, "THREE_SIDE_EXTEND_RATIO", thresholds.THREE_SIDE_MAX_RATIO)
    assert analyse_document(item.image).reasons == ["too_bright", "no_document"]


def test_the_side_search_fits_no_lines_on_a_map_full_of_texture(monkeypatch: pytest.MonkeyPatch) -> None:
    item = _accepted_dev_scene(DARK_CARD_ON_GRAIN, "wood", (0.15, 0.25))
    assert _outline_overlap(item) >= 0.9
    # Fitted there, the lines of grain beside the card pass the support check and win (where the
    # quadrilateral they make is taken as a page seen from above: its sides are not, one is over
    # 1.6x its opposite, and plausible_page alone refuses it too).
    monkeypatch.setattr(thresholds, "SIDE_FIT_MAX_EDGE_SHARE", 1.0)
    monkeypatch.setattr(document, "plausible_page", lambda *args: True)
    assert _outline_overlap(item) < 0.85


# A light bank card running off the frame's corner on dark wood (dev split), close to the
# camera: its one corner in view is a long arc, and the approximation's sides beside it miss the
# card's edge.
CUT_OFF_ROUNDED_CARD = 169


def test_a_rounded_card_running_off_the_frame_reads_as_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    item = scene(CUT_OFF_ROUNDED_CARD, "dev")
    assert (item.expected, item.desk) == ("document_cut_off", "second_card")
    result = analyse_document(item.image)
    assert result.reasons[:1] == ["document_cut_off"], result.reasons
    monkeypatch.setattr(document, "side_fit", lambda *args: None)
    # (The frame cut by the card's sides finds it too, where no other search does.)
    monkeypatch.setattr(analyser, "sided_cut_region", lambda *args: None)
    assert analyse_document(item.image).reasons == ["no_document"]


# A light bank card running off the left of the frame on a plain grey desk (dev split): its ring is
# the edge map's hole inside the card, whose bottom side runs nearly along a pixel row.
CUT_OFF_CARD_ON_PLAIN_DESK = 521


def test_a_side_along_a_pixel_row_is_fitted_on_the_ring_between_its_run_ends(
        monkeypatch: pytest.MonkeyPatch) -> None:
    item = scene(CUT_OFF_CARD_ON_PLAIN_DESK, "dev")
    assert (item.expected, item.desk) == ("document_cut_off", "plain")
    result = analyse_document(item.image)
    assert result.reasons == ["document_cut_off"], result.reasons
    assert result.metrics.document.coverage > 0.2
    # Link runs keep a row's run by its two ends: without the points between them the bottom side
    # has too few to fit, the ring's polygon (on the corners' arcs) misses the card's edge, and
    # nothing is found.
    monkeypatch.setattr(document, "_densified", lambda points: points)
    assert analyse_document(item.image).reasons == ["no_document"]


def test_densified_fills_long_steps_of_a_ring() -> None:
    ring = np.array([[0, 0], [40, 0], [40, 3], [0, 3]], np.float32)
    dense = document._densified(ring)
    steps = np.hypot(*(np.roll(dense, -1, axis=0) - dense).T)
    assert steps.max() <= 4.0 + 1e-4
    assert len(dense) == 10 + 1 + 10 + 1
    # Every original point is kept, in ring order.
    assert [p.tolist() for p in dense if p.tolist() in ring.tolist()] == ring.tolist()


def test_side_fit_finds_the_square_corners_of_a_rounded_ring() -> None:
    """The ring of a rounded rectangle, approximated as the search does, gives back the
    rectangle's own corners (where its straight sides meet), not points on the arcs."""
    mask = np.zeros((360, 640), np.uint8)
    cv2.rectangle(mask, (100, 80), (420, 280), 255, -1)
    for x, y in ((100, 80), (420, 80), (420, 280), (100, 280)):  # round each corner off (radius 14)
        cv2.rectangle(mask, (x - 14 if x > 200 else x, y - 14 if y > 150 else y),
                      (x if x > 200 else x + 14, y if y > 150 else y + 14), 0, -1)
        cv2.circle(mask, (x - 14 if x > 200 else x + 14, y - 14 if y > 150 else y + 14), 14, 255, -1)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    hull = cv2.convexHull(contours[0])
    approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True).reshape(-1, 2)
    assert len(approx) == 4
    fitted = document.side_fit(contours[0], approx)
    assert fitted is not None
    expected = np.array([[100, 80], [420, 80], [420, 280], [100, 280]], np.float32)
    ordered = document.order_corners(fitted)
    assert np.abs(ordered - expected).max() <= 1.0, ordered
    # The approximation's own vertices are further off (on the arcs).
    assert np.abs(document.order_corners(approx.astype(np.float32)) - expected).max() >= 3.0


# A light bank card held far away on wood among pens (dev split): a plank of grain running off
# the frame's bottom is the largest region, and the card's ring has a bounding box larger than
# that region's hull but a smaller hull.
FAR_CARD_BESIDE_A_PLANK = 59


def test_a_far_card_beside_a_region_running_off_the_frame_asks_to_come_closer() -> None:
    item = scene(FAR_CARD_BESIDE_A_PLANK, "dev")
    assert (item.expected, item.desk) == ("document_too_small", "clutter")
    result = analyse_document(item.image)
    assert result.reasons == ["document_too_small"], result.reasons


# Stills whose edge searches find a box on the document, and the steps that find the whole of it
# (dev split). A household register's red cover and a green social-security card on plain desks:
# in grey the cover's gold frame line and the card's light panel are complete pages of readable
# size; their own edges are steps of colour (coloured_rim; the cover's edge is also a line
# outside every side of its frame, which surrounding_page finds). An A4 form on an
# orange-and-white striped cloth and a passport page on a green dotted one: the white stripes
# meet the paper without an edge, and the edge searches find the form's table, or a
# quadrilateral from the passport's machine-readable zone across its print (cloth_page).
_RIM = ("coloured_rim", lambda colour, page, shape: page)
_CLOTH = ("cloth_page", lambda gray, colour, page: page)
_AROUND = ("surrounding_page", lambda small, page, edges, colour: page)
WHOLE_DOCUMENT_STEPS = (
    (200, "plain", (_RIM, _AROUND)),
    (108, "plain", (_RIM,)),
    (1198, "tablecloth", (_CLOTH,)),
    (270, "tablecloth", (_CLOTH,)),
    # The page around a printed panel, frame or table, found outward from it side by side
    # (surround.surrounding_page): a social-security card whose rim runs on into wood grain and
    # one lying on a second card (the panel, without the card's title band, was the outline), a
    # register cover beside an ID card (its gold frame), a register page on a striped cloth (its
    # table, without the page's heading).
    (1362, "wood", (_AROUND,)),
    (878, "second_card", (_AROUND,)),
    (2, "second_card", (_AROUND,)),
    (500, "tablecloth", (_AROUND,)),
)


@pytest.mark.parametrize(("index", "desk", "steps"), WHOLE_DOCUMENT_STEPS)
def test_a_still_is_outlined_by_the_whole_document_not_a_box_on_it(
        index: int, desk: str, steps: tuple[tuple[str, Callable[..., object]], ...],
        monkeypatch: pytest.MonkeyPatch) -> None:
    item = scene(index, "dev")
    assert item.expected == "ok" and item.desk == desk and item.corners is not None
    result = analyse_document(item.image)
    assert result.ok, result.reasons
    assert quad_iou(np.array(result.metrics.document.corners), item.corners) >= 0.9
    for step, skipped in steps:
        monkeypatch.setattr(analyser, step, skipped)
    assert quad_iou(np.array(analyse_document(item.image).metrics.document.corners), item.corners) < 0.9


def test_the_gap_is_looked_for_around_a_page_only_on_a_coloured_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gap search runs for a still's page only where the desk around it has the chroma
    edges of a coloured pattern: a marriage certificate on a plain desk never pays for it, a
    form on a striped cloth does."""
    calls: list[str] = []
    search = document.cloth_outline

    def counted(gray: np.ndarray, colour: Chroma) -> document.Outline | None:
        calls.append(item.desk)
        return search(gray, colour)

    monkeypatch.setattr(document, "cloth_outline", counted)
    for index in (1334, 1198):
        item = scene(index, "dev")
        assert analyse_document(item.image).ok
    assert calls == ["tablecloth"]


def test_a_page_beside_the_gap_keeps_its_own_outline() -> None:
    """The gap is taken only around the page found: most of the page must lie inside it."""
    page = document.Outline(np.array([[10, 10], [110, 10], [110, 80], [10, 80]], np.float32), 0.2, cut_off=False)
    beside = np.array([[60, 10], [300, 10], [300, 200], [60, 200]], np.float32)
    around = np.array([[5, 5], [300, 5], [300, 200], [5, 200]], np.float32)
    assert document._share_inside(page.corners, beside) == pytest.approx(0.5, abs=0.01)
    assert document._share_inside(page.corners, around) == pytest.approx(1.0)


def test_a_wedge_across_the_desk_is_no_page() -> None:
    """Quarter-size quads between two objects' corners are wedges, not pages."""
    angle = np.radians(12)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    card = np.array([[0, 0], [300, 0], [300, 190], [0, 190]], np.float64) @ rotation.T + 100
    assert document._near_rectangular(card)
    assert not document._near_rectangular(np.array([[40, 288], [208, 156], [420, 172], [432, 296]], np.float64))


def test_the_holdout_split_keeps_its_figures() -> None:
    """The held-out split (nothing was tuned on it) as docs/quality.md reports it: good scenes
    accepted 119/120 (111 of them on the document's own outline, overlap >= 0.9), bad rejected
    120/120, right reason 117/120. The floors leave two scenes of room for another OpenCV build's
    rounding; a change to the analyser that loses more fails here."""
    good = bad = accepted = on_outline = rejected = right = 0
    for item in scenes("holdout", 240):
        result = analyse_document(item.image)
        if item.expected == "ok":
            good += 1
            accepted += result.ok
            found = result.metrics.document
            on_outline += result.ok and item.corners is not None and len(found.corners) == 4 \
                and quad_iou(np.array(found.corners), item.corners) >= 0.9
        else:
            bad += 1
            rejected += not result.ok
            right += (not result.ok) and item.expected in result.reasons
    assert (good, bad) == (120, 120)
    assert accepted >= 117, accepted
    assert on_outline >= 109, on_outline
    assert rejected >= 119, rejected
    assert right >= 115, right


def test_a_dark_phone_running_off_the_frame_is_no_document() -> None:
    """A cut-off region with no print whose tones all stay dark (a phone's glass) is an object on
    the desk: the resident is asked to put a document down, not to move one into the frame. A
    cut-off page with print on it stays document_cut_off."""
    frame = np.empty((720, 1280, 3), np.uint8)
    frame[:] = (150, 160, 165)
    phone = np.int32([[1000, 250], [1279, 230], [1279, 560], [1020, 580]])
    cv2.fillConvexPoly(frame, phone, (18, 16, 20))
    cv2.polylines(frame, [phone], True, (60, 55, 60), 6)
    noise = np.random.default_rng(7).normal(0, 2, frame.shape[:2]).astype(np.int16)
    frame = cv2.add(frame, cv2.merge([noise] * 3), dtype=cv2.CV_8U)
    result = analyse_document(frame)
    assert "no_document" in result.reasons and "document_cut_off" not in result.reasons, result.reasons
    # The same region as a white page with print, running off the frame.
    cv2.fillConvexPoly(frame, phone, (235, 235, 235))
    for y in range(300, 540, 30):
        cv2.line(frame, (1060, y), (1260, y - 5), (30, 30, 30), 4)
    assert "document_cut_off" in analyse_document(frame).reasons


def test_a_small_page_beside_a_blank_object_running_off_the_frame_is_too_small() -> None:
    """A page held far away beside a blank object that runs off the frame (a folder, a tray): the
    object's region is the larger outline, but it holds no print, so the page beside it is judged
    (document_too_small, "come closer"), not the object (document_cut_off)."""
    frame = np.empty((720, 1280, 3), np.uint8)
    frame[:] = (120, 130, 140)
    folder = np.int32([[900, 120], [1279, 100], [1279, 560], [930, 600]])
    cv2.fillConvexPoly(frame, folder, (60, 80, 170))
    frame = cv2.GaussianBlur(frame, (0, 0), 3.0)  # the folder: soft edges, no print
    card = np.int32([[300, 300], [560, 290], [566, 452], [306, 462]])
    cv2.fillConvexPoly(frame, card, (235, 235, 235))
    for y in range(330, 440, 22):
        cv2.line(frame, (330, y), (530, y - 4), (30, 30, 30), 3)
    result = analyse_document(frame)
    assert "document_too_small" in result.reasons and "document_cut_off" not in result.reasons, result.reasons


# A bad dev scene: a white bank card close to the camera running off the top of the frame on
# wood. Its corner arcs are long, so the fitted sides meet 13 px from the polygon's vertices.
CLOSE_CARD_RUNNING_OFF = 873


def test_a_close_card_running_off_the_frame_is_fitted_within_its_size(monkeypatch: pytest.MonkeyPatch) -> None:
    item = scene(CLOSE_CARD_RUNNING_OFF, "dev")
    assert item.expected == "document_cut_off"
    assert analyse_document(item.image).reasons[0] == "document_cut_off"
    # With a fixed 12 px limit on the fitted corners' shift the card was not found at all.
    monkeypatch.setattr(document, "_FIT_MAX_SHIFT_SHARE", 0.0)
    assert "document_cut_off" not in analyse_document(item.image).reasons


# A good dev scene: a white resident ID front under a light gradient that clips most of its
# paper round the print and the white box behind its photo.
WHITE_ID_CLIPPED_ROUND_PRINT = 1210


def test_clipped_paper_round_readable_print_is_not_glare(monkeypatch: pytest.MonkeyPatch) -> None:
    item = _accepted_dev_scene(WHITE_ID_CLIPPED_ROUND_PRINT, "plain", (0.2, 1.0))
    assert analyse_document(item.image).metrics.glare_ratio == 0.0
    # Counting a blob whatever its outline holds, the clipped box behind the photo is a reflection:
    # either rule alone keeps it (its hull is partly unclipped, and the clothes stay dark in it).
    monkeypatch.setattr(thresholds, "GLARE_MAX_HULL_PRINT", 1.0)
    assert analyse_document(item.image).ok
    monkeypatch.setattr(thresholds, "GLARE_MAX_HULL_INK", 1.0)
    assert analyse_document(item.image).reasons == ["glare"]


# Good passport pages lying on a second card (dev split): the page's edge over the card fades, so
# the two read as one region running off the frame; the page is that region's longest straight
# stretches (document.lies_on_top).
PASSPORTS_ON_A_CARD = (1018, 1194)


@pytest.mark.parametrize("index", PASSPORTS_ON_A_CARD)
def test_a_page_on_a_second_card_running_off_the_frame_is_found_on_top(
        index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    item = _accepted_dev_scene(index, "second_card", (0.12, 1.0))
    assert _outline_overlap(item) >= 0.9
    # Where the region beyond the page had the page's own ground (a band printed across a page
    # running off the frame), the region would be taken back.
    with monkeypatch.context() as patch:
        patch.setattr(document, "continues_on", lambda *args: True)
        assert analyse_document(item.image).reasons == ["document_cut_off"]
    # Without the test the page and the card under it stay one region running off the frame.
    monkeypatch.setattr(document, "lies_on_top", lambda *args: False)
    assert analyse_document(item.image).reasons == ["document_cut_off"]


# Desk-only scenes (dev split) whose phone, a black slab with a sheen, lies in full view among
# clutter: outlined as a complete page of readable size, it read `too_dark` and `blurry`.
PHONES_AMONG_CLUTTER = (669, 1133)


@pytest.mark.parametrize("index", PHONES_AMONG_CLUTTER)
def test_a_phone_among_clutter_is_no_document(index: int) -> None:
    item = scene(index, "dev")
    assert (item.expected, item.desk) == ("no_document", "clutter")
    assert analyse_document(item.image).reasons == ["no_document"]


# A good household register cover on a checked cloth (dev split) whose top side lies near the
# frame's edge: the strip of cloth between them, bounded by the checks' lines that carry the
# cover's sides on, is a region running off the frame beside it, with neither the cover's ground
# nor clearly other tones than the cloth's around it (panel.beyond_is_other).
COVER_UNDER_A_STRIP_OF_CLOTH = 178


def test_a_strip_of_cloth_beyond_a_page_leaves_it_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    item = _accepted_dev_scene(COVER_UNDER_A_STRIP_OF_CLOTH, "tablecloth", (0.12, 1.0))
    monkeypatch.setattr(document, "beyond_is_other", lambda *args: True)
    assert analyse_document(item.image).reasons == ["document_cut_off"]


# Good cards and passport pages lying on a second card of their own tone (dev split): where the
# page's edge crosses the card there is no grey step at all, so the page's ring runs on round the
# card and only three of its sides are on edges (document.three_side_outline).
PAGES_ON_A_CARD_OF_THEIR_TONE = (470, 1062, 1724)


@pytest.mark.parametrize("index", PAGES_ON_A_CARD_OF_THEIR_TONE)
def test_a_page_on_a_card_of_its_own_tone_is_found_by_three_sides(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    item = _accepted_dev_scene(index, "second_card", (0.12, 1.0))
    assert _outline_overlap(item) >= 0.9
    monkeypatch.setattr(document, "three_side_outline", lambda *args: None)
    monkeypatch.setattr(analyser, "gapped_page", _no_gapped_page)
    assert not analyse_document(item.image).ok


def test_three_sides_whose_ends_differ_in_length_close_no_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """A white card lying askew over an ID card: its top side's visible stretch ends where it
    crosses the ID card's edge, well before its corner. Closed there, the quadrilateral's sides
    running to the open side differ by 1.36x, and it is not taken as it is: that side is extended
    to the other's length (the card, overlap 0.98; the colour search's side search finds it as
    well)."""
    item = _accepted_dev_scene(CARD_OVER_A_CARD, "second_card", (0.15, 0.35))
    assert _outline_overlap(item) >= 0.9
    monkeypatch.setattr(thresholds, "THREE_SIDE_MAX_RATIO", 2.0)
    assert _outline_overlap(item) < 0.9


# An ID back on a second card of its tone (dev split) whose long left side's chord runs ~8 px
# inside the card's edge at its middle (its ends on the rounded corners' arcs).
ID_BACK_ON_A_CARD_LONG_CHORD = 1372


def test_three_sides_are_fitted_to_the_ring_a_long_chord_runs_inside(monkeypatch: pytest.MonkeyPatch) -> None:
    item = _accepted_dev_scene(ID_BACK_ON_A_CARD_LONG_CHORD, "second_card", (0.12, 1.0))
    assert _outline_overlap(item) >= 0.9
    # Within side_fit's narrower band the ring's points along that side are too few to fit.
    monkeypatch.setattr(document, "_THREE_SIDE_BAND", 6.0)
    monkeypatch.setattr(analyser, "gapped_page", _no_gapped_page)
    assert not analyse_document(item.image).ok


# Blurred pages of 1080p and 720p stills (dev split) that measure 106-137 at the analysis size,
# just over MIN_SHARPNESS: the blur is a few of the still's own pixels.
BLURRED_STILLS_SHARP_WHEN_SMALL = (1393, 2017)


@pytest.mark.parametrize("index", BLURRED_STILLS_SHARP_WHEN_SMALL)
def test_a_stills_blur_is_seen_at_the_stills_own_resolution(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    item = scene(index, "dev")
    assert item.expected == "blurry"
    result = analyse_document(item.image)
    assert result.reasons == ["blurry"]
    assert thresholds.MIN_SHARPNESS <= result.metrics.sharpness < thresholds.CLOSE_BLUR_MAX_SHARPNESS
    monkeypatch.setattr(thresholds, "CLOSE_BLUR_MAX_RATIO", 0.0)
    assert analyse_document(item.image).ok


# Dark bank cards running off the frame on a desk of their grey (dev): the grey ring does not
# close where the card meets the desk, and the grey search finds a piece of the card's print
# (2377, plain desk) or a strip of wood grain beside the card (969); the chroma edges close the
# card's ring against the frame.
CUT_OFF_CARDS_FOUND_BY_COLOUR = (2377, 969)


@pytest.mark.parametrize("index", CUT_OFF_CARDS_FOUND_BY_COLOUR)
def test_a_cut_off_card_found_by_colour_replaces_a_smaller_grey_region(index: int,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    item = scene(index, "dev")
    assert item.expected == "document_cut_off"
    result = analyse_document(item.image)
    assert result.reasons == ["document_cut_off"], result.reasons
    assert result.metrics.document.coverage >= thresholds.MIN_DOCUMENT_COVERAGE
    # Without the rule the grey region stays the outline and the scene reads as no document (the
    # later search of a cut-off page's sides on the chroma edges, a fallback for these, off too).
    monkeypatch.setattr(document, "_better", lambda found, grey: not found.cut_off and found.coverage > grey.coverage)
    monkeypatch.setattr(analyser, "_colour_sided_cut_off_page", lambda *args: None)
    assert "no_document" in analyse_document(item.image).reasons


def _region(corners: list[list[float]], coverage: float) -> document.Outline:
    return document.Outline(np.array(corners, np.float32), coverage, cut_off=True)


def test_a_colour_region_running_off_the_frame_must_be_of_readable_size_and_larger() -> None:
    grey = _region([[0, 100], [60, 100], [60, 200], [0, 200]], 0.03)
    around = _region([[0, 50], [200, 50], [200, 300], [0, 300]], 0.2)
    beside = _region([[300, 50], [400, 50], [400, 300], [300, 300]], 0.05)
    far_larger = _region([[300, 0], [640, 0], [640, 360], [300, 360]], 0.5)
    assert document._better(around, grey)  # encloses it, readable size
    assert not document._better(beside, grey)  # beside it and small: a desk object as often
    assert document._better(far_larger, grey)  # beside it, but over twice its size
    assert not document._better(grey, around)  # never a smaller one
    small_around = _region([[0, 90], [70, 90], [70, 210], [0, 210]], 0.05)
    assert not document._better(small_around, grey)  # under readable size


# Light cards lying askew over a second card of their tone (dev split): the page's side nearer
# the other card is visible only up to where the page crosses it (1.27x and 1.28x shorter than
# the opposite side, which runs on to the page's corner).
CARDS_ASKEW_ON_A_CARD = (954, 1742)


@pytest.mark.parametrize("index", CARDS_ASKEW_ON_A_CARD)
def test_the_shorter_of_three_sides_is_extended_to_the_page_corner(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    item = _accepted_dev_scene(index, "second_card", (0.2, 1.0))
    assert _outline_overlap(item) >= 0.9
    monkeypatch.setattr(thresholds, "THREE_SIDE_EXTEND_RATIO", thresholds.THREE_SIDE_MAX_RATIO)
    assert "no_document" in analyse_document(item.image).reasons


# A dark bank card on a planked desk among clutter (dev split, found by the grey and chroma
# edges at half size): three of its sides on its ring at the analysis size and, 1.26x apart, a
# fourth run on along a plank's edge below it.
DARK_CARD_RING_ON_A_PLANK = 1134


def _ring_search(item: HeldoutScene, search: Callable[..., document.Outline | None]) -> document.Outline | None:
    """A search over the rings of the scene's edge map (three_side_outline, sided_cut_region),
    run alone on it."""
    small, _ = downscale(to_gray(item.image))
    blurred = document.blur_for_edges(small)
    edges = document.edge_map(blurred, document.edge_threshold(blurred))
    rings, _ = cv2.findContoursLinkRuns(edges)
    return search(edges, rings, document.box_areas(rings), document.Support(edges))


def _three_side_search(item: HeldoutScene) -> document.Outline | None:
    return _ring_search(item, document.three_side_outline)


def test_an_extended_side_closes_no_page_across_a_line_of_the_desk(monkeypatch: pytest.MonkeyPatch) -> None:
    """The quadrilateral extended there has its open side on the plank's edge all along: no page
    crossing a card of its tone, and not taken (the card keeps its own outline)."""
    item = _accepted_dev_scene(DARK_CARD_RING_ON_A_PLANK, "clutter", (0.2, 0.4))
    assert _outline_overlap(item) >= 0.9
    assert _three_side_search(item) is None
    monkeypatch.setattr(thresholds, "THREE_SIDE_OPEN_MAX_SUPPORT", 1.0)
    assert _three_side_search(item) is not None
    assert _outline_overlap(item) < 0.9


def test_extended_moves_only_the_shorter_sides_far_end() -> None:
    quad = np.array([[0, 60], [0, 0], [100, 0], [100, 80]], np.float32)  # open side from (100, 80) to (0, 60)
    extended = document._extended(quad, 60.0, 80.0)
    np.testing.assert_allclose(extended, [[0, 80], [0, 0], [100, 0], [100, 80]])
    assert document._side_ratio(document.order_corners(extended)) == pytest.approx(100 / 80)
    np.testing.assert_allclose(document._extended(quad[[3, 2, 1, 0]], 80.0, 60.0)[3], [0, 80])


# Far-away pages on striped and checked tablecloths (dev split): the cloth's pale stripes run
# into the page's white, so no ring outlines it, and the gap search's usual openings are wider
# than the page.
FAR_PAGES_ON_A_CLOTH = (2459, 2523, 2827)
# A desk-only scene on a tablecloth (dev split) whose pattern has a small gap with no print in it.
CLOTH_WITH_A_BLANK_GAP = 2125


@pytest.mark.parametrize("index", FAR_PAGES_ON_A_CLOTH)
def test_a_far_away_page_on_a_cloth_is_its_patterns_small_gap(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    item = scene(index, "dev")
    assert (item.expected, item.desk) == ("document_too_small", "tablecloth")
    result = analyse_document(item.image)
    assert result.reasons == ["document_too_small"]
    found = result.metrics.document
    assert item.corners is not None and quad_iou(np.array(found.corners), item.corners) >= 0.75
    monkeypatch.setattr(thresholds, "FAR_CLOTH_RADII", ())
    assert "no_document" in analyse_document(item.image).reasons


def test_a_blank_gap_in_a_cloths_pattern_is_no_document() -> None:
    item = scene(CLOTH_WITH_A_BLANK_GAP, "dev")
    assert (item.expected, item.desk) == ("no_document", "tablecloth")
    small, _ = downscale(to_gray(item.image))
    gap = document.far_cloth_page(small, Chroma.from_bgr(item.image))
    assert gap is not None and gap.coverage < thresholds.MIN_DOCUMENT_COVERAGE
    assert "no_document" in analyse_document(item.image).reasons


# Pages cut off on three sides of the frame (dev split): an A4 form held close whose one side
# crosses the frame from top to bottom on a plain desk, and a dark register cover whose ring is
# one hole (its printed frame line runs round it): a region over a whole side of the frame, which
# the ring search never takes (a stripe of the desk crosses the frame so too).
PAGES_OVER_A_WHOLE_SIDE = (1209, 2169)


def _visible_part(item: HeldoutScene) -> np.ndarray:
    """The polygon (k x 2, float32) of the scene's document as laid, cut to the frame."""
    assert item.corners is not None
    h, w = item.image.shape[:2]
    frame = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    return cv2.intersectConvexConvex(item.corners.astype(np.float32), frame)[1].reshape(-1, 2)


@pytest.mark.parametrize("index", PAGES_OVER_A_WHOLE_SIDE)
def test_a_page_cut_off_on_three_sides_reads_cut_off(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    item = scene(index, "dev")
    assert item.expected == "document_cut_off"
    result = analyse_document(item.image)
    assert result.reasons == ["document_cut_off"]
    # The region is the page's side of the frame: the centre of the page's visible part is in it.
    centre = _visible_part(item).mean(axis=0)
    region = np.array(result.metrics.document.corners, np.float32).reshape(-1, 1, 2)
    assert cv2.pointPolygonTest(region, (float(centre[0]), float(centre[1])), False) > 0
    monkeypatch.setattr(document, "_spans_frame_side", lambda *args: False)
    assert "no_document" in analyse_document(item.image).reasons


def test_a_plain_desk_split_across_the_frame_is_no_document() -> None:
    # A plain desk whose darker third (a second board, a shadow) crosses the frame top to
    # bottom: the region over the frame's left side is found, but has no print.
    rng = np.random.default_rng(7)
    frame = np.full((720, 1280, 3), 150, np.uint8)
    cv2.fillConvexPoly(frame, np.array([[0, 0], [430, 0], [400, 719], [0, 719]], np.int32), (70, 72, 75))
    frame = cv2.add(frame, rng.integers(0, 6, frame.shape, dtype=np.uint8))
    small, _ = downscale(to_gray(frame))
    blurred = document.blur_for_edges(small)
    edges = document.edge_map(blurred, document.edge_threshold(blurred))
    regions = document.ground_regions(edges)
    assert regions and regions[0].cut_off
    assert document._spans_frame_side(regions[0].corners, document.on_border(regions[0].corners, 640, 360), 640, 360)
    assert "no_document" in analyse_document(frame).reasons


def test_along_frame_tells_a_side_across_the_frame_from_one_along_it() -> None:
    polygon = np.array([[250, 0], [240, 359], [0, 359], [0, 0]], np.float32)
    # Top to bottom across the frame, then along its bottom, left and top edges.
    assert document._along_frame(polygon, 640, 360).tolist() == [False, True, True, True]
    border = document.on_border(polygon, 640, 360)
    assert border.all() and document._spans_frame_side(polygon, border, 640, 360)
    # Over the left side and the right one: a stripe across the whole frame.
    stripe = np.array([[0, 100], [639, 120], [639, 200], [0, 180]], np.float32)
    assert not document._spans_frame_side(stripe, document.on_border(stripe, 640, 360), 640, 360)


# Desk-only scenes among clutter (dev split) where keys and a phone's sheen made small
# quadrilaterals whose opposite sides are 4-8x apart, read as far-away pages before.
WEDGES_OF_DESK_OBJECTS = (861, 2845)


@pytest.mark.parametrize("index", WEDGES_OF_DESK_OBJECTS)
def test_a_small_wedge_of_a_desk_object_is_no_far_away_page(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    item = scene(index, "dev")
    assert item.expected == "no_document"
    assert analyse_document(item.image).reasons == ["no_document"]
    monkeypatch.setattr(document, "_SMALL_MAX_OPPOSITE_SIDE_RATIO", 100.0)
    assert "document_too_small" in analyse_document(item.image).reasons


def test_a_small_quadrilateral_must_be_a_page_seen_from_above() -> None:
    frame_area = 640.0 * 360.0
    # The wedge keys made (opposite sides 14 and 96 px), and a far-away card, both small.
    keys = np.array([[406, 23], [417, 14], [449, 180], [387, 107]], np.float32)
    card = np.array([[300, 150], [380, 140], [386, 190], [306, 200]], np.float32)
    assert cv2.contourArea(keys) < thresholds.MIN_DOCUMENT_COVERAGE * frame_area
    assert not document.plausible_page(keys, frame_area)
    assert document.plausible_page(card, frame_area)


# A desk-only scene among clutter (dev split): a dark strip running off the frame, 8.8 times as
# long as wide, read as a cut-off page before; and a register page's part in view (5.97), read
# right.
STRIP_RUNNING_OFF = 877
CUT_OFF_PAGE_NARROW_IN_VIEW = 841


def test_a_strip_running_off_the_frame_is_no_page(monkeypatch: pytest.MonkeyPatch) -> None:
    strip = scene(STRIP_RUNNING_OFF, "dev")
    assert strip.expected == "no_document"
    assert "no_document" in analyse_document(strip.image).reasons
    page = scene(CUT_OFF_PAGE_NARROW_IN_VIEW, "dev")
    assert page.expected == "document_cut_off"
    assert "document_cut_off" in analyse_document(page.image).reasons
    monkeypatch.setattr(thresholds, "CUT_MAX_ASPECT", 100.0)
    assert "document_cut_off" in analyse_document(strip.image).reasons


def test_strip_measures_the_regions_rectangle_not_its_box() -> None:
    # A pen at 30 degrees running off the left edge: its bounding box is far less elongated.
    angle = np.radians(30)
    along, across = np.array([np.cos(angle), np.sin(angle)]), np.array([-np.sin(angle), np.cos(angle)])
    start = np.array([0.0, 100.0])
    pen = np.array([start, start + 200 * along, start + 200 * along + 12 * across, start + 12 * across], np.float32)
    assert analyser._strip(document.Outline(pen, 0.01, cut_off=True))
    card = np.array([[0, 100], [150, 100], [150, 200], [0, 200]], np.float32)
    assert not analyser._strip(document.Outline(card, 0.06, cut_off=True))


# Cards running off the frame whose ring ran on into a second card or a cover beside them (dev
# split): the hull is the two together, no page's shape; the card's three sides in view still
# meet at square corners, and the frame cut by them is the card's part in view.
CUT_OFF_CARDS_RUN_ON = (1049, 1801)
# A tablet's dark glass in its light bezel running off the frame (dev split, desk-only): its
# sides make a region just as a card's do, but the detail is all at its rim.
TABLET_RUNNING_OFF = 1245
# A good ID back over a second card (dev split) whose ring has gaps where the two have the same
# grey: its sides meet at square corners, but they end short of the frame's border.
CARD_WITH_GAPS = 1658


def _visible_overlap(item: HeldoutScene, corners: list[list[float]]) -> float:
    """The overlap (intersection over union) of a region with the document's part in the frame."""
    visible = _visible_part(item)
    region = np.array(corners, np.float32)
    inter = cv2.intersectConvexConvex(visible, region)[0]
    return float(inter / (cv2.contourArea(visible) + cv2.contourArea(region) - inter))


def _sided_search(item: HeldoutScene) -> document.Outline | None:
    return _ring_search(item, document.sided_cut_region)


# A dark green card running off the frame's corner, lying over a purple one: its grey ring runs on
# into the purple card's, whose grey is close to its own, and only the chroma edges hold its sides.
COLOUR_SIDED_CUT_OFF = 1497


@pytest.mark.parametrize(("index", "search"), [*((index, "sided_cut_region") for index in CUT_OFF_CARDS_RUN_ON),
                                               (COLOUR_SIDED_CUT_OFF, "_colour_sided_cut_off_page")])
def test_a_cut_off_card_run_on_into_another_is_the_frame_cut_by_its_sides(
        index: int, search: str, monkeypatch: pytest.MonkeyPatch) -> None:
    item = scene(index, "dev")
    assert item.expected == "document_cut_off"
    result = analyse_document(item.image)
    assert result.reasons == ["document_cut_off"]
    assert _visible_overlap(item, result.metrics.document.corners) >= 0.9
    monkeypatch.setattr(analyser, search, lambda *args: None)
    assert "no_document" in analyse_document(item.image).reasons


def test_a_tablet_running_off_the_frame_is_no_page(monkeypatch: pytest.MonkeyPatch) -> None:
    item = scene(TABLET_RUNNING_OFF, "dev")
    assert item.expected == "no_document"
    assert _sided_search(item) is not None
    assert analyse_document(item.image).reasons == ["no_document"]
    monkeypatch.setattr(thresholds, "SIDED_CUT_INNER_SHRINK", thresholds.INNER_SHRINK)
    assert "document_cut_off" in analyse_document(item.image).reasons


def test_sides_that_end_short_of_the_frame_close_no_cut_off_region(monkeypatch: pytest.MonkeyPatch) -> None:
    item = scene(CARD_WITH_GAPS, "dev")
    assert item.expected == "ok"
    assert _sided_search(item) is None
    monkeypatch.setattr(document, "_exits_on_edges", lambda *args: True)
    assert _sided_search(item) is not None


def test_sided_region_cuts_the_frame_on_the_pages_side_of_each_line() -> None:
    frame = np.array([[0, 0], [639, 0], [639, 359], [0, 359]], np.float64)
    # A card running off the left edge: its top, right and bottom sides in ring order.
    starts = [np.array([0.0, 100.0]), np.array([300.0, 100.0]), np.array([300.0, 250.0])]
    ends = [np.array([300.0, 100.0]), np.array([300.0, 250.0]), np.array([0.0, 250.0])]
    lines = [(s, (e - s) / np.hypot(*(e - s))) for s, e in zip(starts, ends, strict=True)]
    region = document._sided_region(frame, starts, ends, lines)
    assert region is not None
    assert sorted(map(tuple, region.round().tolist())) == [(0, 100), (0, 250), (300, 100), (300, 250)]
    # Two sides that meet 45 degrees off square are no page's corner.
    skewed = [lines[0], (starts[1], np.array([np.sqrt(0.5), np.sqrt(0.5)]))]
    assert document._sided_region(frame, starts[:2], ends[:2], skewed) is None


def test_a_certificate_whose_paper_clips_round_its_title_is_no_glare(monkeypatch: pytest.MonkeyPatch) -> None:
    """dev 260: a bright light clips the paper round a certificate's title, whose letters stay
    dark: a clipped island with print in its hull is no reflection (GLARE_MAX_HULL_INK)."""
    item = _accepted_dev_scene(260, "second_card", (0.2, 0.35))
    monkeypatch.setattr(thresholds, "GLARE_MAX_HULL_INK", 1.0)
    assert analyse_document(item.image).reasons == ["glare"]


def test_an_id_back_on_a_second_card_askew_lies_on_top_where_its_edges_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    """dev 1108: an ID back on a light card lying askew under it and running off the frame; the
    hull of the two passes through the ID back's right-hand corners, but its top edge stops at
    its corner (document._sides_continue)."""
    item = _accepted_dev_scene(1108, "second_card", (0.3, 0.35))
    assert quad_iou(np.array(analyse_document(item.image).metrics.document.corners), item.corners) >= 0.9
    # Judged by the hull alone, the ID back is part of the region and the two read as cut off.
    monkeypatch.setattr(document, "_sides_continue", lambda *args: True)
    assert analyse_document(item.image).reasons == ["document_cut_off"]
