"""The colour outline search (server/quality/colour.py), the desk-patch rule (desk.py), the rule
that a whole document overlapped by a larger cut-off region stays a whole document, and the caps
on the search's work on frames full of texture."""

from __future__ import annotations

from typing import Any

import av
import cv2
import numpy as np
import pytest

from server.capture.analysis_peer import chroma
from server.quality import analyse_document, analyse_luma, analyser, document
from server.quality import colour as colour_module
from server.quality.colour import Chroma, chroma_edges
from server.quality.document import encloses
from tests.quality_fixtures import codec

# Orange wood and a teal card of the same grey level (BT.601 luma ~134 both): in the Y plane the
# card's edge is not there at all, in U/V it is a step of ~80 levels.
DESK_BGR = (40, 120, 200)
CARD_BGR = (180, 155, 75)
CARD_CORNERS = np.array([[380, 180], [900, 215], [880, 545], [355, 505]], np.float32)


def _colour_card_scene(seed: int = 1) -> np.ndarray:
    """1280x720 BGR: the teal card with light print on the orange desk, mild sensor noise."""
    rng = np.random.default_rng(seed)
    frame = np.empty((720, 1280, 3), np.uint8)
    frame[:] = DESK_BGR
    cv2.fillConvexPoly(frame, CARD_CORNERS.astype(np.int32), CARD_BGR)
    # Print on the card: a number row and a few shorter lines, light on the dark-ish ground.
    card = cv2.getPerspectiveTransform(np.float32([[0, 0], [1, 0], [1, 1], [0, 1]]), CARD_CORNERS)
    for y, text in ((0.3, "6428 4394 2670"), (0.55, "VALID 09/34"), (0.8, "JL 0517")):
        x0, y0 = cv2.perspectiveTransform(np.float32([[[0.12, y]]]), card)[0, 0]
        cv2.putText(frame, text, (int(x0), int(y0)), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (235, 235, 235), 4, cv2.LINE_AA)
    frame = cv2.GaussianBlur(frame, (3, 3), 0)
    noise = rng.normal(0, 3, frame.shape[:2]).astype(np.int16)
    return cv2.add(frame, cv2.merge([noise] * 3), dtype=cv2.CV_8U)


def _corner_error(result_corners: list[list[float]]) -> float:
    found = np.asarray(result_corners, np.float32)
    return float(np.linalg.norm(found - CARD_CORNERS, axis=1).max())


def test_scene_has_no_grey_edge_at_the_card() -> None:
    """The premise: grey alone does not find the card (else the test proves nothing)."""
    scene = _colour_card_scene()
    grey_only = analyse_document(cv2.cvtColor(scene, cv2.COLOR_BGR2GRAY))
    assert not grey_only.ok
    assert not grey_only.metrics.document.found or grey_only.metrics.document.coverage < 0.12


def test_still_finds_a_card_by_its_colour() -> None:
    result = analyse_document(_colour_card_scene())
    assert result.ok, result.reasons
    assert _corner_error(result.metrics.document.corners) < 6


def test_live_frame_finds_the_card_in_its_u_and_v_planes() -> None:
    scene = _colour_card_scene(2)
    decoded = list(codec.vp8_stream([scene] * codec.VP8_FRAMES, 1_500_000))[-1]
    y, uv = codec.luma(decoded), chroma(decoded)
    assert uv is not None and uv[0].shape == (360, 640)
    assert not analyse_luma(y).ok  # grey alone
    result = analyse_luma(y, uv_planes=uv)
    assert result.ok, result.reasons
    # The chroma planes are half the frame's size each way and VP8-coded: a few pixels coarser.
    assert _corner_error(result.metrics.document.corners) < 12


def test_chroma_of_a_peer_frame_matches_the_fixture_reader() -> None:
    frame = av.VideoFrame.from_ndarray(_colour_card_scene(3), format="bgr24").reformat(format="yuv420p")
    uv = chroma(frame)
    assert uv is not None
    u, v = uv
    assert u.shape == v.shape == (360, 640) and u.flags.c_contiguous
    assert np.array_equal(u, codec.chroma(frame)[0]) and np.array_equal(v, codec.chroma(frame)[1])
    assert chroma(frame.reformat(format="rgb24")) is None  # not planar YUV: grey search only


def test_chroma_is_made_lazily_once_per_size() -> None:
    calls: list[tuple[int, int]] = []

    def make(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        calls.append(shape)
        return np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)

    source = Chroma(make)
    assert calls == []
    source.planes((36, 64))
    source.planes((36, 64))
    assert calls == [(36, 64)]
    assert Chroma.from_bgr(np.zeros((8, 8), np.uint8)) is None
    assert Chroma.from_planes(None) is None
    u, v = Chroma.from_planes((np.full((4, 6), 100, np.uint8), np.full((4, 6), 150, np.uint8))).planes((8, 12))
    assert u.shape == (8, 12) and int(u[3, 3]) == 100 and int(v[3, 3]) == 150


