"""Stage 5, typeset: fit the exact metadata text into the layout, pick a readable colour, draw it.

Sizes are found by measuring (binary search on the font size against the margins), long lines
break at spaces near the middle (never inside a word), and the text colour is checked against
the worst pixels under it (WCAG contrast); when the scene can't give 4.5:1 a soft scrim is added.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import combinations

import cv2
import numpy as np
from PIL import Image, ImageDraw, features

from .composite import soft_blur
from .fonts import FontFile, cap_height_ratio, choose_font, freetype, glyph_bitmap
from .presets import FontRef, Typography

MARGIN = 0.07  # text never comes closer than this to any edge (fraction of the side)
HIERARCHY = 2.0  # the dominant line's cap height is at least this many times any other line's
SECONDARY_FLOOR = 0.026  # ... unless that takes a secondary line under this share of the side (unreadable at 128 px)
_LUMA = np.array([0.2126, 0.7152, 0.0722])


@dataclass(frozen=True)
class Role:
    name: str  # "artist", "album" or "feature"
    text: str  # exact metadata text
    cap: float  # target cap height, fraction of the side
    max_lines: int
    font: FontRef
    caps: bool | None = None  # None: the typography's rule for this role's face (see role_caps)


@dataclass
class Line:
    role: str
    text: str  # the exact slice of the metadata shown on this line
    display: str  # what is drawn: upper-cased for all-caps presets, glyphs no font has removed
    font: FontFile
    size: int
    tracking: float  # extra advance per character, px
    ink: tuple[int, int, int, int]  # ink box relative to the pen position on the baseline
    cap_px: float
    missing: tuple[str, ...] = ()
    x: int = 0
    baseline: int = 0

    @property
    def box(self) -> tuple[int, int, int, int]:
        left, top, right, bottom = self.ink
        return (self.x + left, self.baseline + top, self.x + right, self.baseline + bottom)


@dataclass
class Zone:
    """Where the text block may go: rows top..bottom, anchored at the bottom, top or centre."""

    top: int
    bottom: int
    anchor: str  # "bottom", "top" or "center"
    align: str = "center"  # "left", "center" or "right"
    left: int | None = None  # columns the block may use (None: the margins)
    right: int | None = None


@dataclass
class TextResult:
    lines: list[Line]
    colour: tuple[int, int, int]
    contrast: list[float] = field(default_factory=list)
    scrim: float = 0.0
    shadow: bool = False
    masks: list = field(default_factory=list)  # glyph coverage of the visible lines (see glyph_masks)


# -- measuring ---------------------------------------------------------------------------------

def _simple_script(text: str) -> bool:
    """Per-character tracking is safe only for scripts without shaping (Latin, Greek, Cyrillic)."""
    for ch in text:
        code = ord(ch)
        if unicodedata.category(ch) == "Mn":
            return False
        if code >= 0x0530 and not (0x1E00 <= code <= 0x1FFF or 0x2000 <= code <= 0x206F):
            return False
    return True


# Tracked text is measured from its letters' metrics at one reference size, scaled: outlines scale linearly, so
# the fit's probes at a dozen sizes cost arithmetic, not a FreeType layout per letter and size. The letters are
# still rasterised at their real size (see _glyph); their boxes differ from the scaled ones by a pixel at most,
# which the masks' padding takes.
REFERENCE_SIZE = 1000


def _pen_positions(display: str, font: FontFile, size: int, tracking: float) -> list[float] | None:
    """Where each letter of tracked text starts: its advance plus the kerning with the next letter, plus the
    tracking (a pair's length less its second letter is the first letter's advance and kerning)."""
    if not tracking or not _simple_script(display):
        return None
    scale = size / REFERENCE_SIZE
    positions, x = [0.0], 0.0
    for i in range(1, len(display)):
        x += _advance(font, display[i - 1:i + 1]) - _advance(font, display[i])
        positions.append(x * scale + i * tracking)
    return positions


# Letters of tracked text are stamped one by one, so a pair's length must not be a ligature's (fi, ff, fl).
_NO_LIGATURES = ["-liga", "-clig", "-dlig"] if features.check_feature("raqm") else None


@lru_cache(maxsize=8192)
def _advance(font: FontFile, text: str) -> float:
    return freetype(font, REFERENCE_SIZE).getlength(text, features=_NO_LIGATURES)


@lru_cache(maxsize=8192)
def _char_box(font: FontFile, size: int, ch: str) -> tuple[int, int, int, int]:
    """One letter's ink box relative to the pen on the baseline."""
    return freetype(font, size).getbbox(ch, anchor="ls")


