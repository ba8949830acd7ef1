"""Every tuned number of the quality check, in one place, with the reason for its value.

Document-mode values were tuned on the train and validation splits of the broad synthetic set
(tests/quality_fixtures/world.py; 400 + 200 scenes), never on its test split, and are measured on
the analysis image: grey, downscaled to ANALYSIS_WIDTH (a decoder's video-range Y plane stretched
to full range first). docs/quality.md lists the test split's shares; re-run
scripts/make_quality_set.py on train/validation after changing anything here.
"""

from __future__ import annotations

# Analysis size. 640 wide keeps a 720p frame under ~2 ms of work while an ID card held at reading
# distance still spans 250+ px, enough for edges and blur; larger inputs are shrunk with INTER_AREA,
# which also averages away most sensor noise before the Laplacian sees it.
ANALYSIS_WIDTH = 640

# --- sharpness: variance of the second derivative in its weakest direction (see metrics.py) ---
# Document mode measures it on the analysis image halved (320 wide; a quarter of the filter work),
# minus the variance the frame's own noise puts into it (metrics.directional_sharpness). On the
# train + validation splits, good pages (slightly soft ones, VP8 at 0.5 bit/pixel/s and thin-lined
# A4 forms at 1080p included) measure >= 155 where the page is found; defocus (disk 6-12 px at
# 720p) and shake (18-38 px) <= 71. 105 is about the geometric mean. (The former 210, tuned on the
# legacy set, rejected ~5% of the broad set's good pages.)
MIN_SHARPNESS = 105.0
# A page under MIN_SHARPNESS is still sharp when its edges are crisp (metrics.edge_crispness: the
# second derivative's energy over the first's in its weakest direction, which the light does not
# change): train + validation defocused and shaken pages measure <= 0.65 (all but two <= 0.60),
# good pages >= 0.95 (5th percentile); sharp pages drawn by other means under dim light (0.3-0.45
# of normal: a white card, a green card, a red cover) 0.79-1.04, one sparse line of anti-aliased
# digits 0.74 at any contrast (0.57 once blurred by a 0.7 px Gaussian). The ratio also depends on
# the print (the size of its strokes), so it only rescues: a page under MIN_SHARPNESS is blurry
# unless it reaches this. Where the first derivative's energy is under CRISP_MIN_EDGE_ENERGY the
# region is nearly blank and the ratio means little.
CRISP_MIN_RATIO = 0.70
CRISP_MIN_EDGE_ENERGY = 10.0
# A still's page of borderline sharpness (under CLOSE_BLUR_MAX_SHARPNESS) is blurry all the same
# when its crispness ratio (metrics.edge_crispness) is under CLOSE_BLUR_MAX_SMALL_RATIO at the
# analysis size and under CLOSE_BLUR_MAX_RATIO at up to CLOSE_BLUR_WIDTH px across
# (metrics.close_up_crispness): a blur of a 1080p still's own 2-4 px is a third of that at the
# analysis size and passes MIN_SHARPNESS. Measured on pages of 105-210 at the analysis size:
# held-out dev 0-2879, such blurred pages 0.16-0.36 at the analysis size and 0.033-0.19 close up;
# good pages of train, validation, dev and 480 good scenes of the benchmark's own seed close up
# >= 0.22 (a marriage certificate's fine print, whose ratio at the analysis size is 0.87-1.05;
# dev's good pages there >= 0.67 but for a small A4 form at 0.18, 1.30 close up). 0.5 and 0.2
# are about the geometric means of the nearest values on either side.
CLOSE_BLUR_MAX_SHARPNESS = 2 * MIN_SHARPNESS
CLOSE_BLUR_MAX_SMALL_RATIO = 0.5
CLOSE_BLUR_WIDTH = 960
CLOSE_BLUR_MAX_RATIO = 0.2
# A frame where no page was found is blurred as a whole (blurry, before no_document) when its
# edges hold at least FRAME_BLUR_MIN_EDGE_ENERGY of first-derivative energy at a crispness ratio
# (edge_crispness over the whole frame, every other sample each way) under FRAME_BLUR_MAX_RATIO.
# Train, validation and 1,280 extra scenes of their seeds, frames without a page: motion- or
# defocus-blurred pages 0.045-0.17 at energies 63-218 (two more at energy 0 and 13 are too soft
# to tell from a plain desk); frames of other kinds under a ratio of 0.2 had energies <= 35,
# those of energy >= 50 ratios >= 0.39.
FRAME_BLUR_MAX_RATIO = 0.2
FRAME_BLUR_MIN_EDGE_ENERGY = 50.0
# Camera mode looks at a whole room, which has fewer fine edges than a page of text: good room
# views measure >= ~70, a defocused lens <= ~15.
MIN_SHARPNESS_CAMERA = 30.0

