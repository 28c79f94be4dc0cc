"""Art-directed covers: the composition's picture at working size, and where its type goes.

`picture` draws the photo (cropped around the faces, treated, its background transformed), the scene, the
bands, panels and prints of the layout, and the film look; art/zones.py says where its type goes. The
typesetter, the upscale and the export are the pipeline's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import numpy as np

from ..composite import Placement
from . import prints, textures, treatments
from .compositions import (
    BAND_PHOTO,
    PRINT_FACES,
    SIDE_MAX,
    SIDE_PHOTO,
    Composition,
    panel_share,
    photo_px_needed,
)
from .crop import EARS, TIGHT_EARS, Crop, face_crop, on_canvas, protected
from .prepare import PreparedPhoto
from .raster import (
    as_float,
    blur,
    colour_luminance,
    fbm,
    mix,
    resize,
    to_uint8,
)

WORK_MAX = 1500  # px: the picture is composed at most this size and upscaled once; letters are drawn at full size
BAND_SHARE = 1.0 - BAND_PHOTO  # the solid band's height under a band layout's photo
PANEL_BORDER = 0.012
POSTER_PLACES = {"poster": (("center", "center"), ("bottom", "left"), ("top", "center")),
                 "stack": (("top", "left"), ("bottom", "left"), ("center", "left"))}


def poster_anchor(comp: Composition) -> str:
    """Where a poster's or a stack's block hangs: the composition's variation (the seed digit that also sets a
    full-bleed crop's face_x) moves it (a poster centred, low, or high; a stack from the top, standing, or
    centred); over a screened photo it hangs from the top or stands at the bottom, never across the face."""
    places = POSTER_PLACES[comp.layout.text]
    anchor = places[comp.variation % len(places)][0]
    if comp.layout.photo == "texture" and anchor == "center":
        return "top"
    return anchor


SCREEN_SHARE = 0.6  # the share of the sheet a poster's screened photo takes, opposite the title's block (a band's
# height or a tall panel's width: narrower, a face that fills the frame would be cut by the panel's edge)
SCREEN_EYE_Y = 0.4  # the eye line in that part
SCREEN_FADE = 0.16  # the screen dies into the ground over this share of the side, toward the block
SCREEN_STRENGTH = 0.6  # the screen's ink at full tone (clear of the type, it need not be knocked back far)
KNOCKOUT_EYE_Y = 0.42  # the eye line in the title block a knockout's photo is framed by


@dataclass
class Picture:
    rgb: np.ndarray  # uint8 RGB at the working side
    placement: Placement | None  # in cover pixels
    keep_clear: tuple[int, int, int, int] | None  # the faces with their hair and chin, in cover pixels
    photo_box: tuple[int, int, int, int] | None  # where the photo lies, in cover pixels
    measurements: dict
    # A knockout's photo: size (w, h) -> its tone plane framed to the title's block (layout.draw_text)
    knockout: Callable[[tuple[int, int]], np.ndarray] | None = None


def usable_side(photo: PreparedPhoto | None) -> float | None:
    if photo is None:
        return None
    w, h = photo.size
    return float(min(w, h))


def faces_fit(photo: PreparedPhoto | None, side: int):
    """For choose(): whether a layout's crop of this photo holds its faces whole (None without faces)."""
    if photo is None or not photo.faces:
        return None

    def whole(layout) -> bool:
        aspect = {"full": 1.0, "side": side_share(photo)}.get(layout.photo, 1.0 / (1.0 - BAND_SHARE))
        comp = Composition(layout, "", "", "", None)
        crop = _crop(photo, comp, aspect, side)
        if layout.photo == "side":  # a narrow frame for one person: a couple or a band would be sliced through
            return crop.whole and photo.cluster() == photo.face
        return crop.whole

    return whole


def side_share(photo: PreparedPhoto) -> float:
    """A side layout's photo width as a share of the cover: SIDE_PHOTO, or wider (up to SIDE_MAX) when the
    faces with their ears need it in a crop of the photo's full height."""
    cluster = photo.cluster(min(photo.size))
    if cluster is None:
        return SIDE_PHOTO
    keep = protected(cluster, TIGHT_EARS)
    w, h = photo.size
    return float(min(SIDE_MAX, max(SIDE_PHOTO, (keep[2] - keep[0]) * 1.04 / h)))