@lru_cache(maxsize=2048)
def measure(display: str, font: FontFile, size: int, tracking: float) -> tuple[int, int, int, int]:
    """Ink box (left, top, right, bottom) relative to the pen on the baseline."""
    if not display.strip():
        return (0, 0, 0, 0)
    positions = _pen_positions(display, font, size, tracking)
    if positions is None:
        return freetype(font, size).getbbox(display, anchor="ls")
    scale = size / REFERENCE_SIZE
    left = top = float("inf")
    right = bottom = float("-inf")
    for ch, x in zip(display, positions, strict=True):
        if ch.isspace():
            continue
        ch_left, ch_top, ch_right, ch_bottom = _char_box(font, REFERENCE_SIZE, ch)
        left, top = min(left, x + ch_left * scale), min(top, ch_top * scale)
        right, bottom = max(right, x + ch_right * scale), max(bottom, ch_bottom * scale)
    return (int(np.floor(left)), int(np.floor(top)), int(np.ceil(right)), int(np.ceil(bottom)))


def _display(text: str, caps: bool) -> str:
    """What is drawn for a piece of metadata: NFC-composed, tabs and newlines shown as spaces
    (a font's glyph for a control character is a box), upper-cased for all-caps presets."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return text.upper() if caps else text


def deliberate_lowercase(text: str) -> bool:
    """All-lowercase metadata ("billie", "dvsn") is the artist's choice: an all-caps face must not undo it."""
    letters = [ch for ch in text if ch.isalpha() and ch.lower() != ch.upper()]
    return bool(letters) and all(ch.islower() for ch in letters)


def role_caps(role: Role, typo: Typography) -> bool:
    """Whether a role is drawn upper-cased: its own setting, else its face's rule, never over lowercase."""
    if role.caps is not None:
        return role.caps
    caps = typo.caps if role.font == typo.primary or typo.secondary_caps is None else typo.secondary_caps
    return caps and not deliberate_lowercase(role.text)


def face_for(text: str, font: FontRef, typo: Typography) -> FontRef:
    """The role's face, or the secondary one where the face cannot set this text (blackletter capitals)."""
    if not font.caps_ok and text.upper() == text:
        return typo.secondary
    return font


SEPARATORS = frozenset("·•|/–—-&+:,×~*")
# A break reads best after a separator or a colon, or before an opening bracket: "Title (feat. X)".
_GOOD_BREAK = 0.85
_NAME_BREAK = 1.3  # a break between two capitalised words of mixed-case text splits a name


def _splits(text: str, count: int) -> list[list[str]]:
    """Every way to cut the text into `count` lines at spaces (never inside a word), where no line starts with
    a separator ("· RICCARDO MUTI"): a separator ends the line before it instead."""
    spaces = [i for i, ch in enumerate(text) if ch == " " and text[:i].strip() and text[i + 1:].strip()]
    options = []
    for cut in combinations(spaces, count - 1):
        bounds = [-1, *cut, len(text)]
        parts = [text[bounds[i] + 1:bounds[i + 1]].strip() for i in range(count)]
        if all(parts) and not any(part[0] in SEPARATORS for part in parts[1:]):
            options.append(parts)
    return options


BREAK_MARKS = frozenset("·•|/–—~*×")  # separators a line break stands in for


def _drop_marks(parts: list[str]) -> list[str]:
    """A separating mark standing alone at the end of a line is dropped: the break separates ("Riccardo Muti" /
    "Chicago Symphony", not "Riccardo Muti ·"). Commas, colons, ampersands and marks inside a word stay."""
    out = []
    for index, part in enumerate(parts):
        head, _, last = part.rpartition(" ")
        if index < len(parts) - 1 and head.strip() and last and all(ch in BREAK_MARKS for ch in last):
            part = head.rstrip()
        out.append(part)
    return out