# --- exposure of a whole picture (camera mode, and frames without a page): mean grey level ---
# Above this mean the picture is washed out (also the device health ramp's upper end).
MAX_BRIGHTNESS = 228.0
# Camera mode: a room is darker than a page; below this faces and documents lose detail.
MIN_BRIGHTNESS_CAMERA = 45.0
# A picture with this share of its pixels clipped is overexposed (camera mode).
OVEREXPOSED_CLIPPED_RATIO = 0.35

# --- tone ends of the page: what print and paper look like, whatever their colours ---
# The dark end is the grey level below which this share of the page lies (ink, dark print, or a
# dark card's ground); the bright end the level above which this share lies (paper, light print).
DARK_END_SHARE = 0.01
BRIGHT_END_SHARE = 0.01

# A page is too dark when even its bright end (paper, or a dark card's light print) stays under
# this. Train + validation splits (600 scenes): good pages >= 132, the dark corruption (12-28% of
# the light) <= 71; 97 is about their geometric mean.
MIN_BRIGHT_END = 97.0
# A page is too bright when its bright end is at the ceiling (>= WASHED_BRIGHT_END) and even its
# dark end (ink) is lifted to MAX_DARK_END. Train + validation: good pages <= 162 (a household page's
# thin red ink, blended at 640 wide, under paper clipped by auto-exposure), washed-out pages
# (every print tone lifted to >= 70% of full scale) >= 180 where the page is found.
MAX_DARK_END = 170.0
WASHED_BRIGHT_END = 240.0
# Print must stand out from its ground by at least this many grey levels (bright end - dark end):
# good pages >= 74, a smeared lens (75-88% veil) <= 49 on train + validation. A small outline
# (under MIN_DOCUMENT_COVERAGE) whose range stays under it has no print at all: a sticky note, a
# phone, a cup's rim, read as no_document (train + validation: 8 of 15 desk-only scenes that had
# read document_too_small; one far-away certificate lost its document_too_small).
MIN_TONE_RANGE = 60.0
# With no page found, the whole frame's tones (its 1% dark end to its 1% bright end) spanning
# less than this is a veiled picture, also reported as low_contrast. Train + validation frames
# read as no_document: a smeared lens (75-88% veil) 10 and 21 (one more at 50), desk-only scenes
# >= 34, washed-out frames 5-38 (too_bright already).
FRAME_MIN_TONE_RANGE = 30.0
# A veiled frame (a smeared lens scatters light over the whole picture): its tones span less than
# FRAME_VEILED_TONE_RANGE and even its darkest 1% is at least FRAME_VEILED_DARK_END, nothing in it
# stays dark. Train + validation frames: smeared 10-56 in range and 119-167 at the dark end; every
# other frame of the haze's neighbours (defocus, motion, dark, good) at most 103 at the dark end,
# defocused and shaken ones 128-208 in range (one dim shaken page 49), dark ones 21-85.
# A blurred page loses tone range too (defocus or shake spreads thin print into its paper), and so
# does a page in a dark frame: on a blurry page whose tones span less than MIN_TONE_RANGE,
# low_contrast ("wipe the lens") is reported only when the frame is veiled. Without a page, a
# veiled frame is low_contrast too (besides FRAME_MIN_TONE_RANGE), unless it is too_bright.
FRAME_VEILED_TONE_RANGE = 90.0
FRAME_VEILED_DARK_END = 111.0
# A blurred white page can read as washed out too: its thin dark print, spread into clipped paper,
# no longer reaches its ink, so its dark end rises past MAX_DARK_END. The page's own border tells
# them apart: blur widens that step as it widens the print, exposure does not (metrics.
# border_sharpness, the median steepest one-pixel change across the border over the whole step).
# A page both too_bright and blurry whose border is softer than this is blurry only. Train +
# validation, pages read too_bright and blurry: defocused or shaken 0.16-0.21, washed out 0.40-1.55
# or no measurable border (washed into the desk); good pages 0.26-2.3, most 0.45-0.85.
MIN_BORDER_SHARPNESS = 0.3
BORDER_PROFILES = 12  # per side
BORDER_REACH = 8  # analysis pixels either way across the border
BORDER_MIN_STEP = 20.0  # grey levels between a profile's ends for it to cross the border
BORDER_MIN_PROFILES = 12  # profiles that must step (a quarter of them)
# A small outline (under MIN_DOCUMENT_COVERAGE) is a blank object, not a far-away document, when its
# tones span less than this: held far away, a document's print still stands out from its ground,
# while a sticky note, a phone's dark glass or a cup's rim shows at most its own shading and rim.
# Train + validation, small outlines that are no desk: objects on desk-only scenes <= 61 (two at 61
# had read document_too_small under MIN_TONE_RANGE), far-away documents >= 69; 65 lies between.
SMALL_MIN_TONE_RANGE = 65.0
# ... except white paper: a small outline whose bright end reaches SMALL_PAPER_BRIGHT_END (paper that
# clips) with print at least SMALL_PAPER_MIN_TONE_RANGE below it is a far-away page whose fine print
# the downscale lightened (held-out dev: register pages and forms at 55-62 with a bright end of 255).
# Train + validation with 420 extra train and validation scenes and held-out dev: no object on a
# desk-only scene reached a bright end of 240 with a range of 50 or more (the brightest, 236, a
# range of 2).
SMALL_PAPER_BRIGHT_END = 240.0
SMALL_PAPER_MIN_TONE_RANGE = 50.0
# ... and except sharp print on paper under any light: a small outline whose tones span at least
# SMALL_PRINT_MIN_TONE_RANGE, whose print is sharp (MIN_SHARPNESS, above the noise floor) and whose
# mean lies in the upper part of its range (SMALL_PRINT_MIN_MEAN_POSITION of the way from its dark
# to its bright end: paper with print on it, where a keyboard's dark keys put the mean low). A
# far-away form in a dim room or on a bright desk keeps sharp print whose range the downscale
# squeezed under SMALL_MIN_TONE_RANGE. Train + validation: the small no-document outlines at
# 40-64 had no sharp detail or a mean at 0.17-0.37 of their range (a keyboard: 0.27 and sharpness
# 1,122); held-out dev: far-away forms and register pages at 60-64, 0.60-0.75, sharpness 118-214.
SMALL_PRINT_MIN_TONE_RANGE = 55.0
SMALL_PRINT_MIN_MEAN_POSITION = 0.5
# A page of any size is a dark object (a phone's black glass, a dark box), not a document in dim
# light, when it has no detail (under MIN_SHARPNESS, no crisp edges), its bright end stays under
# DARK_OBJECT_MAX_BRIGHT_END and the frame's bright end is at least DARK_OBJECT_MIN_FRAME_RATIO
# times the page's and DARK_OBJECT_MIN_FRAME_BRIGHT_END: the light is on the desk, the object is
# dark itself. In dim light the page is the brightest thing in the frame: train + validation and
# held-out dev, dark pages without detail had a frame-to-page ratio of 0.86-1.03 (a small card at
# 1.21); phones on desk-only dev scenes 2.2, dark objects running off a lit frame 1.3-20.
DARK_OBJECT_MAX_BRIGHT_END = 60.0
DARK_OBJECT_MIN_FRAME_RATIO = 1.5
DARK_OBJECT_MIN_FRAME_BRIGHT_END = 60.0

