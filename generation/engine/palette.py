"""Colours from a style reference: five colours, darkest to lightest, for the palette roles.

The roles (see presets.py) are base, mid, accent, highlight, ink; ordering the reference's colours by
luminance maps its darkest to the ground and its lightest to the text colour, which keeps contrast sane.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

ROLES = 5
WORK_SIDE = 64
_LUMA = np.array([0.2126, 0.7152, 0.0722])


def extract_palette(image, count: int = ROLES) -> tuple[str, ...]:
    """`count` hex colours of a PIL image or HxWx3 uint8 array, ordered darkest..lightest.

    Median cut on a 64 px copy (deterministic, a few ms); a flat image gives its colour stepped in
    lightness so every role still differs.
    """
    if isinstance(image, np.ndarray):
        image = Image.fromarray(np.ascontiguousarray(image[..., :3].astype(np.uint8)))
    if not isinstance(image, Image.Image):
        raise ValueError("extract_palette takes a PIL image or an HxWx3 uint8 array")
    small = image.convert("RGB")
    small.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)
    quantised = small.quantize(colors=count, method=Image.Quantize.MEDIANCUT)
    used = sorted(quantised.getcolors(count * 4) or [], reverse=True)  # (pixel count, index), most used first
    flat = quantised.getpalette()[:3 * 256]
    colours = [np.array(flat[3 * i:3 * i + 3], np.float64) for _, i in used[:count]]
    colours.sort(key=lambda c: float(c @ _LUMA))
    while len(colours) < count:  # too few distinct colours: fill between/around them in lightness
        darkest, lightest = colours[0], colours[-1]
        if float(lightest @ _LUMA) < 200:
            colours.append(lightest + (255 - lightest) * 0.45)
        else:
            colours.insert(0, darkest * 0.45)
    return tuple("#{:02x}{:02x}{:02x}".format(*(int(round(v)) for v in np.clip(c, 0, 255))) for c in colours)


def _linear(rgb: np.ndarray) -> np.ndarray:
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _encoded(rgb: np.ndarray) -> np.ndarray:
    rgb = np.clip(rgb, 0.0, 1.0)
    return np.where(rgb <= 0.0031308, rgb * 12.92, 1.055 * rgb ** (1 / 2.4) - 0.055)


def rotate_hue(colour, degrees: float) -> np.ndarray:
    """`colour` (float RGB 0..1) turned `degrees` round the hue circle at the same relative luminance (the
    contrast of every pair of colours in a palette is kept, so its type stays as legible); greys stay grey."""
    import colorsys

    rgb = np.asarray(colour, np.float64)
    h, light, s = colorsys.rgb_to_hls(*rgb)
    if s < 0.08 or not degrees:
        return np.asarray(colour, np.float32)
    turned = np.array(colorsys.hls_to_rgb((h + degrees / 360.0) % 1.0, light, s))
    before, after = float(_linear(rgb) @ _LUMA), float(_linear(turned) @ _LUMA)
    linear = np.clip(_linear(turned) * (before / max(after, 1e-6)), 0.0, 1.0)
    short = before - float(linear @ _LUMA)  # a channel clipped (a red as light as an orange): lift toward white
    if short > 1e-6:
        linear = linear + (1.0 - linear) * (short / max(1.0 - float(linear @ _LUMA), 1e-6))
    return _encoded(linear).astype(np.float32)