def text_room(photo: PreparedPhoto | None) -> float:
    """The share of the photo's widest square crop that lies clear of the faces (with hair and chin), above or
    below them: how much room type set on the photo would have."""
    if photo is None or photo.cluster() is None:
        return 1.0
    cluster = photo.cluster(min(photo.size))
    crop = face_crop(photo.size, 1.0, cluster, face_share=0.0001)
    keep = protected(cluster)
    above = max(0.0, keep[1] - crop.box[1])
    below = max(0.0, crop.box[3] - keep[3])
    return max(above, below) / crop.height


def _scene(comp: Composition, rng, n: int, palette, work: int, override: np.ndarray | None,
           motifs=None, intensity: float = 0.5) -> np.ndarray:
    if override is not None:  # the diffusion backend's picture: the same composition, another scene source
        scene = np.ascontiguousarray(resize(override, (n, n)), np.float32)
    else:
        scene = textures.draw(comp.scene, rng, work if comp.scene in textures.CRISP else n, palette)
    if abs(intensity - 0.5) > 1e-3:  # 0: mostly the ground colour, 1: the scene pushed 40% further from it
        scene = np.clip(palette[0] + (scene - palette[0]) * (0.3 + 1.4 * intensity), 0.0, 1.0)
    if motifs:
        motifs(scene)
    return resize(scene, (work, work))


SUBJECT_CROPS = {"face": 0.34, "bust": 0.2, "full": 0.07}  # the caller's subject_crop as the faces' share


def _crop(photo: PreparedPhoto, comp: Composition, aspect: float, side: int, face_x: float = 0.5,
          share: float | None = None, subject_crop: str = "auto") -> Crop:
    layout = comp.layout
    needed = photo_px_needed(layout, side, share) if layout.photo in ("full", "band", "side", "panel") else 0.0
    if layout.photo == "band":
        needed *= BAND_PHOTO  # the crop's height: its width (the enlarged side) is aspect times more
    # A side layout's crop spans the cover's full height: `needed` is its height as it is.
    face_share = SUBJECT_CROPS.get(subject_crop, layout.face_share)
    w, h = photo.size
    ears = TIGHT_EARS if layout.photo == "side" else EARS
    return face_crop(photo.size, aspect, photo.cluster(min(w, h * aspect)), face_share=face_share,
                     eye_y=layout.eye_y, face_x=face_x, zoom_limit=needed, ears=ears)


def _region(photo: PreparedPhoto, crop: Crop, size: tuple[int, int]) -> np.ndarray:
    """The crop's pixels at `size`, as floats."""
    x0, y0, x1, y1 = (int(round(v)) for v in crop.box)
    return as_float(resize(np.ascontiguousarray(photo.pixels[y0:y1, x0:x1]), size))


def _subject(photo: PreparedPhoto, crop: Crop, size: tuple[int, int]) -> tuple[np.ndarray, bool]:
    """How much each pixel of the crop at `size` is the person (treatments.subject_weight), and whether there is
    anyone to weigh (a mask or a face)."""
    x0, y0, x1, y1 = (int(round(v)) for v in crop.box)
    mask = photo.mask[y0:y1, x0:x1] if photo.mask is not None else None
    face = on_canvas(photo.face, crop, (0, 0, *size)) if photo.face is not None else None
    return treatments.subject_weight(mask, size, face), mask is not None or face is not None


def _treated(photo: PreparedPhoto, crop: Crop, size: tuple[int, int], comp: Composition, palette, rng,
             background: bool = True) -> np.ndarray:
    out = treatments.TREATMENTS[comp.treatment](_region(photo, crop, size), palette, rng)
    if background:
        weight, someone = _subject(photo, crop, size)
        # With nobody to hold in focus, a blur would leave the whole picture out of focus: tone only.
        out = treatments.transform_background(out, weight, palette, comp.background, 0.85, focus=someone)
    return out


