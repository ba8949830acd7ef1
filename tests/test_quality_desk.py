"""No document after all, or a document (analyser._not_a_document): a stretch of desk closing against
the frame border is no cut-off page (server/quality/desk.py, has_desk_tones: its tones are the
desk's, level by level), and a far-away white page with faint print is no blank object."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from server.quality import analyse_document, analyser, desk, document
from server.quality.colour import Chroma
from server.quality.document import Outline
from server.quality.metrics import RegionStats
from server.quality.tracking import PageTracker
from tests.quality_fixtures.heldout import scene as heldout_scene
from tests.quality_fixtures.scoring import quad_iou, verdict
from tests.quality_fixtures.world import world_scene


def _checked_desk() -> np.ndarray:
    """A 640x360 analysis image of a checked cloth (30 px squares of 70 and 170) with noise."""
    y, x = np.mgrid[0:360, 0:640]
    desk_image = np.where(((x // 30) + (y // 30)) % 2 == 0, 70, 170).astype(np.float32)
    desk_image += np.random.default_rng(5).normal(0, 3, desk_image.shape)
    return np.clip(desk_image, 0, 255).astype(np.uint8)


REGION = Outline(np.float32([[0, 200], [150, 210], [140, 359], [0, 359]]), 0.09, cut_off=True)
# A grey cloth and card: chroma planes at the neutral level.
NEUTRAL = Chroma.from_planes((np.full((180, 320), 128, np.uint8), np.full((180, 320), 128, np.uint8)))


def test_a_stretch_of_cloth_at_the_frame_edge_has_the_desks_tones() -> None:
    assert desk.has_desk_tones(_checked_desk(), REGION, NEUTRAL)
    # Without colour it is not asked: a coloured cover on a cloth of its own grey has its tones.
    assert not desk.has_desk_tones(_checked_desk(), REGION, None)


def test_a_pale_card_with_the_desks_mean_grey_has_its_own_tones() -> None:
    """The mean test alone would call it desk: its mean grey is the cloth's."""
    image = _checked_desk()
    card = np.zeros(image.shape, np.uint8)
    cv2.fillConvexPoly(card, np.int32([[0, 196], [154, 206], [144, 359], [0, 359]]), 255)
    image[card > 0] = 126
    for row in range(225, 350, 14):
        cv2.line(image, (10, row), (120, row), 20, 2)
    assert abs(float(image[card > 0].mean()) - float(image[card == 0].mean())) < 10
    assert not desk.has_desk_tones(image, REGION, NEUTRAL)


# An extra train scene without a document on fabric (a 1920x1080 still): a stretch of the cloth
# at the frame's left edge, 7% of the frame, read as a cut-off page before.
FABRIC_STRETCH = 2004


def test_a_desk_only_scene_asks_for_the_document(monkeypatch: pytest.MonkeyPatch) -> None:
    scene = world_scene("train", FABRIC_STRETCH, "no_document")
    assert scene.factors is not None and scene.factors.desk == "fabric"
    assert "no_document" in verdict(scene).reasons
    monkeypatch.setattr(analyser, "has_desk_tones", lambda *args: False)
    monkeypatch.setattr(analyser.t, "BLANK_CUT_MAX_TONE_RANGE", 0.0)  # (featureless, too)
    monkeypatch.setattr(analyser.t, "CUT_SOFT_FRAME_MAX_RATIO", 0.0)  # (and soft in a soft frame)
    assert "document_cut_off" in verdict(scene).reasons


def _far_white_page(print_level: int) -> np.ndarray:
    """A 1280x720 still: a grey desk with a small white page (~3.5% of the frame) whose paper
    clips, with rows of thin print at print_level (fine print lightened by the distance)."""
    frame = np.empty((720, 1280, 3), np.uint8)
    frame[:] = (120, 125, 130)
    page = np.int32([[560, 260], [780, 268], [774, 420], [556, 412]])
    cv2.fillConvexPoly(frame, page, (255, 255, 255))
    for row in range(285, 400, 12):
        cv2.line(frame, (580, row), (750, row + 3), (print_level,) * 3, 1)
    noise = np.random.default_rng(11).normal(0, 1.5, frame.shape[:2]).astype(np.int16)
    return cv2.add(frame, cv2.merge([noise] * 3), dtype=cv2.CV_8U)


