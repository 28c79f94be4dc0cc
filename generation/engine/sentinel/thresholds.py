"""Every number the Sentinel judges by, in one place, each with the reason for it.

A check compares its measured value with a pass threshold and, for most checks, a softer review
threshold: between the two a person decides. Values measured on the 1024 px working copy unless
said otherwise (WORK_SIDE). Calibrated on the engine's contact sheet (bench/sentinel.py) and on
covers built to fail (tests/engine/test_sentinel.py).
"""

# -- working copy ------------------------------------------------------------------------------
# Pixel checks run on one area-downscaled copy: 1024 px keeps 1 px strokes of 3 px at 3000 and
# costs ~9x less than the full size. OCR alone reads the full-size pixels of the text boxes.
WORK_SIDE = 1024

# -- store technical rules (Apple Music / Spotify / Amazon delivery specs) ------------------------
MIN_SIDE = 3000  # the stores' minimum and the API's default size; an explicit smaller request (>= 1400) is judged by it
MAX_BYTES = 10 * 1024 * 1024  # "under 10 MB" in every store's artwork spec
FORMATS = ("JPEG", "PNG")  # the only containers stores ingest for artwork
RGB_MODES = ("RGB",)  # no CMYK (prints wrong on screens), no grayscale file (some ingest pipelines refuse L/LA)
DPI = 72  # the metadata stores ask for; pixels are what count, but a wrong value trips some validators
DPI_TOLERANCE = 0.5  # JPEG stores DPI as integers, PNG as pixels per metre: 72 dpi reads back as 71.9896

# -- border / frame ------------------------------------------------------------------------------
# A band is rows (or columns) from the edge inward that are each nearly flat and all of one colour.
BAND_ROW_STD = 4.0  # grey levels (0..255): a row flatter than this is "uniform" (dither noise is ~0.5)
BAND_COLOUR_STEP = 6.0  # grey levels: a row farther than this from the band's colour ends the band
BAND_EDGE_STEP = 20.0  # grey levels between the band and a pixel just inside it: a visible edge
BAND_EDGE_SHARE = 0.5  # a frame's inner edge is visible along most of its length; a vignette's is not
BORDER_MIN_FRACTION = 0.008  # 8 px at 1024 (24 px at 3000): thinner bands vanish in every store's rounding
BORDER_FAIL_SIDES = 2  # a band on two or more sides is a frame or letterbox (stores reject both)
# A band on one side only goes to review: it may be a designed flat sky, or a cropped-in frame.

# -- sharpness, pixelation, blank ----------------------------------------------------------------
# Sharpness: the 99.5th percentile of |Laplacian| on the grey working copy. Our scenes are soft by
# design (drawn at 1/3 size), but every cover has crisp text or a photo edge: the 99 covers of the
# contact sheet measure 318-707 at 3000 px (290-594 at 1400); a cover blurred with sigma 6 px at
# 1400 px, or a 64 px image upscaled bicubically, measures under 25.
SHARPNESS_PASS = 80.0
SHARPNESS_REVIEW = 40.0  # below this the cover is visibly soft at any size: fail
# Pixelation: the share of the edge energy that sits on isolated row/column lines (block seams).
# A nearest-neighbour upscale from 64 px puts ~90% of it there; our covers 0-10%.
PIXELATION_REVIEW = 0.40
PIXELATION_FAIL = 0.55
PIXELATION_MIN_SEAMS = 8  # fewer seam lines than this is a card's outline or a horizon, not a grid of blocks
# Blank: the grey standard deviation of the whole cover. A flat colour is ~0-1; the contact
# sheet's flattest cover measures 33.
BLANK_STD_FAIL = 6.0
BLANK_STD_REVIEW = 12.0

