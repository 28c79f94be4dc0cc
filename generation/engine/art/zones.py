"""Where an art-directed cover's type goes: the metadata's roles at the layout's sizes, the zone clear of the
faces with their hair and chin (or beside a side photo, across a band), and the stamped box laid under a stamp
layout's lines."""

from __future__ import annotations

import numpy as np

from ..typeset import MARGIN, Role, Zone, face_for
from .compositions import Composition
from .direct import POSTER_PLACES, SCREEN_FADE, Picture, poster_anchor

LONG_LEAD = 18  # characters: a dominant text longer than this (and much longer than the other) gives way
COLUMN_WORD = 8  # characters: a side column's lead gives way when one of its words is longer and the other's fit


def _longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


def roles(comp: Composition, spec, typo) -> list[Role]:
    """The metadata's roles at the layout's sizes; the dominant one in the genre's primary face."""
    table = dict(comp.layout.type)
    dominant = max(("artist", "album"), key=lambda r: table[r][0])
    other = "album" if dominant == "artist" else "artist"
    long_text, short_text = (getattr(spec, dominant) or "").strip(), (getattr(spec, other) or "").strip()
    if len(long_text) > LONG_LEAD and len(long_text) > 1.8 * max(len(short_text), 1) or \
            comp.layout.text == "side" and _longest_word(long_text) > COLUMN_WORD >= _longest_word(short_text):
        # "Riccardo Muti · Chicago Symphony Orchestra" cannot be the big line, nor can "dreamcatcher" in a
        # column a third of the cover wide (one unbreakable word sets the size): the shorter text leads.
        table[dominant], table[other] = (table[other][0], table[dominant][1]), (table[dominant][0], table[other][1])
        dominant = other
    out = []
    for name, text in (("artist", spec.artist), ("album", spec.album), ("feature", spec.feature)):
        if not text or not text.strip():
            continue
        cap, lines = table[name]
        font = typo.primary if name == dominant else typo.secondary
        out.append(Role(name, text, cap, lines, face_for(text, font, typo)))
    return out


def _bottom_limit(side: int, explicit: bool) -> int:
    from ..advisory import label_box

    bottom = side - round(side * MARGIN)
    if explicit:
        bottom = min(bottom, label_box(side)[1] - round(side * 0.03))
    return bottom


MIN_ZONE = 0.16  # a requested text position is honoured only when it leaves at least this share of the side


def text_zone(comp: Composition, pic: Picture, side: int, explicit: bool, align: str,
              position: str = "auto") -> Zone:
    """Where the type of the layout goes, in cover pixels: clear of the faces with their hair and chin.
    `position` (top, center, bottom) is the caller's; the layout's own zone when it cannot be kept clear."""
    zone = _layout_zone(comp, pic, side, explicit, align)
    if zone.bottom - zone.top < side * 0.1:  # nowhere clear of the faces: over the lower part of the picture
        zone = Zone(round(side * 0.66), _bottom_limit(side, explicit), "bottom", align)
    if position == "auto":
        return zone
    m, gap = round(side * MARGIN), round(side * 0.035)
    bottom = _bottom_limit(side, explicit)
    keep = pic.keep_clear if pic.placement is not None and pic.placement.shape in ("photo", "print") else None
    if pic.placement is not None and pic.placement.shape == "panel":
        keep = pic.photo_box
    if position == "top":
        wanted = Zone(m, (keep[1] - gap) if keep else round(side * 0.5), "top", align)
    elif position == "bottom":
        wanted = Zone(max(keep[3] + gap, round(side * 0.42)) if keep else round(side * 0.42), bottom, "bottom",
                      align)
    else:
        wanted = Zone(m, bottom, "center", "center")
        if keep:
            below, above = Zone(keep[3] + gap, bottom, "center", "center"), Zone(m, keep[1] - gap, "center",
                                                                                  "center")
            wanted = max(below, above, key=lambda z: z.bottom - z.top)
    return wanted if wanted.bottom - wanted.top >= side * MIN_ZONE else zone


