"""Per-variant text hierarchy and placement, and the typeset stage that ties fitting, contrast and drawing."""

from __future__ import annotations

import numpy as np

from .advisory import draw_advisory, label_box
from .composite import Placement, fade_rows
from .contrast import (
    MIN_CONTRAST,
    LuminanceMap,
    apply_scrim,
    choose_colour,
    relative_luminance,
    scrim_strength,
    worst_contrast,
)
from .knockout import draw_knockout, knockout_fill
from .presets import GenrePreset
from .spec import CoverSpec
from .typeset import (
    MARGIN,
    Line,
    Role,
    TextResult,
    Zone,
    draw_fills,
    draw_shadows,
    face_for,
    glyph_masks,
    layout_text,
)

# Target cap heights (fraction of the side). The dominant line reads at 56 px (about 1/10 of the side);
# the secondary lines are 2-3 times smaller, as COVER-CRAFT asks.
ARTIST_FORWARD = {"artist": (0.10, 2), "album": (0.042, 3), "feature": (0.03, 2)}
TEXT_FORWARD = {"artist": (0.07, 2), "album": (0.16, 3), "feature": (0.032, 2)}
# Background-forward: the scene is the focal point, the type steps back (still ~1/12 of the side for 56 px).
BACKGROUND_FORWARD = {"artist": (0.085, 2), "album": (0.036, 3), "feature": (0.027, 2)}
MIN_ZONE = 0.16  # a requested text position is honoured only when it leaves at least this share of the side
NEAR_BLACK = (20, 18, 18)
WHITE = (255, 255, 255)


def roles_for(spec: CoverSpec, preset: GenrePreset) -> list[Role]:
    typo = preset.fonts
    if spec.variant == "text":
        table, album_font, artist_font = TEXT_FORWARD, typo.primary, typo.secondary
    elif spec.variant == "background":
        table, album_font, artist_font = BACKGROUND_FORWARD, typo.secondary, typo.primary
    else:
        table, album_font, artist_font = ARTIST_FORWARD, typo.secondary, typo.primary
    roles = [Role("artist", spec.artist, *table["artist"], face_for(spec.artist, artist_font, typo)),
             Role("album", spec.album, *table["album"], face_for(spec.album, album_font, typo))]
    if spec.feature and spec.feature.strip():
        roles.append(Role("feature", spec.feature, *table["feature"], typo.secondary))
    return roles


def text_zone(spec: CoverSpec, preset: GenrePreset, side: int, placement: Placement | None) -> Zone:
    """Rows the text block may use: clear of the face, the photo card or circle, and the advisory label."""
    zone = _auto_zone(spec, preset, side, placement)
    if spec.text_position != "auto":
        zone = _requested_zone(spec.text_position, zone, spec, preset, side, placement)
    return zone


def _bottom_limit(spec: CoverSpec, side: int) -> int:
    bottom = side - round(side * MARGIN)
    if spec.explicit:
        bottom = min(bottom, label_box(side)[1] - round(side * 0.03))
    return bottom


def _auto_zone(spec: CoverSpec, preset: GenrePreset, side: int, placement: Placement | None) -> Zone:
    margin = round(side * MARGIN)
    gap = round(side * 0.04)
    bottom = _bottom_limit(spec, side)
    align = preset.fonts.align
    if placement is None:
        if spec.variant == "text":
            return Zone(margin, bottom, "center", "center")
        if spec.variant == "background":  # the scene is the cover: small type at the top
            return Zone(margin, round(side * 0.42), "top", align)
        return Zone(round(side * 0.42), bottom, "bottom", align)
    if placement.shape == "cutout" and spec.variant in ("background", "text"):
        # A small subject at the bottom: the text goes above its head.
        limit = placement.box[1] - gap
        if placement.face:
            limit = min(limit, placement.face[1] - gap)
        limit = max(limit, margin + round(side * MIN_ZONE))
        if spec.variant == "text":
            return Zone(margin, limit, "center", "center")
        return Zone(margin, min(limit, round(side * 0.5)), "top", align)
    if spec.variant == "text":
        return Zone(margin, bottom, "center", "center")
    if placement.shape in ("fade", "cutout"):
        face = placement.face
        if face is None:
            return Zone(round(side * 0.5), bottom, "bottom", align)
        below = bottom - (face[3] + gap)
        above = face[1] - gap - margin
        if below >= side * 0.22 or below >= above:
            return Zone(max(face[3] + gap, round(side * 0.42)), bottom, "bottom", align)
        return Zone(margin, face[1] - gap, "top", align)
    return Zone(placement.box[3] + round(side * 0.045), bottom, "bottom", align)


