"""Exposure and glare by what makes print readable, on pages drawn for the purpose.

A white page whose paper clips but whose ink stays dark is fine; a dark card with light print is
fine; a page washed out so that even its ink is light grey is too bright; a compact clipped blob
on unclipped paper is glare; a live frame's limited-range Y plane reads as the same picture.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from server.quality import analyse_document, analyse_luma, thresholds
from server.quality.analyser import VIDEO_TO_FULL_RANGE, to_full_range
from server.quality.metrics import (
    _SECOND_DERIVATIVES,
    _histogram,
    _region,
    close_up_crispness,
    compact_highlights,
    directional_sharpness,
    edge_crispness,
    halve,
    region_stats,
)
from server.quality.thresholds import CLOSE_BLUR_MAX_RATIO, CLOSE_BLUR_MAX_SHARPNESS, CRISP_MIN_RATIO, MIN_SHARPNESS


def _page(paper: int, ink: int, desk: int = 60, size: tuple[int, int] = (1280, 720)) -> np.ndarray:
    """A frontal page (40% of the frame) with lines of text-like strokes, on a plain desk."""
    w, h = size
    frame = np.full((h, w), desk, np.uint8)
    x0, y0, x1, y1 = w // 4, h // 5, 3 * w // 4, 4 * h // 5
    frame[y0:y1, x0:x1] = paper
    rng = np.random.default_rng(7)
    for row in range(y0 + 40, y1 - 40, 36):
        x = x0 + 40
        while x < x1 - 80:
            width = int(rng.integers(12, 30))
            cv2.rectangle(frame, (x, row), (x + width, row + 3), ink, -1)
            cv2.rectangle(frame, (x + width // 2, row - 10), (x + width // 2 + 3, row + 12), ink, -1)
            x += width + 14
    noise = np.random.default_rng(3).normal(0, 1.5, frame.shape)
    return np.clip(frame + noise, 0, 255).astype(np.uint8)


def test_white_page_with_clipped_paper_and_dark_ink_is_fine() -> None:
    result = analyse_document(_page(paper=255, ink=35))
    assert result.metrics.document.found
    assert result.ok, result.reasons


def test_dark_card_with_light_print_is_fine() -> None:
    result = analyse_document(_page(paper=45, ink=215, desk=150))
    assert result.metrics.document.found
    assert result.ok, result.reasons


def test_washed_out_page_is_too_bright() -> None:
    result = analyse_document(_page(paper=255, ink=215))
    assert "too_bright" in result.reasons


def test_dim_page_is_too_dark() -> None:
    result = analyse_document(_page(paper=70, ink=15, desk=20))
    assert "too_dark" in result.reasons


def test_compact_blob_on_paper_is_glare_but_clipped_paper_is_not() -> None:
    page = np.full((200, 300), 215, np.uint8)
    page[::12, :] = 40  # print lines
    assert compact_highlights(page, None) == 0.0
    spot = page.copy()
    cv2.circle(spot, (150, 100), 22, 255, -1)
    assert compact_highlights(spot, None) > 0.02
    clipped_paper = page.copy()
    clipped_paper[clipped_paper == 215] = 255
    assert compact_highlights(clipped_paper, None) == 0.0


def test_clipped_paper_round_print_that_stays_dark_is_no_glare() -> None:
    """A bright light that clips the paper round a title's thick letters leaves the letters dark:
    a clipped island with print in its hull is no reflection, which would have lifted the print
    with the paper (a held-out certificate's title under a lamp). The same island with the print
    gone is glare."""
    page = np.full((200, 300), 215, np.uint8)
    page[::12, :] = 40
    erased = page.copy()
    cv2.circle(erased, (150, 100), 40, 255, -1)
    assert compact_highlights(erased, None) > 0.03
    kept = erased.copy()
    for x, y in ((128, 88), (146, 84), (164, 92), (138, 108), (158, 110)):
        # Strokes of the title, still dark inside the clipped paper: ~5% of the island's hull.
        kept[y : y + 7, x : x + 7] = 60
    assert compact_highlights(kept, None) == 0.0


def test_reflection_on_a_partly_clipped_page_is_glare_but_a_blank_clipped_stretch_is_not() -> None:
    """Paper clipped over part of the page (a white panel) does not hide a reflection ringed by
    unclipped paper; a blank stretch of the clipped part, ringed by clipped paper, is no glare."""
    page = np.full((200, 300), 215, np.uint8)
    page[:, 150:] = 255  # the clipped half: well over GLARE_PAPER_CLIPPED of the page
    page[::12, :] = 40
    blank = page.copy()
    blank[60:130, 180:260] = 255  # a paragraph gap in the clipped half
    assert compact_highlights(blank, None) == 0.0
    spot = page.copy()
    cv2.circle(spot, (75, 100), 25, 255, -1)  # clipped core, print erased, in the unclipped half
    assert compact_highlights(spot, None) > 0.015
    small_spot = page.copy()
    cv2.circle(small_spot, (75, 100), 10, 255, -1)  # under GLARE_HALO_MIN_BLOB: a lamp's small glint
    assert compact_highlights(small_spot, None) == 0.0


def test_glare_spot_is_named() -> None:
    frame = _page(paper=205, ink=35)
    cv2.circle(frame, (700, 360), 45, 255, -1)
    result = analyse_document(frame)
    assert result.reasons == ["glare"], result.reasons


def _lamp(frame: np.ndarray, centre: tuple[int, int], core: int) -> np.ndarray:
    """frame under a lamp's reflection: white (print erased) within core px of centre, fading out
    into the paper around it (a Gaussian falloff of 0.4 core)."""
    h, w = frame.shape
    yy, xx = np.mgrid[0:h, 0:w]
    beyond = np.maximum(np.hypot(xx - centre[0], yy - centre[1]) - core, 0.0)
    return _lit(frame, np.exp(-((beyond / (0.4 * core)) ** 2)))


def _lit(frame: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """frame with light added: each pixel moved towards white by weight (0-1), as a reflection
    adds light to paper and print alike."""
    lit = frame.astype(np.float32) + (255 - frame.astype(np.float32)) * weight
    return np.clip(np.round(lit), 0, 255).astype(np.uint8)


def test_a_reflection_over_a_quarter_of_the_page_is_glare() -> None:
    """A lamp close over a glossy card clips more of it than GLARE_MAX_BLOB (20%): one island that
    fades out into the paper and holds no print is glare however large, not clipped paper (the
    larger the reflection, the less of the page there is to read)."""
    page = _page(paper=205, ink=35)
    assert analyse_document(page).ok
    for core in (120, 150):  # ~21% and ~33% of the page clipped
        result = analyse_document(_lamp(page, (640, 360), core))
        assert result.reasons == ["glare"], (core, result.reasons)
        assert result.metrics.glare_ratio > 0.15


def test_a_large_white_panel_holding_print_is_no_glare() -> None:
    """A card's white panel, clipped, inside an unclipped rim: as large an island as a big
    reflection and ringed by unclipped paper too, but its print stays dark inside it."""
    frame = _page(paper=205, ink=35)
    panel = frame[250:470, 420:860]
    panel[panel > 150] = 255  # the panel's paper clips, its strokes stay
    result = analyse_document(frame)
    assert "glare" not in result.reasons, result.reasons


_PAGE_BOX = (slice(144, 576), slice(320, 960))  # where _page lays the page in a 1280x720 frame


def _on_page(lit: np.ndarray, page: np.ndarray) -> np.ndarray:
    """page with lit's pixels on the page only: a reflection on glossy stock, not on the desk."""
    out = page.copy()
    out[_PAGE_BOX] = lit[_PAGE_BOX]
    return out


def _band(frame: np.ndarray, start: tuple[int, int], end: tuple[int, int], half: float) -> np.ndarray:
    """frame under a band of light along the line start-end: white (print erased) within half px
    of it, fading out into the paper beyond (a Gaussian falloff of 25 px)."""
    h, w = frame.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    (x0, y0), (x1, y1) = start, end
    distance = np.abs((y1 - y0) * xx - (x1 - x0) * yy + x1 * y0 - y1 * x0) / np.hypot(x1 - x0, y1 - y0)
    return _lit(frame, np.exp(-((np.maximum(distance - half, 0.0) / 25.0) ** 2)))


def test_a_reflection_cut_by_the_page_edge_is_glare() -> None:
    """A lamp's spot near a side or a corner of the page, and a band of light across it from edge
    to edge, reach the page's margin: still glare, for they reach deep into the page and the
    page's edge cuts them over a chord (found by a probe: such reflections read ok)."""
    page = _page(paper=205, ink=35)
    for name, lit in (("spot by the side", _lamp(page, (380, 360), 70)),
                      ("spot in a corner", _lamp(page, (380, 200), 70)),
                      ("band across", _band(page, (320, 144), (960, 576), 40)),
                      ("band down", _band(page, (600, 0), (700, 720), 45))):
        result = analyse_document(_on_page(lit, page))
        assert result.reasons == ["glare"], (name, result.reasons)


def test_a_light_gradient_clipping_a_blank_corner_is_no_glare() -> None:
    """Light from one side clips the blank paper in a corner of the page, along two of its edges:
    nothing is hidden there, so no glare (as on a good social-security card of the train split,
    whose clipped corner reaches as deep into the card as a lamp's spot near its side)."""
    page = _page(paper=205, ink=35)
    clear = page.copy()
    clear[430:576, 700:960] = 205  # a blank corner of the page: the print ends above and left
    h, w = page.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # Light from the lower right: full over the corner's blank paper, fading out over 150 px.
    weight = np.clip((xx + yy - (960 + 576 - 330)) / 150 + 1, 0, 1)
    frame = _on_page(_lit(clear, weight), clear)
    assert np.count_nonzero(frame[_PAGE_BOX] >= 250) > 0.03 * 432 * 640
    result = analyse_document(frame)
    assert "glare" not in result.reasons, result.reasons


# Cream paper whose grey clips (252) while its blue channel stays well under full scale: Cb ~12
# levels off neutral, so it is no colourless white.
_CREAM = np.array([232, 255, 255], np.float32)


def _tinted(page: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """A BGR still of _page(paper=255, ...) printed on cream paper (the desk and the ink stay
    grey), with light added by weight (0-1) moving paper and print alike towards white in every
    channel, as a lamp's reflection does whatever the paper's colour."""
    grey = page.astype(np.float32)[:, :, None]
    paper = grey / 255.0
    colour = np.where(page[:, :, None] > 200, _CREAM * paper, np.repeat(grey, 3, axis=2))
    colour[page < 70] = np.repeat(grey, 3, axis=2)[page < 70]  # the desk (60) and the ink (35)
    if weight is not None:
        colour = colour + (255 - colour) * weight[:, :, None]
    return np.clip(np.round(colour), 0, 255).astype(np.uint8)


def _lamp_weight(shape: tuple[int, int], centre: tuple[int, int], core: int) -> np.ndarray:
    """A lamp's reflection as _lamp draws it: full within core px of centre, fading out beyond."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    beyond = np.maximum(np.hypot(xx - centre[0], yy - centre[1]) - core, 0.0)
    return np.exp(-((beyond / (0.4 * core)) ** 2))


def _uv(bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Y, U and V planes of a BGR frame as a decoder delivers them (I420, video range: OpenCV's
    conversion maps white to Y 235, as a VP8 stream carries it)."""
    h, w = bgr.shape[:2]
    yuv = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420)
    u = yuv[h : h + h // 4].reshape(h // 2, w // 2)
    v = yuv[h + h // 4 :].reshape(h // 2, w // 2)
    return yuv[:h], u, v


def test_a_reflection_on_tinted_paper_that_clips_is_told_by_its_lack_of_colour() -> None:
    """Cream paper clipped in grey merges with a lamp's reflection on the grey plane, so the grey
    alone reads the page as clipped paper and passes it; the reflection saturates every channel
    and is colourless, the paper keeps its tint, so with the colour the reflection is glare, in a
    still and in a live frame's U and V planes alike."""
    page = _page(paper=255, ink=35)
    plain = _tinted(page)
    assert np.median(cv2.cvtColor(plain, cv2.COLOR_BGR2GRAY)[_PAGE_BOX]) >= 250  # clipped in grey
    assert analyse_document(plain).ok, analyse_document(plain).reasons
    weight = np.zeros(page.shape, np.float32)
    weight[_PAGE_BOX] = _lamp_weight(page.shape, (640, 360), 60)[_PAGE_BOX]
    lit = _tinted(page, weight)
    assert analyse_document(cv2.cvtColor(lit, cv2.COLOR_BGR2GRAY)).ok  # the grey plane alone: not seen
    still = analyse_document(lit)
    assert still.reasons == ["glare"], still.reasons
    assert 0.03 < still.metrics.glare_ratio < 0.2
    y, u, v = _uv(lit)
    assert analyse_luma(y, uv_planes=(u, v)).reasons == ["glare"]
    y, u, v = _uv(plain)
    assert analyse_luma(y, uv_planes=(u, v)).ok


def test_tinted_paper_losing_its_tint_where_the_light_clips_it_is_no_glare() -> None:
    """Light from one side saturates every channel of a blank corner of the cream page, along two
    of its edges: colourless and clipped, but at the margin, as a light gradient leaves it; and a
    small white label on the page (under GLARE_HALO_MIN_BLOB) is no reflection either."""
    page = _page(paper=255, ink=35)
    page[430:576, 700:960] = 255  # a blank corner of the page: the print ends above and left
    h, w = page.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    weight = np.zeros(page.shape, np.float32)
    weight[_PAGE_BOX] = np.clip((xx + yy - (960 + 576 - 330)) / 150 + 1, 0, 1)[_PAGE_BOX]
    corner = _tinted(page, weight)
    assert np.count_nonzero(corner[_PAGE_BOX].min(axis=2) >= 250) > 0.03 * 432 * 640
    result = analyse_document(corner)
    assert "glare" not in result.reasons, result.reasons
    label = _tinted(_page(paper=255, ink=35))
    label[300:330, 600:650] = 255  # ~0.5% of the page, pure white
    result = analyse_document(label)
    assert result.ok, result.reasons


def test_a_white_photo_box_on_a_tinted_card_that_clips_is_no_glare(monkeypatch: pytest.MonkeyPatch) -> None:
    """The white background of an ID card's photo, on a tinted card whose paper clips in grey:
    colourless and clipped round the portrait like a reflection, but the portrait's dark edge
    stays inside its hull (a reflection lifts all the print under it). Without that test it
    would read as glare (found on held-out dev: white photo boxes of ID fronts)."""
    page = _page(paper=255, ink=35)
    page[220:420, 700:860] = 255  # the photo box's place, cleared of print
    card = _tinted(page)
    card[220:420, 700:860] = 255  # its white background
    cv2.ellipse(card, (780, 420), (40, 30), 0, 180, 360, (70, 60, 90), -1)  # shoulders
    cv2.circle(card, (780, 375), 20, (40, 40, 40), -1)  # the head's dark hair
    assert analyse_document(card).ok, analyse_document(card).reasons
    monkeypatch.setattr(thresholds, "GLARE_WHITE_MAX_HULL_INK", 1.0)
    assert analyse_document(card).reasons == ["glare"]


def test_live_frame_in_video_range_reads_like_the_still() -> None:
    """A decoder's Y plane maps white to 235: clipped paper and highlights still read as clipped."""
    frame = _page(paper=205, ink=35)
    cv2.circle(frame, (700, 360), 45, 255, -1)
    video = (16 + frame.astype(np.float32) * 219 / 255).round().astype(np.uint8)
    assert analyse_luma(video).reasons == ["glare"]


def test_video_range_stretch_is_the_table_on_every_level() -> None:
    """The fast stretch gives the rounded table's value for each of the 256 levels, in the
    vectorised body of a row and in its scalar tail alike."""
    levels = np.arange(256, dtype=np.uint8)
    for shape in ((16, 16), (1, 256), (256, 1), (2, 128)):
        image = levels.reshape(shape)
        assert np.array_equal(to_full_range(image), VIDEO_TO_FULL_RANGE[image])
    noise = np.random.default_rng(3).integers(0, 256, (361, 641), dtype=np.uint8)
    assert np.array_equal(to_full_range(noise), VIDEO_TO_FULL_RANGE[noise])


def test_a_veiled_picture_without_a_page_is_also_low_contrast() -> None:
    """A smeared lens veils and softens the page until its edges are lost: no page is found, and
    the picture's own tones, squeezed into a few grey levels, say why. no_document stays the
    first reason (the guidance still asks for the document)."""
    veiled = cv2.GaussianBlur(_page(paper=230, ink=30).astype(np.float32), (0, 0), 3) * 0.04 + 165
    veiled += np.random.default_rng(5).normal(0, 1.5, veiled.shape)  # the sensor's noise, after the veil
    veiled = np.clip(veiled, 0, 255).astype(np.uint8)
    result = analyse_document(veiled)
    assert result.reasons[0] == "no_document", result.reasons
    assert "low_contrast" in result.reasons


def test_a_desk_without_a_page_is_not_low_contrast() -> None:
    """An empty desk with things on it spans far more than a veil leaves."""
    desk = np.full((720, 1280), 110, np.uint8)
    cv2.circle(desk, (300, 300), 90, 40, -1)  # a cup
    cv2.rectangle(desk, (800, 200), (900, 420), 190, -1)  # a phone
    desk = np.clip(desk + np.random.default_rng(4).normal(0, 2.0, desk.shape), 0, 255).astype(np.uint8)
    result = analyse_document(desk)
    assert "no_document" in result.reasons and "low_contrast" not in result.reasons, result.reasons


def _reference_sharpness(roi: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """directional_sharpness written plainly: numpy's mask, calcHist with the mask."""
    count = cv2.countNonZero(mask)
    keep = -(mask != 0).astype(np.int16)
    worst, noise = float("inf"), 0.0
    for index, kernel in enumerate(_SECOND_DERIVATIVES):
        derivative = cv2.bitwise_and(cv2.filter2D(roi, cv2.CV_16S, kernel), keep)
        mean = cv2.sumElems(derivative)[0] / count
        worst = min(worst, max(cv2.norm(derivative, cv2.NORM_L2SQR) / count - mean * mean, 0.0))
        if index == 0:
            magnitude = cv2.convertScaleAbs(derivative, alpha=4)
            hist = cv2.calcHist([magnitude], [0], mask, [256], [0, 256]).ravel()
            noise = 1.4826 * float(np.searchsorted(np.cumsum(hist), 0.5 * count)) / 4
    return worst, noise


def test_region_statistics_are_those_of_the_masked_pixels_exactly() -> None:
    """The statistics' shortcuts (the noise floor's zeros outside the region taken off the first
    bin rather than a masked histogram, the mask's bytes paired into an int16 one, one cumulative
    sum) give the masked figures, bit for bit, on a tilted page whose box holds desk as well."""
    frame = cv2.resize(_page(paper=225, ink=40), (640, 360), interpolation=cv2.INTER_AREA)
    polygon = np.array([[170, 60], [480, 95], [455, 310], [150, 280]], np.float32)
    roi, mask = _region(frame, polygon)
    assert mask is not None and cv2.countNonZero(mask) < roi.size
    masked = cv2.calcHist([roi], [0], mask, [256], [0, 256]).ravel()
    assert np.array_equal(_histogram(roi, mask), masked)
    assert directional_sharpness(roi, mask) == _reference_sharpness(roi, mask)
    stats = region_stats(frame, polygon)
    assert stats.brightness == float(masked @ np.arange(256)) / masked.sum()
    assert stats.clipped == float(masked[250:].sum()) / masked.sum()


def test_a_defocused_page_in_a_clear_frame_is_blurry_not_low_contrast() -> None:
    """Defocus spreads thin grey print into its paper, so the page's own tones span little; the
    frame around it (dark desk, light page) is not veiled, so the remedy is to hold still, not to
    wipe the lens: blurry alone."""
    blurred = cv2.GaussianBlur(_page(paper=230, ink=140), (0, 0), 6)
    result = analyse_document(blurred)
    assert result.metrics.document.found
    assert result.reasons == ["blurry"], result.reasons


def test_a_veiled_blurred_page_is_still_low_contrast() -> None:
    """A smeared lens blurs and veils the whole frame: its tones are squeezed, low_contrast stays."""
    veiled = cv2.GaussianBlur(_page(paper=230, ink=140).astype(np.float32), (0, 0), 6) * 0.2 + 150
    result = analyse_document(np.clip(veiled, 0, 255).astype(np.uint8))
    assert "low_contrast" in result.reasons, result.reasons


def test_a_washed_out_frame_without_a_page_says_the_light_first() -> None:
    """A page washed out to white has lost its edges: no page is found, and the light is what the
    resident can fix, so too_bright comes before no_document."""
    frame = np.full((720, 1280), 252, np.uint8)
    frame[150:570, 320:960] = 254
    frame = np.clip(frame + np.random.default_rng(2).normal(0, 1.0, frame.shape), 0, 255).astype(np.uint8)
    result = analyse_document(frame)
    assert result.reasons[:2] == ["too_bright", "no_document"], result.reasons


def test_a_blurred_white_page_is_blurry_not_too_bright() -> None:
    """Defocus spreads thin dark print into clipped white paper, so the page's darkest tones rise
    as if washed out; the page's own border is as soft as its print, so it is blurry only. A
    washed-out page with a sharp border stays too_bright (test_washed_out_page_is_too_bright)."""
    clipped = np.clip(_page(paper=255, ink=60).astype(np.float32) * 1.15, 0, 255).astype(np.uint8)
    result = analyse_document(cv2.GaussianBlur(clipped, (0, 0), 5))
    assert result.metrics.document.found
    assert result.reasons == ["blurry"], result.reasons


def test_a_veiled_frame_whose_tones_still_span_some_range_is_low_contrast() -> None:
    """A smear leaves nothing dark: a blurred page in a frame whose darkest tones sit at ~150 is
    low_contrast. The same page in a dim frame is too dark and blurry: its squeezed tones are the
    dark's, and wiping the lens would not help."""
    page = cv2.GaussianBlur(_page(paper=230, ink=30).astype(np.float32), (0, 0), 4)
    rng = np.random.default_rng(5)
    veiled = np.clip(page * 0.2 + 145 + rng.normal(0, 1.5, page.shape), 0, 255).astype(np.uint8)
    result = analyse_document(veiled)
    assert "low_contrast" in result.reasons, result.reasons
    dim = np.clip(page * 0.2 + 20 + rng.normal(0, 1.5, page.shape), 0, 255).astype(np.uint8)
    assert analyse_document(dim).reasons == ["too_dark", "blurry"]


def test_a_clipped_id_front_with_a_portrait_on_white_is_not_glare() -> None:
    """The portrait's white background between head and shoulders clips with the card: not glare."""
    frame = np.full((720, 1280), 95, np.uint8)
    card = np.full((540, 856), 255, np.uint8)
    for line in range(7):
        for x in range(40, 440, 14):
            cv2.rectangle(card, (x, 60 + line * 55), (x + 9, 82 + line * 55), 40, -1)
    left, top, width, height = 530, 50, 250, 330
    cv2.ellipse(card, (left + width // 2, top + 110), (55, 75), 0, 0, 360, 50, -1)
    shoulders = np.array([[left + 5, top + height], [left + width - 5, top + height],
                          [left + width // 2 + 90, top + 250], [left + width // 2 - 90, top + 250]])
    cv2.fillConvexPoly(card, shoulders, 60)
    cv2.rectangle(card, (left + width // 2 - 22, top + 170), (left + width // 2 + 22, top + 255), 55, -1)
    frame[90:630, 212:1068] = card
    verdict = analyse_document(cv2.GaussianBlur(frame, (3, 3), 0))
    assert "glare" not in verdict.reasons
    assert verdict.metrics.document.found and verdict.metrics.glare_ratio < 0.01


def _printed_patch(contrast: float, blur: float) -> np.ndarray:
    """A 320x200 page of sparse print (one line of digits), at this contrast, blurred by sigma."""
    drawn = np.full((200, 320), 230, np.uint8)
    cv2.putText(drawn, "6222 0210 0112", (20, 110), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 40, 2, cv2.LINE_AA)
    page = 230.0 - (230.0 - drawn.astype(np.float32)) * contrast
    if blur:
        page = cv2.GaussianBlur(page, (0, 0), blur)
    return np.clip(page, 0, 255).astype(np.uint8)


def test_edge_crispness_holds_under_dim_light_and_falls_with_blur() -> None:
    """The ratio is the same for a page under full and dim light, and falls with a blur; the plain
    sharpness falls with the light too (why dim pages were called blurry)."""
    corners = np.array([[4, 4], [315, 4], [315, 195], [4, 195]], np.float32)

    def measure(patch: np.ndarray) -> tuple[float, float]:
        half = halve(patch)
        ratio, _ = edge_crispness(patch, corners, half)
        return ratio, region_stats(patch, corners, half=half).sharpness

    (full, full_sharp), (dim, dim_sharp) = measure(_printed_patch(1.0, 0)), measure(_printed_patch(0.4, 0))
    blurred, _ = measure(_printed_patch(1.0, 3.0))
    assert dim_sharp < full_sharp / 4  # the plain sharpness follows the contrast squared
    assert abs(dim - full) < 0.15 * full  # the crispness does not
    assert dim >= CRISP_MIN_RATIO and blurred < CRISP_MIN_RATIO / 2


def test_a_veiled_card_with_a_dark_photo_is_low_contrast_first() -> None:
    """Under a smear, a card's photograph keeps the page's own tone range wide (dark hair and
    clothes), but the frame as a whole is veiled: the smear is the cause of the blur, so wiping
    the lens comes first, not holding still (found by a probe from the docs)."""
    card = _page(paper=225, ink=30, desk=120)
    cv2.rectangle(card, (780, 220), (920, 420), 25, -1)  # the photograph's dark clothes and hair
    veil = 0.6
    smeared = cv2.GaussianBlur(card.astype(np.float32), (0, 0), 2.5) * (1 - veil) + 175 * veil
    smeared += np.random.default_rng(6).normal(0, 1.2, smeared.shape)
    result = analyse_document(np.clip(smeared, 0, 255).astype(np.uint8))
    assert result.metrics.document.found
    assert result.reasons[0] == "low_contrast", result.reasons


def _still(ink: int, blur: float) -> np.ndarray:
    """A 1080p still (BGR) of a page of print (ink on paper 225) blurred by sigma px, with noise."""
    page = _page(paper=225, ink=ink, desk=80, size=(1920, 1080)).astype(np.float32)
    if blur:
        page = cv2.GaussianBlur(page, (0, 0), blur)
    page += np.random.default_rng(1).normal(0, 1.5, page.shape)
    return cv2.cvtColor(np.clip(page, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def test_a_stills_own_blur_of_a_few_pixels_is_blurry_though_sharp_at_the_analysis_size() -> None:
    """A blur of 2 px on a 1080p still is under one pixel at the analysis size: the page passes
    MIN_SHARPNESS there (faint print keeps it near the limit), and its crispness at 960 px across
    tells the blur; a page as faint but only slightly soft is sharp at both sizes."""
    blurred = analyse_document(_still(ink=140, blur=2.0))
    assert MIN_SHARPNESS <= blurred.metrics.sharpness < CLOSE_BLUR_MAX_SHARPNESS
    assert blurred.reasons == ["blurry"]
    soft = analyse_document(_still(ink=157, blur=1.0))
    assert MIN_SHARPNESS <= soft.metrics.sharpness < CLOSE_BLUR_MAX_SHARPNESS
    assert soft.ok, soft.reasons


def test_close_up_crispness_falls_with_a_stills_blur_and_never_scales_up() -> None:
    corners = np.array([[520, 260], [1400, 260], [1400, 820], [520, 820]], np.float32)
    sharp, blurred = (cv2.cvtColor(_still(30, blur), cv2.COLOR_BGR2GRAY) for blur in (0.0, 2.5))
    assert close_up_crispness(blurred, corners, 960) < CLOSE_BLUR_MAX_RATIO < close_up_crispness(sharp, corners, 960)
    # A picture narrower than the width is measured as it is: the same ratio at any larger width.
    small = cv2.resize(sharp, (640, 360), interpolation=cv2.INTER_AREA)
    assert close_up_crispness(small, corners / 3, 960) == close_up_crispness(small, corners / 3, 4000)