def _cover_boxes(photo: PreparedPhoto, crop: Crop, target) -> tuple[tuple | None, tuple | None]:
    face = on_canvas(photo.face, crop, target) if photo.face is not None else None
    cluster = photo.cluster(crop.width)
    keep = on_canvas(protected(cluster), crop, target) if cluster is not None else None
    if keep is None and photo.subject is not None:
        # A person whose face the detector missed (turned away, mid-throw): the top of the person's box is
        # the head, and type keeps off it all the same.
        bx0, by0, bx1, by1 = photo.subject.bbox
        keep = on_canvas((bx0, by0, bx1, by0 + (by1 - by0) * 0.35), crop, target)
    return face, keep


def _deepened(colour, ceiling: float, light: float = 2.0) -> np.ndarray:
    """`colour` with its hue kept and its luminance brought down to `ceiling`, unless it is already that deep
    or at least `light` (light enough for dark letters)."""
    colour = np.asarray(colour, np.float32)
    lum = colour_luminance(colour)
    return colour if lum <= ceiling or lum >= light else np.clip(colour * (ceiling / lum), 0.0, 1.0)


# A poster's flat ink (the palette's base or accent): one that leaves neither white nor black letters 4.5:1 is
# deepened. A side column is always deep: its type is a size smaller than a band's and its secondary line often
# an italic, and only light letters on a deep ground (7:1 and more) still read at 56 px and in a soft thumbnail.
POSTER_INK = (0.3, 0.62)  # (ceiling, light)
COLUMN_DEPTH = 0.22
PAPER_GROUND = 0.7  # a palette whose ground is this light is printed on paper


def _knockout(photo: PreparedPhoto, comp: Composition, side: int, subject_crop: str):
    """What a knockout's letters show: size (w, h) -> the photo's tone plane (uint8) framed to that block, its
    faces filling it (the block is known only once the title is set)."""
    framed = replace(comp, layout=replace(comp.layout, eye_y=KNOCKOUT_EYE_Y))

    def tone(size: tuple[int, int]) -> np.ndarray:
        crop = _crop(photo, framed, size[0] / size[1], side, subject_crop=subject_crop)
        weight, someone = _subject(photo, crop, size)
        return treatments.knockout_tone(_region(photo, crop, size), weight if someone else None)

    return tone


