"""`render`: the stages in order over one Canvas, each timed into the result's measurements."""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field, replace
from functools import lru_cache

import cv2
import numpy as np

from . import composite, cutout
from .art import zones
from .art.compositions import GRIT_GRAIN, Composition, choose
from .art.devices import poster_device
from .art.direct import Picture, faces_fit, picture, text_room, usable_side
from .art.matte import refine as refine_matte
from .art.prepare import PreparedPhoto, prepare_photo
from .art.prints import draw_halo, figure_duotone, printed_stock
from .art.prints import inks as stencil_inks
from .export import cover_filename, encode
from .grade import apply_grain, apply_saturation, curves, grade_image, vignette_window
from .layout import draw_text
from .layout import typeset as typeset_text
from .palette import rotate_hue
from .presets import GENRES, RELEASE_HUES, GenrePreset
from .scenes.motifs import apply_motifs, motifs_for
from .spec import CoverSpec, RenderResult, parse_hex
from .steer import steer_palette, words_of
from .typeset import TextResult

_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)
LATE_SUBJECTS = True  # small cut-outs laid on the full-size cover (False: composited on the working canvas)
TYPE_BED = 0.72  # how far a full-bleed photo fades into the ground colour under its type
PNG_GRAIN = 0.35  # share of the genre's grain a PNG cover gets: finer, or the file passes 10 MB and is smoothed
FULL_WORK = 0.75  # a working side past this share of the cover's is not worth an upscale: work at full size


@dataclass
class Canvas:
    spec: CoverSpec
    preset: GenrePreset
    palette: list[np.ndarray]  # the five palette roles as float RGB 0..1
    side: int
    photo: np.ndarray | None = None
    face: tuple[float, float, float, float] | None = None  # fractions of the photo
    subject: cutout.Subject | None = None  # the cut-out person, when the photo has one
    scene: np.ndarray | None = None  # float RGB at working size
    rgb: np.ndarray | None = None  # uint8 RGB: at the working side until the upscale stage, then full size
    work: int = 0  # the side the cover is composited, graded and scrimmed at (see work_side)
    placement: composite.Placement | None = None  # in cover pixels
    text: TextResult | None = None
    motifs: tuple[str, ...] = ()  # scene layers the caller's words ask for (see scenes.motifs)
    prepared: PreparedPhoto | None = None  # the task's photo, prepared once (art/prepare.py)
    art: Composition | None = None  # the composition chosen from the genre's library
    picture: Picture | None = None  # what an art-directed layout drew (None: the scene and cut-out stages did)
    late: tuple | None = None  # a small cut-out laid on the full-size cover (see paste_late)
    data: bytes = b""
    measurements: dict = field(default_factory=dict)

    def rng(self, purpose: str) -> np.random.Generator:
        """A generator per purpose, fixed by (seed, genre, purpose): the same spec gives the same pixels."""
        seed = int(self.spec.seed) % (1 << 64)
        photo = self.prepared.signature if self.prepared is not None else 0  # another photo, another picture
        return np.random.default_rng([seed & 0xFFFFFFFF, seed >> 32, zlib.crc32(self.spec.genre.encode()),
                                      zlib.crc32(purpose.encode()), photo])


def resolve_palette(preset: GenrePreset, override: tuple[str, ...] | None,
                    reference: tuple[str, ...] | None = None) -> list[np.ndarray]:
    """The preset palette, then a style reference's colours, then the caller's own, each replacing roles in order."""
    colours = list(preset.palette)
    for source in (reference or (), override or ()):
        for index, colour in enumerate(source):
            if index < len(colours):
                colours[index] = colour
    return [np.array(parse_hex(c), np.float32) / 255.0 for c in colours]


def release_hue(spec: CoverSpec, preset: GenrePreset) -> int:
    """The turn of the genre's hues this release is printed in (0: the genre's own palette), fixed by its artist
    and title so the covers of one release share it; none when the caller gave a palette or a reference."""
    if spec.palette or spec.reference_palette:
        return 0
    turns = (0, *RELEASE_HUES.get(preset.key, ()))
    release = f"{(spec.artist or '').strip().lower()}\n{(spec.album or '').strip().lower()}"
    return turns[zlib.crc32(release.encode()) % len(turns)]