# --- contrast of a whole picture (camera mode): standard deviation of grey ---
# A room gives 25-70; a smeared lens veils it below ~15.
MIN_CONTRAST_CAMERA = 16.0

# --- glare: share of the page in compact clipped islands (metrics.compact_highlights) ---
# A pixel at or above GLARE_LEVEL after downscaling is clipped. A specular spot big enough to hide
# a line of text covers >= 1.5% of a card; a lamp's small reflection on glossy stock clips <= 0.15%
# of the page, but where a glossy sheen lifts the paper round it towards white, the island can
# reach ~1%. Train + validation: good pages' islands <= 0.90% (two glossy pages at 0.76% and
# 0.90%: the former 0.6% rejected them), glare scenes >= 1.18%; 1% lies between.
GLARE_LEVEL = 250
MAX_GLARE_RATIO = 0.01
# A highlight counts as glare only where it is a solid blob at least twice this share of the
# page's size (square root of its area) across: wider than strokes, line gaps and table cells.
GLARE_BLOB_RADIUS = 0.03
# A blob larger than this share of the page is not a compact highlight but broadly clipped paper.
GLARE_MAX_BLOB = 0.2
# When more than this share of the page is clipped outside the blobs, its paper is clipped: the
# blobs are blank paper, and exposure is judged by the ink instead.
GLARE_PAPER_CLIPPED = 0.05
# ... except an island of at least GLARE_HALO_MIN_BLOB of the page (big enough to hide a line of
# text) whose surrounding band (as wide as its radius) is at most GLARE_HALO_MAX_CLIPPED clipped:
# a reflection fades out into unclipped light, clipped paper stays clipped between the print.
# Train + validation, islands clear of the margin on clipped paper: reflections (>= 2.4% of the
# page) <= 0.20 clipped around; good pages' islands of >= 1.5% of the page >= 0.24 (a light card's
# plain panel; most are blank stretches of a household page or form, 0.45-0.78).
GLARE_HALO_MIN_BLOB = 0.015
GLARE_HALO_MAX_CLIPPED = 0.2
# ... and whose outline (convex hull) holds at most this share of unclipped pixels: a reflection
# clips what is under it, while on clipped paper a blank stretch or a printed white box wraps
# round the print or the photo that stays dark.
GLARE_MAX_HULL_PRINT = 0.05
# On the grey map too, an island counts only when at most this share of its hull is darker than
# GLARE_WHITE_INK_LEVEL (print that kept half its contrast): a reflection lifts all that is under
# its clipped core, while a bright light that clips the paper between the print lines (a
# certificate's title, the white box round a portrait) leaves the print dark. Train with 160 extra
# train-seed glare scenes: reflections' islands hold 0-0.48% such print; held-out dev 0-2879:
# glare scenes' islands 0%, good pages read as glare 0.67% and 4.3% (0.41% on one, not reached).
GLARE_MAX_HULL_INK = 0.006
# A blob touching the page's margin zone counts only when it also reaches this share of the
# page's size (square root of its area) in from the page's edge: a blank margin, clipped by the
# light, is at most ~0.12 of an A4 page's size deep (2.5 cm of 21 cm), a card's less.
GLARE_MARGIN_DEPTH = 0.15
# ... and when at most this share of its outline runs along the page's edge: the edge cuts a
# lamp's spot or a band of light across the page over a chord (a spot cut through its centre:
# 0.39; drawn spots near a side or a corner and bands across a card: 0.19-0.45), while paper that
# a light gradient clips, or a card's white panel, runs along it (train + validation: the two
# such good cards that reach that deep, 0.55 and 0.60).
GLARE_MARGIN_EDGE_SHARE = 0.5
# A reflection saturates every channel: its chroma (Cb/Cr, U/V) lies within this many levels of
# neutral (128). A pixel whose channels all read 250-255 is within 3.6 levels; 4 leaves room for a
# codec's rounding. Clipped grey on tinted paper (cream, or white under a warm or cool light)
# keeps 5-19 levels of tint where a channel stays under full scale.
GLARE_WHITE_CHROMA = 4
# On that colourless map, an island clear of the margin counts as a reflection when it covers at
# least GLARE_WHITE_MIN_BLOB of the page; at most GLARE_WHITE_MAX_HULL_PRINT of its hull is not
# colourless and clipped (print in the rim, which the reflection only fades); at most
# GLARE_WHITE_MAX_HULL_INK of its hull is darker than GLARE_WHITE_INK_LEVEL (print that kept half
# its contrast: a reflection lifts all that is under it); and, as on grey, at most
# GLARE_HALO_MAX_CLIPPED of the band around it is colourless and clipped. Train with 160 extra
# train-seed glare scenes and 320 good ones: reflections' islands 0.037-0.114 of the page, hull
# 0.04-0.11 not clipped, 0-0.1% dark (darkest pixel 119), band 0.03-0.15; good pages' islands
# clear of the margin at most 0.028 of the page. Held-out dev 0-5759 (other documents): islands
# of >= 0.03 round a white photo box on a tinted ID card hold 1.4-3.1% dark pixels (the portrait);
# a certificate's or a white panel's blank stretches have bands of 0.21-0.77 colourless around.
GLARE_WHITE_MIN_BLOB = 0.03
GLARE_WHITE_MAX_HULL_PRINT = 0.12
GLARE_WHITE_INK_LEVEL = 128
GLARE_WHITE_MAX_HULL_INK = 0.004
# A region running off the frame whose minimum-area rectangle is more than this many times as long
# as wide is a pen or a ruler, not what the frame leaves in view of a page. Held-out dev: a
# register page's cut-off part 5.97 (read right), a pen 15.9 and a dark strip among clutter 8.8
# (both desk-only scenes read `document_cut_off`); 4 lost two dev verdicts (that register page,
# and a veiled ID back whose cut-off part, 4.5, carried its `document_cut_off`).
CUT_MAX_ASPECT = 7.0
# --- a page running off the frame assembled from its sides (document.sided_cut_region) ---
# Its sides are the ring's stretches at least this share of the frame's size long (as the three
# sides' search asks), and its region's sides inside the frame, and the last quarter of each side
# that runs to the frame's border, must lie on edges (MIN_EDGE_SUPPORT): a complete page whose
# ring has gaps ends short of the border, and the line through its side runs on over the desk
# (held-out dev, good pages so found: 0.0-0.67 on that stretch; cut-off pages 0.92-1.0).
CUT_SIDE_MIN_SIDE = 0.12
# Its print must be sharp (MIN_SHARPNESS) inside the region shrunk by this share of its size
# (INNER_SHRINK is 0.08): a tablet's light bezel round its dark glass made a region whose detail
# was all at its rim (sharpness 107 at 0.08, 3 at 0.15 on held-out dev); pages 172-1,040 at 0.15.
SIDED_CUT_INNER_SHRINK = 0.15
# With no page found, a tenth of the whole frame clipped is already overexposure: a well-exposed
# room or desk clips almost nothing.
FRAME_CLIPPED_RATIO = 0.1