# -- legibility ----------------------------------------------------------------------------------
# WCAG contrast ratio between the text pixels and the 90th-percentile-worst pixel around them,
# measured after downscaling the cover to each thumbnail size (4.5:1 is the typesetter's own
# target at full size, COVER-CRAFT.md; WCAG's 3:1 for large text assumes crisp pixels).
# Measured on the thumbnail's own (anti-aliased) pixels, a full-size 4.5:1 reads 2-10:1 (contact
# sheet: 5th percentile 2.2 at 56 px), and text drawn at 1.3:1 measures ~1.1.
LEGIBILITY_PASS = 2.0
LEGIBILITY_REVIEW = 1.5  # below 1.5:1 the words are gone in a playlist row: fail
LEGIBILITY_SIZES = (56, 128, 256)
# Which lines each size must keep readable (COVER-CRAFT.md: secondary text may go at 56 px):
# at 56 px the dominant line(s), those with a cap height within this share of the largest;
LEGIBILITY_56_DOMINANT = 0.7
# at 128 px the artist and title lines; at 256 px every line, the feature credit too.
LEGIBILITY_GRAY_SIZE = 256  # grayscale: Rec.601 luma, the way e-ink and grey UI themes show the cover
LEGIBILITY_BLUR_SIZE = 256
LEGIBILITY_BLUR_SIGMA = 0.6  # px at 256: a slightly soft display or a lossy thumbnail pipeline (artist, title)
TEXT_INK_COVERAGE = 0.5  # a thumbnail pixel counts as text when at least half of it is ink
TEXT_INK_MIN_COVERAGE = 0.25  # ... or, for strokes thinner than half a pixel, when it is among the line's densest
TEXT_INK_DISTANCE = 60.0  # RGB distance from the typesetter's text colour that still counts as ink
BACKGROUND_PERCENTILE = 90  # the worst background pixel, "not the average" (COVER-CRAFT.md)
# A colour-only contrast (red on green of equal luminance) reads in colour but not in grey: the colour
# sizes accept a CIE76 delta E of at least this as an alternative to the luminance ratio.
LEGIBILITY_DELTA_E_PASS = 60.0

# -- text exactness (OCR) ------------------------------------------------------------------------
# Tesseract reads each line of the typesetter's boxes; we compare normalised text (NFKD, accents
# dropped, case-folded, whitespace collapsed). Display faces (condensed, script, distressed) cost
# Tesseract a few characters per line, so a similarity below 1.0 is not a wrong text yet.
OCR_PASS_SIMILARITY = 0.80  # difflib ratio of the line; "STILL STANDNG" for "STILL STANDING" is 0.96
OCR_REVIEW_BELOW = 0.80  # under it a person compares the cover with the metadata (never an automatic fail)
OCR_CAP_PX = 48  # lines are scaled so their cap height is ~48 px: Tesseract's best range is 30-60 px
OCR_TIMEOUT_S = 10
# Lines in scripts Tesseract's "eng" model cannot read are "skip" (not counted): reading Japanese
# with an English model would only send every such cover to review for nothing.

# -- composition ---------------------------------------------------------------------------------
FACE_TEXT_OVERLAP_FAIL = 0.25  # a quarter of the face under text: covered (COVER-CRAFT: never cover it)
FACE_TEXT_OVERLAP_REVIEW = 0.05  # a little text on the chin or hair: a person decides
FACE_EDGE_MARGIN = 0.0  # px beyond which the face box may not go: a face cut by the frame fails
# Focal point: the gradient energy per pixel in the focal region (the face or the dominant text)
# against the rest. Below 1 the background is busier than the thing the cover is about.
FOCAL_RATIO_PASS = 1.0
FOCAL_RATIO_REVIEW = 0.6  # composition is an editor's judgement: it never fails, at most a review

# -- reuse ---------------------------------------------------------------------------------------
# 64-bit DCT pHash (Hamming distance) plus a 4x4 CIELAB colour signature. pHash alone sees only
# luminance structure: on the contact sheet the artist-forward covers of one photo in two genres
# (different grade, palette and text) are 2-4 bits apart. A re-encode, resize or small edit of one
# cover stays within ~4 bits AND ~3 delta E; two genres' grades of one photo are 10+ delta E apart.
REUSE_FAIL_BITS = 10  # structure the same ...
REUSE_COLOUR_FAIL = 6.0  # ... and the colours too: the same artwork (stores reject it on a second release)
REUSE_REVIEW_BITS = 4  # structure nearly identical but recoloured: a person decides whether it is a new cover
REUSE_COLOUR_REVIEW = 8.0  # (one photo full-frame in two genres measures 4-6 bits and 7-10 delta E)
# Without a stored colour signature (older rows) the bits alone decide, with the same thresholds.