def spec_palette(spec: CoverSpec, preset: GenrePreset) -> tuple[list[np.ndarray], list[str]]:
    """The resolved palette (the release's turn of the genre's hues) steered by the caller's words (an explicit
    palette wins over the words)."""
    palette = resolve_palette(preset, None, spec.reference_palette)
    turn = release_hue(spec, preset)
    if turn:
        palette = [rotate_hue(colour, turn) for colour in palette]
    palette, matched = steer_palette(palette, {"mood": spec.mood, "style": spec.style,
                                               "style_tags": spec.style_tags, "lyrics": spec.lyrics})
    for index, colour in enumerate(spec.palette or ()):
        if index < len(palette):
            palette[index] = np.array(parse_hex(colour), np.float32) / 255.0
    return palette, matched


@dataclass(frozen=True)
class SubjectStyle:
    """Per-genre conventions of a cut-out (data): how it meets the scene."""

    rim: float = 0.5
    shadow: float = 0.45
    ground: float = 0.55
    exposure: float = 0.35
    temperature: float = 0.3


SUBJECT_STYLES: dict[str, SubjectStyle] = {
    "hiphop": SubjectStyle(rim=0.75, ground=0.7, exposure=0.6, temperature=0.5),
    "rnb": SubjectStyle(rim=0.35, ground=0.4),
    "indie": SubjectStyle(rim=0.3, ground=0.35, exposure=0.25),
    "edm": SubjectStyle(rim=0.8, ground=0.6, exposure=0.5, temperature=0.45),
    "ambient": SubjectStyle(rim=0.3, ground=0.3, exposure=0.25),
    "classical": SubjectStyle(rim=0.15, shadow=0.3, ground=0.15, exposure=0.15),
}
DEFAULT_SUBJECT_STYLE = SubjectStyle()
def load(c: Canvas) -> None:
    """The prepared photo's pixels, plus what later stages may adapt to (size, sharpness)."""
    p = c.prepared
    if p is None:
        return
    c.photo = p.pixels
    h, w = c.photo.shape[:2]
    c.measurements["photo"] = {"width": w, "height": h, "source_size": list(p.source_size),
                               "sharpness": p.sharpness}


def segment(c: Canvas) -> None:
    """The faces and the person of the prepared photo, and the gate's verdict on cutting the person out."""
    p = c.prepared
    if p is None:
        return
    h, w = p.pixels.shape[:2]
    c.face = (p.face[0] / w, p.face[1] / h, p.face[2] / w, p.face[3] / h) if p.face else None
    c.subject = p.subject
    c.measurements["face"] = [round(v, 4) for v in c.face] if c.face else None
    c.measurements["faces"] = len(p.faces)
    c.measurements["segmentation"] = {"backend": c.spec.segmentation, "face_source": p.face_source,
                                      "person": c.subject is not None, "coverage": p.coverage,
                                      "compute_ms": p.ms}
    c.measurements["mask_gate"] = {"passed": p.gate.passed, "reasons": list(p.gate.reasons), **p.gate.values}
    # The photo's own lettering that prepare_photo blurred out: normalised boxes, for the admin's review.
    c.measurements["photo_text"] = [[round(b[0] / w, 4), round(b[1] / h, 4), round(b[2] / w, 4), round(b[3] / h, 4)]
                                    for b in p.text]


def composition_for(genre: str, variant: str, seed: int, p: PreparedPhoto | None, side: int) -> Composition:
    """The library's composition for this seed and prepared photo (its geometry rules out what it cannot hold)."""
    return choose(genre, variant, seed, usable_side(p), side,
                  cutout=p is not None and p.gate.passed and p.subject is not None, room=text_room(p),
                  whole=faces_fit(p, side), photo_size=p.size if p is not None else None,
                  faces=len(p.faces) if p is not None else 0)