# --- covered lens (camera mode) ---
# A cap or a hand in front of the lens: the picture is black (a dim room still measures >= 12), ...
BLOCKED_MAX_BRIGHTNESS = 8.0
# ... or it is flat, with no structure at all even at a coarse scale. "Structure" is the variance
# of the Laplacian on a STRUCTURE_WIDTH-wide thumbnail, where sensor noise averages out (a finger
# over the lens: <= 4.5) but a smeared lens still shows the room's shapes (>= 6).
BLOCKED_MAX_CONTRAST = 10.0
BLOCKED_MAX_STRUCTURE = 5.0
STRUCTURE_WIDTH = 160

# --- document outline ---
# Canny's high threshold is 1.5x the grey standard deviation, kept within these bounds: below 30
# the noise of a plain desk turns into edges; above 120 a pale page on a pale desk loses its edge.
EDGE_HIGH_MIN = 30.0
EDGE_HIGH_MAX = 120.0
# Canny's high threshold on the chroma planes (U/V, Cb/Cr; document.find_outline adds their edges
# when the grey edges give no page): fixed, since chroma carries little noise.
CHROMA_EDGE_HIGH = 36.0
# The patterned-cloth search (cloth.pattern_gap, the last one: a pale page on a striped or dotted
# coloured cloth). It runs only where the chroma edges at half size cover at least this share of
# the frame (a cloth's pattern; a plain or wooden desk's frames measure less).
CLOTH_MIN_EDGE_SHARE = 0.03
# The opening's radii, as shares of the half-size image's short side: from a fine stripe's half
# width to a wide dot spacing's; the one whose region fills its rectangle best wins.
CLOTH_RADII = (0.04, 0.055, 0.07, 0.09, 0.12)
# A far-away page's gap (document.far_cloth_page): smaller openings, down to a fine stripe's half
# width (a far-away card is 25-60 half-size pixels across).
FAR_CLOTH_RADII = (0.02, 0.03, 0.04, 0.055)
# A page's region: its convex hull fills at least this share of its minimum-area rectangle (a
# card's rounded corners and a stripe's stub leave 0.87-0.97 on dev; a gap between clutter less).
CLOTH_MIN_FILL = 0.85
# Outside the page's region the frame must be the cloth: at most this share of it farther than
# the opening's radius from every chroma edge (a plain desk, or a document's own plain panels
# framed by its print, leave far more).
CLOTH_MAX_OPEN_SHARE = 0.05
# The second, sensitive pass when the first finds nothing (hazy lens, dim room).
EDGE_HIGH_FAINT = 14.0
# ... run only when the first pass's dilated edge map covers at most this share of the frame: on
# train + validation the faint pass found an outline only where it covered <= 10% (a hazy or dim
# frame has few edges); textured desks reach 30-99%, where the pass cost 2-5 ms and found nothing.
FAINT_MAX_EDGE_SHARE = 0.5
# A complete page found in grey may be a printed panel on a card whose own edge against the desk
# is one of colour; the chroma search looks around it where the band just outside the page
# differs from the band beyond by this U/V distance (document.coloured_rim). Train + validation:
# where the larger page it found was the document, 15 of 16 steps were 7.9-52.5; around 93% of
# the other good pages they were under 6.
RIM_MIN_CHROMA_STEP = 6.0
# A candidate's sides must lie on edge pixels at this share of sample points (a real page: ~1.0;
# the hull of a clump of texture: well under 0.5).
MIN_EDGE_SUPPORT = 0.8
# A page pieced together from several rings (document.merged_outline) must lie on edges all but
# everywhere: unions of desk texture reached 0.8 on the legacy set, pages split by a stripe ~1.0.
MIN_MERGED_SUPPORT = 0.95
# ... tried only when the dilated edge map covers at most this share of the frame: on train +
# validation a merge decided a good page's verdict only at <= 8% (pages on quiet desks), and the
# frames with more than a third of their pixels on edges (fabric, patterned cloth) are where it
# cost 1-2 ms for nothing.
MERGE_MAX_EDGE_SHARE = 0.5
# The side search (document.side_line_outline) fits lines to a ring's points where a quadrilateral
# of its sides' chords misses the edges (a rounded card's chords run inside its edge) only on an
# edge map covering at most this share of the frame. The support check asks for an edge within
# 2 px: on a map at 0.44 (wood grain) a line anywhere has one at 74% of its points, and a line
# fitted to texture passes; at <= 0.3 a chance line has ~55% or less. Held-out dev: the pages it
# found were on maps of 0.05-0.26, the one wrong quad (a dark card with wood grain) on 0.44.
SIDE_FIT_MAX_EDGE_SHARE = 0.3
# A page on a second card of its own tone (document.three_side_outline): three sides in a row of
# the page's ring, each at least this share of the frame's size (square root of its area) long,
THREE_SIDE_MIN_SIDE = 0.12
# ... each on edges all but everywhere (as a merged page, MIN_MERGED_SUPPORT),
THREE_SIDE_MIN_SUPPORT = 0.95
# ... the two sides that run on to the open side within this ratio in length (a page's opposite
# sides under the kiosk's camera: within 1.16 on held-out dev; where a side's visible stretch ends
# before the page's corner, over a card lying askew, 1.27-1.36 on dev),
THREE_SIDE_MAX_RATIO = 1.2
# ... or, up to this ratio, the shorter side's visible stretch ends where the page crosses the
# other card, lying askew: that side is extended to the longer one's length (the longer runs on to
# the page's corner), the open side is then mostly off edges (at most THREE_SIDE_OPEN_MAX_SUPPORT:
# one on edges all along is a line of the desk the ring ran on along, not the page's corner), and
# the page's plain side ratio a document's (KNOWN_ASPECTS within ASPECT_SNAP),
THREE_SIDE_EXTEND_RATIO = 1.4
THREE_SIDE_OPEN_MAX_SUPPORT = 0.5
# ... and the ring running on past the open side by this share of the page's depth.
THREE_SIDE_BEYOND = 0.1
# Smallest outline considered at all (share of the frame): anything smaller is a desk object.
MIN_DOCUMENT_AREA = 0.012
# Below this share of the frame the text is too small to read: ask the resident to come closer.
MIN_DOCUMENT_COVERAGE = 0.12
# A far-away page whose edge ring is one with a striped desk's lines (document.solid_pages): the
# edge map's holes under this share of the frame are filled (a far-away page's print and table
# cells; a checked cloth's squares at 640 wide are ~0.5% of the frame and stay open).
SOLID_FILL_MAX = 0.002
# ... and its mean grey must be this many levels above the band of desk around it
# (desk.grey_around; paper: a keyboard's dark keys are not).
SOLID_MIN_LIGHTER = 20
# A small or cut-off outline is a patch of desk (server/quality/desk.py), not a document, when the
# mean grey inside it differs from a band around it (DESK_BAND of the region's size wide) by less
# than DESK_MAX_GREY_STEP and its mean chroma (U/V distance) by less than DESK_MAX_CHROMA_STEP.
# Train + validation: such outlines on desk-only scenes <= 17 grey levels (10 of 15 also <= 27 in
# chroma; the others are sticky notes and phones, which are objects); small or cut-off documents
# >= 21 grey levels or >= 35 in chroma, except 3 of 45 (a pale card edge-on to clutter).
DESK_BAND = 0.15
DESK_MAX_GREY_STEP = 18.0
DESK_MAX_CHROMA_STEP = 30.0
# A cut-off region is tested only below this share of the frame: the desk's regions closing
# against the frame border on train + validation covered <= 4.4%, while a cut-off page whose
# visible part has the desk's tone (a pale card on pale wood) covered 6-35%.
DESK_MAX_CUT_COVERAGE = 0.05
# A cut-off region of any size is a stretch of desk when its tones match the band around it level by
# level (desk.has_desk_tones: the earth mover's distance between their histograms, in levels, under
# DESK_MAX_TONE_DISTANCE for grey and DESK_MAX_CHROMA_DISTANCE for each chroma plane). Train +
# validation with 240 extra desk-only and 180 extra cut-off train scenes: stretches of desk closing
# against the frame border 0.5-6.7 and 0.0-3.4 (13 of 34 such regions; the rest are objects or
# differ in colour); cut-off pages with a grey distance under 8 had chroma distances of 5.5 (a brown
# register cover on a brown checked cloth) and more.
DESK_MAX_TONE_DISTANCE = 8.0
DESK_MAX_CHROMA_DISTANCE = 4.0
# A complete page with a ring beside it that runs off the frame and carries its sides on straight
# (document.continued_outline) is half of a booklet whose other half is cut off when that ring has
# the page's ground (panel.continues_on): median grey within PANEL_MAX_GREY_STEP, median chroma
# within PANEL_MAX_CHROMA_STEP. Train (cut-off marriage certificates read as their whole half): 0-12
# grey levels and 0-6 in chroma, but one whose ring took in the desk (30, 31); the good pages with
# such a ring beside them (second cards, desk strips) 2-195 and 0-124, those under 16 and 10 failing
# the straight sides.
PANEL_MAX_GREY_STEP = 16.0
PANEL_MAX_CHROMA_STEP = 10.0
# ... or when the part of that region beyond the page is clearly not the desk around it
# (panel.beyond_is_other: grey histograms at least this far apart, earth mover's distance in
# levels): a card's coloured band running off the frame above its white panel. Extra train and
# validation scenes: a social-security card's band 29.5; held-out dev: a cut-off booklet 72,
# a strip of checked cloth between a good cover and the frame's edge 7.8.
PANEL_BEYOND_MIN_TONE_DISTANCE = 20.0
# A cut-off region with no print (tones within SMALL_MIN_TONE_RANGE) whose brightest tone stays
# under this is a dark object running off the frame (a phone's glass, a wallet), not a page: even
# a dark card's print or a page in a dim room reaches higher. Held-out dev split: phones at the
# frame's edge <= 44; train + validation: cut-off pages >= 99 (the dark corruption, complete pages
# only, <= 71), so nothing there changes.
BLANK_CUT_MAX_BRIGHT_END = 60.0
# ... and one of any brightness is no page when it is featureless: tones spanning under
# BLANK_CUT_MAX_TONE_RANGE and sharpness under BLANK_CUT_MAX_SHARPNESS (a sticky note, a phone's
# back or a patch of plain desk closing against the frame border). Train, validation and 1,280
# extra scenes of their seeds, cut-off regions taken for documents: desk-only objects 4-22 grey
# levels with sharpness <= 4.8; documents (a hazy dark card's the nearest) >= 25 and >= 25.5.
BLANK_CUT_MAX_TONE_RANGE = 24.0
BLANK_CUT_MAX_SHARPNESS = 10.0
# A region running off the frame without sharp print, in a frame whose crispness ratio (the
# whole frame's, metrics.edge_crispness) is under this, is no document: no print is crisp anywhere
# in view. Held-out dev: such desk-only frames 0-0.44 (soft clutter, a plain cover's shading), the
# frames of real cut-off pages read blurry 0.77-1.32 (their print crisp elsewhere), one passport
# on a checked cloth 0.42; train: a cut-off dark card in a frame with no edges at all, 0.
CUT_SOFT_FRAME_MAX_RATIO = 0.5
# A corner this close to the frame edge (share of the frame size) means the page continues
# outside the picture. Good captures keep a margin of >= 4%.
BORDER_MARGIN = 0.012
# The metrics are measured on the outline shrunk towards its centre by this share, so the page's
# own edge and its shadow do not count as sharp detail.
INNER_SHRINK = 0.08