def _layout_zone(comp: Composition, pic: Picture, side: int, explicit: bool, align: str) -> Zone:
    m, gap = round(side * MARGIN), round(side * 0.035)
    bottom = _bottom_limit(side, explicit)
    keep = pic.keep_clear if pic.placement is not None and pic.placement.shape in ("photo", "print") \
        else None
    if pic.placement is not None and pic.placement.shape == "panel":
        keep = pic.photo_box  # type never runs over a framed photo
    text = comp.layout.text
    if pic.placement is None or comp.layout.photo == "none" and text in ("bottom", "top"):
        keep = None
    below_face = (keep[3] + gap) if keep else round(side * 0.55)
    above_face = (keep[1] - gap) if keep else round(side * 0.45)
    if text == "band" and pic.photo_box is not None:
        if pic.photo_box[1] > 0:  # a masthead over the photo
            return Zone(m, pic.photo_box[1] - round(side * 0.03), "center", align)
        top = pic.photo_box[3]
        return Zone(top + round(side * 0.04), min(bottom, side - round(side * 0.05)), "center", align)
    if text == "side" and pic.photo_box is not None:
        column = (pic.photo_box[2], side) if pic.photo_box[0] == 0 else (0, pic.photo_box[0])
        pad = round(side * 0.045)  # from the photo's edge; the sheet's own edge keeps the cover's margin
        return Zone(m + round(side * 0.02), bottom, "bottom", "left", max(m, column[0] + pad),
                    min(side - m, column[1] - pad))
    if text == "below" and pic.photo_box is not None:
        return Zone(pic.photo_box[3] + gap, bottom, "center", "center")
    if text in ("poster", "stack"):
        anchor, flush = poster_anchor(comp), POSTER_PLACES[text][comp.variation % len(POSTER_PLACES[text])][1]
        if comp.layout.photo == "full":  # over the photo itself: under the faces, or above them if roomier
            if keep is not None and keep[1] - m > bottom - keep[3]:
                return Zone(m, keep[1] - gap, "top", flush)
            return Zone(below_face if keep is not None else m, bottom, "bottom", flush)
        if pic.placement is not None and pic.placement.shape == "wash" and pic.photo_box is not None:
            # The screened photo lies opposite the block: the block takes the rest of the sheet and the screen's
            # faded edge, down to (or up to) the faces' hair and chin.
            box, keep, least = pic.photo_box, pic.keep_clear, round(side * MIN_ZONE)
            fade = round(side * SCREEN_FADE)
            if box[3] - box[1] >= side - 1:  # a tall panel: the block in the column beside it, over its faded edge
                # (A face wider than the panel is cut by its faded edge anyway: the column is never narrower.)
                if box[0] > 0:
                    left, right = m, max(box[0], min(box[0] + fade // 2, keep[0] - gap if keep else side))
                else:
                    left, right = min(box[2], max(box[2] - fade // 2, keep[2] + gap if keep else 0)), side - m
                return Zone(m, bottom, anchor, "left", left, right)
            face = pic.placement.face  # (a crowd has no keep: its main face still stays clear)
            if box[1] > 0:
                limit = keep[1] - gap if keep is not None else box[1] + fade
                if keep is None and face is not None:
                    limit = min(limit, max(box[1], face[1] - gap))
                return Zone(m, min(bottom, max(limit, m + least)), "top", flush)
            limit = keep[3] + gap if keep is not None else box[3] - fade
            if keep is None and face is not None:
                limit = max(limit, min(box[3], face[3] + gap))
            return Zone(max(m, min(limit, bottom - least)), bottom, "bottom", flush)
        if keep is not None and anchor != "center":  # a screened photo's face: the block keeps off it
            anchor = "top" if keep[1] - m > bottom - keep[3] else "bottom"
        return Zone(m, bottom, anchor, flush)
    if text == "corner":
        right = keep is not None and (keep[0] + keep[2]) / 2 < side / 2
        half = round(side * 0.5)
        left_x, right_x = (side - m - half, side - m) if right else (m, m + half)
        if keep is None or keep[1] - gap >= side * 0.22 or not (keep[2] > left_x and keep[0] < right_x):
            return Zone(m, round(side * 0.4), "top", "right" if right else "left", left_x, right_x)
        return Zone(round(side * 0.62), bottom, "bottom", "right" if right else "left", left_x, right_x)
    if text == "stamp":
        width = round(side * 0.62)
        if keep is None or side - keep[3] >= keep[1]:
            return Zone(max(below_face, round(side * 0.6)), bottom, "bottom", "left", m + round(side * 0.03),
                        m + width)
        return Zone(m + round(side * 0.03), min(above_face, round(side * 0.4)), "top", "left",
                    m + round(side * 0.03), m + width)
    if text == "top":
        top_zone = Zone(m, min(above_face, round(side * 0.5)), "top", align)
        if top_zone.bottom - top_zone.top >= side * 0.15:
            return top_zone
        return Zone(max(below_face, round(side * 0.5)), bottom, "bottom", align)
    zone = Zone(max(below_face, round(side * 0.5)), bottom, "bottom", align)
    if zone.bottom - zone.top >= side * 0.18:
        return zone
    return Zone(m, max(m + round(side * 0.18), above_face), "top", align)


def stamp_backdrop(colour) -> callable:
    """A solid box of the layout's colour under the lines (a stamped title), laid before their colour is chosen."""
    fill = np.clip(np.asarray(colour, np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)

    def draw(rgb: np.ndarray, lines, scale: float) -> None:
        cap = max(line.cap_px for line in lines)
        pad = cap * 0.9  # generous: the box reads as a label, and its edge stays clear of the letters at 56 px
        x0 = min(line.box[0] for line in lines) - pad
        y0 = min(line.box[1] for line in lines) - pad
        x1 = max(line.box[2] for line in lines) + pad
        y1 = max(line.box[3] for line in lines) + pad
        n = rgb.shape[0]
        bx0, by0 = max(0, int(x0 * scale)), max(0, int(y0 * scale))
        bx1, by1 = min(n, int(np.ceil(x1 * scale))), min(n, int(np.ceil(y1 * scale)))
        rgb[by0:by1, bx0:bx1] = fill

    return draw