def test_a_far_white_page_with_faint_print_asks_to_come_closer() -> None:
    """Its tones span less than print usually needs (the downscale lightens thin strokes), but its
    paper clips and the print stands 50 or more levels below it: a page, not a blank object."""
    far = analyse_document(_far_white_page(150))
    assert "document_too_small" in far.reasons and "no_document" not in far.reasons, far.reasons
    # A blank white card (a sticky note, an envelope) at the same place: no print at all.
    blank = analyse_document(_far_white_page(255))
    assert "no_document" in blank.reasons, blank.reasons


def _phone_on_a_desk() -> np.ndarray:
    """A 1280x720 still: a lit grey desk with a phone (a card-sized black slab,
    a quarter of the frame, with a soft sheen across its glass) lying on it."""
    frame = np.empty((720, 1280, 3), np.uint8)
    frame[:] = (150, 155, 160)
    phone = np.int32([[420, 150], [860, 170], [850, 590], [410, 570]])
    cv2.fillConvexPoly(frame, phone, (22, 22, 24))
    sheen = np.zeros(frame.shape[:2], np.uint8)
    cv2.line(sheen, (470, 520), (800, 220), 255, 40)
    sheen = cv2.GaussianBlur(sheen, (0, 0), 12)
    inside = np.zeros(frame.shape[:2], np.uint8)
    cv2.fillConvexPoly(inside, phone, 255)
    lift = (cv2.bitwise_and(sheen, inside).astype(np.float32) * (18 / 255))[..., None]
    frame = np.clip(frame.astype(np.float32) + lift, 0, 255)
    noise = np.random.default_rng(5).normal(0, 1.5, frame.shape).astype(np.float32)
    return np.clip(frame + noise, 0, 255).astype(np.uint8)


def test_a_phone_in_a_lit_frame_is_no_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """A black slab without detail while the desk around it is lit: the object is dark, not the
    light (analyser._dark_object), so the resident is asked to put the document down."""
    result = analyse_document(_phone_on_a_desk())
    assert result.reasons[0] == "no_document", result.reasons
    assert "too_dark" not in result.reasons
    # Judged as a page, it would be a dark, blurred document.
    monkeypatch.setattr(analyser, "_dark_object", lambda *args: False)
    assert set(analyse_document(_phone_on_a_desk()).reasons) >= {"too_dark", "blurry"}


def test_a_page_in_dim_light_is_too_dark_not_a_dark_object() -> None:
    """In dim light the page is the brightest thing in the frame: the light is to blame."""
    frame = np.empty((720, 1280, 3), np.uint8)
    frame[:] = (20, 21, 22)
    page = np.int32([[420, 150], [860, 170], [850, 590], [410, 570]])
    cv2.fillConvexPoly(frame, page, (40, 40, 40))
    for row in range(200, 540, 30):
        cv2.line(frame, (460, row), (800, row + 8), (8, 8, 8), 3)
    noise = np.random.default_rng(7).normal(0, 1.0, frame.shape).astype(np.float32)
    result = analyse_document(np.clip(frame + noise, 0, 255).astype(np.uint8))
    assert result.reasons[0] == "too_dark", result.reasons
    assert "no_document" not in result.reasons


def _notes_and_page(with_page: bool, notes: int = 2) -> np.ndarray:
    """A 1280x720 still: a grey desk with blank sticky notes (each ~3% of the frame) and,
    with_page, a far-away printed page beside them, smaller than any (~2%)."""
    frame = np.empty((720, 1280, 3), np.uint8)
    frame[:] = (120, 125, 130)
    for x, y in ((150, 120), (420, 430), (620, 60))[:notes]:
        note = np.int32([[x, y], [x + 170, y + 8], [x + 162, y + 178], [x - 8, y + 170]])
        cv2.fillConvexPoly(frame, note, (110, 225, 235))
    if with_page:
        page = np.int32([[860, 260], [1000, 266], [994, 420], [854, 414]])
        cv2.fillConvexPoly(frame, page, (235, 238, 240))
        for row in range(285, 400, 14):
            cv2.line(frame, (872, row), (982, row + 3), (30, 30, 30), 2)
    noise = np.random.default_rng(11).normal(0, 1.5, frame.shape).astype(np.float32)
    return np.clip(frame + noise, 0, 255).astype(np.uint8)