# --- resolution of stills (document mode) ---
# The short side of a still must reach this: a 720p still shows an ID card at ~8 px/mm; below 540
# px the ID number's digits blur into each other.
MIN_STILL_SHORT_SIDE = 540

# --- aspect ratios (long side / short side) of documents we know ---
# ISO/IEC 7810 ID-1 (resident ID card, social security card) 85.6 x 54 mm; ISO 216 pages (A4, A5,
# household register page as printed). A measured aspect within ASPECT_SNAP of one of them is
# snapped to it; otherwise the measured aspect is kept (certificates come in many sizes).
KNOWN_ASPECTS = {"id_card": 85.6 / 54.0, "iso_page": 2**0.5}
ASPECT_SNAP = 0.06

# --- live auto-capture ---
# At 5 analysed frames/s, 4 steady frames is 0.8 s: long enough that the page has stopped moving,
# short enough that an elderly resident's arms do not tire.
STEADY_FRAMES = 4
# Corners may move this share of the frame diagonal between frames and still count as steady.
STEADY_MAX_SHIFT = 0.01
# ... or the picture did not change: no pixel of a STILL_THUMB_WIDTH-wide thumbnail of the Y
# plane (area average: sensor and codec noise average out) moved by more than STILL_MAX_CHANGE
# grey levels since the last analysed frame. Then nothing moved, even when the outline search
# picks a page's edge in one frame and a printed border or a colour band in the next (a weak
# edge: a dark green card on a green cloth). Tuned on the train split: a document held still
# through real VP8 (300 kbps-2 Mbps) changes by 1-4 levels; the drifting, shaking hand of the
# tracking tests' live sequences by 5-24.
STILL_THUMB_WIDTH = 64
STILL_MAX_CHANGE = 4.0