def _requested_zone(position: str, auto: Zone, spec: CoverSpec, preset: GenrePreset, side: int,
                    placement: Placement | None) -> Zone:
    """The caller's top / center / bottom, kept clear of the face; the automatic zone when it cannot be."""
    margin = round(side * MARGIN)
    gap = round(side * 0.04)
    bottom = _bottom_limit(spec, side)
    align = "center" if position == "center" else preset.fonts.align
    face = placement.face if placement is not None else None
    if placement is not None and placement.shape in ("card", "circle"):
        face = placement.box  # the whole framed photo is what the text must not cover
    if position == "top":
        zone = Zone(margin, (face[1] - gap) if face else round(side * 0.5), "top", align)
    elif position == "bottom":
        zone = Zone(max(face[3] + gap, round(side * 0.42)) if face else round(side * 0.42), bottom, "bottom", align)
    else:
        zone = Zone(margin, bottom, "center", align)
        if face:
            below = Zone(face[3] + gap, bottom, "center", align)
            above = Zone(margin, face[1] - gap, "center", align)
            zone = max(below, above, key=lambda z: z.bottom - z.top)
    if zone.bottom - zone.top < side * MIN_ZONE:
        return auto
    return zone


def _scrim_box(lines: list[Line], zone: Zone, side: int) -> tuple[int, int, int, int]:
    boxes = [line.box for line in lines]
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    pad = round(side * 0.09)
    if zone.anchor == "bottom":
        return (-side, y0 - pad // 2, 2 * side, 2 * side)  # a fade from the block to the bottom edge
    if zone.anchor == "top":
        return (-side, -side, 2 * side, y1 + pad // 2)
    return (x0 - pad, y0 - pad, x1 + pad, y1 + pad)


def _scaled(box: tuple[int, int, int, int], scale: float) -> tuple[int, int, int, int]:
    return tuple(round(v * scale) for v in box)


def typeset(rgb: np.ndarray, spec: CoverSpec, preset: GenrePreset, palette: list[np.ndarray],
            placement: Placement | None, side: int | None = None,
            ground: tuple[np.ndarray, float] | None = None, *, zone: Zone | None = None,
            roles: list[Role] | None = None, backdrop=None, scrim: bool = True) -> tuple[TextResult, dict]:
    """Fit the text, pick its colour and lay any scrim on `rgb` (in place); the lines are drawn by `draw_text`.

    `side` is the cover's size: the layout is in cover pixels. `rgb` may be a smaller working canvas
    (the cover before its final upscale): the scrim is soft, so it is laid there and scaled with it.
    `ground` (colour, strength): a block set at the bottom over a cut-out subject sits on the ground
    colour, the body dissolving into it under the letters, instead of on the subject's clothes.
    `zone` and `roles` (an art-directed composition's) replace the variant's own; `backdrop(rgb, lines, scale)`
    lays what the layout puts under the letters (a box, a band) before their colour is chosen.
    """
    side = side or rgb.shape[0]
    scale = rgb.shape[0] / side
    zone = zone or text_zone(spec, preset, side, placement)
    lines = layout_text(roles or roles_for(spec, preset), preset.fonts, side, zone)
    visible = [line for line in lines if line.display.strip()]
    if backdrop is not None and visible:
        backdrop(rgb, visible, scale)
    if ground is not None and visible and zone.anchor in ("bottom", "top"):
        top = min(line.box[1] for line in visible)
        bottom = max(line.box[3] for line in visible)
        block = bottom - top
        if zone.anchor == "bottom":
            fade_rows(rgb, ground[0], ground[1], start=(top - side * 0.16) * scale, full=(top + block * 0.35) * scale)
        else:  # the same fade from the top edge down to just under the block
            n = rgb.shape[0]
            flipped = np.ascontiguousarray(rgb[::-1])
            fade_rows(flipped, ground[0], ground[1], start=n - (bottom + side * 0.16) * scale,
                      full=n - (bottom - block * 0.35) * scale)
            rgb[...] = flipped[::-1]
    ink, highlight, base = (tuple(int(v * 255 + 0.5) for v in palette[i]) for i in (4, 3, 0))
    candidates = list(dict.fromkeys([ink, highlight, WHITE, NEAR_BLACK, base]))

    pad = round(side * 0.01)

    def sample() -> list[np.ndarray]:
        luminance = LuminanceMap(rgb)
        return [luminance.under(_scaled(line.box, scale), round(pad * scale)) for line in visible]

    samples = sample()
    colour, before = choose_colour(candidates, samples) if visible else (ink, 21.0)
    text_lum = float(relative_luminance(np.array(colour)))
    strength_total = 0.0
    for _ in range(2 if scrim else 0):  # a second pass when the soft edge of the first scrim left a line short
        strength = scrim_strength(text_lum, samples) if visible else 0.0
        if strength <= 0.02:
            break
        # A centred block gets a much wider, rounder falloff so the scrim never reads as a box.
        softness = 0.09 if zone.anchor == "center" else 0.035
        apply_scrim(rgb, _scaled(_scrim_box(visible, zone, side), scale), strength, darken=text_lum > 0.4,
                    softness=softness)
        strength_total = 1 - (1 - strength_total) * (1 - strength)
        samples = sample()
    contrast = [round(worst_contrast(text_lum, s), 2) for s in samples]
    shadow = text_lum > 0.4 and (strength_total > 0 or before < 7.0)
    masks = glyph_masks(visible)
    if shadow:  # soft: laid on the working canvas with the scrim
        draw_shadows(rgb, visible, masks, side)

    measurements = {
        "zone": {"top": zone.top, "bottom": zone.bottom, "anchor": zone.anchor, "align": zone.align},
        "text_colour": "#{:02x}{:02x}{:02x}".format(*colour),
        "contrast_before_scrim": round(before, 2),
        "contrast": contrast,
        "contrast_ok": all(c >= MIN_CONTRAST for c in contrast),
        "scrim": round(strength_total, 3),
        "shadow": shadow,
    }
    if spec.explicit:
        measurements["advisory_box"] = label_box(side)
    return TextResult(lines, colour, contrast, strength_total, shadow, masks), measurements


def draw_text(rgb: np.ndarray, text: TextResult, explicit: bool, photo=None, work: int | None = None,
              measured=None) -> None:
    """Draw the fitted letters (their shadows are already laid) and the advisory label when explicit, in place.
    With a knockout layout's `photo` (its picture's `knockout`, drawn at `work` px) the lead lines show the photo
    through their letters, and each knocked-out line of `measured` (the lines' measurements) gets the ground it
    was cut from: the Sentinel finds its ink as what differs from that ground, not what matches a colour."""
    knockout = knockout_fill(text, rgb.shape[0], work or rgb.shape[0], photo)
    grounds = {}
    if knockout is not None:
        lead, tone, origin = knockout
        for i in lead:
            mask, x0, y0 = text.masks[i]
            grounds[i] = draw_knockout(rgb, mask, x0, y0, text.colour, tone, origin)
    draw_fills(rgb, text.masks, text.colour, skip=grounds)
    if explicit:
        draw_advisory(rgb)
    if grounds and measured is not None:
        visible = [line for line in measured if line["display"].strip()]
        for i, ground in grounds.items():
            visible[i]["ground"] = "#{:02x}{:02x}{:02x}".format(*ground)