def break_quality(parts: list[str], name: bool = False) -> float:
    """A weight under 1 for line breaks that follow the phrase (after a separator or colon, before a bracket), over
    1 for one inside a name (`name`: an artist or a feature credit) between two capitalised words."""
    weight = 1.0
    for first, second in zip(parts, parts[1:], strict=False):
        if first[-1] in SEPARATORS or second[0] in "([{":
            weight *= _GOOD_BREAK
        elif name and first[-1:].isalpha() and first.split()[-1][:1].isupper() and second[:1].isupper() and \
                not (first.isupper() and second.isupper()):
            weight *= _NAME_BREAK  # inside a name ("Chicago / Symphony"): only for a much larger size
    return weight


def _make_line(role: Role, text: str, typo: Typography, size: int) -> Line:
    choice = choose_font(_display(text, role_caps(role, typo)), role.font)
    tracking = typo.tracking * size if _simple_script(choice.drawn) else 0.0
    ink = measure(choice.drawn, choice.font, size, tracking)
    return Line(role.name, text, choice.drawn, choice.font, size, tracking, ink,
                cap_height_ratio(choice.font) * size, choice.missing)


def _ink_width(line: Line) -> int:
    return line.ink[2] - line.ink[0]


def _largest_fitting(role: Role, parts: list[str], typo: Typography, width: int, ceiling: int) -> int:
    """The largest font size (<= ceiling) at which every line's ink fits the width.

    Ink widths grow almost in proportion to the size, so the search starts at the size the ceiling's width
    predicts, brackets the answer by doubling steps away from it, and bisects the bracket: the same answer
    as a bisection over 6..ceiling, in a third of the measurements (each one lays out the line at a new size).
    """
    def widest(size: int) -> int:
        return max(_ink_width(_make_line(role, p, typo, size)) for p in parts)

    def fits(size: int) -> bool:
        return widest(size) <= width

    top = max(6, ceiling)
    at_top = widest(top)
    if at_top <= width or top == 6:
        return top
    guess = max(6, min(top - 1, int(top * width / max(at_top, 1))))
    if fits(guess):  # the answer is in guess..top-1
        lo, hi, step = guess, top - 1, 1
        while lo + step <= hi:
            if not fits(lo + step):
                hi = lo + step - 1
                break
            lo, step = lo + step, step * 2
    else:  # the answer is in 6..guess-1
        lo, hi, step = 6, guess - 1, 1
        while hi > lo:
            probe = max(lo, hi - step + 1)
            if fits(probe):
                lo = probe
                break
            hi, step = probe - 1, step * 2
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


TIGHT_BELOW = 0.7  # a role set under this share of its target size closes its letter spacing up first
TIGHT_TRACKING = 0.02