def test_a_far_page_beside_larger_blank_notes_asks_to_come_closer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The largest outline is a blank note (no document); the smaller page beside it, which holds
    sharp print, is the resident's document: "come closer", not "put the document down"."""
    result = analyse_document(_notes_and_page(with_page=True))
    assert result.reasons == ["document_too_small"], result.reasons
    # Only the notes: no document.
    assert analyse_document(_notes_and_page(with_page=False)).reasons[0] == "no_document"
    # Three notes: each note's hole is one of its own rings, not another object beside it.
    assert analyse_document(_notes_and_page(with_page=True, notes=3)).reasons == ["document_too_small"]
    # Live, frame after frame: the note is not tracked in place of the page.
    grey = cv2.cvtColor(_notes_and_page(with_page=True), cv2.COLOR_BGR2GRAY)
    y_plane = np.round(grey.astype(np.float32) * (219 / 255) + 16).astype(np.uint8)
    tracker = PageTracker()
    assert [tracker.analyse(y_plane).reasons for _ in range(8)] == [["document_too_small"]] * 8
    # Without the quadrilaterals kept beside the note, the page is never judged.
    monkeypatch.setattr(document, "_quads_beside", lambda *args: [])
    assert analyse_document(_notes_and_page(with_page=True)).reasons[0] == "no_document"