def _ground(palette, rng, size: tuple[int, int], colour) -> np.ndarray:
    """A solid printed colour with a little paper in it (a band, a box, the poster's ground)."""
    h, w = size
    tex = cv2.resize(fbm(rng, (h // 4 + 1, w // 4 + 1), octaves=5, base=6), (w, h)) - 0.5
    return np.clip(np.asarray(colour, np.float32) + tex[..., None] * 0.018, 0.0, 1.0)  # tooth, not wood grain


def _texture_inks(comp: Composition, palette) -> tuple[np.ndarray, np.ndarray]:
    """(ground, ink) of a screened photo beside a poster's title: the palette's ground with its light where the
    treatment is a tritone and the light shows on the ground, else with its accent. (A black-and-white stock, a
    deep coloured one and an engraver's line screen were reviewed: dull and murky next to these two.)"""
    lum = colour_luminance
    colours = [np.asarray(palette[i], np.float32) for i in range(min(5, len(palette)))]
    base = colours[0]
    if comp.treatment == "tritone":
        lightest = max(colours, key=lum)
        # A pure white light prints a grey screen, which reads as a photocopy in a colour genre (electronic, pop):
        # its brightest colour instead, where it has one that shows on the ground.
        coloured = [c for c in colours if float(c.max() - c.min()) > 0.25 and lum(c) - lum(base) > 0.3]
        if coloured and float(lightest.max() - lightest.min()) < 0.03:
            lightest = max(coloured, key=lum)
        light = np.clip(lightest * 0.8 + 0.2, 0.0, 1.0)
        if lum(light) - lum(base) > 0.3:
            return base, light
    ink = colours[2] if abs(lum(colours[2]) - lum(base)) > 0.12 else colours[3]
    return base, ink


def _panel(canvas: np.ndarray, pic: np.ndarray, x0: int, y0: int, border_colour) -> None:
    """A framed photo on the ground, with a soft shadow under it (in place)."""
    h, w = pic.shape[:2]
    n = canvas.shape[0]
    b = max(2, round(n * PANEL_BORDER))
    shadow = np.zeros(canvas.shape[:2], np.float32)
    shadow[max(0, y0 - b + b): min(n, y0 + h + b + b), max(0, x0 - b): min(n, x0 + w + b)] = 1.0
    shadow = blur(shadow, n * 0.012)
    canvas *= (1.0 - shadow[..., None] * 0.45)
    canvas[max(0, y0 - b): y0 + h + b, max(0, x0 - b): x0 + w + b] = border_colour
    canvas[y0: y0 + h, x0: x0 + w] = pic


def picture(photo: PreparedPhoto | None, comp: Composition, palette, rng, side: int,
            scene_override: np.ndarray | None = None, motifs=None, *, subject_crop: str = "auto",
            intensity: float = 0.5, text_position: str = "auto") -> Picture:
    """The composition's picture at the working size. `subject_crop` (auto, face, bust, full) sets how tight
    the photo is cropped around the faces; `intensity` (0..1, 0.5 as designed) how strong the scene is;
    `text_position` top leaves headroom above the faces for the type, bottom room below them."""
    if text_position in ("top", "bottom") and comp.layout.photo in ("full", "band"):
        eye_y = max(comp.layout.eye_y, 0.58) if text_position == "top" else min(comp.layout.eye_y, 0.3)
        comp = replace(comp, layout=replace(comp.layout, eye_y=eye_y))
    work = min(side, WORK_MAX)
    f = side / work
    layout = comp.layout
    n_scene = max(500, side // 4)
    direction = comp.direction
    placement, keep, photo_box, crop, knockout = None, None, None, None, None
    kind = layout.photo if photo is not None else "none"
    if kind == "full":
        face_x = comp.face_x
        if layout.text == "corner" and photo.face is not None:
            face_x = 0.58 if (photo.face[0] + photo.face[2]) / 2 > photo.size[0] / 2 else 0.42
        crop = _crop(photo, comp, 1.0, side, face_x, subject_crop=subject_crop)
        canvas = _treated(photo, crop, (work, work), comp, palette, rng)
        face, keep = _cover_boxes(photo, crop, (0, 0, side, side))
        photo_box = (0, 0, side, side)
        placement = Placement(photo_box, face, "photo")
    elif kind == "band":
        band_h = round(work * BAND_SHARE)
        crop = _crop(photo, comp, work / (work - band_h), side, subject_crop=subject_crop)
        canvas = np.empty((work, work, 3), np.float32)
        # The seed's digit sets the band under the photo or over it (a masthead), in the band colour or the
        # ground's: the one layout a wide group photo allows still gives different designs. (Or where the caller
        # asked for the type.)
        on_top = comp.variation % 2 == 1 if text_position not in ("top", "bottom") else text_position == "top"
        photo_rows, band_rows = (slice(band_h, work), slice(0, band_h)) if on_top else \
            (slice(0, work - band_h), slice(work - band_h, work))
        # A neutral slab (near-black, or paper on a light palette) under a black-and-white photo; the type in
        # the palette's colour is the one colour on the cover.
        colour = np.full(3, 0.035 if colour_luminance(palette[0]) < 0.5 else 0.93, np.float32)
        if comp.variation == 2:
            colour = _deepened(palette[direction.band], COLUMN_DEPTH)
        canvas[photo_rows] = _treated(photo, crop, (work, work - band_h), comp, palette, rng)
        canvas[band_rows] = _ground(palette, rng, (band_h, work), colour)
        photo_box = (0, round(band_h * f), side, side) if on_top else (0, 0, side, round((work - band_h) * f))
        face, keep = _cover_boxes(photo, crop, photo_box)
        placement = Placement(photo_box, face, "photo")
    elif kind == "side":
        photo_w = round(work * side_share(photo))
        crop = _crop(photo, comp, photo_w / work, side, subject_crop=subject_crop)
        # The photo on the side the faces look from, the column on the other (the seed breaks a tie).
        cx = (photo.face[0] + photo.face[2]) / 2 / photo.size[0] if photo.face is not None else 0.5
        on_left = cx > 0.55 or (abs(cx - 0.5) <= 0.05 and rng.random() < 0.5)
        px0 = 0 if on_left else work - photo_w
        canvas = np.empty((work, work, 3), np.float32)
        canvas[:, px0:px0 + photo_w] = _treated(photo, crop, (photo_w, work), comp, palette, rng)
        cx0 = photo_w if on_left else 0
        # A deep column in the band's colour; on a palette printed on paper (classical) the band's colour is a
        # mid brown that reads as mud beside a black-and-white photo: its darkest ink instead.
        column = _deepened(palette[direction.band], COLUMN_DEPTH)
        if colour_luminance(palette[0]) > PAPER_GROUND:
            column = _deepened(min(palette, key=colour_luminance), COLUMN_DEPTH)
        canvas[:, cx0:cx0 + work - photo_w] = _ground(palette, rng, (work, work - photo_w), column)
        photo_box = (round(px0 * f), 0, round((px0 + photo_w) * f), side)
        face, keep = _cover_boxes(photo, crop, photo_box)
        placement = Placement(photo_box, face, "photo")
    elif kind == "panel":
        canvas = _scene(comp, rng, n_scene, palette, work, scene_override, motifs, intensity)
        share = panel_share(layout, usable_side(photo), side)
        pw = round(work * share)
        ratio = photo.size[0] / photo.size[1]  # a landscape photo keeps a landscape panel (a group stays whole)
        ph = round(pw / min(ratio, 1.5)) if ratio >= 0.95 else round(pw * 1.25)
        tallest = round(work * (0.62 if layout.share > 0.4 else 0.45))  # room for the type
        if ph > tallest:
            pw, ph = round(pw * tallest / ph), tallest
        crop = _crop(photo, comp, pw / ph, side, share=share * max(1.0, ph / pw), subject_crop=subject_crop)
        pic = _treated(photo, crop, (pw, ph), comp, palette, rng)
        x0 = (work - pw) // 2
        if layout.text == "below":
            y0 = round(work * 0.08)
        else:  # the photo low in the scene, the type above
            y0 = work - round(work * 0.09) - ph
            if share < 0.4:
                x0 = round(work * float(rng.choice([0.2, 0.5, 0.8]))) - pw // 2
        light = palette[3] if colour_luminance(palette[0]) < 0.5 else palette[4]
        _panel(canvas, pic, x0, y0, np.clip(np.asarray(light) * 0.9 + 0.1, 0, 1))
        photo_box = tuple(round(v * f) for v in (x0, y0, x0 + pw, y0 + ph))
        face, keep = _cover_boxes(photo, crop, photo_box)
        placement = Placement(photo_box, face, "panel")
    elif kind == "texture" and layout.on_scene:  # the person screen-printed as a stencil, a halo behind the head
        crop = prints.print_crop(photo, layout.face_share, layout.eye_y)
        face, keep = _cover_boxes(photo, crop, (0, 0, side, side))
        photo_box = (0, 0, side, side)
        canvas = prints.stencil(photo, crop.box, work, palette, rng, face and tuple(v / f for v in face),
                                reverse=comp.dark_print, halo=comp.halo)
        placement = Placement(photo_box, face, "print")
    elif kind == "texture":  # a fine screen beside a poster's title (the title is the image), printed in the
        # part of the sheet the title's block leaves and dying into the ground toward it, so the block never lies
        # across a face: a band under a block hung from the top (over one standing at the bottom), or, where a band
        # would slice the faces of one or two people (a face that fills the frame), a tall panel beside a column
        base, ink = _texture_inks(comp, palette)
        canvas = _ground(palette, rng, (work, work), base)
        framed = replace(comp, layout=replace(layout, eye_y=SCREEN_EYE_Y))
        part = round(work * SCREEN_SHARE)
        crop = _crop(photo, framed, work / part, side)
        tall = not crop.whole and len(photo.faces) <= PRINT_FACES  # (a crowd is cut by any frame: a band
        # keeps the title's column wide enough to read at 56 px)
        if tall:
            crop = _crop(photo, framed, part / work, side)
        far = poster_anchor(comp) != "bottom" if not tall else comp.variation % 2 == 0  # low, or on the right
        start = work - part if far else 0
        ramp = np.clip(np.arange(part, dtype=np.float32) / (work * SCREEN_FADE), 0.0, 1.0)
        ramp = ramp if far else ramp[::-1]
        cover = np.zeros((work, work), np.float32)
        size = (part, work) if tall else (work, part)
        screen = prints.poster_texture(photo, crop.box, size, base, SCREEN_STRENGTH, ink)
        if tall:
            cover[:, start:start + part] = screen * ramp[None, :]
            photo_box = (round(start * f), 0, round((start + part) * f), side)
        else:
            cover[start:start + part] = screen * ramp[:, None]
            photo_box = (0, round(start * f), side, round((start + part) * f))
        canvas = mix(canvas, np.broadcast_to(ink, canvas.shape), cover)
        face, keep = _cover_boxes(photo, crop, photo_box)
        if len(photo.faces) > PRINT_FACES:  # a crowd's faces fill the band: the title may take its faded edge too
            keep = None
        placement = Placement(photo_box, face, "wash")
    elif kind == "ghost":  # the photo exposed over the genre's scene, the person whole, the rest dissolving
        crop = _crop(photo, comp, 1.0, side, subject_crop=subject_crop)
        canvas = _scene(comp, rng, n_scene, palette, work, scene_override, motifs, intensity)
        weight, _ = _subject(photo, crop, (work, work))
        canvas = treatments.ghost(canvas, _region(photo, crop, (work, work)), weight, palette)
        face, keep = _cover_boxes(photo, crop, (0, 0, side, side))
        photo_box = (0, 0, side, side)
        placement = Placement(photo_box, face, "photo")
    elif kind == "knockout":  # the title's letters cut out of a flat ground: the photo is seen only through them
        ground = palette[0] if comp.variation % 2 == 0 else _deepened(palette[direction.band], COLUMN_DEPTH)
        canvas = _ground(palette, rng, (work, work), ground)
        knockout = _knockout(photo, comp, side, subject_crop)
        photo_box = (0, 0, side, side)
        placement = Placement(photo_box, None, "knockout")
    elif layout.flat and scene_override is None and not motifs:  # (rain, snow: asked for, they need a scene)
        # A printed poster: one flat ink on paper, the title the only image (the diffusion backend's scene, when
        # there is one, still takes the ground's place).
        first = rng.random() < 0.5
        ink = palette[0] if first else palette[2]
        if colour_luminance(palette[0]) < 0.06:  # a near-black ground alone reads as an empty cover: the accent,
            # or the light where it has a colour (dark letters on bone, on ice; a pale grey read as a placeholder)
            light = np.asarray(palette[3], np.float32)
            ink = palette[3] if first and float(light.max() - light.min()) > 0.08 else palette[2]
        canvas = _ground(palette, rng, (work, work), _deepened(ink, *POSTER_INK))
    else:
        canvas = _scene(comp, rng, n_scene, palette, work, scene_override, motifs, intensity)
    if kind == "texture" and layout.on_scene:  # ink on paper: no lens, no film; only the dust of the press
        canvas = treatments.dust(canvas, rng, direction.dust * 0.5)
    else:
        canvas = treatments.halation(canvas, direction.halation)
        if direction.leak > 0 and rng.random() < 0.6:
            canvas = treatments.light_leak(canvas, rng, palette, direction.leak)
        canvas = treatments.dust(canvas, rng, direction.dust)
        canvas = treatments.vignette(canvas, direction.vignette)
    measurements = {"layout": layout.name, "photo": kind, "treatment": comp.treatment if kind != "none" else None,
                    "scene": comp.scene if kind not in ("full", "band", "side", "knockout") else None,
                    "background": comp.background, "work_size": work}
    if crop is not None and photo_box is not None and kind in ("full", "band", "side", "panel"):
        # Cover pixels per photo pixel where the photo lies: the enlargement the cap is about.
        measurements["enlargement"] = round((photo_box[2] - photo_box[0]) / crop.width, 2)
    return Picture(np.ascontiguousarray(to_uint8(canvas)), placement, keep, photo_box, measurements, knockout)