def fit_role(role: Role, typo: Typography, side: int, width: int, scale: float = 1.0) -> list[Line]:
    """Lines for one role: the fewest lines that reach ~85% of the target cap height, balanced by width."""
    probe = choose_font(_display(role.text, role_caps(role, typo)), role.font)
    ceiling = max(6, round(role.cap * scale * side / cap_height_ratio(probe.font)))
    best: tuple[int, list[str]] | None = None
    for count in range(1, role.max_lines + 1):
        options = _splits(role.text, count) if count > 1 else [[role.text.strip()]]
        if not options:
            break
        reference = max(12, ceiling // 4)

        def widest(parts: list[str], reference: int = reference) -> int:
            return max(_ink_width(_make_line(role, p, typo, reference)) for p in parts)

        names = role.name in ("artist", "feature")
        parts = _drop_marks(min(options, key=lambda p: widest(p) * break_quality(p, names)))
        size = _largest_fitting(role, parts, typo, width, ceiling)
        # More lines must buy a larger size. (A name broken between its words is only a last resort among the
        # breaks of one line count: the size it buys is what keeps a narrow column legible at 56 px.)
        if best is None or size > best[0] * 1.15:
            best = (size, parts)
        if size >= 0.85 * ceiling:
            break
    size, parts = best
    if size < TIGHT_BELOW * ceiling and typo.tracking > TIGHT_TRACKING:
        # A word too long for its column ("NOCTURNES," in spaced capitals): the letter spacing goes before the
        # size does, as a typesetter would close it up.
        tight = replace(typo, tracking=TIGHT_TRACKING)
        closed = _largest_fitting(role, parts, tight, width, ceiling)
        if closed > size * 1.04:
            return [_make_line(role, p, tight, closed) for p in parts]
    return [_make_line(role, p, typo, size) for p in parts]


# -- layout -------------------------------------------------------------------------------------

def _stack(lines: list[Line]) -> tuple[list[int], int]:
    """Baseline offsets from the block top, and the block height; leading scales with cap height."""
    offsets, y = [], 0.0
    for i, line in enumerate(lines):
        ascent = max(-line.ink[1], line.cap_px)
        if i:
            prev = lines[i - 1]
            if prev.role == line.role:
                y += 0.3 * max(prev.cap_px, line.cap_px)
            else:
                y += 0.55 * min(prev.cap_px, line.cap_px) + 0.12 * max(prev.cap_px, line.cap_px)
        y += ascent
        offsets.append(round(y))
        y += max(line.ink[3], 0)
    return offsets, round(y)


def layout_text(roles: list[Role], typo: Typography, side: int, zone: Zone) -> list[Line]:
    """Fit every role, stack the lines and place the block in the zone, shrinking until it fits.

    The role with the largest target is fitted first; the others are then held to at most
    1/HIERARCHY of its real cap height, so a long title squeezed by the margins never ends up
    smaller than the line meant to be secondary.
    """
    left_edge = round(side * MARGIN) if zone.left is None else zone.left
    right_edge = side - round(side * MARGIN) if zone.right is None else zone.right
    width = right_edge - left_edge
    dominant = max(roles, key=lambda r: r.cap)
    scale = 1.0
    for _ in range(6):
        fitted = {dominant.name: fit_role(dominant, typo, side, width, scale)}
        lead_cap = max((line.cap_px for line in fitted[dominant.name] if line.display.strip()), default=0.0)
        for role in roles:
            if role is dominant:
                continue
            held = role.cap * scale
            if lead_cap:  # half the lead's size, but never under what reads at 128 px
                held = max(min(held, lead_cap / HIERARCHY / side), min(role.cap * scale, SECONDARY_FLOOR))
            fitted[role.name] = fit_role(replace(role, cap=held), typo, side, width)
        lines = [line for role in roles if role.text.strip() for line in fitted[role.name]]
        offsets, height = _stack(lines)
        if height <= zone.bottom - zone.top:
            break
        scale *= max(0.6, (zone.bottom - zone.top) / height * 0.98)
    if zone.anchor == "bottom":
        top = max(zone.top, zone.bottom - height)
    elif zone.anchor == "top":
        top = zone.top
    else:
        top = max(zone.top, (zone.top + zone.bottom - height) // 2)
    for line, offset in zip(lines, offsets, strict=True):
        line.baseline = top + offset
        ink_w = line.ink[2] - line.ink[0]
        if zone.align == "left":
            start = left_edge
        elif zone.align == "right":
            start = right_edge - ink_w
        else:
            start = (left_edge + right_edge - ink_w) // 2
        line.x = start - line.ink[0]
    return lines


# -- drawing ------------------------------------------------------------------------------------

def _glyph_mask(line: Line, pad: int) -> tuple[np.ndarray, int, int]:
    """The line's coverage (uint8) in a box padded by `pad`, and the box's canvas origin."""
    left, top, right, bottom = line.ink
    width, height = right - left + 2 * pad, bottom - top + 2 * pad
    origin_x, origin_y = pad - left, pad - top
    positions = _pen_positions(line.display, line.font, line.size, line.tracking)
    if positions is None:
        image = Image.new("L", (max(1, width), max(1, height)), 0)
        ImageDraw.Draw(image).text((origin_x, origin_y), line.display, font=freetype(line.font, line.size),
                                   fill=255, anchor="ls")
        return np.asarray(image), line.x + left - pad, line.baseline + top - pad
    # Tracked text is set a letter at a time: each distinct letter is rasterised once and stamped at its
    # pen positions.
    mask = np.zeros((max(1, height), max(1, width)), np.uint8)
    for ch, x in zip(line.display, positions, strict=True):
        if ch.isspace():
            continue
        glyph, gx, gy = _glyph(line.font, line.size, ch)
        x0, y0 = origin_x + round(x) + gx, origin_y + gy
        gh, gw = glyph.shape
        cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(mask.shape[1], x0 + gw), min(mask.shape[0], y0 + gh)
        if cx1 > cx0 and cy1 > cy0:
            target = mask[cy0:cy1, cx0:cx1]
            np.maximum(target, glyph[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0], out=target)
    return mask, line.x + left - pad, line.baseline + top - pad


@lru_cache(maxsize=48)  # large glyphs are a few hundred KB each: a task's letters, not a font's
def _glyph(font: FontFile, size: int, ch: str) -> tuple[np.ndarray, int, int]:
    """One letter's coverage and its offset from the pen on the baseline."""
    return glyph_bitmap(font, size, ch)


def _blend_colour(rgb: np.ndarray, mask: np.ndarray, x0: int, y0: int, colour, opacity: float = 1.0) -> None:
    side = rgb.shape[0]
    h, w = mask.shape
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(side, x0 + w), min(side, y0 + h)
    if cx1 <= cx0 or cy1 <= cy0:
        return
    alpha = mask[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
    # Only the box where there is ink (the mask is padded for the shadow's blur).
    rows, cols = np.flatnonzero(alpha.max(axis=1)), np.flatnonzero(alpha.max(axis=0))
    if rows.size == 0:
        return
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    alpha = np.ascontiguousarray(alpha[r0:r1, c0:c1])
    if opacity < 1.0:
        alpha = cv2.convertScaleAbs(alpha, alpha=float(opacity))
    # region * (255 - a) / 255 + colour * a / 255 in 8-bit OpenCV passes (within a level of the float blend),
    # written into the canvas where it is.
    ink = cv2.cvtColor(alpha, cv2.COLOR_GRAY2RGB)
    region = rgb[cy0 + r0:cy0 + r1, cx0 + c0:cx0 + c1]
    cv2.multiply(region, cv2.bitwise_not(ink), dst=region, scale=1.0 / 255.0)
    # The colour at each coverage: a scaled multiply by a solid image (OpenCV's multiply by a scalar and its
    # three-channel table lookup are each several times slower than an array multiply).
    solid = cv2.merge([np.full(alpha.shape, int(v), np.uint8) for v in colour])
    cv2.multiply(ink, solid, dst=ink, scale=1.0 / 255.0)
    cv2.add(region, ink, dst=region)


def glyph_masks(lines: list[Line]) -> list[tuple[np.ndarray, int, int]]:
    """Each visible line's coverage at full size, padded for its shadow's blur, with its canvas origin."""
    return [_glyph_mask(line, pad=int(_shadow_blur(line) * 3) + 2) for line in lines]


def _shadow_blur(line: Line) -> float:
    return max(1.0, line.cap_px * 0.06)


def draw_shadows(rgb: np.ndarray, lines: list[Line], masks, side: int) -> None:
    """The soft drop shadow under each line, in place. `rgb` may be a working canvas smaller than `side`:
    a shadow this soft is laid there (its masks reduced to match) and upscaled with the picture."""
    scale = rgb.shape[0] / side
    drop = max(1, round(side * 0.002))
    for line, (mask, x0, y0) in zip(lines, masks, strict=True):
        soft = soft_blur(mask, max(0.5, _shadow_blur(line) * scale), scale)
        _blend_colour(rgb, soft, round((x0 + drop // 2) * scale), round((y0 + drop) * scale), (0, 0, 0), 0.55)


def draw_fills(rgb: np.ndarray, masks, colour: tuple[int, int, int], skip=()) -> None:
    """The letters themselves, crisp at full size, in place (but the lines at the indexes in `skip`)."""
    for i, (mask, x0, y0) in enumerate(masks):
        if i not in skip:
            _blend_colour(rgb, mask, x0, y0, colour)