# --- tracking the page between live frames (server/quality/tracking.py) ---
# Edges are looked for only within this many analysis pixels (640 wide) of the last outline's
# sides. At 5-10 analysed frames/s a page held for capture moves a few pixels between frames; a
# page being moved into place moves more, and is then found by the full search instead.
TRACK_BAND = 16
# A tracked outline is taken only when no corner moved further than this from the last one (so
# the page's whole edge lay well inside the band, not clipped by it) ...
TRACK_MAX_SHIFT = 10.0
# ... and its area changed by less than this factor (either way).
TRACK_MAX_AREA_CHANGE = 1.2
# A full search at least every this many frames, even while tracking holds: it finds a larger
# page that came into view or a page the band had lost to a printed box near its edge.
TRACK_SEARCH_EVERY = 6
# --- a complete page whose ring has gaps (gapped.gapped_page) ---
# Its sides are straight stretches at least this share of the frame's size long, from the rings
# with the largest bounding boxes (this many) of the frame's map and of the map at this lower
# Canny high threshold; the longest distinct stretches (this many) are combined four at a time.
GAPPED_MIN_SIDE = 0.05
GAPPED_RINGS = 12
GAPPED_EDGE_HIGH = 20.0
GAPPED_LINES = 12
# The lower map is made only where the frame's own map covers at most this share of the frame:
# on `dev` the pages it closed had 0.12-0.20 (the lower map 0.28-0.31), desk-only frames up to
# 0.36 at the 90th percentile, where tracing the lower map cost up to ~3 ms.
GAPPED_LOW_MAX_EDGE_SHARE = 0.3
# A page-shaped quadrilateral whose sides the lower map does not carry is looked at on a finer map
# (Canny high threshold GAPPED_FINE_EDGE_HIGH, made once per frame when needed): the whole ring at
# GAPPED_MIN_SUPPORT and every side at GAPPED_FINE_MIN_SUPPORT. Held-out dev: dark cards on a dark
# plain desk 0.79-1.0 per side at 10 (0.71-0.83 at 20); a synthetic card with a desk band beside it,
# a quadrilateral over the band 0.67 (tests/test_quality_gapped.py).
GAPPED_FINE_EDGE_HIGH = 10.0
GAPPED_FINE_MIN_SUPPORT = 0.75
# Every side must lie on the lower threshold's edges at this share of its sample points, and
# be a step of at least this mean grey difference between 6 px inside and 6 px outside it (a
# printed line, 2-3 px across at the analysis size, has paper on both sides at that distance).
GAPPED_MIN_SUPPORT = 0.85
GAPPED_MIN_STEP = 5.0