def _striped_desk_edges(card: np.ndarray) -> np.ndarray:
    """An edge map (640x360, as document.edge_map makes it) of a far-away card with lines of
    print in it on a striped desk: every stripe runs from the frame's edge to the card's side and
    on from its other side, so the card's ring is one component with the frame border's."""
    edges = np.zeros((360, 640), np.uint8)
    cv2.polylines(edges, [card], True, 255, 3)
    inside = np.zeros_like(edges)
    cv2.fillPoly(inside, [card], 255)
    stripes, words = np.zeros_like(edges), np.zeros_like(edges)
    # A far-away page's margins are a few pixels wide at this size: its print runs close to them.
    for y in range(int(card[:, 1].min()) + 6, int(card[:, 1].max()) - 2, 8):
        cv2.line(stripes, (0, y), (639, y - 6), 255, 3)
        for x in range(0, 640, 16):  # print: words along the same lines, as a dilated map has them
            cv2.line(words, (x, y - 6 * x // 639), (x + 11, y - 6 * (x + 11) // 639), 255, 3)
    edges |= (stripes & ~inside) | (words & inside)
    cv2.rectangle(edges, (0, 0), (639, 359), 255, 1)
    return edges


_FAR_CARD = np.array([[300, 150], [400, 147], [402, 211], [302, 214]], np.int32)  # 2.8% of the frame


def test_a_far_away_card_whose_ring_is_one_with_the_desks_stripes_is_found_solid() -> None:
    """No ring of the map outlines the card alone (its sides are joined to the stripes), but its
    print fills it solid and the opening drops the stripes: the card is found, to be told too
    small. A checked cloth's squares are too large to fill and their lines too thin to stay."""
    edges = _striped_desk_edges(_FAR_CARD)
    rings, _ = cv2.findContoursLinkRuns(edges)
    found = document.best_outline(edges, rings, allow_cut=False)
    assert found is None or quad_iou(found.corners, _FAR_CARD.astype(np.float32)) < 0.5
    pages = document.solid_pages(edges)
    assert pages and not pages[0].cut_off
    assert quad_iou(pages[0].corners, _FAR_CARD.astype(np.float32)) >= 0.85
    checks = np.zeros((360, 640), np.uint8)
    for x in range(0, 640, 40):
        cv2.line(checks, (x, 0), (x, 359), 255, 3)
    for y in range(0, 360, 40):
        cv2.line(checks, (0, y), (639, y), 255, 3)
    cv2.rectangle(checks, (0, 0), (639, 359), 255, 1)
    assert document.solid_pages(checks) == []


# Far-away pages of extra train and validation scenes on a grained or striped desk whose stripes
# touch their sides: no ring is the page, and they read "no_document" before the solid search.
FAR_PAGES_ON_STRIPES = (("train", 67000), ("validation", 67025), ("validation", 67034))


@pytest.mark.parametrize(("split", "index"), FAR_PAGES_ON_STRIPES)
def test_a_far_away_page_on_a_striped_desk_asks_to_come_closer(split: str, index: int,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    scene = world_scene(split, index, "far_away")
    assert scene.corners is not None
    result = verdict(scene)
    assert "document_too_small" in result.reasons and "no_document" not in result.reasons
    assert quad_iou(np.array(result.metrics.document.corners), scene.corners) >= 0.7
    monkeypatch.setattr(analyser, "solid_pages", lambda *args: [])
    assert "no_document" in verdict(scene).reasons


def _cut_off_form_edges(striped: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A 640x360 dilated edge map of a form running off the top of the frame whose table's lines
    meet its sides all the way down (no ring lies between the form's edge and its print), on a
    plain desk or (striped) a desk with lines across it; and the form's corners."""
    edges = np.zeros((360, 640), np.uint8)
    form = np.array([[190, 0], [450, 0], [430, 250], [205, 262]], np.int32)
    cv2.polylines(edges, [form], True, 255, 3)
    inside = np.zeros_like(edges)
    cv2.fillPoly(inside, [form], 255)
    table = np.zeros_like(edges)
    for y in range(20, 262, 24):
        cv2.line(table, (0, y), (639, y), 255, 3)
    cv2.line(table, (280, 0), (280, 359), 255, 3)
    edges |= table & inside
    if striped:
        for y in range(10, 360, 14):
            cv2.line(edges, (0, y), (639, y + 8), 255, 3)
    cv2.rectangle(edges, (0, 0), (639, 359), 255, 1)
    return edges, form


def test_a_cut_off_form_split_into_cells_is_found_as_what_is_not_the_desk() -> None:
    """No ring is the form (its table's cells tile it), but everything that is not the desk's
    hole is: ground_regions finds it running off the frame. On a striped desk the holes between
    the desk's lines join into a large one; what is not it is the desk's lines too, and nothing
    is found."""
    edges, form = _cut_off_form_edges()
    rings, _ = cv2.findContoursLinkRuns(edges)
    assert document.best_outline(edges, rings, allow_cut=True) is None
    regions = document.ground_regions(edges)
    assert regions and regions[0].cut_off
    assert quad_iou(regions[0].corners, form.astype(np.float32)) >= 0.95
    assert document.ground_regions(_cut_off_form_edges(striped=True)[0]) == []


def test_a_band_of_desk_beside_a_page_is_no_cut_off_region() -> None:
    """A far-away page whose top and bottom sides run on along two lines of the desk to the
    frame's edge closes a region with the band between them: the band is one hole, most of the
    region, and the region is not taken."""
    edges = np.zeros((360, 640), np.uint8)
    cv2.rectangle(edges, (300, 140), (380, 230), 255, 3)
    cv2.line(edges, (380, 140), (639, 140), 255, 3)
    cv2.line(edges, (380, 230), (639, 230), 255, 3)
    for y in range(150, 225, 12):  # the page's print
        cv2.line(edges, (306, y), (374, y), 255, 3)
    cv2.rectangle(edges, (0, 0), (639, 359), 255, 1)
    assert document.ground_regions(edges) == []


# A held-out dev scene: a register page on a plain dark desk running off the top of the frame,
# its table meeting its sides: read "no_document" before ground_regions. (The colour search now
# finds it too, its ring closed against the frame on the chroma edges: left out here.)
FORM_CUT_OFF_IN_CELLS = 2601


def test_a_cut_off_page_split_into_cells_asks_to_move_it_into_the_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    item = heldout_scene(FORM_CUT_OFF_IN_CELLS, "dev")
    assert item.expected == "document_cut_off"
    assert analyse_document(item.image).reasons == ["document_cut_off"]
    monkeypatch.setattr(document, "with_colour", lambda edges, colour, grey: grey)
    assert analyse_document(item.image).reasons == ["document_cut_off"]
    monkeypatch.setattr(analyser, "ground_regions", lambda *args: [])
    # (The frame cut by the form's sides finds it too, where no other search does.)
    monkeypatch.setattr(analyser, "sided_cut_region", lambda *args: None)
    assert analyse_document(item.image).reasons == ["no_document"]


def _stats(brightness: float, dark_end: float, bright_end: float, sharpness: float) -> RegionStats:
    return RegionStats(sharpness=sharpness, brightness=brightness, contrast=10.0, clipped=0.0, glare_ratio=0.0,
                       dark_end=dark_end, bright_end=bright_end, noise=3.0)


def test_sharp_print_on_paper_in_a_narrow_range_is_no_blank_object() -> None:
    """A far-away form in a dim room: tones 71-135, mostly paper (its mean in the upper part of
    the range), sharp print. A keyboard's dark keys: the mean low in its range, however sharp.
    A blank patch: no sharp detail."""
    assert analyser._print_on_paper(_stats(119, 71, 135, 214))
    assert not analyser._print_on_paper(_stats(64, 48, 109, 1122))
    assert not analyser._print_on_paper(_stats(125, 71, 135, 20))
    assert not analyser._print_on_paper(_stats(100, 70, 120, 300))  # a range too narrow for print


# Held-out dev scenes: far-away forms and register pages whose print's range the downscale
# squeezed under SMALL_MIN_TONE_RANGE (a dim room, a bright desk): read "no_document" before.
FAR_PAGES_WITH_NARROW_TONES = (1099, 2315, 2683)


@pytest.mark.parametrize("index", FAR_PAGES_WITH_NARROW_TONES)
def test_a_far_away_page_with_narrow_tones_asks_to_come_closer(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    item = heldout_scene(index, "dev")
    assert item.expected == "document_too_small"
    assert analyse_document(item.image).reasons == ["document_too_small"]
    monkeypatch.setattr(analyser.t, "SMALL_PRINT_MIN_TONE_RANGE", 256.0)
    assert "no_document" in analyse_document(item.image).reasons


def _soft_frame(crisp_print: bool) -> np.ndarray:
    """A 640x360 analysis image of soft shading (a smooth desk, an object's blurred rim), with
    crisp dark print on a light patch (a page elsewhere in view) when crisp_print."""
    y, x = np.mgrid[0:360, 0:640].astype(np.float32)
    image = 110 + 40 * np.sin(x / 37.0) * np.cos(y / 53.0)
    image = cv2.GaussianBlur(image, (0, 0), 6)
    if crisp_print:
        image[200:340, 380:620] = 225
        for row in range(212, 330, 12):
            image[row:row + 3, 392:600] = 40
    return np.clip(image, 0, 255).astype(np.uint8)


def test_a_soft_region_at_the_frames_edge_is_no_document_when_nothing_in_view_is_crisp() -> None:
    """A region running off the frame without sharp print: desk, when no print is crisp anywhere
    in view; left to the other rules when a page's crisp print is in the frame."""
    region = Outline(np.float32([[0, 40], [200, 40], [200, 160], [0, 160]]), 0.1, cut_off=True)
    soft = _stats(110, 80, 150, 20)
    for crisp_print, expected in ((False, True), (True, False)):
        small = _soft_frame(crisp_print)
        half = cv2.resize(small, (320, 180), interpolation=cv2.INTER_AREA)
        assert analyser._soft_in_a_soft_frame(small, region, soft, half) is expected
    small = _soft_frame(False)
    half = cv2.resize(small, (320, 180), interpolation=cv2.INTER_AREA)
    assert not analyser._soft_in_a_soft_frame(small, region, _stats(110, 80, 150, 300), half)  # sharp print


# Held-out dev desk-only scenes: a household register cover's shading on a plain desk and soft
# clutter at the frame's edge, read "document_cut_off" with "blurry" before.
SOFT_REGIONS_AT_THE_EDGE = (1421, 2141)


@pytest.mark.parametrize("index", SOFT_REGIONS_AT_THE_EDGE)
def test_a_soft_region_at_the_edge_of_a_desk_only_frame_asks_for_the_document(
        index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    item = heldout_scene(index, "dev")
    assert item.expected == "no_document"
    assert analyse_document(item.image).reasons == ["no_document"]
    monkeypatch.setattr(analyser.t, "CUT_SOFT_FRAME_MAX_RATIO", 0.0)
    # (2141's soft region is also a long thin strip, which no page in view is either.)
    monkeypatch.setattr(analyser.t, "CUT_MAX_ASPECT", 100.0)
    assert "document_cut_off" in analyse_document(item.image).reasons


def test_a_keyboard_on_a_desk_is_no_far_away_page() -> None:
    """A keyboard's dark keys with the desk's light lines between them fill solid like a far-away
    page's print, but a page is lighter than the desk around it: still no document."""
    scene = world_scene("train", 68033, "no_document")
    assert scene.factors is not None and scene.factors.desk == "clutter"
    reasons = verdict(scene).reasons
    assert "no_document" in reasons and "document_too_small" not in reasons


# Desk-only extra train scenes: a pale sticky note at the frame's edge on a plain desk, and a
# light one running off the top on wood, read "the document is cut off" as regions without print.
FEATURELESS_AT_THE_EDGE = (71019, 71072)


@pytest.mark.parametrize("index", FEATURELESS_AT_THE_EDGE)
def test_a_featureless_object_at_the_frames_edge_is_no_document(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    scene = world_scene("train", index, "no_document")
    assert verdict(scene).reasons == ["no_document"]
    monkeypatch.setattr(analyser.t, "BLANK_CUT_MAX_TONE_RANGE", 0.0)
    monkeypatch.setattr(analyser.t, "CUT_SOFT_FRAME_MAX_RATIO", 0.0)  # soft in a soft frame, too
    assert "document_cut_off" in verdict(scene).reasons


# Extra validation scenes: a motion-blurred household page on a desk with a second card, and a
# motion-blurred light card on a patterned cloth, whose blur smeared the page's own edges too.
BLURRED_WITHOUT_A_PAGE = (("validation", 62001, "motion"), ("validation", 62018, "motion"))


@pytest.mark.parametrize(("split", "index", "condition"), BLURRED_WITHOUT_A_PAGE)
def test_a_frame_blurred_as_a_whole_asks_to_hold_still_first(split: str, index: int, condition: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    scene = world_scene(split, index, condition)
    result = verdict(scene)
    assert result.reasons[:2] == ["blurry", "no_document"], result.reasons
    monkeypatch.setattr(analyser.t, "FRAME_BLUR_MAX_RATIO", 0.0)
    assert verdict(scene).reasons == ["no_document"]


def test_a_sharp_or_plain_empty_desk_is_not_blurred() -> None:
    """A desk in focus keeps its texture's crisp edges; a plain desk has too few edges to judge,
    blurred or not: neither frame is told to hold still."""
    rng = np.random.default_rng(3)
    texture = cv2.resize(rng.integers(60, 200, (45, 80)).astype(np.uint8), (640, 360),
                         interpolation=cv2.INTER_NEAREST)
    half = cv2.resize(texture, (320, 180), interpolation=cv2.INTER_AREA)
    assert not analyser._blurred_frame(texture, half)
    blurred = cv2.GaussianBlur(texture, (0, 0), 2)  # a few pixels of blur at 640 wide
    assert analyser._blurred_frame(blurred, cv2.resize(blurred, (320, 180), interpolation=cv2.INTER_AREA))
    plain = cv2.GaussianBlur(np.full((360, 640), 128, np.uint8) + rng.integers(0, 3, (360, 640)).astype(np.uint8),
                             (0, 0), 6)
    assert not analyser._blurred_frame(plain, cv2.resize(plain, (320, 180), interpolation=cv2.INTER_AREA))
