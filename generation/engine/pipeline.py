"""`render`: the stages in order over one Canvas, each timed into the result's measurements."""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field

import cv2
import numpy as np

from . import composite
from .export import cover_filename, encode
from .grade import grade_image
from .layout import typeset as typeset_text
from .photo import find_face
from .presets import GENRES, GenrePreset
from .scenes import draw_scene
from .spec import CoverSpec, RenderResult, parse_hex

_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)
SCENE_SCALE = 3  # the scene is computed at 1/3 of the side and upscaled: it is soft by design


@dataclass
class Canvas:
    spec: CoverSpec
    preset: GenrePreset
    palette: list[np.ndarray]  # the five palette roles as float RGB 0..1
    side: int
    photo: np.ndarray | None = None
    face: tuple[float, float, float, float] | None = None
    scene: np.ndarray | None = None  # float RGB at working size
    rgb: np.ndarray | None = None  # uint8 RGB at full size
    placement: composite.Placement | None = None
    data: bytes = b""
    measurements: dict = field(default_factory=dict)

    def rng(self, purpose: str) -> np.random.Generator:
        """A generator per purpose, fixed by (seed, genre, purpose): the same spec gives the same pixels."""
        seed = int(self.spec.seed) % (1 << 64)
        return np.random.default_rng([seed & 0xFFFFFFFF, seed >> 32, zlib.crc32(self.spec.genre.encode()),
                                      zlib.crc32(purpose.encode())])


def resolve_palette(preset: GenrePreset, override: tuple[str, ...] | None) -> list[np.ndarray]:
    """The preset palette with the caller's colours replacing its roles in order."""
    colours = list(preset.palette)
    for index, colour in enumerate(override or ()):
        if index < len(colours):
            colours[index] = colour
    return [np.array(parse_hex(c), np.float32) / 255.0 for c in colours]


def load(c: Canvas) -> None:
    """The photo as an array, plus what later stages may adapt to (size, sharpness)."""
    if c.spec.photo is None:
        return
    c.photo = np.asarray(c.spec.photo.convert("RGB"))
    h, w = c.photo.shape[:2]
    grey = cv2.cvtColor(cv2.resize(c.photo, (512, max(1, round(512 * h / w))), interpolation=cv2.INTER_AREA),
                        cv2.COLOR_RGB2GRAY)
    c.measurements["photo"] = {"width": w, "height": h,
                               "source_size": list(c.spec.photo.info.get("source_size", (w, h))),
                               "sharpness": round(float(cv2.Laplacian(grey, cv2.CV_32F).var()), 1)}


def segment(c: Canvas) -> None:
    """No segmentation model yet: find the face so the crop and the text can keep clear of it."""
    if c.photo is None:
        return
    c.face = find_face(c.photo)
    c.measurements["face"] = [round(v, 4) for v in c.face] if c.face else None


def background(c: Canvas) -> None:
    """The genre scene at working resolution, dithered lightly so gradients don't band.

    The dither is kept faint: after upscaling it is soft noise, and noise is what makes PNGs big.
    """
    n = -(-c.side // SCENE_SCALE)
    scene = draw_scene(c.preset.scene, c.rng("scene"), n, c.palette, c.preset.scene_options)
    grain = c.rng("dither").normal(0.0, 0.35, (n, n)).astype(np.float32)
    scene = scene * 255.0 + grain[..., None] + 0.5
    c.scene = np.clip(scene, 0, 255).astype(np.uint8)
    c.measurements["scene"] = {"name": c.preset.scene, "work_size": n}


def _upscale(image: np.ndarray, side: int) -> np.ndarray:
    return cv2.resize(image, (side, side), interpolation=cv2.INTER_CUBIC)


def place_subject(c: Canvas) -> None:
    """Put the photo on the scene the way the variant asks; without a photo the scene is the cover."""
    side, variant = c.side, c.spec.variant
    if c.photo is None:
        c.rgb = _upscale(c.scene, side)
        return
    scene_mean = c.scene.reshape(-1, 3).mean(axis=0) / 255.0
    tone = composite.scene_tone(c.photo, scene_mean)
    if variant == "text":
        half = cv2.resize(c.scene, (side // 2, side // 2), interpolation=cv2.INTER_LINEAR)
        dark, light = sorted((c.palette[0], c.palette[3]), key=lambda colour: float(colour @ _LUMA))
        placement = composite.place_wash(half, c.photo, c.face, dark, light)
        c.rgb = _upscale(half, side)
        scale = side / half.shape[0]
        placement.box = (0, 0, side, side)
        if placement.face:
            placement.face = tuple(round(v * scale) for v in placement.face)
    else:
        c.rgb = _upscale(c.scene, side)
        if variant == "artist":
            placement = composite.place_fade(c.rgb, c.photo, c.face, tone)
        elif variant == "background":
            placement = composite.place_card(c.rgb, c.photo, c.face, tone, c.rng("layout"),
                                             compact=c.spec.explicit)
        else:
            placement = composite.place_circle(c.rgb, c.photo, c.face, tone, c.palette[2],
                                               compact=c.spec.explicit)
    c.placement = placement
    c.measurements["subject"] = {"box": list(placement.box), "shape": placement.shape,
                                 "face_box": list(placement.face) if placement.face else None}


def grade(c: Canvas) -> None:
    c.rgb = grade_image(c.rgb, c.preset.grade, full_grain=c.spec.output_format == "jpeg")


def typeset(c: Canvas) -> None:
    text, details = typeset_text(c.rgb, c.spec, c.preset, c.palette, c.placement)
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


def export(c: Canvas) -> None:
    protect = [tuple(box) for box in c.measurements.get("text_boxes", [])]
    if "advisory_box" in c.measurements:
        protect.append(tuple(c.measurements["advisory_box"]))
    pad = round(c.side * 0.01)
    protect = [(x0 - pad, y0 - pad, x1 + pad, y1 + pad) for x0, y0, x1, y1 in protect]
    c.data, details = encode(c.rgb, c.spec.output_format, c.spec.jpeg_quality, protect)
    c.measurements["export"] = details


STAGES = (("load", load), ("segment", segment), ("background", background), ("composite", place_subject),
          ("grade", grade), ("typeset", typeset), ("export", export))


def render(spec: CoverSpec) -> RenderResult:
    """Render one cover: the same spec always gives the same bytes."""
    preset = GENRES[spec.genre]
    canvas = Canvas(spec, preset, resolve_palette(preset, spec.palette), spec.size)
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
    )
