"""Cheap image statistics on the grey analysis image.

Per docs/measurements.md: an OpenCV filter into CV_32F plus cv2.meanStdDev is ~4x faster than numpy's
var(), and cv2.mean beats numpy's mean by 10x; everything runs on a ~640-wide downscale.

Sharpness is the variance of the second derivative in the *worst* of four directions (0, 45, 90,
135 degrees), not the usual isotropic variance of the Laplacian: a shaken hand blurs along one
direction only, and the edges across it keep the Laplacian high (on the synthetic set, shaken
captures reached 989 while sharp ones started at 740). The worst direction separates them 6:1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from server.quality import thresholds as t
from server.quality.colour import Chroma


def to_gray(image: np.ndarray) -> np.ndarray:
    """Return an 8-bit single-channel view of a grey, BGR or BGRA image."""
    if image.ndim == 2:
        gray = image
    elif image.ndim == 3 and image.shape[2] == 3:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    elif image.ndim == 3 and image.shape[2] == 4:
        gray = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    elif image.ndim == 3 and image.shape[2] == 1:
        gray = image[:, :, 0]
    else:
        raise ValueError(f"unsupported image shape {image.shape}")
    if gray.dtype != np.uint8:
        raise ValueError(f"expected 8-bit pixels, got {gray.dtype}")
    return gray


def downscale(gray: np.ndarray, width: int = t.ANALYSIS_WIDTH) -> tuple[np.ndarray, float]:
    """Shrink to about width pixels wide; return the image and the factor back to the original."""
    h, w = gray.shape[:2]
    if w <= width:
        return gray, 1.0
    factor = w / width
    small = cv2.resize(gray, (width, max(1, round(h / factor))), interpolation=cv2.INTER_AREA)
    return small, factor


def halve(gray: np.ndarray) -> np.ndarray:
    """gray at half its size each way (INTER_AREA: each pixel the mean of a 2x2 block), where
    document mode measures sharpness (region_stats' half)."""
    h, w = gray.shape[:2]
    return cv2.resize(gray, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)


# 1-D second-derivative kernels along x, y and the two diagonals (the Laplacian is x + y).
# Filtered into int16 (exact for these kernels on 8-bit input), ~2x faster than float32.
_SECOND_DERIVATIVES = (
    np.array([[1, -2, 1]], np.float32),
    np.array([[1], [-2], [1]], np.float32),
    np.diag(np.array([1, -2, 1], np.float32)),
    np.fliplr(np.diag(np.array([1, -2, 1], np.float32))).copy(),
)


def directional_sharpness(roi: np.ndarray, mask: np.ndarray | None = None) -> tuple[float, float]:
    """Variance of the second derivative in the direction where it is smallest, and the noise
    floor of that derivative (its robust std over the region, where flat paper dominates). mask:
    255 inside the region, 0 outside (as region_stats makes it).

    cv2.meanStdDev with a mask is the dearest way to restrict this to the region (4 calls, ~60% of
    the time); instead the mask zeroes the derivative outside the region once per direction (an
    AND with an all-ones/zero int16 image, cheaper than a multiply) and the sums come from
    cv2.sumElems and cv2.norm (L2SQR), which take no mask: the same variance, E[d^2] - E[d]^2 over
    the region, in under half the time. The noise floor is 1.4826 x the median absolute
    derivative along x (the median ignores the few pixels on strokes, the MAD of Gaussian noise
    is 0.6745 of its std).
    """
    if mask is None:
        count = roi.size
        keep = None
    else:
        count = cv2.countNonZero(mask)
        # 0 / -1 (all bits set) inside the region: the 0/255 mask's bytes paired into int16, one
        # OpenCV pass instead of three numpy ones (a compare, a cast, a negation).
        keep = cv2.merge((mask, mask)).view(np.int16).reshape(mask.shape)
    if count == 0:
        return 0.0, 0.0
    worst = float("inf")
    noise = 0.0
    for index, kernel in enumerate(_SECOND_DERIVATIVES):
        derivative = cv2.filter2D(roi, cv2.CV_16S, kernel)
        if keep is not None:
            derivative = cv2.bitwise_and(derivative, keep)
        mean = cv2.sumElems(derivative)[0] / count
        variance = cv2.norm(derivative, cv2.NORM_L2SQR) / count - mean * mean
        worst = min(worst, max(variance, 0.0))
        if index == 0:
            noise = _noise_floor(derivative, count)
    return worst, noise


# 1-D central first-derivative kernels in the same four directions.
_FIRST_DERIVATIVES = (
    np.array([[-1, 0, 1]], np.float32),
    np.array([[-1], [0], [1]], np.float32),
    np.diag(np.array([-1, 0, 1], np.float32)),
    np.fliplr(np.diag(np.array([-1, 0, 1], np.float32))).copy(),
)


def edge_crispness(gray: np.ndarray, polygon: np.ndarray | None, half: np.ndarray,
                   step: int = 1) -> tuple[float, float]:
    """How crisp the region's edges are, whatever their contrast and however much print it holds:
    in the direction where it is smallest, the second derivative's energy over the first's (each
    less its noise floor), on the halved image as the sharpness. A blur of width s spreads every
    edge s times wider: the first derivative's energy falls as 1/s, the second's as 1/s^3, so the
    ratio falls as 1/s^2; dimming the light or a page with little print scales both alike.
    Returns (ratio, first-derivative energy): the ratio means little where that energy is small
    (a blank region). Used only for pages whose plain sharpness is low (analyser), and for a
    whole frame without a page (polygon None), where step > 1 reads every step-th derivative sample in each
    direction (the energies and noise floors of a frame's ~57,000 samples need not all of them:
    the medians were most of the cost)."""
    scaled = None if polygon is None else polygon * np.float32(half.shape[1] / gray.shape[1])
    roi, mask = _region(half, scaled)
    inside = (np.ones(roi.shape, bool) if mask is None else mask > 0)[::step, ::step]
    if not inside.any():
        return 0.0, 0.0
    best = (float("inf"), 0.0)
    for first_kernel, second_kernel in zip(_FIRST_DERIVATIVES, _SECOND_DERIVATIVES, strict=True):
        first = cv2.filter2D(roi, cv2.CV_32F, first_kernel)[::step, ::step][inside]
        second = cv2.filter2D(roi, cv2.CV_32F, second_kernel)[::step, ::step][inside]
        first_noise = 1.4826 * float(np.median(np.abs(first)))
        second_noise = 1.4826 * float(np.median(np.abs(second)))
        first_energy = max(float(first.var()) - first_noise ** 2, 0.0)
        second_energy = max(float(second.var()) - second_noise ** 2, 0.0)
        ratio = second_energy / first_energy if first_energy > 0 else 0.0
        if ratio < best[0]:
            best = (ratio, first_energy)
    return best


def close_up_crispness(gray: np.ndarray, polygon: np.ndarray, width: int) -> float:
    """edge_crispness's ratio of the region polygon (N x 2, in gray's pixels) on gray scaled down
    to at most width pixels across (never up): a blur of a still's own few pixels vanishes at the
    analysis size, where 3 of them are one, and smears print at the still's resolution all the
    same. Only the region's bounding box is scaled, so a small page costs less than a big one."""
    x, y, w, h = cv2.boundingRect(np.round(polygon).astype(np.int32))
    x, y = max(x, 0), max(y, 0)
    crop = gray[y : y + h, x : x + w]
    if crop.size == 0:
        return 0.0
    scale = min(1.0, width / gray.shape[1])
    if scale < 1.0:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    # Every other derivative sample each way: the same ratio (within ~1% on the pages measured)
    # at a third of the cost, most of which is the medians of the noise floors.
    ratio, _ = edge_crispness(crop, (polygon - (x, y)).astype(np.float32) * np.float32(scale), crop, step=2)
    return ratio


def _noise_floor(derivative: np.ndarray, count: int) -> float:
    """Robust std (1.4826 x median absolute value) of a derivative image over the count pixels
    of its region (the derivative zeroed outside it, when the region is not the whole image)."""
    # Quarter-level steps: after the downscale the noise is often under one grey level.
    magnitude = cv2.convertScaleAbs(derivative, alpha=_NOISE_STEPS)
    # No mask: the zeros outside the region all land in the first bin and are taken off it, the
    # same histogram as with the mask, without calcHist's per-pixel mask test.
    hist = cv2.calcHist([magnitude], [0], None, [256], [0, 256]).ravel()
    hist[0] -= derivative.size - count
    median = float(np.searchsorted(np.cumsum(hist), 0.5 * count)) / _NOISE_STEPS
    return 1.4826 * median


_NOISE_STEPS = 4


@dataclass(frozen=True)
class RegionStats:
    """Statistics of one region of the analysis image."""

    sharpness: float  # variance of the second derivative in its weakest direction, less the noise's
    brightness: float  # mean grey
    contrast: float  # standard deviation of grey
    clipped: float  # share of clipped pixels
    glare_ratio: float  # share of the region in compact clipped blobs (specular highlights)
    dark_end: float = 0.0  # grey level below which DARK_END_SHARE of the pixels lie (ink, shadow)
    bright_end: float = 0.0  # grey level above which BRIGHT_END_SHARE lie (paper, light print)
    noise: float = 0.0  # robust estimate of the second derivative's noise (its std in flat areas)


def region_stats(gray: np.ndarray, polygon: np.ndarray | None = None, *, half: np.ndarray | None = None,
                 colour: Chroma | None = None) -> RegionStats:
    """Measure gray inside polygon (N x 2, analysis pixels), or over the whole image when None.

    Work is done on the polygon's bounding box only, so a small page costs less than a big one.
    With half (gray halved in each direction with INTER_AREA, document mode) the sharpness is
    measured on it (thresholds.MIN_SHARPNESS): a quarter of the pixels for the four directional
    filters, the dearest part of the statistics. With colour (the frame's chroma) a reflection on
    tinted paper that the exposure clips is told from that paper by its lack of colour
    (compact_highlights).
    """
    roi, mask, origin = _region_at(gray, polygon)
    hist = _histogram(roi, mask)
    brightness, contrast = _mean_std(hist)
    measured = gray
    if half is not None:
        w = gray.shape[1]
        scaled = None if polygon is None else polygon * np.float32(half.shape[1] / w)
        measured = half
        roi, mask, origin = _region_at(half, scaled)
    worst, noise = directional_sharpness(roi, mask)
    # Detail above the frame's own noise floor: noise adds its variance to every direction alike.
    sharpness = max(worst - noise * noise, 0.0)
    # One cumulative sum gives the pixel count, the clipped share and both tone ends.
    cumulative = np.cumsum(hist)
    total = float(cumulative[-1])
    clipped = (total - float(cumulative[t.GLARE_LEVEL - 1])) / max(total, 1.0)
    return RegionStats(
        sharpness=sharpness,
        brightness=brightness,
        contrast=contrast,
        clipped=clipped,
        glare_ratio=compact_highlights(roi, mask, _tint_of(colour, measured.shape[:2], origin, roi.shape))
        if clipped >= t.MAX_GLARE_RATIO else 0.0,
        dark_end=level_at(cumulative, t.DARK_END_SHARE),
        bright_end=level_at(cumulative, 1.0 - t.BRIGHT_END_SHARE),
        noise=noise,
    )


def _tint_of(colour: Chroma | None, shape: tuple[int, int], origin: tuple[int, int],
             size: tuple[int, ...]) -> Callable[[], np.ndarray] | None:
    """A maker of the tint map (the larger of the two chroma planes' distances from neutral, 128)
    over the box at origin of the given size in an image of shape, or None without colour; made
    only when compact_highlights asks for it."""
    if colour is None:
        return None
    source = colour

    def tint() -> np.ndarray:
        x, y = origin
        h, w = size[:2]
        out = np.zeros((h, w), np.uint8)
        for plane in source.sampled(shape):
            box = plane[y : y + h, x : x + w]
            cv2.max(out, cv2.absdiff(box, np.full_like(box, 128)), dst=out)
        return out

    return tint


def _region(gray: np.ndarray, polygon: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """The bounding box of polygon in gray and the polygon's mask in it (255 inside); the whole
    image and None without a polygon, or when the polygon covers no pixel."""
    roi, mask, _ = _region_at(gray, polygon)
    return roi, mask


def _region_at(gray: np.ndarray, polygon: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None, tuple[int, int]]:
    """_region, with the top-left corner of the returned box in gray."""
    if polygon is None:
        return gray, None, (0, 0)
    x, y, w, h = cv2.boundingRect(polygon.astype(np.int32))
    x, y = max(x, 0), max(y, 0)
    roi = gray[y : y + h, x : x + w]
    if roi.size == 0:
        return gray, None, (0, 0)
    mask = np.zeros(roi.shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(polygon - (x, y)).astype(np.int32), 255)
    if cv2.countNonZero(mask) == 0:
        return roi, None, (x, y)
    return roi, mask, (x, y)


_LEVELS = np.arange(256, dtype=np.float64)


def _histogram(roi: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Grey histogram of roi (inside mask when given): mean, spread, clipped share and the tone
    ends all come from it, exactly (the pixels are integers). calcHist's own mask: zeroing the
    outside with one AND and taking it off the first bin of an unmasked histogram (as the noise
    floor does) cost more here (~81 us against ~71 us per bench frame at 720p)."""
    return cv2.calcHist([roi], [0], mask, [256], [0, 256]).ravel().astype(np.float64)


def _mean_std(hist: np.ndarray) -> tuple[float, float]:
    count = float(hist.sum())
    if count == 0:
        return 0.0, 0.0
    average = float(hist @ _LEVELS) / count
    variance = float(hist @ (_LEVELS - average) ** 2) / count
    return average, variance**0.5


def tone_ends(gray: np.ndarray) -> tuple[float, float]:
    """The whole image's dark end and bright end (the levels below which DARK_END_SHARE and above
    which BRIGHT_END_SHARE of its pixels lie)."""
    cumulative = cumulative_histogram(gray, None)
    return level_at(cumulative, t.DARK_END_SHARE), level_at(cumulative, 1.0 - t.BRIGHT_END_SHARE)


def border_sharpness(gray: np.ndarray, corners: np.ndarray) -> float | None:
    """How sharp the page's own border is: across each side of the outline corners (analysis
    pixels) at BORDER_PROFILES points from 20% to 80% of its length, a grey profile
    BORDER_REACH px either way; where the profile steps by at least BORDER_MIN_STEP between its
    ends (paper against desk), its steepest one-pixel change over the whole step (about 1 for a
    step one or two pixels wide, smaller the wider a blur spreads it). The median over those
    profiles, or None when fewer than BORDER_MIN_PROFILES step (the page's border washed into the
    desk, or a page of the desk's tone)."""
    c = np.asarray(corners, np.float32)
    ends = np.roll(c, -1, axis=0)
    along = ends - c
    length = np.hypot(along[:, 0], along[:, 1])[:, None]
    normal = np.stack([-along[:, 1], along[:, 0]], axis=1) / np.maximum(length, 1e-6)
    # Outward normals (any direction works for a step's size, but keep profiles comparable).
    outward = np.sign(np.sum(((c + ends) / 2 - c.mean(axis=0)) * normal, axis=1, keepdims=True))
    normal *= np.where(outward == 0, 1.0, outward)
    share = np.linspace(0.2, 0.8, t.BORDER_PROFILES, dtype=np.float32)
    points = c[:, None, :] + along[:, None, :] * share[None, :, None]  # sides x profiles x 2
    offsets = np.arange(-t.BORDER_REACH, t.BORDER_REACH + 1, dtype=np.float32)
    samples = points[:, :, None, :] + offsets[None, None, :, None] * normal[:, None, None, :]
    samples = samples.reshape(-1, len(offsets), 2)
    profiles = cv2.remap(gray.astype(np.float32), np.ascontiguousarray(samples[:, :, 0]),
                         np.ascontiguousarray(samples[:, :, 1]), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    step = np.abs(profiles[:, -3:].mean(axis=1) - profiles[:, :3].mean(axis=1))
    steepest = np.abs(np.diff(profiles, axis=1)).max(axis=1)
    stepping = step >= t.BORDER_MIN_STEP
    if int(stepping.sum()) < t.BORDER_MIN_PROFILES:
        return None
    return float(np.median(steepest[stepping] / step[stepping]))


def cumulative_histogram(plane: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """The running pixel count of plane's 256 levels (inside mask when given): level_at reads
    tone levels from it, exactly (the pixels are integers)."""
    return np.cumsum(_histogram(plane, mask))


def tone_distance(plane: np.ndarray, first: np.ndarray, second: np.ndarray) -> float:
    """The earth mover's distance (in levels) between the histograms of plane (8-bit) inside mask
    first and inside mask second: the area between their cumulative shares."""
    shares = [cumulative_histogram(plane, mask) for mask in (first, second)]
    return float(np.abs(shares[0] / shares[0][-1] - shares[1] / shares[1][-1]).sum())


def level_at(cumulative: np.ndarray, share: float) -> float:
    """The grey level below which share of the pixels lie (cumulative: the histogram's cumsum)."""
    if cumulative[-1] == 0:
        return 0.0
    return float(np.searchsorted(cumulative, share * cumulative[-1]))


def compact_highlights(roi: np.ndarray, mask: np.ndarray | None,
                       tint: Callable[[], np.ndarray] | None = None) -> float:
    """Share of the region covered by compact clipped blobs on paper that is not clipped itself:
    a lamp's reflection.

    A specular highlight clips everything under it, print included, into one solid island inside
    the page, on paper that elsewhere stays below full scale. Paper that the exposure pushed to
    full scale is clipped too, and its blank stretches are as solid as a reflection, but they run
    out to the page's margins or cover much of it, and the paper between the print is clipped as
    well: that is exposure (judged by the ink, see analyser), not glare. So: a morphological
    opening with a disk GLARE_BLOB_RADIUS of the region's size across keeps the solid blobs; a
    blob counts when it stays clear of the region's edge and covers at most GLARE_MAX_BLOB of
    it; and when more than GLARE_PAPER_CLIPPED of the region is clipped outside them, only an
    island of at least GLARE_HALO_MIN_BLOB of the region that is ringed by unclipped paper
    (_fades_out) counts: a reflection on a page that the exposure clips elsewhere. (A reflection
    whose surroundings are clipped as well merges with them and is not seen in grey.)

    tint, when given, makes the tint map over roi (the larger distance of the two chroma planes
    from neutral); pixels within GLARE_WHITE_CHROMA of neutral are colourless. Where the paper is
    clipped and nothing was found, the search runs again on the pixels clipped in grey that are
    colourless too: a reflection saturates every channel of the sensor, so it is white whatever
    the paper's colour, while cream paper, or white paper under a warm or cool light, keeps its
    tint where only its grey clips. On that map the paper drops out and the reflection is an
    island again. (Neutral paper under neutral light stays clipped on both maps: there the
    merged reflection is still not seen.)
    """
    area = roi.size if mask is None else cv2.countNonZero(mask)
    if area == 0:
        return 0.0
    _, clipped = cv2.threshold(roi, t.GLARE_LEVEL - 1, 255, cv2.THRESH_BINARY)
    if mask is None:
        mask = np.full(roi.shape, 255, np.uint8)
    clipped = cv2.bitwise_and(clipped, mask)
    share, paper_clipped = _clipped_islands(clipped, mask, area, roi)
    if share == 0.0 and paper_clipped and tint is not None:
        tints = tint()
        _, colourless = cv2.threshold(tints, t.GLARE_WHITE_CHROMA, 255, cv2.THRESH_BINARY_INV)
        cv2.bitwise_and(clipped, colourless, dst=colourless)
        # Only where the paper's tint took a share of the clipped pixels off: otherwise the same
        # map, and the same answer.
        if cv2.countNonZero(clipped) - cv2.countNonZero(colourless) > t.GLARE_PAPER_CLIPPED * area:
            share, _ = _clipped_islands(colourless, mask, area, roi, colourless=True)
    return share


def _clipped_islands(clipped: np.ndarray, mask: np.ndarray, area: int, grey: np.ndarray, *,
                     colourless: bool = False) -> tuple[float, bool]:
    """compact_highlights on a map of clipped pixels (255) within mask (area pixels) of the
    region whose grey pixels are grey: the share of the region in reflections, and whether the
    paper was found clipped (more than GLARE_PAPER_CLIPPED of the region clipped outside the
    islands). colourless: clipped is the colourless map, where only islands clear of the margin
    that look like a reflection count (see below). On the grey map, an island whose hull holds
    print that kept its contrast (over GLARE_MAX_HULL_INK of it darker than GLARE_WHITE_INK_LEVEL)
    is no reflection: a lamp's reflection lifts everything under its clipped core, while paper
    that a bright light clips between the print lines leaves the print dark (a certificate's
    title, a portrait's clothes beside its clipped white box)."""
    radius = max(1, round(t.GLARE_BLOB_RADIUS * area**0.5))
    # The opening is found where the clipped pixels are: their bounding box widened by more than
    # the disk's radius holds every pixel the erosion and the dilation can set, and there the
    # crop's edge lies further than the radius from any clipped pixel, so the result is the whole
    # region's, pixel for pixel (the non-rectangular kernel's morphology was the dearest part).
    x, y, w, h = cv2.boundingRect(clipped)
    if w == 0:
        return 0.0, False
    pad = radius + 1
    x0, y0 = max(x - pad, 0), max(y - pad, 0)
    x1, y1 = min(x + w + pad, clipped.shape[1]), min(y + h + pad, clipped.shape[0])
    crop = clipped[y0:y1, x0:x1]
    # A disk holds the square inscribed in it: where that square's erosion (separable, cheap)
    # leaves nothing, so does the disk's, and no blob is solid enough to be a reflection.
    side = 2 * int(radius / 2**0.5) + 1
    if cv2.countNonZero(cv2.erode(crop, cv2.getStructuringElement(cv2.MORPH_RECT, (side, side)))) == 0:
        return 0.0, False
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    solid = cv2.morphologyEx(crop, cv2.MORPH_OPEN, kernel)
    if cv2.countNonZero(solid) == 0:
        return 0.0, False
    # A blob touching this edge zone reaches the page's margin: blank paper, not an island.
    # (A square for the zone: separable, so cheap; the exact shape of the zone does not matter.)
    square = cv2.getStructuringElement(cv2.MORPH_RECT, kernel.shape[::-1])
    edge_zone = cv2.bitwise_not(cv2.erode(mask, square, borderType=cv2.BORDER_CONSTANT, borderValue=0))
    edge_zone = edge_zone[y0:y1, x0:x1]
    count, labels, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    touching = set(np.unique(labels[(edge_zone > 0) & (labels > 0)]).tolist())
    inside = [i for i in range(1, count) if i not in touching]
    kept = [i for i in inside if stats[i, cv2.CC_STAT_AREA] <= t.GLARE_MAX_BLOB * area]

    grey_crop = grey[y0:y1, x0:x1]
    if colourless:
        # On the colourless map the tinted paper is gone, and with it the clipped paper's blank
        # stretches that the hull limit keeps out on grey. A reflection's clipped core fades
        # through a rim where the print is only partly erased, which its hull takes in: an island
        # clear of the margin counts when it is large enough to hide several lines of print, its
        # hull is mostly colourless and clipped and holds no print that kept its contrast (a
        # white photo box takes in the portrait's dark edge), and it fades into the paper
        # (GLARE_WHITE_*). Islands at the margin or over GLARE_MAX_BLOB do not count here: a
        # white panel printed on a tinted card is colourless and clipped too, and reaches the
        # card's edge or covers much of it.
        whites = sum(int(stats[i, cv2.CC_STAT_AREA]) for i in kept
                     if stats[i, cv2.CC_STAT_AREA] >= t.GLARE_WHITE_MIN_BLOB * area
                     and _hides_print(labels, i, stats[i], crop, grey_crop, t.GLARE_WHITE_MAX_HULL_PRINT,
                                      t.GLARE_WHITE_MAX_HULL_INK)
                     and _fades_out(labels, i, stats[i], (x0, y0), clipped, mask))
        return whites / area, True

    def reflection(i: int) -> bool:
        """Whether island i hides what is under it and fades out like a lamp's reflection (in
        that order: a large panel fails the first, and the second's dilation by the island's
        radius is the dearer test)."""
        return _hides_print(labels, i, stats[i], crop, grey_crop, t.GLARE_MAX_HULL_PRINT, t.GLARE_MAX_HULL_INK) \
            and _fades_out(labels, i, stats[i], (x0, y0), clipped, mask)

    # An island larger than GLARE_MAX_BLOB is broadly clipped paper (a card's white panel) unless
    # it is a reflection: a lamp close over a glossy card clips a quarter of it or more, in one
    # patch that fades out into the paper around it and holds no print (a panel holds its print).
    large = sum(int(stats[i, cv2.CC_STAT_AREA]) for i in inside
                if stats[i, cv2.CC_STAT_AREA] > t.GLARE_MAX_BLOB * area and reflection(i))
    # A blob that reaches the margin is blank paper as a rule, unless it also reaches deep into
    # the page and is a reflection: a lamp's spot near the edge, a band of light across a card.
    large += sum(int(stats[i, cv2.CC_STAT_AREA]) for i in touching
                 if stats[i, cv2.CC_STAT_AREA] >= t.GLARE_HALO_MIN_BLOB * area
                 and _reaches_in(labels, i, stats[i], (x0, y0), mask, area) and reflection(i))
    islands = sum(int(stats[i, cv2.CC_STAT_AREA]) for i in kept)
    if cv2.countNonZero(clipped) - islands - large > t.GLARE_PAPER_CLIPPED * area:
        # Clipped paper: only a large island that fades out like a lamp's reflection counts.
        haloed = sum(int(stats[i, cv2.CC_STAT_AREA]) for i in kept
                     if stats[i, cv2.CC_STAT_AREA] >= t.GLARE_HALO_MIN_BLOB * area and reflection(i))
        return (haloed + large) / area, True
    if islands + large >= t.MAX_GLARE_RATIO * area:
        # Only where they would make glare: the print test of each island is the dearer part.
        islands = sum(int(stats[i, cv2.CC_STAT_AREA]) for i in kept
                      if _hull_ink(labels, i, stats[i], grey_crop) <= t.GLARE_MAX_HULL_INK)
    return (islands + large) / area, False


def _reaches_in(labels: np.ndarray, index: int, box: np.ndarray, origin: tuple[int, int],
                mask: np.ndarray, area: int) -> bool:
    """Whether the blob labels == index (of the crop at origin in mask), which touches the page's
    margin zone, is an island cut by the page's edge rather than the margin's paper: it holds a
    pixel at least GLARE_MARGIN_DEPTH of the page's size (square root of its area) from the
    page's edge (deeper than a blank margin clipped by the light), and at most
    GLARE_MARGIN_EDGE_SHARE of its outline runs along that edge (a lamp's spot or a band of light
    is cut by the edge over a chord; paper clipped by a light gradient, or a card's white panel,
    runs along it)."""
    x, y, w, h = (int(v) for v in box[:4])
    x, y = x + origin[0], y + origin[1]  # the blob's box in mask
    # The distance to the page's edge, with the frame's edge counted as the page's edge too.
    padded = cv2.copyMakeBorder(mask, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    distance = cv2.distanceTransform(padded, cv2.DIST_L2, 3)[1 + y : 1 + y + h, 1 + x : 1 + x + w]
    blob = np.zeros((h + 2, w + 2), np.uint8)  # a border of 0 closes the outline at the box's edge
    blob[1:-1, 1:-1][labels[y - origin[1] : y - origin[1] + h, x - origin[0] : x - origin[0] + w] == index] = 255
    if not np.any(distance[blob[1:-1, 1:-1] > 0] >= t.GLARE_MARGIN_DEPTH * area**0.5):
        return False
    contours, _ = cv2.findContours(blob, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    outline = max(contours, key=cv2.contourArea)[:, 0, :] - 1
    along_edge = distance[outline[:, 1], outline[:, 0]] <= _EDGE_DISTANCE
    return bool(np.mean(along_edge) <= t.GLARE_MARGIN_EDGE_SHARE)


# An outline pixel this close to the page's edge (in pixels of the distance transform) lies on it.
_EDGE_DISTANCE = 1.5


def _hides_print(labels: np.ndarray, index: int, box: np.ndarray, clipped: np.ndarray, grey: np.ndarray,
                 limit: float, max_ink: float) -> bool:
    """Whether the blob labels == index (of the opened clipped crop, whose grey pixels are grey)
    hides what lies under it: inside its outline (its convex hull) at most limit is unclipped and
    at most max_ink is darker than GLARE_WHITE_INK_LEVEL. A lamp's reflection clips everything
    under it, print included, in one compact patch, and lifts all the print in its rim; on paper
    that the exposure clips, a blank stretch between strokes or a printed white box with the
    photo cut into it wraps round what stays dark, which its hull then holds."""
    inside, (x, y, w, h) = _hull_of(labels, index, box)
    size = cv2.countNonZero(inside)
    unclipped = size - cv2.countNonZero(cv2.bitwise_and(clipped[y : y + h, x : x + w], inside))
    return unclipped <= limit * size and _ink_share(inside, grey[y : y + h, x : x + w]) <= max_ink


def _hull_ink(labels: np.ndarray, index: int, box: np.ndarray, grey: np.ndarray) -> float:
    """Share of the blob labels == index's convex hull darker than GLARE_WHITE_INK_LEVEL in grey
    (the crop's grey pixels): print under it that kept half its contrast."""
    inside, (x, y, w, h) = _hull_of(labels, index, box)
    return _ink_share(inside, grey[y : y + h, x : x + w])


def _hull_of(labels: np.ndarray, index: int, box: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The filled convex hull (0/255, the size of the blob's box) of the blob labels == index,
    with that box (x, y, w, h in the crop)."""
    x, y, w, h = (int(v) for v in box[:4])
    blob = np.zeros((h, w), np.uint8)
    blob[labels[y : y + h, x : x + w] == index] = 255
    contours, _ = cv2.findContours(blob, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    inside = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(inside, hull, 255)
    return inside, (x, y, w, h)


def _ink_share(inside: np.ndarray, grey: np.ndarray) -> float:
    """Share of the mask inside (0/255) whose grey pixels are darker than GLARE_WHITE_INK_LEVEL."""
    _, ink = cv2.threshold(grey, t.GLARE_WHITE_INK_LEVEL - 1, 255, cv2.THRESH_BINARY_INV)
    return cv2.countNonZero(cv2.bitwise_and(ink, inside)) / max(cv2.countNonZero(inside), 1)


def _fades_out(labels: np.ndarray, index: int, box: np.ndarray, origin: tuple[int, int],
               clipped: np.ndarray, mask: np.ndarray) -> bool:
    """Whether the clipped blob labels == index (labels of the crop at origin in clipped) is
    ringed by unclipped paper: a specular highlight's intensity falls off smoothly past its
    clipped core, so most of a band as wide as the blob's radius around it stays under full
    scale, even where other parts of the page (a white panel, the bright side of a light
    gradient) clip; a blank stretch of paper that the exposure clipped goes on clipped between
    the print lines around it."""
    x, y, w, h = (int(v) for v in box[:4])
    x, y = x + origin[0], y + origin[1]  # the blob's box in clipped
    radius = max(1, round((int(box[cv2.CC_STAT_AREA]) / np.pi) ** 0.5))
    y0, x0 = max(y - radius, 0), max(x - radius, 0)
    window = (slice(y0, y + h + radius), slice(x0, x + w + radius))
    blob = np.zeros(clipped[window].shape, np.uint8)
    inner = labels[y - origin[1] : y - origin[1] + h, x - origin[0] : x - origin[0] + w]
    blob[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = inner == index
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    band = (cv2.dilate(blob, kernel) > 0) & (blob == 0) & (mask[window] > 0)
    size = int(np.count_nonzero(band))
    return size > 0 and bool(np.count_nonzero(clipped[window][band]) <= t.GLARE_HALO_MAX_CLIPPED * size)


def coarse_structure(gray: np.ndarray) -> float:
    """Variance of the Laplacian on a thumbnail: shapes in the scene, with sensor noise averaged out."""
    thumb, _ = downscale(gray, t.STRUCTURE_WIDTH)
    _, std = cv2.meanStdDev(cv2.Laplacian(thumb, cv2.CV_32F))
    return float(std[0, 0]) ** 2