@pytest.mark.parametrize("size", [(720, 1280), (1080, 1920), (481, 643)])
def test_a_stills_chroma_is_its_area_mean_at_every_size(size: tuple[int, int]) -> None:
    """Planes a quarter of the analysis size or smaller are made by 2x area halvings first: they
    must be the direct area resize's Cb and Cr within the rounding of the halvings (a level in
    the colour channels, up to two in Cr; an odd-sized still is resized at once), the right way round."""
    rng = np.random.default_rng(7)
    still = cv2.resize(rng.integers(0, 256, (size[0] // 8, size[1] // 8, 3), np.uint8), size[::-1],
                       interpolation=cv2.INTER_LINEAR)
    chroma = Chroma.from_bgr(still)
    assert chroma is not None
    for shape in ((size[0] // 2, size[1] // 2), (180, 320), (90, 160)):
        u, v = chroma.planes(shape)
        _, cr, cb = cv2.split(cv2.cvtColor(cv2.resize(still, shape[::-1], interpolation=cv2.INTER_AREA),
                                           cv2.COLOR_BGR2YCrCb))
        assert u.shape == v.shape == shape
        for plane, direct in ((u, cb), (v, cr)):
            difference = np.abs(plane.astype(int) - direct)
            assert int(difference.max()) <= 2 and float(difference.mean()) < 0.5
        assert float(np.abs(u.astype(int) - cr).mean()) > 2  # Cb, not Cr


def test_chroma_edges_see_hue_steps_not_flat_tint() -> None:
    u = np.full((100, 160), 110, np.uint8)
    v = np.full((100, 160), 140, np.uint8)
    assert cv2.countNonZero(chroma_edges((u, v))) == 0
    v[:, 80:] = 100  # a hue step down the middle
    edges = chroma_edges((u, v))
    assert cv2.countNonZero(edges[:, 75:86]) > 80 and cv2.countNonZero(edges[:, :70]) == 0


@pytest.mark.parametrize("path", ["still", "live"])
def test_a_patch_of_desk_is_no_document(path: str) -> None:
    """A faint ring on a plain desk (a stain, a shadow edge) closes into a small quadrilateral:
    it has the desk's grey and colour, so the verdict is no_document, not 'come closer'."""
    rng = np.random.default_rng(7)
    frame = np.empty((720, 1280, 3), np.uint8)
    frame[:] = (95, 110, 125)
    cv2.polylines(frame, [np.int32([[560, 300], [700, 310], [690, 400], [555, 390]])], True, (60, 70, 80), 3)
    noise = rng.normal(0, 2, frame.shape[:2]).astype(np.int16)
    frame = cv2.add(frame, cv2.merge([noise] * 3), dtype=cv2.CV_8U)
    if path == "still":
        result = analyse_document(frame)
    else:
        decoded = list(codec.vp8_stream([frame] * codec.VP8_FRAMES, 1_500_000))[-1]
        result = analyse_luma(codec.luma(decoded), uv_planes=chroma(decoded))
    assert "no_document" in result.reasons and "document_too_small" not in result.reasons


def test_a_small_real_card_is_still_too_small() -> None:
    """A white card at 4% of the frame differs from the desk: document_too_small, as before."""
    frame = np.empty((720, 1280, 3), np.uint8)
    frame[:] = (60, 80, 100)
    cv2.fillConvexPoly(frame, np.int32([[600, 300], [800, 300], [800, 426], [600, 426]]), (235, 235, 235))
    cv2.line(frame, (620, 340), (760, 340), (30, 30, 30), 3)
    result = analyse_document(frame)
    assert "document_too_small" in result.reasons and "no_document" not in result.reasons


def test_a_small_card_of_the_desks_own_grey_is_told_by_its_print() -> None:
    """A far-away grey card on a desk of its own grey and colour has the desk's mean tone, but
    its print is sharp: document_too_small (come closer), not no_document. The same ring with no
    print is a patch of desk."""
    frame = np.empty((720, 1280, 3), np.uint8)
    frame[:] = (150, 152, 155)
    card = np.int32([[560, 300], [760, 310], [752, 430], [552, 420]])
    cv2.polylines(frame, [card], True, (110, 112, 115), 3)
    blank = analyse_document(frame)
    assert "no_document" in blank.reasons and "document_too_small" not in blank.reasons
    for row in range(335, 410, 18):
        cv2.putText(frame, "No. 3101 1987 WANG", (575, row), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (40, 40, 40), 1,
                    cv2.LINE_AA)
    result = analyse_document(frame)
    assert result.reasons == ["document_too_small"], result.reasons


def test_a_region_encloses_a_box_only_with_all_its_corners() -> None:
    region = np.float32([[0, 100], [400, 100], [400, 400], [0, 400]])  # runs off the left edge
    box = np.float32([[50, 150], [300, 150], [300, 350], [50, 350]])
    assert encloses(region, box)
    overlapping = box + np.float32([200, 0])  # a card lying half over the region
    assert not encloses(region, overlapping)


def _passes(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the outline search's dear steps: edge maps made and ring merges tried."""
    counts = {"edge_map": 0, "merged": 0}
    edge_map, merged = document.edge_map, document.merged_outline

    def counted_edge_map(blurred: np.ndarray, high: float) -> np.ndarray:
        counts["edge_map"] += 1
        return edge_map(blurred, high)

    def counted_merged(*args: Any) -> Any:
        counts["merged"] += 1
        return merged(*args)

    monkeypatch.setattr(document, "edge_map", counted_edge_map)
    monkeypatch.setattr(document, "merged_outline", counted_merged)
    return counts


def test_a_frame_full_of_texture_skips_the_faint_pass_and_the_merge(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fine fabric: the first pass's edge map covers most of the frame. A lower threshold would
    only add texture, and merged hulls would be texture too: neither is tried. Only the
    quarter-size search looks again (its own, small edge map), and it finds no page in fabric."""
    rng = np.random.default_rng(3)
    fabric = cv2.resize(rng.integers(40, 215, (90, 160), dtype=np.uint8), (640, 360), interpolation=cv2.INTER_NEAREST)
    edges = document.edge_map(document.blur_for_edges(fabric), document.edge_threshold(document.blur_for_edges(fabric)))
    assert cv2.countNonZero(edges) > 0.5 * edges.size  # the premise: a frame full of edges
    counts = _passes(monkeypatch)
    assert document.find_outline(fabric) is None
    assert counts == {"edge_map": 2, "merged": 0}


def test_a_quiet_empty_frame_still_gets_the_faint_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hazy or dim frame has few edges: the sensitive second pass still looks (and merges),
    then the quarter-size search (the third edge map)."""
    quiet = np.full((360, 640), 120, np.uint8)
    cv2.circle(quiet, (320, 180), 60, 160, -1)
    counts = _passes(monkeypatch)
    document.find_outline(quiet)
    assert counts["edge_map"] == 3 and counts["merged"] >= 1


def test_a_blank_sticky_note_is_no_document() -> None:
    """A small outline with no print in it (a sticky note unlike the desk in grey and colour) is
    no document: the resident is asked to put one down, not to come closer."""
    frame = np.empty((720, 1280, 3), np.uint8)
    frame[:] = (95, 110, 125)
    cv2.fillConvexPoly(frame, np.int32([[600, 300], [790, 310], [780, 500], [590, 490]]), (80, 220, 240))
    noise = np.random.default_rng(5).normal(0, 2, frame.shape[:2]).astype(np.int16)
    frame = cv2.add(frame, cv2.merge([noise] * 3), dtype=cv2.CV_8U)
    result = analyse_document(frame)
    assert result.reasons == ["no_document"]
    # The same note with a line of print on it is a (too small) document.
    cv2.line(frame, (620, 380), (760, 385), (20, 20, 20), 4)
    assert "document_too_small" in analyse_document(frame).reasons


def test_a_small_object_with_only_faint_shading_is_no_document() -> None:
    """A small object whose only mark is a faint one (a phone's rim, a fold: ~62 grey levels
    under its ground) is no document either; print on it (far darker) makes it one."""
    frame = np.empty((720, 1280, 3), np.uint8)
    frame[:] = (95, 110, 125)
    cv2.fillConvexPoly(frame, np.int32([[600, 300], [790, 310], [780, 500], [590, 490]]), (80, 220, 240))
    noise = np.random.default_rng(5).normal(0, 2, frame.shape[:2]).astype(np.int16)
    frame = cv2.add(frame, cv2.merge([noise] * 3), dtype=cv2.CV_8U)
    cv2.line(frame, (620, 380), (760, 385), (148, 148, 148), 8)
    assert analyse_document(frame).reasons == ["no_document"]
    cv2.line(frame, (620, 420), (760, 425), (20, 20, 20), 4)
    assert "document_too_small" in analyse_document(frame).reasons


def test_the_colour_search_tries_half_size_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """A card found on the halved chroma planes costs no full-size chroma pass (a quarter of the
    blur and Canny work); the full-size pass runs only where the half-size one finds no page, and
    each size's edges are made once per frame."""
    shapes: list[tuple[int, ...]] = []
    edges = colour_module.chroma_edges

    def counted(planes: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        shapes.append(planes[0].shape)
        return edges(planes)

    monkeypatch.setattr(colour_module, "chroma_edges", counted)
    # Not the still's test for a page on a patterned cloth nor its look for the page around a
    # panel, which read edges of their own (of point samples) after the search.
    monkeypatch.setattr(document, "_may_be_a_box_on_a_cloth", lambda colour, page, shape: False)
    monkeypatch.setattr(analyser, "surrounding_page", lambda small, page, edges, colour: page)
    assert analyse_document(_colour_card_scene()).ok
    assert shapes == [(180, 320)]
    shapes.clear()
    document.find_outline(np.full((360, 640), 128, np.uint8),
                          colour=Chroma(lambda shape: (np.full(shape, 128, np.uint8),) * 2))
    # Nothing at half size: the full size looks again; the half-size searches that follow (grey
    # and chroma edges together, the patterned cloth) read the half-size edges already made.
    assert shapes == [(180, 320), (360, 640)]