def compose(c: Canvas) -> None:
    """Choose the cover's composition from the genre's library (seed and photo geometry) and draw its picture.

    A cut-out layout ("figure") goes through the scene and cut-out stages and only when the mask gate passed;
    every other layout is drawn here, photo first, at the working size."""
    p = c.prepared
    c.art = composition_for(c.spec.genre, c.spec.variant, c.spec.seed, p, c.side)
    c.measurements["composition"] = {"layout": c.art.layout.name}
    override = None
    if c.spec.background_backend == "diffusion":
        override = diffusion_scene(c, -(-c.side // 3))
    if c.art.layout.photo == "cutout":
        figure(c, override)
        return
    pic = picture(p, c.art, c.palette, c.rng("art"), c.side, override, motifs=c.motifs and _motif_layer(c),
                  subject_crop=c.spec.subject_crop, intensity=scene_intensity(c), text_position=c.spec.text_position)
    c.rgb, c.work, c.placement, c.picture = pic.rgb, pic.rgb.shape[0], pic.placement, pic
    c.measurements["composition"].update(pic.measurements)
    if pic.measurements["scene"] is not None:
        c.measurements["scene"] = {"name": "diffusion" if override is not None else c.art.scene}
    if pic.placement is not None:
        c.measurements["subject"] = {"box": list(pic.placement.box), "shape": pic.placement.shape,
                                     "face_box": list(pic.placement.face) if pic.placement.face else None}
    else:
        c.measurements["subject"] = None


def _motif_layer(c: Canvas):
    """The caller's words' motifs (rain, snow, fire, stars) laid on a scene, in place."""
    def lay(scene: np.ndarray) -> None:
        apply_motifs(scene, c.motifs, c.rng("motifs"), c.palette)
        np.clip(scene, 0.0, 1.0, out=scene)
    return lay


def figure(c: Canvas, override: np.ndarray | None) -> None:
    """The cut-out layout: the gated person set small on the composition's scene (the cut-out stages)."""
    n = max(500, c.side // 4)
    if override is not None:
        scene = np.ascontiguousarray(cv2.resize(override, (n, n), interpolation=cv2.INTER_AREA), np.float32)
    else:  # printed stock (a halo goes behind the head once the figure is placed): a stage, not render clouds
        scene = printed_stock(c.palette, c.rng("scene"), n, c.art.dark_print)
    if c.motifs:
        _motif_layer(c)(scene)
    c.scene = cv2.addWeighted(scene, 255.0, _dither_plate(n), 1.0, 0.0, dtype=cv2.CV_8U)
    name = "diffusion" if override is not None else "stock"
    c.measurements["composition"].update({"photo": "cutout", "scene": name})
    c.measurements["scene"] = {"name": name, "work_size": n}
    t0 = time.perf_counter()
    alpha = refine_matte(c.prepared.pixels, c.subject.alpha, c.subject.bbox)
    c.subject = replace(c.subject, alpha=alpha)
    c.measurements["matte_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    place_subject(c)
    grade(c)


def scene_intensity(c: Canvas) -> float:
    """How strong the scene is: the caller's 0..1 (0.5 = as designed), raised where the scene is the point."""
    intensity = float(c.spec.background_intensity)
    if c.spec.variant == "background":
        intensity = min(1.0, intensity + 0.1)
    elif c.spec.variant == "text":
        intensity = max(0.0, intensity - 0.15)  # the title is the focal point: a quieter scene
    return intensity


def diffusion_scene(c: Canvas, n: int) -> np.ndarray:
    from .diffusion import DiffusionBackground

    spec = c.spec
    palette = tuple("#{:02x}{:02x}{:02x}".format(*(int(v * 255 + 0.5) for v in colour)) for colour in c.palette)
    style_tags = ", ".join(t for t in (spec.style, spec.style_tags) if t.strip())
    image = DiffusionBackground(spec.diffusion_model).render(
        spec.genre, n, int(spec.seed), palette=palette, mood=spec.mood, style_tags=style_tags, lyrics=spec.lyrics,
        photo=spec.photo, exclude=tuple(t for t in (spec.artist, spec.album, spec.feature) if t))
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


@lru_cache(maxsize=2)
def _dither_plate(n: int) -> np.ndarray:
    """Faint Gaussian dither (sigma 0.35 level) on three channels, the same on every cover of a working size."""
    grain = np.random.default_rng(20240612).normal(0.0, 0.35, (n, n)).astype(np.float32)
    plate = cv2.cvtColor(grain, cv2.COLOR_GRAY2RGB)
    plate.flags.writeable = False
    return plate


def _mean_colour(rgb: np.ndarray) -> np.ndarray:
    """Mean RGB, 0..1 (OpenCV: several times faster than NumPy's mean over uint8)."""
    return np.array(cv2.mean(rgb)[:3], np.float64) / 255.0


def _upscale(image: np.ndarray, side: int) -> np.ndarray:
    return cv2.resize(image, (side, side), interpolation=cv2.INTER_CUBIC)


def _light_colour(palette: list[np.ndarray]) -> np.ndarray:
    """The scene's light: the highlight leaning toward the accent, at full brightness."""
    light = palette[3] * 0.55 + palette[2] * 0.45
    return np.clip(light / max(float(light.max()), 1e-3), 0.0, 1.0)


def work_side(c: Canvas, detail: float | None) -> int:
    """The side to composite, grade and scrim at: no more pixels than the content has.

    `detail` is how many cover pixels one photo pixel spans where the photo lands (None: only the scene,
    or a wash too soft to need more). A 512 px portrait blown up five times holds no more detail at
    3000 px than at 1000 px, so it is composited at 1000 px and the finished picture upscaled once;
    a phone photo holding the detail is composited at full size. The text is always drawn at full size.
    """
    n = c.scene.shape[0]
    if detail is None:
        return n
    work = c.side / max(detail, 1.0)
    if work >= c.side * FULL_WORK:
        return c.side
    return max(n, int(np.ceil(work)))


def _on_cover(placement: composite.Placement, factor: float) -> composite.Placement:
    """A placement found on the working canvas, in cover pixels."""
    if factor == 1.0:
        return placement
    box = tuple(round(v * factor) for v in placement.box)
    face = tuple(round(v * factor) for v in placement.face) if placement.face else None
    return composite.Placement(box, face, placement.shape)


def _canvas_from_scene(c: Canvas, work: int) -> None:
    c.work = work
    c.rgb = c.scene.copy() if work == c.scene.shape[0] else _upscale(c.scene, work)


def place_cutout(c: Canvas) -> composite.Placement | None:
    """The cut-out person over the scene, sized and placed by variant and genre convention."""
    side, variant, subject = c.side, c.spec.variant, c.subject
    style = SUBJECT_STYLES.get(c.spec.genre, DEFAULT_SUBJECT_STYLE)
    # The figure layout: the person large on the scene (a stamp-sized cut-out reads as clip-art), off centre.
    height, face_h, eye_y = c.art.layout.share, None, 0.0
    max_height = height + 0.06
    centre_x = float(c.rng("layout").choice([0.36, 0.5, 0.64]))
    scale, ox, oy = cutout.cutout_geometry(subject, side, height=height, face_h=face_h, eye_y=eye_y,
                                              centre_x=centre_x, max_height=max_height)
    # A small subject (background and text variants) that holds more detail than the scene is laid on the
    # full-size cover after the upscale: the rest of the picture stays at the scene's size.
    late = LATE_SUBJECTS and variant in ("background", "text") and work_side(c, scale) > work_side(c, None)
    _canvas_from_scene(c, work_side(c, None) if late else work_side(c, scale))
    shrink = c.work / side  # the geometry is linear in the side: the same placement on the working canvas
    if subject.face is not None and c.spec.background_backend != "diffusion":
        fx0, fy0, fx1, fy1 = subject.face
        draw_halo(c.rgb, ((fx0 + fx1) / 2 * scale + ox) * shrink, ((fy0 + fy1) / 2 * scale + oy) * shrink,
                  max(fx1 - fx0, fy1 - fy0) * scale * shrink * 2.0, c.palette, c.art.dark_print)
    scene_mean = _mean_colour(c.scene)
    light = _light_colour(c.palette)
    tone = cutout.match_tone(subject.mean, scene_mean, light, exposure=style.exposure,
                                 temperature=style.temperature)
    small = False
    printed = c.spec.background_backend != "diffusion"
    cut_style = cutout.CutoutStyle(rim_colour=light, ground_colour=c.palette[0],
                                      rim=style.rim * (0.6 if small else 1.0), shadow=style.shadow,
                                      ground=style.ground, tone=tone,
                                      duotone=figure_duotone(c.palette) if printed and not c.art.dark_print else None)
    fade = None
    if subject.cut_bottom or variant == "artist":
        fade = (style.ground * (0.7 if small else 1.0), 0.14 if small else 0.22)
    if late:  # the soft shadow (and the ground) now, the subject itself on the cover (see paste_late)
        cutout.paste_cutout(c.rgb, c.photo, subject, scale * shrink, ox * shrink, oy * shrink, cut_style,
                               parts=("shadow",))
        if fade:
            composite.ground_fade(c.rgb, c.palette[0], *fade)
        c.late = (subject, scale, ox, oy, cut_style, fade)
        return cutout.cutout_placement(subject, scale, ox, oy, side)
    placement = cutout.paste_cutout(c.rgb, c.photo, subject, scale * shrink, ox * shrink, oy * shrink,
                                       cut_style, sharpen=scale > 1.3)
    if fade:
        composite.ground_fade(c.rgb, c.palette[0], *fade)
    return _on_cover(placement, side / c.work)


def paste_late(c: Canvas) -> None:
    """Lay the small cut-out on the full-size cover, graded the way the working canvas was graded
    (curves through its tone table, saturation, the ground fade and the vignette at its position)."""
    subject, scale, ox, oy, cut_style, fade = c.late
    grade = c.preset.grade
    lut = curves(grade)
    graded_tone = cv2.LUT(cut_style.tone, lut)  # the subject's tone, then the grade's curves: one table
    ground = None
    if fade:
        strength, height = fade
        start, weights = composite.row_weights(c.side, strength, c.side * (1 - height), c.side)
        colour = np.clip(c.palette[0] * 255.0 + 0.5, 0, 255).astype(np.uint8).reshape(1, 1, 3)
        ground = (start, weights, apply_saturation(cv2.LUT(colour, lut), grade.saturation))

    def finish(pixels: np.ndarray, x0: float, y0: float, step_x: float, step_y: float) -> np.ndarray:
        h, w = pixels.shape[:2]
        if ground is not None:
            start, weights, colour = ground
            rows = np.clip(np.floor(y0 + np.arange(h) * step_y + 0.5).astype(np.int64), 0, c.side - 1)
            first = int(np.searchsorted(rows, start))
            if first < h:
                row = np.empty((1, w, 3), np.uint8)
                row[:] = colour[0, 0]
                composite.blend_rows(pixels[first:], row, weights[rows[first:] - start])
        if grade.vignette > 0:
            factor = vignette_window(c.side, float(grade.vignette), x0, y0, step_x, step_y, (h, w))
            pixels = cv2.multiply(pixels, cv2.cvtColor(factor, cv2.COLOR_GRAY2RGB), scale=1.0 / 255.0)
        return pixels

    if cut_style.duotone is not None:  # grey to the inks, then the grade's curves and saturation, as the canvas had
        inked = apply_saturation(cv2.LUT(cut_style.duotone, lut), grade.saturation)
        style = replace(cut_style, duotone=inked)
    else:
        style = replace(cut_style, tone=graded_tone, saturation=grade.saturation)  # at the photo's resolution
    cutout.paste_cutout(c.rgb, c.photo, subject, scale, ox, oy, style, sharpen=scale > 1.3,
                           parts=("subject", "rim"), finish=finish)


def place_subject(c: Canvas) -> None:
    """The gated cut-out on the scene, sized and placed by variant and genre convention."""
    placement = place_cutout(c)
    c.placement = placement
    c.measurements["subject"] = None if placement is None else {
        "box": list(placement.box), "shape": placement.shape,
        "face_box": list(placement.face) if placement.face else None}


def grade(c: Canvas) -> None:
    """The grade on the working canvas (curves, saturation and vignette are smooth or per pixel)."""
    c.rgb = grade_image(c.rgb, c.preset.grade, full_grain=False, in_place=True)


def layout(c: Canvas) -> None:
    """Fit the text and lay its scrim on the working canvas; the lines are drawn after the upscale."""
    ground = None
    if c.spec.variant in ("artist", "free") and c.placement is not None and c.placement.shape == "cutout":
        ground = (c.palette[0], 0.82)
    art = {}
    if c.picture is not None:
        zone = zones.text_zone(c.art, c.picture, c.side, c.spec.explicit, c.preset.fonts.align, c.spec.text_position)
        art = {"zone": zone, "roles": zones.roles(c.art, c.spec, c.preset.fonts)}
        if c.art.layout.photo == "full" and c.art.layout.text in ("bottom", "top", "corner", "stack"):
            ground = (c.palette[0], TYPE_BED)  # type on the photo sits on a fade into the ground colour
        elif c.art.layout.on_scene:  # a stencil's print dies into the paper under the type
            ground = (stencil_inks(c.palette, c.art.dark_print)[0], 0.94)
        if c.art.layout.text == "stamp":
            art["backdrop"] = zones.stamp_backdrop(c.palette[c.art.direction.band])
        elif c.art.layout.text in ("poster", "stack") and c.art.layout.flat:
            # A printed poster: the genre's device with the type (over a photo it would cross a face).
            art["backdrop"] = poster_device(c.spec.genre, c.palette, c.art.variation)
    text, details = typeset_text(c.rgb, c.spec, c.preset, c.palette, c.placement, c.side, ground, **art)
    c.text = text
    c.measurements.update(details)
    c.measurements["text_boxes"] = [list(line.box) for line in text.lines if line.display.strip()]
    c.measurements["lines"] = [
        {"role": line.role, "text": line.text, "display": line.display,
         "font": line.font.path.rsplit("/", 1)[-1],
         "size_px": line.size, "cap_px": round(line.cap_px, 1), "box": list(line.box)}
        for line in text.lines
    ]
    c.measurements["texts"] = {"artist": c.spec.artist, "album": c.spec.album, "feature": c.spec.feature}
    missing = sorted({ch for line in text.lines for ch in line.missing})
    c.measurements["missing_glyphs"] = missing


def upscale(c: Canvas) -> None:
    """The finished picture to the cover's size in one cubic pass, then the film grain at full size (JPEG only:
    grain is what makes PNGs big; see COVER-CRAFT)."""
    c.measurements["work_size"] = c.work
    if c.work != c.side:
        c.rgb = _upscale(c.rgb, c.side)
    if c.late is not None:
        paste_late(c)
    if c.picture is not None:  # film grain on every format (PNG a little finer: grain is what makes PNGs big)
        amount = c.art.direction.grain * (1.0 if c.spec.output_format == "jpeg" else PNG_GRAIN)
        amount *= GRIT_GRAIN if c.art.layout.grit else 1.0
        apply_grain(c.rgb, amount, in_place=True)
    elif c.spec.output_format == "jpeg" and c.preset.grade.grain > 0:
        apply_grain(c.rgb, c.preset.grade.grain, in_place=True)


def typeset(c: Canvas) -> None:
    draw_text(c.rgb, c.text, c.spec.explicit, c.picture and c.picture.knockout, c.work, c.measurements.get("lines"))


def export(c: Canvas) -> None:
    protect = [tuple(box) for box in c.measurements.get("text_boxes", [])]
    if "advisory_box" in c.measurements:
        protect.append(tuple(c.measurements["advisory_box"]))
    pad = round(c.side * 0.01)
    protect = [(x0 - pad, y0 - pad, x1 + pad, y1 + pad) for x0, y0, x1, y1 in protect]
    c.data, details = encode(c.rgb, c.spec.output_format, c.spec.jpeg_quality, protect)
    c.measurements["export"] = details
    if len(details.get("attempts", ())) > 1:
        c.rgb = None  # the file holds smoothed pixels: let QA decode them rather than trust ours


STAGES = (("load", load), ("segment", segment), ("compose", compose), ("layout", layout), ("upscale", upscale),
          ("typeset", typeset), ("export", export))


def render(spec: CoverSpec, photo: PreparedPhoto | None = None) -> RenderResult:
    """Render one cover: the same spec and photo always give the same bytes.

    `photo` is the task's photo prepared once by `prepare_photo` and shared by its variants; without it the
    spec's own photo (if any) is prepared for this cover alone."""
    preset = GENRES[spec.genre]
    palette, matched = spec_palette(spec, preset)
    if photo is None and spec.photo is not None:
        photo = prepare_photo(spec.photo, segmentation=spec.segmentation, model_dir=spec.model_dir)
    canvas = Canvas(spec, preset, palette, spec.size, prepared=photo)
    if matched:
        canvas.measurements["steered_by"] = matched
    canvas.measurements["palette_hue"] = release_hue(spec, preset)  # (support: why a release is blue, not gold)
    canvas.motifs = motifs_for(set().union(*(words_of(t) for t in (spec.mood, spec.style, spec.style_tags,
                                                                      spec.lyrics))))
    if canvas.motifs:
        canvas.measurements["motifs"] = list(canvas.motifs)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    for name, stage in STAGES:
        t0 = time.perf_counter()
        stage(canvas)
        timings[name] = round((time.perf_counter() - t0) * 1000, 1)
    timings["total"] = round((time.perf_counter() - started) * 1000, 1)
    canvas.measurements["timings_ms"] = timings
    canvas.measurements["bytes"] = len(canvas.data)
    return RenderResult(
        data=canvas.data,
        format=spec.output_format,
        width=spec.size,
        height=spec.size,
        filename=cover_filename(spec.artist, spec.album, spec.size, spec.size, spec.output_format),
        measurements=canvas.measurements,
        pixels=canvas.rgb,
    )
